"""The shared kernel: what every service's domain and use cases may import.

Plain Python only: value objects (places, sectors), errors that carry a code (the entrypoints map
codes to HTTP and gRPC), the caller and the one access policy, the audit port, the event envelope and
idempotency fingerprints. Nothing here talks to a store, a broker or a network; a unit test
(`tests/unit/test_layering.py`) keeps it, and every service's `domain` and `service_layer`, that way.
"""
