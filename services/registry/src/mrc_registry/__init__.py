"""Registry service: the social registry of migrant workers and households.

Folders follow the dependency rule: `domain` (plain Python, no I/O) <- `service_layer` (use cases,
talks to ports) <- `adapters` (Mongo, protobuf) <- `entrypoints` (REST, gRPC, process wiring).
"""
