"""Cross-state federation for every service of a state cluster: this state's peers, and a consumer of the
copies MirrorMaker 2 makes in this cluster of what the peers address to this state.

`MRC_STATE_CODE` is this state's LGD code; `MRC_FEDERATION_PEERS` lists the other states' cluster aliases
(their names: `kerala,tamil_nadu`, which prefix their topics here), each mapped to its LGD code by name or
given as `alias=code`. Without both the federation stays off.

`MirroredTopicsConsumer` reads `<peer alias>.mrc.federation.<kind>.<own code>.v1` with one consumer group,
committed records only (MirrorMaker 2 writes in transactions), committing offsets after the records are
applied (a crash applies them again: handlers apply each ce_id once). It subscribes by name to the copies
that exist and looks for the others every `refresh_seconds` (MirrorMaker 2 creates them when it first
mirrors something). A record that can never be applied goes to the dead-letter topic with the reason in
its headers; an unreachable store stops reading until it answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.message import DecodeError
from kafka import KafkaConsumer, KafkaProducer
from pydantic_settings import BaseSettings, SettingsConfigDict

from mrc_geography.lgd import lgd
from mrc_kernel.errors import InvalidArgument, Unavailable
from mrc_kernel.events import Event, MalformedEvent
from mrc_plumbing.crypto.errors import DecryptionError
from mrc_plumbing.kafka_security import KafkaSecuritySettings
from mrc_plumbing.store import DocumentStore, DuplicateDocument

log = logging.getLogger(__name__)

ATTEMPTS = 3
# How long after the last records empty polls still commit the position (see `MirroredTopicsConsumer._run`).
SETTLE_SECONDS = 5.0


class FederationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_FEDERATION_", extra="ignore")

    cluster_alias: str = ""
    peers: str = ""

    def peer_codes(self) -> dict[str, str]:
        """Peer alias -> LGD state code; ValueError naming an alias that is no state's name."""
        codes: dict[str, str] = {}
        for entry in self.peers.split(","):
            alias, _, code = entry.strip().partition("=")
            alias = alias.strip().lower()
            if alias:
                codes[alias] = code.strip() or state_code_of(alias)
        return codes


def state_code_of(name: str) -> str:
    """`kerala` -> `32`, `tamil_nadu` -> `33` (LGD state names)."""
    wanted = name.replace("_", " ").replace("-", " ").strip().lower()
    for state in lgd().states.values():
        if state.name.lower() == wanted:
            return state.code
    raise ValueError(f"MRC_FEDERATION_PEERS: {name!r} is not the name of a state in the LGD; write alias=code")


# Where each service keeps its snapshots of k-anonymous counts for the national cluster, and their topic.
AGGREGATES_COLLECTION = "federation_aggregates"
AGGREGATES_TOPIC = "mrc.federation.aggregates.v1"


def store_aggregates(store: DocumentStore, aggregates_id: str, state: dict[str, Any], event: Event) -> None:
    """Store a snapshot's summary with its `AggregatesPublished` event in the same write (the outbox publishes
    it); a later snapshot with the same id (the same service and day) replaces it. No upsert: FerretDB."""
    snapshots = store.collection(AGGREGATES_COLLECTION)
    if snapshots.update(aggregates_id, {"$set": state}, events=[event]):
        return
    try:
        snapshots.insert({"_id": aggregates_id, **state}, events=[event])
    except DuplicateDocument:
        snapshots.update(aggregates_id, {"$set": state}, events=[event])


def federation_topic(kind: str, destination_state_code: str) -> str:
    """`mrc.federation.entitlements.32.v1`: what this state addresses to one destination."""
    if not destination_state_code.isdigit() or len(destination_state_code) > 3:
        raise ValueError(f"not an LGD state code: {destination_state_code!r}")
    return f"mrc.federation.{kind}.{destination_state_code}.v1"


def mirrored_topics(peers: dict[str, str], own_state_code: str, kind: str) -> dict[str, str]:
    """The copies here of what each peer addresses to this state -> that peer's LGD code."""
    return {f"{alias}.{federation_topic(kind, own_state_code)}": code for alias, code in sorted(peers.items())}


# Raised by a handler for a record that can never be applied: it goes to the dead-letter topic.
PERMANENT: tuple[type[Exception], ...] = (
    MalformedEvent,
    DecryptionError,
    InvalidArgument,
    DecodeError,
    KeyError,
    ValueError,
)

# (event, the LGD code of the peer whose topic it came on) -> a short outcome for counters and logs.
Handler = Callable[[Event, str], str]


class MirroredTopicsConsumer:
    def __init__(
        self,
        bootstrap_servers: str,
        security: KafkaSecuritySettings,
        topics: dict[str, str],
        handler: Handler,
        dead_letters: KafkaProducer,
        *,
        group_id: str,
        dead_letter_topic: str,
        refresh_seconds: float = 10.0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._security = security
        self._topics = dict(topics)
        self._handler = handler
        self._dead_letters = dead_letters
        self._group_id = group_id
        self._dead_letter_topic = dead_letter_topic
        self._refresh_seconds = refresh_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.outcomes: Counter[str] = Counter()

    def handle(self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]) -> None:
        for attempt in range(ATTEMPTS):
            try:
                event = Event.from_kafka(topic, key, value, list(headers))
                self.outcomes[self._handler(event, self._topics.get(topic, ""))] += 1
                return
            except PERMANENT as e:
                self._reject(topic, key, value, headers, e)
                return
            except Unavailable:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))

    def _reject(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]], error: Exception
    ) -> None:
        self.outcomes["rejected"] += 1
        reason = f"{type(error).__name__}: {error}"[:500]
        log.warning("federation record rejected", extra={"topic": topic, "reason": reason})
        self._dead_letters.send(
            self._dead_letter_topic,
            key=key,
            value=value,
            headers=[*headers, ("mrc_dlq_reason", reason.encode()), ("mrc_dlq_topic", topic.encode())],
        ).get(timeout=30)

    def _consumer(self) -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            client_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=200,
            **self._security.kafka_python_kwargs(),
        )

    def _subscribe(self, consumer: KafkaConsumer, subscribed: list[str]) -> list[str]:
        present = sorted(set(self._topics) & set(consumer.topics()))
        if present != subscribed and present:
            consumer.subscribe(topics=present)
            log.info("reading federation topics", extra={"topics": present})
        return present

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        subscribed: list[str] = []
        checked = 0.0
        settling_until = 0.0
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
                        self.handle(record.topic, record.key, record.value, list(record.headers or []))
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
        self._thread = threading.Thread(target=self._run, name=f"{self._group_id}-consumer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)
