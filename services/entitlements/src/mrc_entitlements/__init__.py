"""Entitlements service: scheme catalogue, eligibility, applications and benefit delivery.

Same layout as the registry: `domain` <- `service_layer` <- `adapters` <- `entrypoints`.
"""
