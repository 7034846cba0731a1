"""Wires the entitlements API process: REST and gRPC over the same use cases, audited, behind the access policy."""

from __future__ import annotations

from mrc.entitlements.v1 import entitlements_service_pb2_grpc
from mrc_entitlements.adapters.store import OUTBOX_COLLECTIONS
from mrc_entitlements.entrypoints.grpc_api import EntitlementsServicer
from mrc_entitlements.entrypoints.http_api import entitlements_router
from mrc_entitlements.entrypoints.wiring import build, federation_scope, federation_topics
from mrc_entitlements.settings import PUBLISHED_TOPICS, EntitlementsSettings
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service


def main() -> None:
    settings = EntitlementsSettings()
    scope, _ = federation_scope(settings)
    connections = connect(
        settings, topics=[*PUBLISHED_TOPICS, *federation_topics(scope)], outbox_collections=OUTBOX_COLLECTIONS
    )
    service = build(
        connections.store,
        connections.audit,
        connections.crypto.ids,
        catalogue_cache_seconds=settings.catalogue_cache_seconds,
        federation=scope,
    )

    http_app = create_http_app(
        service=settings.service_name, title="MRC Entitlements", readiness_checks=connections.readiness_checks()
    )
    http_app.include_router(
        entitlements_router(
            service.catalogue, service.eligibility, service.applications, service.funnel, connections.http_auth
        )
    )

    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.entitlements.v1.EntitlementsService",
        lambda server: entitlements_service_pb2_grpc.add_EntitlementsServiceServicer_to_server(
            EntitlementsServicer(
                service.catalogue, service.eligibility, service.applications, service.funnel, connections.grpc_auth
            ),
            server,
        ),
    )
    run_service(connections, http_app, grpc_server)
