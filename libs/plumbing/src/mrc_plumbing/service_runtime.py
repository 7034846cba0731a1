"""Runs one service process: connections, REST (uvicorn), gRPC and the outbox relay, started and stopped together."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI
from kafka import KafkaProducer
from pymongo.database import Database

from mrc_kernel.claims import audience_of
from mrc_plumbing import kafka_wiring, mongo_wiring
from mrc_plumbing.audit import AUDIT_TOPIC, AuditTrail
from mrc_plumbing.auth.grpc import GrpcAuth
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.auth.revocations import RevocationWatcher
from mrc_plumbing.auth.verifier import TokenVerifier
from mrc_plumbing.crypto import Crypto, build_crypto
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import ReadinessCheck
from mrc_plumbing.outbox import OutboxRelay
from mrc_plumbing.settings import ServiceSettings
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
    """What every service process holds: its database, producers, the outbox relay, auth and audit."""

    settings: ServiceSettings
    db: Database[Any]
    producer: KafkaProducer
    relay: OutboxRelay
    audit: AuditTrail
    http_auth: HttpAuth
    grpc_auth: GrpcAuth
    revocations: RevocationWatcher
    audit_producer: KafkaProducer
    crypto: Crypto

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        return {
            "store": cached_check(lambda: mongo_wiring.store_is_reachable(self.db)),
            "kafka": cached_check(lambda: kafka_wiring.kafka_is_reachable(self.settings.infra)),
        }

    def close(self) -> None:
        self.revocations.stop()
        self.relay.stop()
        self.producer.close()
        self.audit_producer.close()


def connect(settings: ServiceSettings, *, topics: Iterable[str], outbox_collections: Iterable[str]) -> Connections:
    """Configure logging, connect to the store and broker, declare our topics, prepare the relay."""
    infra = settings.infra
    configure_logging(settings.service_name, level=infra.log_level, fmt=infra.log_format)
    db = mongo_wiring.connect(infra, settings.mongo_database)
    kafka_wiring.ensure_topics(infra, [*topics, AUDIT_TOPIC])
    producer = kafka_wiring.create_producer(infra, client_id=f"mrc-{settings.service_name}")
    relay = OutboxRelay(
        db,
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
    limiter = RateLimiter(settings.auth.rate_limit_per_second, settings.auth.rate_limit_burst)
    # Reads wait for the audit record, so this producer does not linger.
    audit_producer = kafka_wiring.create_producer(infra, client_id=f"mrc-{settings.service_name}-audit", linger_ms=0)
    return Connections(
        settings=settings,
        db=db,
        producer=producer,
        relay=relay,
        audit=AuditTrail(audit_producer, service=settings.service_name, state_code=infra.state_code),
        http_auth=HttpAuth(verifier, limiter),
        grpc_auth=GrpcAuth(verifier, limiter),
        revocations=RevocationWatcher(infra.kafka_bootstrap_servers, verifier.revoked),
        audit_producer=audit_producer,
        crypto=build_crypto(db, settings.crypto),
    )


def run_service(connections: Connections, http_app: FastAPI, grpc_server: GrpcServer) -> None:
    """Blocks until SIGINT/SIGTERM (uvicorn installs the handlers), then stops everything in order."""
    settings = connections.settings
    connections.relay.start()
    connections.revocations.start()
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
        timeout_graceful_shutdown=5,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        grpc_server.stop()
        connections.close()
        log.info("service stopped")
