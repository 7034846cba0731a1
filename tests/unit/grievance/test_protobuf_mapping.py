from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mrc.grievance.v1 import events_pb2, grievance_pb2
from mrc_grievance.adapters.protobuf_mapping import (
    CATEGORY_FROM_PROTO,
    CATEGORY_TO_PROTO,
    CHANNEL_FROM_PROTO,
    CHANNEL_TO_PROTO,
    STATUS_FROM_PROTO,
    STATUS_TO_PROTO,
    grievance_from_proto,
    grievance_to_proto,
    to_envelope,
)
from mrc_grievance.domain.grievance import (
    Grievance,
    GrievanceCategory,
    GrievanceStatus,
    IntakeChannel,
)
from mrc_grievance.settings import EVENT_SOURCE, GRIEVANCES_TOPIC
from mrc_plumbing.events import EventDecoder

from .fakes import ARARIA, NOW


def grievance(**overrides: object) -> Grievance:
    g = Grievance.file(
        grievance_id="g-42",
        worker_id="worker-1",
        category=GrievanceCategory.RECRUITMENT_FEE,
        channel=IntakeChannel.PARTNER_API,
        summary="Agent took ₹20,000 to place me; there was no job.",
        location=ARARIA,
        employer_id="employer-7",
        anonymous=False,
        filed_by_partner_id="partner-a",
        now=NOW,
    )
    return replace(g, **overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("to_proto", "from_proto", "domain_enum", "proto_enum"),
    [
        (CATEGORY_TO_PROTO, CATEGORY_FROM_PROTO, GrievanceCategory, grievance_pb2.GrievanceCategory),
        (CHANNEL_TO_PROTO, CHANNEL_FROM_PROTO, IntakeChannel, grievance_pb2.IntakeChannel),
        (STATUS_TO_PROTO, STATUS_FROM_PROTO, GrievanceStatus, grievance_pb2.GrievanceStatus),
    ],
)
def test_every_value_maps_both_ways_and_unspecified_means_unset(
    to_proto: dict[Any, int], from_proto: dict[int, Any], domain_enum: Any, proto_enum: Any
) -> None:
    assert set(to_proto) == set(domain_enum)
    assert set(from_proto) == set(proto_enum.values()) - {0}
    for member in domain_enum:
        assert from_proto[to_proto[member]] is member
        # REST names are the proto names without their prefix, in lower case.
        assert proto_enum.Name(to_proto[member]).endswith("_" + member.value.upper())
    assert from_proto.get(0) is None


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"worker_id": "", "anonymous": True, "employer_id": ""},
        {"status": GrievanceStatus.RESOLVED, "channel": IntakeChannel.HELPLINE},
    ],
)
def test_a_grievance_survives_the_wire(variant: dict[str, object]) -> None:
    original = grievance(**variant)

    wire = grievance_to_proto(original).SerializeToString()
    back = grievance_from_proto(grievance_pb2.Grievance.FromString(wire))

    # The filing partner is internal: the contract has no field for it.
    assert back == replace(original, filed_by_partner_id="")


def test_the_filing_partner_is_not_in_the_contract() -> None:
    message = grievance_to_proto(grievance(filed_by_partner_id="helpline-bihar"))

    assert not any("partner" in name for name in grievance_pb2.Grievance.DESCRIPTOR.fields_by_name)
    assert b"helpline-bihar" not in message.SerializeToString()


def test_the_filed_event_is_a_grievance_filed_cloud_event() -> None:
    original = grievance()
    (event,) = original.pending_events

    envelope = to_envelope(event)
    message = EventDecoder().decode(envelope)

    assert envelope.type == "mrc.grievance.v1.GrievanceFiled"
    assert envelope.topic == GRIEVANCES_TOPIC
    assert envelope.source == EVENT_SOURCE
    assert envelope.subject == original.grievance_id
    assert isinstance(message, events_pb2.GrievanceFiled)
    # The summary stays out of the event: consumers that need it read it through the API.
    assert grievance_from_proto(message.grievance) == replace(original, filed_by_partner_id="", summary="")


def test_the_filed_event_does_not_carry_the_summary_anywhere() -> None:
    original = grievance()
    (event,) = original.pending_events

    envelope = to_envelope(event)

    for text in (original.summary, "₹20,000", "no job"):
        assert text.encode() not in envelope.data
        assert all(text.encode() not in value for _, value in envelope.kafka_headers())
        assert all(text.encode() not in value for value in envelope.to_document().values() if isinstance(value, bytes))
    assert original.summary  # the grievance itself keeps it
