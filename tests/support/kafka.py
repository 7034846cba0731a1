"""Reading topics in tests: every record from the beginning, with its headers, no consumer group; and
publishing CloudEvents as the services' outbox relays do."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from mrc_kernel.events import Event


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[Record]], bool] = lambda records: False,
    timeout: float = 20.0,
    isolation_level: Literal["read_uncommitted", "read_committed"] = "read_uncommitted",
) -> list[Record]:
    """All records on `topic`, polling until `until(records)` holds or the timeout passes.

    `read_committed` hides records of aborted (and not yet committed) transactions, as a transactional
    reader would see them; the default shows everything in the log.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500, isolation_level=isolation_level
    )
    try:
        deadline = time.monotonic() + timeout
        partitions: set[int] = set()
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic) or set()
            if not partitions:
                time.sleep(0.2)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        records: list[Record] = []
        while True:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(
                    Record(m.topic, m.partition, m.offset, m.key, m.value, dict(m.headers or [])) for m in batch
                )
            if until(records) or time.monotonic() > deadline:
                return records
    finally:
        consumer.close()


def read_all(bootstrap: str, topic: str, *, timeout: float = 60.0) -> list[Record]:
    """Every record the topic holds now: read until the position in each partition reaches its end offset at the
    call (for checks that something is absent, which a read cut short by a timeout would pass unread)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return []
        ends = consumer.end_offsets(partitions)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        # The position passes transaction markers too, which are never returned as records.
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic} not read to its end within {timeout} s")
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(
                    Record(m.topic, m.partition, m.offset, m.key, m.value, dict(m.headers or [])) for m in batch
                )
        return records
    finally:
        consumer.close()


def group_lag(bootstrap: str, group: str, topics: Iterable[str]) -> int:
    """Records on `topics` the consumer group has not committed yet (every partition of the topics that exist)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-group-lag")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets(group)
        committed = committed.get(group, committed) if isinstance(committed, dict) else committed
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        ends = consumer.end_offsets(partitions)
        return sum(max(0, end - (committed[tp].offset if tp in committed else 0)) for tp, end in ends.items())
    finally:
        consumer.close()
        admin.close()


def records_with_subject(records: list[Record], subject: str) -> list[Record]:
    return [r for r in records if r.headers.get("ce_subject") == subject.encode()]


def publish(bootstrap: str, events: Iterable[Event]) -> int:
    """Produce events as the outbox relay does (key = subject, CloudEvents headers); returns how many."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        count = 0
        for event in events:
            producer.send(event.topic, key=event.key, value=event.data, headers=event.kafka_headers())
            count += 1
        producer.flush()
        return count
    finally:
        producer.close()


def as_event(record: Record) -> Event:
    """The CloudEvent a record carries (raises `MalformedEvent` for anything else)."""
    return Event.from_kafka(record.topic, record.key, record.value, list(record.headers.items()))
