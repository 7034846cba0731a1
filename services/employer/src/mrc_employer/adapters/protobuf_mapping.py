"""Between domain objects and the published contracts (mrc.employer.v1)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from mrc.common.v1 import common_pb2
from mrc.employer.v1 import employer_pb2, events_pb2
from mrc_employer.domain.employer import DomainEvent, Employer, EmployerKind, EmployerRegistered, Place, Sector
from mrc_employer.settings import EMPLOYERS_TOPIC, EVENT_SOURCE
from mrc_kernel.events import Event

# EMPLOYER_KIND_UNSPECIFIED has no domain counterpart: looking it up with .get() gives None ("not set").
KIND_TO_PROTO = {
    EmployerKind.PRINCIPAL_EMPLOYER: employer_pb2.EMPLOYER_KIND_PRINCIPAL_EMPLOYER,
    EmployerKind.CONTRACTOR: employer_pb2.EMPLOYER_KIND_CONTRACTOR,
    EmployerKind.RECRUITMENT_AGENCY: employer_pb2.EMPLOYER_KIND_RECRUITMENT_AGENCY,
}
KIND_FROM_PROTO = {v: k for k, v in KIND_TO_PROTO.items()}


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


def employer_to_proto(employer: Employer) -> employer_pb2.Employer:
    return employer_pb2.Employer(
        employer_id=employer.employer_id,
        legal_name=employer.legal_name,
        kind=KIND_TO_PROTO[employer.kind],
        # The sector is a plain string in the contract: the vocabulary's lower-case value.
        sector=employer.sector.value,
        location=place_to_proto(employer.location),
        registration_number=employer.registration_number,
        registered_at=timestamp(employer.registered_at),
    )


def employer_from_proto(message: employer_pb2.Employer) -> Employer:
    """For a stored or published employer (one that was valid when registered); raises on unknown values."""
    return Employer(
        employer_id=message.employer_id,
        legal_name=message.legal_name,
        kind=KIND_FROM_PROTO[message.kind],
        sector=Sector(message.sector),
        location=place_from_proto(message.location),
        registration_number=message.registration_number,
        registered_at=message.registered_at.ToDatetime(tzinfo=UTC),
    )


def to_envelope(event: DomainEvent) -> Event:
    match event:
        case EmployerRegistered(employer=employer):
            message = events_pb2.EmployerRegistered(employer=employer_to_proto(employer))
            return Event.from_message(message, source=EVENT_SOURCE, subject=employer.employer_id, topic=EMPLOYERS_TOPIC)
