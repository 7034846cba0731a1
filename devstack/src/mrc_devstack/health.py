"""Health probes: TCP, Kafka (admin client), MongoDB protocol (ping) and HTTP."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator

import httpx

HOST = "127.0.0.1"


def tcp_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _quiet(*loggers: str) -> Iterator[None]:
    """Silence client libraries' connection-refused chatter while probing."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in loggers]
    for logger, _ in saved:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


def kafka_ready(bootstrap: str, timeout: float = 5.0) -> bool:
    """TCP connect, then ``KafkaAdminClient.list_topics()`` succeeds."""
    host, _, port = bootstrap.rpartition(":")
    if not tcp_open(int(port), host or HOST):
        return False
    from kafka.admin import KafkaAdminClient

    millis = int(timeout * 1000)
    with _quiet("kafka"):
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="mrc-dev-health",
                request_timeout_ms=millis,
                bootstrap_timeout_ms=millis,
            )
        except Exception:
            return False
        try:
            admin.list_topics()
            return True
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                admin.close()


def mongo_ready(uri: str, timeout: float = 3.0) -> bool:
    """``admin.command('ping')`` answers through pymongo."""
    import pymongo

    millis = int(timeout * 1000)
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        uri, serverSelectionTimeoutMS=millis, connectTimeoutMS=millis, socketTimeoutMS=millis
    )
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """HTTP status of GET ``url``, or None when nothing answers."""
    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return None
