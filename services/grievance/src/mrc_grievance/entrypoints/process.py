"""Wires the grievance process together: store, broker, auth, audit, use cases, REST, gRPC and the outbox relay."""

from __future__ import annotations

from mrc.grievance.v1 import grievance_service_pb2_grpc
from mrc_grievance.adapters.mongo_repository import GrievanceDocument, StoredGrievances
from mrc_grievance.entrypoints.grpc_api import GrievanceServicer
from mrc_grievance.entrypoints.http_api import grievances_router
from mrc_grievance.service_layer.filing import FilingService
from mrc_grievance.settings import GRIEVANCES_TOPIC, GrievanceSettings
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service
from mrc_plumbing.store.schema import collection_of


def main() -> None:
    settings = GrievanceSettings()
    connections = connect(settings, topics=[GRIEVANCES_TOPIC], outbox_collections=[collection_of(GrievanceDocument)])
    grievances = StoredGrievances(connections.store, connections.crypto.cipher)
    grievances.ensure_indexes()
    filing = FilingService(grievances, connections.audit)

    http_app = create_http_app(
        service=settings.service_name, title="MRC Grievance", readiness_checks=connections.readiness_checks()
    )
    http_app.include_router(grievances_router(filing, connections.http_auth))

    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.grievance.v1.GrievanceService",
        lambda server: grievance_service_pb2_grpc.add_GrievanceServiceServicer_to_server(
            GrievanceServicer(filing, connections.grpc_auth),  # type: ignore[abstract]  # phase 2 implements the new RPCs
            server,
        ),
    )
    run_service(connections, http_app, grpc_server)
