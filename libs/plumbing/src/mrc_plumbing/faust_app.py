"""faust apps for event consumers: at-least-once processing, idempotent handlers, a dead-letter topic.

faust's exactly_once mode is fragile, so agents run at least once and every handler must be
idempotent (see `mrc_plumbing.idempotency.apply_once`). A record that still fails after a few
attempts, or that is not one of our events, goes to `<app id>.dlq` with the reason in its headers,
and the agent moves on: one poison record never stops a consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import faust
from faust.types.auth import CredentialsT, SASLMechanism

from mrc_kernel.events import Event, MalformedEvent
from mrc_plumbing.kafka_security import KafkaSecuritySettings
from mrc_plumbing.settings import InfraSettings

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], None]


def broker_credentials(security: KafkaSecuritySettings) -> CredentialsT | None:
    """faust's `broker_credentials` for these settings (its aiokafka consumer, producer and topic admin).

    None for PLAINTEXT; TLS alone is `SSLCredentials`; SCRAM over TLS is `SASLCredentials` carrying the
    same verifying SSL context as kafka-python gets.
    """
    context = security.ssl_context()
    if context is None:
        return None
    if security.uses_sasl:
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=SASLMechanism(security.sasl_mechanism),
        )
    return faust.SSLCredentials(context)


def create_faust_app(
    app_id: str, infra: InfraSettings, *, web_port: int = 6066, bind_host: str = "127.0.0.1"
) -> faust.App:
    return faust.App(
        app_id,
        broker=f"kafka://{infra.kafka_bootstrap_servers}",
        broker_credentials=broker_credentials(infra.kafka_security),
        store="memory://",
        processing_guarantee="at_least_once",
        topic_partitions=infra.kafka_topic_partitions,
        topic_replication_factor=infra.kafka_topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # A handler may wait on the store; give it time before the broker declares the member dead.
        broker_session_timeout=30.0,
        broker_heartbeat_interval=3.0,
        broker_max_poll_interval=300.0,
        stream_wait_empty=False,
        web_enabled=True,
        web_bind=bind_host,
        web_host=bind_host,
        web_port=web_port,
    )


def dead_letter_topic_name(app_id: str) -> str:
    return f"{app_id}.dlq"


def _headers_list(headers: Any) -> list[tuple[str, bytes]]:
    if headers is None:
        return []
    if isinstance(headers, dict):
        return [(k, v) for k, v in headers.items()]
    return [(k, v) for k, v in headers]


def subscribe(
    app: faust.App,
    topic: str,
    handler: EventHandler,
    *,
    max_attempts: int = 3,
    retry_delay_seconds: float = 0.5,
    concurrency: int = 1,
    batch_size: int = 64,
    batch_wait_seconds: float = 0.02,
) -> None:
    """Route every event on `topic` to `handler` (a plain synchronous function run in a thread).

    With `concurrency` above 1, events are taken in batches (up to `batch_size`, waiting at most
    `batch_wait_seconds` for a batch to fill) and the events of different record keys (aggregates) are
    handled in up to `concurrency` threads at once, while the events of one key are handled one after
    another in the order of the partition. A batch is acknowledged only when all of it was handled (or
    dead-lettered), so a crash redelivers what was not: handlers stay idempotent either way. Use it only for
    handlers whose effects on different keys are independent or version-checked.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    source = app.topic(topic, key_serializer="raw", value_serializer="raw")
    dead_letters = app.topic(dead_letter_topic_name(app.conf.id), key_serializer="raw", value_serializer="raw")

    async def handle(message: Any) -> None:
        headers = _headers_list(message.headers)
        error = ""
        try:
            event = Event.from_kafka(message.topic, message.key, message.value, headers)
        except (MalformedEvent, ValueError, UnicodeDecodeError) as exc:
            error = f"malformed: {exc}"
        else:
            for attempt in range(1, max_attempts + 1):
                try:
                    await asyncio.to_thread(handler, event)
                    error = ""
                    break
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "event handler failed",
                        extra={"event_id": event.id, "type": event.type, "attempt": attempt, "error": error},
                    )
                    await asyncio.sleep(retry_delay_seconds * attempt)
        if error:
            await dead_letters.send(
                key=message.key,
                value=message.value,
                headers=[
                    *headers,
                    ("mrc_dlq_error", error.encode()[:2000]),
                    ("mrc_dlq_topic", message.topic.encode()),
                    ("mrc_dlq_partition", str(message.partition).encode()),
                    ("mrc_dlq_offset", str(message.offset).encode()),
                ],
            )
            log.error("event sent to dead-letter topic", extra={"topic": message.topic, "error": error})

    async def consume_one_at_a_time(stream: Any) -> None:
        async for record in stream.events():
            await handle(record.message)

    async def consume_keys_concurrently(stream: Any) -> None:
        lanes = asyncio.Semaphore(concurrency)

        async def in_order(messages: list[Any]) -> None:
            async with lanes:
                for message in messages:
                    await handle(message)

        async for batch in stream.take_events(batch_size, within=batch_wait_seconds):
            by_key: dict[bytes, list[Any]] = {}
            for record in batch:
                by_key.setdefault(record.message.key or b"", []).append(record.message)
            await asyncio.gather(*(in_order(messages) for messages in by_key.values()))

    consume = consume_one_at_a_time if concurrency == 1 else consume_keys_concurrently
    consume.__name__ = f"consume_{topic.replace('.', '_')}"
    app.agent(source, name=f"{app.conf.id}.{topic}")(consume)
