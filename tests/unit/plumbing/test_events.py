from datetime import UTC, datetime

import pytest

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_kernel.events import CONTENT_TYPE, Event, MalformedEvent
from mrc_plumbing.events import EventDecoder


def _registered(name: str = "Asha") -> events_pb2.WorkerRegistered:
    return events_pb2.WorkerRegistered(
        worker=worker_pb2.Worker(worker_id="w-1", full_name=name, home=common_pb2.LgdLocation(state_code="10"))
    )


def test_event_type_is_the_versioned_message_name() -> None:
    event = Event.from_message(_registered(), source="/mrc/registry", subject="w-1", topic="t")
    assert event.type == "mrc.registry.v1.WorkerRegistered"
    assert event.key == b"w-1"


def test_kafka_headers_follow_the_cloudevents_binary_mode() -> None:
    event = Event.from_message(_registered(), source="/mrc/registry", subject="w-1", topic="t")
    headers = dict(event.kafka_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == event.id.encode()
    assert headers["ce_type"] == b"mrc.registry.v1.WorkerRegistered"
    assert headers["ce_source"] == b"/mrc/registry"
    assert headers["content-type"] == CONTENT_TYPE.encode()
    assert datetime.fromisoformat(headers["ce_time"].decode()).tzinfo is not None


def test_round_trip_through_kafka_record_and_outbox_document() -> None:
    event = Event.from_message(_registered(), source="/mrc/registry", subject="w-1", topic="t")
    assert Event.from_kafka("t", event.key, event.data, event.kafka_headers()) == event
    stored = event.to_document()
    stored["time"] = stored["time"].replace(tzinfo=None)  # BSON gives naive UTC back
    assert Event.from_document(stored) == event


def test_record_without_cloudevents_headers_is_malformed() -> None:
    with pytest.raises(MalformedEvent):
        Event.from_kafka("t", b"k", b"v", [("content-type", b"text/plain")])


def test_decoder_returns_the_message_and_applies_upcasters() -> None:
    event = Event.from_message(_registered("Ravi"), source="/s", subject="w-1", topic="t")
    decoder = EventDecoder()
    message = decoder.decode(event)
    assert isinstance(message, events_pb2.WorkerRegistered)
    assert message.worker.full_name == "Ravi"

    old = Event("id", "mrc.registry.v0.WorkerRegistered", "/s", datetime.now(UTC), "w-1", "t", b"legacy")
    decoder.register_upcaster(old.type, lambda data: _registered(data.decode()))
    upcast = decoder.decode(old)
    assert isinstance(upcast, events_pb2.WorkerRegistered)
    assert upcast.worker.full_name == "legacy"


def test_unknown_event_type_is_malformed() -> None:
    event = Event("id", "mrc.nothing.v1.Happened", "/s", datetime.now(UTC), "x", "t", b"")
    with pytest.raises(MalformedEvent):
        EventDecoder().decode(event)
