from datetime import UTC, datetime

from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_registry.adapters.protobuf_mapping import (
    GENDER_FROM_PROTO,
    GENDER_TO_PROTO,
    place_from_proto,
    place_to_proto,
    to_envelope,
)
from mrc_registry.domain.worker import Gender, Place, Worker, WorkerRegistered
from mrc_registry.settings import WORKERS_TOPIC


def test_every_gender_maps_both_ways() -> None:
    assert set(GENDER_TO_PROTO) == set(Gender)
    assert worker_pb2.GENDER_UNSPECIFIED not in GENDER_FROM_PROTO


def test_place_round_trip() -> None:
    place = Place("10", "212", "1234", "Phulwari")
    assert place_from_proto(place_to_proto(place)) == place


def test_worker_registered_becomes_a_keyed_event_on_the_workers_topic() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    worker = Worker("w-1", "Asha", Gender.FEMALE, None, Place("10", "212"), "", "cso", now, now)
    event = to_envelope(WorkerRegistered(worker))
    assert event.topic == WORKERS_TOPIC
    assert event.key == b"w-1"
    message = events_pb2.WorkerRegistered.FromString(event.data)
    assert message.worker.full_name == "Asha"
    assert message.worker.birth_year == 0
