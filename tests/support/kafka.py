"""Reading topics in tests: every record from the beginning, with its headers, no consumer group."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition


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
) -> list[Record]:
    """All records on `topic`, polling until `until(records)` holds or the timeout passes."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500)
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


def records_with_subject(records: list[Record], subject: str) -> list[Record]:
    return [r for r in records if r.headers.get("ce_subject") == subject.encode()]
