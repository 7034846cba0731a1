"""Reads what other states' registries share with this one: the copies MirrorMaker 2 makes in this cluster
of each peer's topics for this state (`<peer alias>.mrc.federation.{workers,households}.<own code>.v1`),
and hands each record to the intake (`service_layer.federation`).

It runs in the registry process (on the embedded FerretDB default one process per service writes the
workers collection). One consumer group, reading committed records only (MirrorMaker 2 writes them in
transactions); offsets are committed after the records are applied, so a crash applies them again, which
`apply_once` and the version check make harmless. It subscribes by name to those of the copies that exist,
and looks for the others every `refresh_seconds` (MirrorMaker 2 creates them when it first runs; a
subscription by pattern that matched nothing at first did not notice them later). A record that can never
be applied (not a CloudEvent, a name that does not open with this state's federation keys, a malformed
summary) goes to the dead-letter topic with the reason in its headers, and reading goes on; an unreachable
store stops reading until it answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

from google.protobuf.message import DecodeError
from kafka import KafkaConsumer, KafkaProducer

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc_kernel.errors import InvalidArgument, Unavailable
from mrc_kernel.events import Event, MalformedEvent
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.crypto.errors import DecryptionError
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.kafka_security import KafkaSecuritySettings
from mrc_registry.adapters.federation_mapping import (
    RefusedRecord,
    household_links_from,
    shared_worker_from,
    withdrawn_from,
)
from mrc_registry.service_layer.federation import FederationIntake, Outcome

log = logging.getLogger(__name__)

CONSUMER_GROUP = "mrc-registry-federation"
# Under the registry's own topic prefix (its Kafka user writes `mrc.registry.*`).
DEAD_LETTER_TOPIC = "mrc.registry.federation-rejected.v1"
ATTEMPTS = 3
# How long after the last records empty polls still commit the position (see `_run`).
SETTLE_SECONDS = 5.0
PERMANENT = (MalformedEvent, DecryptionError, RefusedRecord, InvalidArgument, DecodeError, KeyError, ValueError)


def apply_event(event: Event, intake: FederationIntake, cipher: FederationCipher, decoder: EventDecoder) -> Outcome:
    """Apply one record of a peer's federation topics (raises for one that can never be applied)."""
    message = decoder.decode(event)
    if isinstance(message, federation_pb2.WorkerShared):
        return intake.worker_shared(shared_worker_from(message, cipher), event.id)
    if isinstance(message, federation_pb2.WorkerWithdrawn):
        return intake.worker_withdrawn(withdrawn_from(message), event.id)
    if isinstance(message, federation_pb2.HouseholdLinksShared):
        return intake.household_links(household_links_from(message), event.id)
    raise RefusedRecord(f"{event.type} is not read from the federation's worker and household topics")


class FederationConsumer:
    def __init__(
        self,
        bootstrap_servers: str,
        security: KafkaSecuritySettings,
        topics: Sequence[str],
        intake: FederationIntake,
        cipher: FederationCipher,
        dead_letters: KafkaProducer,
        *,
        refresh_seconds: float = 10.0,
        on_applied: Callable[[Event, Outcome], None] | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._security = security
        self._topics = sorted(set(topics))
        self._intake = intake
        self._cipher = cipher
        self._dead_letters = dead_letters
        self._refresh_seconds = refresh_seconds
        self._on_applied = on_applied
        self._decoder = EventDecoder()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.outcomes: Counter[str] = Counter()

    # -- one record ----------------------------------------------------------------------------------

    def apply(self, event: Event) -> Outcome:
        return apply_event(event, self._intake, self._cipher, self._decoder)

    def _handle(self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        event: Event | None = None
        for attempt in range(ATTEMPTS):
            try:
                event = Event.from_kafka(topic, key, value, headers)
                outcome = self.apply(event)
                self.outcomes[outcome.value] += 1
                if self._on_applied is not None:
                    self._on_applied(event, outcome)
                return
            except PERMANENT as e:
                self._reject(topic, key, value, headers, e)
                return
            except Unavailable:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))

    def _reject(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]], error: Exception
    ) -> None:
        self.outcomes["rejected"] += 1
        reason = f"{type(error).__name__}: {error}"[:500]
        log.warning("federation record rejected", extra={"topic": topic, "reason": reason})
        self._dead_letters.send(
            DEAD_LETTER_TOPIC,
            key=key,
            value=value,
            headers=[*headers, ("mrc_dlq_reason", reason.encode()), ("mrc_dlq_topic", topic.encode())],
        ).get(timeout=30)

    # -- the loop ------------------------------------------------------------------------------------

    def _consumer(self) -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=CONSUMER_GROUP,
            client_id="mrc-registry-federation",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=200,
            **self._security.kafka_python_kwargs(),
        )

    def _subscribe(self, consumer: KafkaConsumer, subscribed: list[str]) -> list[str]:
        """Subscribe to the copies that exist now (all of them, once there); what is subscribed."""
        present = sorted(set(self._topics) & set(consumer.topics()))
        if present != subscribed and present:
            consumer.subscribe(topics=present)
            log.info("reading federation topics", extra={"topics": present})
        return present

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        subscribed: list[str] = []
        checked = settling_until = 0.0
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer, subscribed, checked = self._consumer(), [], 0.0
                if len(subscribed) < len(self._topics) and time.monotonic() - checked > self._refresh_seconds:
                    subscribed, checked = self._subscribe(consumer, subscribed), time.monotonic()
                if not subscribed:
                    self._stop.wait(1.0)
                    continue
                batches = consumer.poll(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        self._handle(record.topic, record.key, record.value, list(record.headers or []))
                if batches:
                    consumer.commit()
                    settling_until = time.monotonic() + SETTLE_SECONDS
                elif time.monotonic() < settling_until:
                    # The marker that ends MirrorMaker 2's transaction moves the position without returning
                    # a record, often in a poll after the last records (past max_poll_records, or in a later
                    # fetch): commit that too, or the group shows a lag of one until the next record.
                    consumer.commit()
            except Exception:
                log.exception("federation consumer failed; reading again from the last committed offsets")
                if consumer is not None:
                    consumer.close(autocommit=False)
                consumer = None
                self._stop.wait(5)
        if consumer is not None:
            consumer.close(autocommit=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="federation-consumer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)
