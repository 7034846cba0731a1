"""Between domain objects and the published contracts (mrc.registry.v1)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_plumbing.events import Event
from mrc_registry.domain.worker import DomainEvent, Gender, Place, Worker, WorkerRegistered
from mrc_registry.settings import EVENT_SOURCE, WORKERS_TOPIC

GENDER_TO_PROTO = {
    Gender.FEMALE: worker_pb2.GENDER_FEMALE,
    Gender.MALE: worker_pb2.GENDER_MALE,
    Gender.TRANSGENDER: worker_pb2.GENDER_TRANSGENDER,
    Gender.UNDISCLOSED: worker_pb2.GENDER_UNDISCLOSED,
}
GENDER_FROM_PROTO = {v: k for k, v in GENDER_TO_PROTO.items()}


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def place_to_proto(place: Place) -> common_pb2.LgdLocation:
    return common_pb2.LgdLocation(
        state_code=place.state_code,
        district_code=place.district_code,
        subdistrict_code=place.subdistrict_code,
        village_name=place.village_name,
    )


def place_from_proto(location: common_pb2.LgdLocation) -> Place:
    return Place(
        state_code=location.state_code,
        district_code=location.district_code,
        subdistrict_code=location.subdistrict_code,
        village_name=location.village_name,
    )


def worker_to_proto(worker: Worker) -> worker_pb2.Worker:
    return worker_pb2.Worker(
        worker_id=worker.worker_id,
        full_name=worker.full_name,
        gender=GENDER_TO_PROTO[worker.gender],
        birth_year=worker.birth_year or 0,
        home=place_to_proto(worker.home),
        occupation=worker.occupation,
        registering_partner_id=worker.registering_partner_id,
        registered_at=timestamp(worker.registered_at),
        updated_at=timestamp(worker.updated_at),
    )


def to_envelope(event: DomainEvent) -> Event:
    match event:
        case WorkerRegistered(worker=worker):
            message = events_pb2.WorkerRegistered(worker=worker_to_proto(worker))
            return Event.from_message(message, source=EVENT_SOURCE, subject=worker.worker_id, topic=WORKERS_TOPIC)
