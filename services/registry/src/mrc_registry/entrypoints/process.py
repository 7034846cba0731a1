"""Wires the registry process together: store, broker, use cases, REST, gRPC and the outbox relay."""

from __future__ import annotations

from mrc.registry.v1 import registry_service_pb2_grpc
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service
from mrc_registry.adapters.mongo_repository import MongoWorkerRepository, WorkerDocument
from mrc_registry.entrypoints.grpc_api import RegistryServicer
from mrc_registry.entrypoints.http_api import workers_router
from mrc_registry.service_layer.registration import RegistrationService
from mrc_registry.settings import WORKERS_TOPIC, RegistrySettings


def main() -> None:
    settings = RegistrySettings()
    connections = connect(settings, topics=[WORKERS_TOPIC], outbox_collections=[WorkerDocument._meta["collection"]])
    MongoWorkerRepository.ensure_indexes()
    registration = RegistrationService(MongoWorkerRepository(), connections.relay)

    http_app = create_http_app(
        service=settings.service_name, title="MRC Registry", readiness_checks=connections.readiness_checks()
    )
    http_app.include_router(workers_router(registration))

    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.registry.v1.RegistryService",
        lambda server: registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(
            RegistryServicer(registration), server
        ),
    )
    run_service(connections, http_app, grpc_server)
