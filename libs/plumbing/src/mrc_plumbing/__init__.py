"""Shared plumbing for every MRC service.

Settings, structured logging, the CloudEvents envelope, the transactional outbox and its relay,
idempotent consumption, Kafka/Mongo wiring, and the gRPC/HTTP/faust bootstraps. Domain code lives
in each service; nothing here knows about workers, grievances or employers.
"""
