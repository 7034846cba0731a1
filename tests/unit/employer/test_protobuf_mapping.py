from __future__ import annotations

from dataclasses import replace

import pytest

from mrc.employer.v1 import employer_pb2, events_pb2
from mrc_employer.adapters.protobuf_mapping import (
    KIND_FROM_PROTO,
    KIND_TO_PROTO,
    employer_from_proto,
    employer_to_proto,
    to_envelope,
)
from mrc_employer.domain.employer import Employer, EmployerKind, Sector
from mrc_employer.settings import EMPLOYERS_TOPIC, EVENT_SOURCE
from mrc_plumbing.events import EventDecoder

from .fakes import ARARIA, NOW


def employer(**overrides: object) -> Employer:
    e = Employer.register(
        employer_id="e-42",
        legal_name="Kaveri Constructions",
        kind=EmployerKind.RECRUITMENT_AGENCY,
        sector="construction",
        location=ARARIA,
        registration_number="ISMW/2019-44",
        now=NOW,
    )
    return replace(e, **overrides)  # type: ignore[arg-type]


def test_every_kind_maps_both_ways_and_unspecified_means_unset() -> None:
    assert set(KIND_TO_PROTO) == set(EmployerKind)
    assert set(KIND_FROM_PROTO) == set(employer_pb2.EmployerKind.values()) - {0}
    for kind in EmployerKind:
        assert KIND_FROM_PROTO[KIND_TO_PROTO[kind]] is kind
        assert employer_pb2.EmployerKind.Name(KIND_TO_PROTO[kind]) == "EMPLOYER_KIND_" + kind.value.upper()
    assert KIND_FROM_PROTO.get(employer_pb2.EMPLOYER_KIND_UNSPECIFIED) is None


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"registration_number": "", "kind": EmployerKind.PRINCIPAL_EMPLOYER},
        {"sector": Sector.DOMESTIC_WORK, "kind": EmployerKind.CONTRACTOR},
    ],
)
def test_an_employer_survives_the_wire(variant: dict[str, object]) -> None:
    original = employer(**variant)

    message = employer_to_proto(original)
    back = employer_from_proto(employer_pb2.Employer.FromString(message.SerializeToString()))

    assert message.sector == original.sector.value
    assert back == original


def test_the_registered_event_is_an_employer_registered_cloud_event() -> None:
    original = employer()
    (event,) = original.pending_events

    envelope = to_envelope(event)
    message = EventDecoder().decode(envelope)

    assert envelope.type == "mrc.employer.v1.EmployerRegistered"
    assert envelope.topic == EMPLOYERS_TOPIC
    assert envelope.source == EVENT_SOURCE
    assert envelope.subject == original.employer_id
    assert isinstance(message, events_pb2.EmployerRegistered)
    assert employer_from_proto(message.employer) == original
