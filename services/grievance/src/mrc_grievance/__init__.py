"""Grievance service: helpline and field intake of complaints from (or about) migrant workers.

Same layout as the registry: `domain` <- `service_layer` <- `adapters` <- `entrypoints`.
"""
