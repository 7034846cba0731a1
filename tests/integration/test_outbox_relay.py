"""The outbox relay against the real store and broker."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pymongo import MongoClient, monitoring
from pymongo.database import Database

from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_kernel.events import Event
from mrc_plumbing import kafka_wiring
from mrc_plumbing.conditional_writes import is_ferretdb
from mrc_plumbing.outbox import OUTBOX_FIELD, PENDING_FLAG, OutboxRelay, append_events, ensure_outbox_index, with_events
from mrc_plumbing.settings import InfraSettings
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration


def event(subject: str, topic: str, name: str) -> Event:
    message = events_pb2.WorkerRegistered(worker=worker_pb2.Worker(worker_id=subject, full_name=name))
    return Event.from_message(message, source="/test", subject=subject, topic=topic)


def test_relay_publishes_stored_events_in_order_then_clears_them(
    db: Database[Any], infra: InfraSettings, topic: str
) -> None:
    ensure_outbox_index(db, "things")
    first, second = event("a", topic, "one"), event("a", topic, "two")
    db.things.insert_one(with_events({"_id": "a"}, [first, second]))
    db.things.insert_one({"_id": "quiet"})
    producer = kafka_wiring.create_producer(infra, "it-relay")
    relay = OutboxRelay(db, ["things"], producer)
    try:
        assert relay.relay_pending() == 2  # both events of the document
        records = read_topic(infra.kafka_bootstrap_servers, topic, until=lambda r: len(r) >= 2)
        assert [r.headers["ce_id"].decode() for r in records] == [first.id, second.id]
        assert all(r.key == b"a" for r in records)
        assert records[0].headers["ce_type"] == b"mrc.registry.v1.WorkerRegistered"
        stored = db.things.find_one({"_id": "a"})
        assert stored is not None
        assert stored[OUTBOX_FIELD] == []
        # MongoDB drops the pending flag with the clear; FerretDB's scans look at the outbox instead.
        assert PENDING_FLAG not in stored or is_ferretdb(db)
        assert relay.relay_pending() == 0  # nothing published twice
    finally:
        producer.close()


def test_events_appended_later_are_relayed_on_the_next_pass(
    db: Database[Any], infra: InfraSettings, topic: str
) -> None:
    db.things.insert_one(with_events({"_id": "b"}, [event("b", topic, "one")]))
    producer = kafka_wiring.create_producer(infra, "it-relay")
    relay = OutboxRelay(db, ["things"], producer, poll_interval_seconds=30)
    relay.start()
    try:
        read_topic(infra.kafka_bootstrap_servers, topic, until=lambda r: len(r) >= 1)
        db.things.update_one({"_id": "b"}, append_events({"$set": {"name": "x"}}, [event("b", topic, "two")]))
        started = time.monotonic()
        relay.notify("b")  # no 30 s wait: the write wakes the relay, which reads that document by _id
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


def test_a_published_outbox_is_cleared_in_one_write_per_document(
    db: Database[Any], infra: InfraSettings, topic: str
) -> None:
    """Each update rewrites the whole document on FerretDB: the usual clear is one, not three."""
    counter = _UpdateCounter()
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_uri, event_listeners=[counter], tz_aware=True)
    listened = client[db.name]
    ensure_outbox_index(listened, "things")
    for subject in ("a", "b", "c"):
        listened.things.insert_one(
            with_events({"_id": subject}, [event(subject, topic, "one"), event(subject, topic, "two")])
        )
    producer = kafka_wiring.create_producer(infra, "it-relay-one-write")
    relay = OutboxRelay(listened, ["things"], producer)
    try:
        assert relay.relay_pending() == 6
        assert counter.updates == 3
        for stored in listened.things.find({}):
            assert stored[OUTBOX_FIELD] == [] and (PENDING_FLAG not in stored or is_ferretdb(listened))
        assert relay.relay_pending() == 0
    finally:
        producer.close()
        client.close()
