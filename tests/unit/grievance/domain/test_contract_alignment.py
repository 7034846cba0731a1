"""The domain and mrc.grievance.v1 say the same things by the same names, so the mapping is mechanical.

Every domain enum value has a protobuf value `<ENUM>_<VALUE>`, every domain event a message of the same
name holding each of its facts as a top-level field, and the triage facts the same fields.
"""

from __future__ import annotations

import enum
import typing
from dataclasses import fields

import pytest

from mrc.grievance.v1 import events_pb2, grievance_pb2, trace_pb2
from mrc_grievance.domain import events
from mrc_grievance.domain.case import TimelineAction
from mrc_grievance.domain.reports import ReporterStatus
from mrc_grievance.domain.sla import ClockKind, MilestoneKind
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import (
    CaseStatus,
    Category,
    Confidentiality,
    EscalationLevel,
    IntakeChannel,
    NoteAudience,
    Outcome,
    ReferralStatus,
    ReferralTarget,
    ReporterRelation,
    RespondentKind,
    Severity,
    TraceStatus,
    category_from_stored,
    status_from_stored,
)

ENUMS: list[tuple[type[enum.Enum], typing.Any, str]] = [
    (Category, grievance_pb2.GrievanceCategory, "GRIEVANCE_CATEGORY"),
    (IntakeChannel, grievance_pb2.IntakeChannel, "INTAKE_CHANNEL"),
    (CaseStatus, grievance_pb2.GrievanceStatus, "GRIEVANCE_STATUS"),
    (Severity, grievance_pb2.Severity, "SEVERITY"),
    (RespondentKind, grievance_pb2.RespondentKind, "RESPONDENT_KIND"),
    (ReporterRelation, grievance_pb2.ReporterRelation, "REPORTER_RELATION"),
    (Confidentiality, grievance_pb2.Confidentiality, "CONFIDENTIALITY"),
    (EscalationLevel, grievance_pb2.EscalationLevel, "ESCALATION_LEVEL"),
    (ReferralTarget, grievance_pb2.ReferralTarget, "REFERRAL_TARGET"),
    (ReferralStatus, grievance_pb2.ReferralStatus, "REFERRAL_STATUS"),
    (Outcome, grievance_pb2.Outcome, "OUTCOME"),
    (NoteAudience, grievance_pb2.NoteAudience, "NOTE_AUDIENCE"),
    (ClockKind, grievance_pb2.SlaClock, "SLA_CLOCK"),
    (MilestoneKind, grievance_pb2.SlaMilestone, "SLA_MILESTONE"),
    (TimelineAction, grievance_pb2.TimelineAction, "TIMELINE_ACTION"),
    (ReporterStatus, grievance_pb2.ReporterStatus, "REPORTER_STATUS"),
    (TraceStatus, trace_pb2.TraceStatus, "TRACE_STATUS"),
]

# Values the contract keeps for old records (deprecated), with what they read as in the domain.
LEGACY = {
    "GRIEVANCE_CATEGORY_UNSAFE_WORK": category_from_stored("unsafe_work"),
    "GRIEVANCE_STATUS_OPEN": status_from_stored("open"),
}


@pytest.mark.parametrize(("domain", "proto", "prefix"), ENUMS, ids=[e[2] for e in ENUMS])
def test_every_domain_value_has_its_protobuf_value_and_back(
    domain: type[enum.Enum], proto: typing.Any, prefix: str
) -> None:
    expected = {f"{prefix}_{member.name}" for member in domain}
    names = set(proto.keys()) - {f"{prefix}_UNSPECIFIED"}

    assert expected <= names
    assert names - expected == {name for name in LEGACY if name.startswith(prefix + "_")}


def _event_classes() -> list[type]:
    union = typing.get_args(events.CaseEvent) + typing.get_args(events.TraceEvent)
    return list(union)


@pytest.mark.parametrize("event", _event_classes(), ids=lambda e: e.__name__)
def test_every_domain_event_has_its_message_with_each_fact_as_a_field(event: type) -> None:
    message = getattr(events_pb2, event.__name__)
    proto_fields = set(message.DESCRIPTOR.fields_by_name)
    own = {f.name for f in fields(event)} - {"facts"}
    facts_type = events.CaseFacts if event.__name__.startswith("Grievance") else events.TraceFacts

    assert {f.name for f in fields(facts_type)} <= proto_fields
    assert own <= proto_fields


def test_the_triage_facts_are_the_same_on_both_sides() -> None:
    assert {f.name for f in fields(TriageFacts)} == set(grievance_pb2.TriageFacts.DESCRIPTOR.fields_by_name)


def test_the_employer_link_is_on_every_grievance_event() -> None:
    grievance_events = [n for n in events_pb2.DESCRIPTOR.message_types_by_name if n.startswith("Grievance")]

    assert len(grievance_events) == 11
    for name in grievance_events:
        fields_by_name = events_pb2.DESCRIPTOR.message_types_by_name[name].fields_by_name
        assert {"employer_id", "respondent_kind", "category", "severity", "status", "place"} <= set(fields_by_name)
    resolved = events_pb2.DESCRIPTOR.message_types_by_name["GrievanceResolved"].fields_by_name
    assert {"outcome", "substantiated", "amount_recovered_paise"} <= set(resolved)


def test_old_stored_values_read_as_their_successors() -> None:
    assert LEGACY == {
        "GRIEVANCE_CATEGORY_UNSAFE_WORK": Category.WORKPLACE_ACCIDENT,
        "GRIEVANCE_STATUS_OPEN": CaseStatus.NEW,
    }
    assert category_from_stored("trafficking") is Category.TRAFFICKING
    assert status_from_stored("in_progress") is CaseStatus.IN_PROGRESS
    legacy_values = [
        grievance_pb2.GrievanceCategory.DESCRIPTOR.values_by_name["GRIEVANCE_CATEGORY_UNSAFE_WORK"],
        grievance_pb2.GrievanceStatus.DESCRIPTOR.values_by_name["GRIEVANCE_STATUS_OPEN"],
    ]
    assert all(value.GetOptions().deprecated for value in legacy_values)
