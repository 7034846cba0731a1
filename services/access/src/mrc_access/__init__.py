"""Access service: partners, their OAuth2 clients, access tokens, signing keys (JWKS) and the audit trail.

Folders follow the dependency rule: `domain` (plain Python, no I/O) <- `service_layer` (use cases,
talks to ports) <- `adapters` (Mongo, protobuf, bearer tokens) <- `entrypoints` (REST, OAuth2, gRPC,
the audit consumer, process wiring).
"""
