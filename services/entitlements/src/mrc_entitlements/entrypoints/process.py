"""Wires the entitlements API process: authenticated, audited REST and gRPC reads over the eligibility records."""

from __future__ import annotations

from mrc.entitlements.v1 import entitlements_service_pb2_grpc
from mrc_entitlements.adapters.mongo_repository import EligibilityDocument, StoredEligibility
from mrc_entitlements.entrypoints.grpc_api import EntitlementsServicer
from mrc_entitlements.entrypoints.http_api import eligibility_router
from mrc_entitlements.service_layer.eligibility import EligibilityLookup
from mrc_entitlements.settings import ELIGIBILITY_TOPIC, EntitlementsSettings
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service
from mrc_plumbing.store.schema import collection_of


def main() -> None:
    settings = EntitlementsSettings()
    connections = connect(settings, topics=[ELIGIBILITY_TOPIC], outbox_collections=[collection_of(EligibilityDocument)])
    records = StoredEligibility(connections.store)
    records.ensure_indexes()
    lookup = EligibilityLookup(records, connections.audit)

    http_app = create_http_app(
        service=settings.service_name, title="MRC Entitlements", readiness_checks=connections.readiness_checks()
    )
    http_app.include_router(eligibility_router(lookup, connections.http_auth))

    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.entitlements.v1.EntitlementsService",
        lambda server: entitlements_service_pb2_grpc.add_EntitlementsServiceServicer_to_server(
            EntitlementsServicer(lookup, connections.grpc_auth), server
        ),
    )
    run_service(connections, http_app, grpc_server)
