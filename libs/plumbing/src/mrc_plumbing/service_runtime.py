"""Runs one service process: connections, REST (uvicorn), gRPC and the outbox relay, started and stopped together."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from kafka import KafkaProducer

from mrc_kernel.claims import audience_of
from mrc_plumbing import kafka_wiring
from mrc_plumbing.audit import AUDIT_TOPIC, AuditTrail
from mrc_plumbing.auth.grpc import GrpcAuth
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import SharedCounters, SlidingWindowLimiter, WindowRule
from mrc_plumbing.auth.revocations import RevocationWatcher
from mrc_plumbing.auth.verifier import TokenVerifier
from mrc_plumbing.crypto import Crypto, build_crypto
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import ReadinessCheck
from mrc_plumbing.outbox import OutboxRelay
from mrc_plumbing.settings import AuthSettings, ServiceSettings
from mrc_plumbing.store import DocumentStore
from mrc_plumbing.store.wiring import open_store
from mrc_plumbing.structured_logging import configure_logging

log = logging.getLogger(__name__)


def cached_check(check: Callable[[], bool], ttl_seconds: float = 2.0) -> Callable[[], bool]:
    """Probes arrive every few seconds from several places; ask the dependency at most once per TTL."""
    lock = threading.Lock()
    state = {"at": 0.0, "ok": False}

    def cached() -> bool:
        with lock:
            if time.monotonic() - state["at"] > ttl_seconds:
                state["ok"] = check()
                state["at"] = time.monotonic()
            return bool(state["ok"])

    return cached


@dataclass
class Connections:
    """What every service process holds: its store, producers, the outbox relay, auth and audit."""

    settings: ServiceSettings
    store: DocumentStore
    producer: KafkaProducer
    relay: OutboxRelay
    audit: AuditTrail
    http_auth: HttpAuth
    grpc_auth: GrpcAuth
    revocations: RevocationWatcher
    audit_producer: KafkaProducer
    crypto: Crypto
    # The rate limit counts this process shares with the other replicas (started by `run_service`).
    counters: SharedCounters | None = None

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        return {
            "store": cached_check(self.store.is_reachable),
            "kafka": cached_check(lambda: kafka_wiring.kafka_is_reachable(self.settings.infra)),
        }

    def close(self) -> None:
        if self.counters is not None:
            self.counters.stop()
        self.revocations.stop()
        self.relay.stop()
        self.producer.close()
        self.audit_producer.close()


@dataclass(frozen=True)
class CallerLimits:
    """The limits `HttpAuth` and `GrpcAuth` apply (see `mrc_plumbing.auth.guard`), shared by both."""

    per_client: SlidingWindowLimiter
    per_address: SlidingWindowLimiter
    failures_per_address: SlidingWindowLimiter


def caller_limits(auth: AuthSettings, counters: SharedCounters | None) -> CallerLimits:
    """Per-client and per-address limits whose counts every replica of the service shares."""
    failures = (
        WindowRule(auth.failed_auth_per_address, auth.failed_auth_window_seconds)
        if auth.failed_auth_per_address
        else None
    )
    return CallerLimits(
        per_client=SlidingWindowLimiter(
            "client", WindowRule.from_rate(auth.rate_limit_per_second, auth.rate_limit_burst), counters=counters
        ),
        per_address=SlidingWindowLimiter(
            "address",
            WindowRule.from_rate(auth.address_rate_limit_per_second, auth.address_rate_limit_burst),
            counters=counters,
        ),
        failures_per_address=SlidingWindowLimiter(
            "auth-failures",
            failures,
            counters=counters,
            detail="too many failed authentications from this address; retry later",
        ),
    )


def connect(settings: ServiceSettings, *, topics: Iterable[str], outbox_collections: Iterable[str]) -> Connections:
    """Configure logging, connect to the store and broker, declare our topics, prepare the relay."""
    infra = settings.infra
    configure_logging(settings.service_name, level=infra.log_level, fmt=infra.log_format)
    store = open_store(infra, settings.mongo_database)
    kafka_wiring.ensure_topics(infra, [*topics, AUDIT_TOPIC])
    producer = kafka_wiring.create_producer(infra, client_id=f"mrc-{settings.service_name}")
    relay = OutboxRelay(
        store,
        outbox_collections,
        producer,
        batch_size=settings.outbox_batch_size,
        poll_interval_seconds=settings.outbox_poll_interval_seconds,
        faults=settings.faults,
    )
    verifier = TokenVerifier(
        settings.auth.jwks_url,
        audience_of(settings.service_name),
        issuer=settings.auth.issuer,
        leeway_seconds=settings.auth.leeway_seconds,
    )
    counters = SharedCounters(store, sync_seconds=settings.auth.rate_limit_sync_seconds)
    limits = caller_limits(settings.auth, counters)
    proxies = settings.auth.proxies
    # Reads wait for the audit record, so this producer does not linger.
    audit_producer = kafka_wiring.create_producer(infra, client_id=f"mrc-{settings.service_name}-audit", linger_ms=0)
    return Connections(
        settings=settings,
        store=store,
        producer=producer,
        relay=relay,
        audit=AuditTrail(audit_producer, service=settings.service_name, state_code=infra.state_code),
        http_auth=HttpAuth(
            verifier,
            limits.per_client,
            address_limiter=limits.per_address,
            failure_limiter=limits.failures_per_address,
            proxies=proxies,
        ),
        grpc_auth=GrpcAuth(
            verifier,
            limits.per_client,
            address_limiter=limits.per_address,
            failure_limiter=limits.failures_per_address,
            proxies=proxies,
        ),
        revocations=RevocationWatcher(infra.kafka_bootstrap_servers, verifier.revoked, security=infra.kafka_security),
        audit_producer=audit_producer,
        crypto=build_crypto(store, settings.crypto),
        counters=counters,
    )


def run_service(connections: Connections, http_app: FastAPI, grpc_server: GrpcServer) -> None:
    """Blocks until SIGINT/SIGTERM (uvicorn installs the handlers), then stops everything in order."""
    settings = connections.settings
    connections.relay.start()
    connections.revocations.start()
    if connections.counters is not None:
        connections.counters.start()
    grpc_server.start()
    log.info(
        "service started",
        extra={"http": f"{settings.bind_host}:{settings.http_port}", "grpc": grpc_server.address},
    )
    config = uvicorn.Config(
        http_app,
        host=settings.bind_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        # uvicorn would otherwise rewrite the client address from X-Forwarded-For for peers it trusts
        # (127.0.0.1 by default): which proxies to believe is `MRC_AUTH_TRUSTED_PROXIES`' decision alone.
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        grpc_server.stop()
        connections.close()
        log.info("service stopped")
