"""Runs one service process: REST (uvicorn), gRPC and the outbox relay, started and stopped together."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.outbox import OutboxRelay
from mrc_plumbing.settings import ServiceSettings

log = logging.getLogger(__name__)


def cached_check(check: Callable[[], bool], ttl_seconds: float = 2.0) -> Callable[[], bool]:
    """Readiness probes arrive every few seconds from several places; ask the dependency at most once per TTL."""
    lock = threading.Lock()
    state = {"at": 0.0, "ok": False}

    def cached() -> bool:
        with lock:
            if time.monotonic() - state["at"] > ttl_seconds:
                state["ok"] = check()
                state["at"] = time.monotonic()
            return bool(state["ok"])

    return cached


def run_service(
    settings: ServiceSettings,
    http_app: FastAPI,
    grpc_server: GrpcServer | None = None,
    relay: OutboxRelay | None = None,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """Blocks until SIGINT/SIGTERM (uvicorn installs the handlers), then stops everything in order."""
    if relay:
        relay.start()
    if grpc_server:
        grpc_server.start()
    log.info(
        "service started",
        extra={"http": f"{settings.bind_host}:{settings.http_port}", "grpc": grpc_server and grpc_server.address},
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
        if grpc_server:
            grpc_server.stop()
        if relay:
            relay.stop()
        if on_stop:
            on_stop()
        log.info("service stopped")
