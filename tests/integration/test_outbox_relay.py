"""The outbox relay against the real store (both strategies) and broker."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pymongo import MongoClient, monitoring
from pymongo.database import Database

from mrc.registry.v1 import events_pb2
from mrc_kernel.events import Event
from mrc_plumbing import kafka_wiring
from mrc_plumbing.outbox import OutboxRelay
from mrc_plumbing.settings import InfraSettings
from mrc_plumbing.store import OUTBOX_FIELD, PENDING_FLAG, DocumentStore
from mrc_plumbing.store.wiring import store_for
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration


def event(subject: str, topic: str) -> Event:
    message = events_pb2.WorkerErased(worker_id=subject)
    return Event.from_message(message, source="/test", subject=subject, topic=topic)


def test_relay_publishes_stored_events_in_order_then_clears_them(
    store: DocumentStore, infra: InfraSettings, topic: str
) -> None:
    things = store.collection("things")
    first, second = event("a", topic), event("a", topic)
    producer = kafka_wiring.create_producer(infra, "it-relay")
    relay = OutboxRelay(store, ["things"], producer)
    relay.ensure_indexes()
    things.insert({"_id": "a"}, events=[first, second])
    things.insert({"_id": "quiet"})
    try:
        assert relay.relay_pending() == 2  # both events of the document
        records = read_topic(infra.kafka_bootstrap_servers, topic, until=lambda r: len(r) >= 2)
        assert [r.headers["ce_id"].decode() for r in records] == [first.id, second.id]
        assert all(r.key == b"a" for r in records)
        assert records[0].headers["ce_type"] == b"mrc.registry.v1.WorkerErased"
        stored = things.get("a")
        assert stored is not None
        assert stored[OUTBOX_FIELD] == []
        assert relay.relay_pending() == 0  # nothing published twice
        if store.strategy == "mongodb":  # MongoDB finds pending documents by this flag: it must be gone
            assert PENDING_FLAG not in stored
    finally:
        producer.close()


def test_a_write_wakes_the_relay_which_reads_just_that_document(
    store: DocumentStore, infra: InfraSettings, topic: str
) -> None:
    things = store.collection("things")
    producer = kafka_wiring.create_producer(infra, "it-relay")
    relay = OutboxRelay(store, ["things"], producer, poll_interval_seconds=30, scan_interval_seconds=300)
    things.insert({"_id": "b"}, events=[event("b", topic)])
    relay.start()
    try:
        read_topic(infra.kafka_bootstrap_servers, topic, until=lambda r: len(r) >= 1)
        started = time.monotonic()
        # No 30 s wait: the store tells the relay about the write, and it reads that document by _id.
        things.update("b", {"$set": {"name": "x"}}, events=[event("b", topic)])
        records = read_topic(infra.kafka_bootstrap_servers, topic, until=lambda r: len(r) >= 2)
        assert len(records) == 2
        assert time.monotonic() - started < 10
    finally:
        relay.stop()
        producer.close()


class _UpdateCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.updates = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "update":
            self.updates += len(event.command.get("updates", []))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.mark.parametrize("strategy", ["ferretdb", "mongodb"])
def test_a_published_outbox_is_cleared_in_one_write_per_document(
    db: Database[Any], infra: InfraSettings, topic: str, strategy: str
) -> None:
    """Each update rewrites the whole document on FerretDB: the usual clear is one, not three."""
    counter = _UpdateCounter()
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_uri, event_listeners=[counter], tz_aware=True)
    store = store_for(client[db.name], strategy)
    producer = kafka_wiring.create_producer(infra, "it-relay-one-write")
    relay = OutboxRelay(store, ["things"], producer)
    things = store.collection("things")
    for subject in ("a", "b", "c"):
        things.insert({"_id": subject}, events=[event(subject, topic), event(subject, topic)])
    try:
        assert relay.relay_pending() == 6
        assert counter.updates == 3
        for stored in things.find({}):
            assert stored[OUTBOX_FIELD] == []
            if strategy == "mongodb":
                assert PENDING_FLAG not in stored
        assert relay.relay_pending() == 0
    finally:
        producer.close()
        client.close()


class _CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.mark.parametrize("strategy", ["ferretdb", "mongodb"])
def test_events_a_write_stored_are_published_without_reading_the_document_back(
    db: Database[Any], infra: InfraSettings, topic: str, strategy: str
) -> None:
    counter = _CommandCounter()
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_uri, event_listeners=[counter], tz_aware=True)
    store = store_for(client[db.name], strategy)
    producer = kafka_wiring.create_producer(infra, "it-relay-from-memory")
    relay = OutboxRelay(store, ["things"], producer)
    things = store.collection("things")
    try:
        for subject in ("a", "b"):
            things.insert({"_id": subject}, events=[event(subject, topic)])
        counter.commands.clear()
        assert relay.relay_hinted() == 2
        # No find or aggregate: the relay had the entries from the writes; one clearing update per document.
        assert [c for c in counter.commands if c in ("find", "aggregate")] == []
        assert things.outboxes_of(["a", "b"]) == []
        assert len(read_topic(infra.kafka_bootstrap_servers, topic, until=lambda r: len(r) >= 2)) == 2
    finally:
        producer.close()
        client.close()
