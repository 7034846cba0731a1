"""The idempotent consumer of tests/support applies each CloudEvent once, whatever the log repeats."""

from __future__ import annotations

import pytest

from mrc.federation.v1 import events_pb2 as contract
from mrc_kernel.events import Event, MalformedEvent
from tests.support.idempotent import IdempotentConsumer
from tests.support.kafka import Record


def record(event: Event, offset: int) -> Record:
    return Record(event.topic, 0, offset, event.key, event.data, dict(event.kafka_headers()))


def test_each_ce_id_is_applied_once_in_the_order_first_seen() -> None:
    events = [
        Event.from_message(contract.WorkerShared(worker_id="w-1", version=v), source="t", subject="w-1", topic="t")
        for v in (1, 2, 3)
    ]
    # A redelivery after a crash: 2 and 3 come again, then 3 once more.
    log = [record(e, i) for i, e in enumerate([*events, events[1], events[2], events[2]])]
    applied: list[int] = []

    def apply(event: Event) -> None:
        message = contract.WorkerShared()
        message.ParseFromString(event.data)
        applied.append(message.version)

    consumer = IdempotentConsumer(apply)
    assert consumer.offer_all(log) == 3
    assert applied == [1, 2, 3]
    assert consumer.duplicates == 3
    assert set(consumer.applied) == {e.id for e in events}


def test_a_record_that_is_not_a_cloudevent_is_refused() -> None:
    with pytest.raises(MalformedEvent):
        IdempotentConsumer().offer(Record("t", 0, 0, b"k", b"v", {"ce_id": b"1"}))
