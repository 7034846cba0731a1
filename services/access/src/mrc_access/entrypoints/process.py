"""Wires the access process together: store, broker, key ring, use cases, REST, gRPC and the outbox relay."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
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
from mrc_access.adapters.mongo_signing_keys import SigningKeyDocument, StoredSigningKeys
from mrc_access.entrypoints.grpc_api import AccessServicer
from mrc_access.entrypoints.http_api import audit_listings, create_access_http_app
from mrc_access.entrypoints.token_limits import TokenLimits
from mrc_access.service_layer.administration import SYSTEM, PartnerAdministration
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
from mrc_plumbing.auth.lockout import FailureLockout, LockoutRule
from mrc_plumbing.auth.rate_limit import SlidingWindowLimiter, WindowRule
from mrc_plumbing.concurrency import ConcurrencyLimit
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.service_runtime import Connections, connect, run_service
from mrc_plumbing.store.schema import collection_of

log = logging.getLogger(__name__)


def token_limits(settings: AccessSettings, connections: Connections) -> TokenLimits:
    counters, store = connections.counters, connections.store
    return TokenLimits(
        per_address=SlidingWindowLimiter(
            "token-address",
            WindowRule.from_rate(settings.token_rate_per_address_per_second, settings.token_burst_per_address),
            counters=counters,
            detail="too many token requests from this address",
        ),
        per_client=SlidingWindowLimiter(
            "token-client",
            WindowRule.from_rate(settings.token_rate_per_client_per_second, settings.token_burst_per_client),
            counters=counters,
            detail="too many token requests for this client",
        ),
        client_lockout=FailureLockout(
            "token-client",
            LockoutRule(
                settings.client_lockout_failures,
                settings.client_lockout_window_seconds,
                settings.client_lockout_seconds,
            ),
            store,
            detail="too many failed client authentications for this client",
        ),
        address_lockout=FailureLockout(
            "token-address",
            LockoutRule(
                settings.address_lockout_failures,
                settings.address_lockout_window_seconds,
                settings.address_lockout_seconds,
            ),
            store,
            detail="too many failed client authentications from this address",
        ),
        in_flight=ConcurrencyLimit(
            "token requests",
            total=settings.token_requests_in_flight,
            per_key=settings.token_requests_in_flight_per_address,
        ),
        proxies=settings.auth.proxies,
        executor=ThreadPoolExecutor(max_workers=settings.token_workers, thread_name_prefix="token"),
    )


def main() -> None:
    settings = AccessSettings()
    connections = connect(
        settings,
        topics=[PARTNERS_TOPIC, CLIENTS_TOPIC, AUDIT_TOPIC],
        outbox_collections=[
            collection_of(PartnerDocument),
            collection_of(ClientDocument),
            collection_of(SigningKeyDocument),
        ],
    )
    encryption_secret = settings.key_encryption_secret.get_secret_value()
    if encryption_secret == DEV_KEY_ENCRYPTION_SECRET:
        log.warning("signing keys are encrypted with the development secret; set MRC_ACCESS_KEY_ENCRYPTION_SECRET")
    store = connections.store
    partners, clients = StoredPartners(store), StoredClients(store)
    signing_keys, audit_records = StoredSigningKeys(store, encryption_secret), StoredAuditRecords(store)
    for repository in (partners, clients, signing_keys, audit_records):
        repository.ensure_indexes()
    # Operators' changes carry their audit events in the outbox, as every service's writes do.
    administration = PartnerAdministration(partners, clients, audit=connections.audit)
    key_ring = SigningKeyRing(
        signing_keys,
        grace=timedelta(seconds=settings.key_grace_seconds),
        cache_seconds=settings.key_cache_seconds,
        audit=connections.audit,
        system=SYSTEM,
    )
    key_ring.signing_key()  # a fresh cluster gets its first key now, not on the first token request
    bootstrap_secret = settings.bootstrap_client_secret.get_secret_value()
    if settings.bootstrap_client_id and bootstrap_secret:
        administration.ensure_bootstrap_operator(settings.bootstrap_client_id, bootstrap_secret)
    tokens = TokenService(partners, clients, key_ring, ttl_seconds=settings.token_ttl_seconds)
    audit_trail = AuditTrail(
        audit_records,
        cluster_state=settings.infra.state_code,
        time_budget_seconds=settings.audit_listing_time_budget_seconds,
    )
    verifier = BearerTokenVerifier(
        key_ring.verification_key, lambda client_id: (c := clients.get(client_id)) is not None and not c.revoked
    )
    # The same limits as every service's bearer calls (shared counts), and one cap on listings for both APIs.
    guard = connections.http_auth.guard
    listings = audit_listings(settings.audit_listings_in_flight, settings.audit_listings_in_flight_per_caller)

    http_app = create_access_http_app(
        administration=administration,
        tokens=tokens,
        key_ring=key_ring,
        audit_trail=audit_trail,
        verifier=verifier,
        readiness_checks=connections.readiness_checks(),
        guard=guard,
        token_limits=token_limits(settings, connections),
        listings=listings,
    )
    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.access.v1.AccessService",
        lambda server: access_service_pb2_grpc.add_AccessServiceServicer_to_server(
            AccessServicer(administration, audit_trail, verifier, guard=guard, listings=listings), server
        ),
    )
    run_service(connections, http_app, grpc_server)
