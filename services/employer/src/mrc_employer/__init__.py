"""Employer service: employers, contractors and recruitment agencies that migrant workers deal with.

Same layout as the registry: `domain` <- `service_layer` <- `adapters` <- `entrypoints`.
"""
