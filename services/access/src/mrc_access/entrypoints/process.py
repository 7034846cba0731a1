"""Wires the access process together: store, broker, key ring, use cases, REST, gRPC and the outbox relay."""

from __future__ import annotations

import logging
from datetime import timedelta

from mrc.access.v1 import access_service_pb2_grpc
from mrc_access.adapters.bearer_auth import BearerTokenVerifier
from mrc_access.adapters.mongo_audit_records import StoredAuditRecords
from mrc_access.adapters.mongo_repository import (
    ClientDocument,
    PartnerDocument,
    StoredClients,
    StoredPartners,
)
from mrc_access.adapters.mongo_signing_keys import StoredSigningKeys
from mrc_access.entrypoints.grpc_api import AccessServicer
from mrc_access.entrypoints.http_api import create_access_http_app
from mrc_access.service_layer.administration import PartnerAdministration
from mrc_access.service_layer.audit_trail import AuditTrail
from mrc_access.service_layer.signing_keys import SigningKeyRing
from mrc_access.service_layer.tokens import TokenService
from mrc_access.settings import (
    AUDIT_TOPIC,
    CLIENTS_TOPIC,
    DEV_KEY_ENCRYPTION_SECRET,
    PARTNERS_TOPIC,
    AccessSettings,
)
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.service_runtime import connect, run_service
from mrc_plumbing.store.schema import collection_of

log = logging.getLogger(__name__)


def main() -> None:
    settings = AccessSettings()
    connections = connect(
        settings,
        topics=[PARTNERS_TOPIC, CLIENTS_TOPIC, AUDIT_TOPIC],
        outbox_collections=[collection_of(PartnerDocument), collection_of(ClientDocument)],
    )
    encryption_secret = settings.key_encryption_secret.get_secret_value()
    if encryption_secret == DEV_KEY_ENCRYPTION_SECRET:
        log.warning("signing keys are encrypted with the development secret; set MRC_ACCESS_KEY_ENCRYPTION_SECRET")
    store = connections.store
    partners, clients = StoredPartners(store), StoredClients(store)
    signing_keys, audit_records = StoredSigningKeys(store, encryption_secret), StoredAuditRecords(store)
    for repository in (partners, clients, signing_keys, audit_records):
        repository.ensure_indexes()
    administration = PartnerAdministration(partners, clients)
    key_ring = SigningKeyRing(
        signing_keys,
        grace=timedelta(seconds=settings.key_grace_seconds),
        cache_seconds=settings.key_cache_seconds,
    )
    key_ring.signing_key()  # a fresh cluster gets its first key now, not on the first token request
    bootstrap_secret = settings.bootstrap_client_secret.get_secret_value()
    if settings.bootstrap_client_id and bootstrap_secret:
        administration.ensure_bootstrap_operator(settings.bootstrap_client_id, bootstrap_secret)
    tokens = TokenService(partners, clients, key_ring, ttl_seconds=settings.token_ttl_seconds)
    audit_trail = AuditTrail(audit_records)
    verifier = BearerTokenVerifier(
        key_ring.verification_key, lambda client_id: (c := clients.get(client_id)) is not None and not c.revoked
    )

    http_app = create_access_http_app(
        administration=administration,
        tokens=tokens,
        key_ring=key_ring,
        audit_trail=audit_trail,
        verifier=verifier,
        readiness_checks=connections.readiness_checks(),
    )
    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.access.v1.AccessService",
        lambda server: access_service_pb2_grpc.add_AccessServiceServicer_to_server(
            AccessServicer(administration, audit_trail, verifier), server
        ),
    )
    run_service(connections, http_app, grpc_server)
