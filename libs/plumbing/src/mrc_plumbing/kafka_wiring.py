"""Kafka clients configured the one way this platform uses them.

Every client gets the transport security of `infra.kafka_security` (`MRC_KAFKA_SECURITY_PROTOCOL`...):
PLAINTEXT on the local dev stack, TLS and a SCRAM user of its own in the clusters.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from mrc_plumbing.settings import InfraSettings

log = logging.getLogger(__name__)


def create_producer(
    infra: InfraSettings, client_id: str, *, linger_ms: int = 5, max_block_ms: int = 5_000
) -> KafkaProducer:
    """An idempotent producer: acks from all in-sync replicas, broker-side de-duplication of retries.

    `send` waits at most `max_block_ms` for the broker's metadata (kafka-python's default is a minute): with
    the broker down, a request answers 503 in seconds instead of hanging.
    """
    return KafkaProducer(
        bootstrap_servers=infra.kafka_bootstrap_servers,
        client_id=client_id,
        **infra.kafka_security.kafka_python_kwargs(),
        acks="all",
        enable_idempotence=True,
        # Idempotence keeps ordering per partition for up to 5 in-flight requests.
        max_in_flight_requests_per_connection=5,
        linger_ms=linger_ms,
        retries=2**31 - 1,
        request_timeout_ms=15_000,
        delivery_timeout_ms=60_000,
        max_block_ms=max_block_ms,
    )


def ensure_topics(infra: InfraSettings, topics: Iterable[str]) -> None:
    """Declare topics with the configured layout; existing topics are left as they are."""
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = KafkaAdminClient(
        bootstrap_servers=infra.kafka_bootstrap_servers,
        client_id="mrc-topic-admin",
        **infra.kafka_security.kafka_python_kwargs(),
    )
    try:
        existing = set(admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return
        new = [NewTopic(t, infra.kafka_topic_partitions, infra.kafka_topic_replication_factor) for t in missing]
        # Another service may have declared it meanwhile.
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(new, wait_for_metadata=True)
        log.info("declared topics", extra={"topics": missing})
    finally:
        admin.close()


def kafka_is_reachable(infra: InfraSettings, timeout_ms: int = 3000) -> bool:
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=infra.kafka_bootstrap_servers,
            client_id="mrc-readiness",
            request_timeout_ms=timeout_ms,
            **infra.kafka_security.kafka_python_kwargs(),
        )
    except Exception:
        return False
    try:
        admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        admin.close()
