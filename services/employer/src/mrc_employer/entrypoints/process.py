"""Wires the employer process together: store, broker, auth, audit, use cases, REST, gRPC and the outbox relay."""

from __future__ import annotations

from mrc.employer.v1 import employer_service_pb2_grpc
from mrc_employer.adapters.mongo_repository import EmployerDocument, StoredEmployers
from mrc_employer.entrypoints.grpc_api import EmployerServicer
from mrc_employer.entrypoints.http_api import employers_router
from mrc_employer.service_layer.registration import EmployerRegistrationService
from mrc_employer.settings import EMPLOYERS_TOPIC, EmployerSettings
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service
from mrc_plumbing.store.schema import collection_of


def main() -> None:
    settings = EmployerSettings()
    connections = connect(settings, topics=[EMPLOYERS_TOPIC], outbox_collections=[collection_of(EmployerDocument)])
    employers = StoredEmployers(connections.store)
    employers.ensure_indexes()
    registration = EmployerRegistrationService(employers, connections.audit)

    http_app = create_http_app(
        service=settings.service_name, title="MRC Employer", readiness_checks=connections.readiness_checks()
    )
    http_app.include_router(employers_router(registration, connections.http_auth))

    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.employer.v1.EmployerService",
        lambda server: employer_service_pb2_grpc.add_EmployerServiceServicer_to_server(
            EmployerServicer(registration, connections.grpc_auth), server
        ),
    )
    run_service(connections, http_app, grpc_server)
