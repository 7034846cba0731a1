"""Filing by partners and the helpline: checks on the caller's behalf, geography, idempotency, what is stored."""

from __future__ import annotations

import dataclasses

import pytest

from mrc.audit.v1 import audit_pb2
from mrc.grievance.v1 import events_pb2
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import CaseStatus, Confidentiality, IntakeChannel, ReporterRelation, Severity
from mrc_grievance.service_layer.parties import ReporterInput, RespondentInput, SubjectInput
from mrc_kernel.errors import IdempotencyKeyReused, InvalidArgument, PermissionDenied, Unavailable
from mrc_plumbing.crypto import is_token
from mrc_plumbing.store import OUTBOX_FIELD

from .fakes import (
    CASEWORKER,
    EMPLOYER,
    FORWARDED,
    HELPLINE,
    IN_MAHARASHTRA,
    NOW,
    Grievances,
    command,
    contains_text,
)


@pytest.fixture
def g() -> Grievances:
    return Grievances()


def fields_of(error: InvalidArgument) -> list[str]:
    return [v.field for v in error.violations]


def test_filing_stores_the_case_with_its_event_and_audit_in_one_write(g: Grievances) -> None:
    filing = g.intake.file(command(), HELPLINE, FORWARDED)

    case = filing.view.case
    assert filing.created
    assert (case.status, case.severity, case.filed_at) == (CaseStatus.NEW, Severity.MEDIUM, NOW)
    assert case.reference.startswith("GR-")
    assert filing.view.summary == "Contractor has not paid wages for six weeks."
    assert filing.view.person is not None and filing.view.person.phone == "+919876543210"
    (filed,) = g.published("GrievanceFiled")
    assert (filed.grievance_id, filed.employer_id, filed.place.village_name) == (case.grievance_id, "employer-7", "")
    assert filed.HasField("sla_next_deadline")
    (audit,) = g.audit_messages()
    assert (audit.action, audit.resource_type, audit.state_code) == (audit_pb2.ACCESS_ACTION_CREATE, "grievance", "10")
    assert "summary" in audit.fields and "subject.person" in audit.fields


def test_nothing_identifying_is_stored_in_clear_or_published(g: Grievances) -> None:
    grievance_id = g.file(
        reporter=ReporterInput(ReporterRelation.FAMILY, Confidentiality.CONFIDENTIAL, "Ramesh", "9123456789")
    )

    doc = g.raw("grievances", grievance_id)
    secrets = ["Sunita", "six weeks", "9876543210", "Ramesh", "9123456789", "Phulwari"]
    assert contains_text({k: v for k, v in doc.items() if k not in (OUTBOX_FIELD, "location")}, secrets) == []
    assert contains_text([e.data for e in g.outbox()], secrets) == []
    assert is_token(doc["summary"]) and is_token(doc["subject"]["name"])


def test_a_registry_worker_is_checked_with_the_callers_token(g: Grievances) -> None:
    filing = g.intake.file(command(subject=SubjectInput(worker_id="worker-1")), CASEWORKER, FORWARDED)

    assert filing.view.case.worker_id == "worker-1"
    assert g.workers.calls == [("worker-1", CASEWORKER.client_id, FORWARDED)]


@pytest.mark.parametrize(
    ("caller", "subject", "field"),
    [
        (CASEWORKER, SubjectInput(worker_id="worker-2"), "subject.worker_id"),
        (CASEWORKER, SubjectInput(worker_id="worker-2", worker_field="worker_id"), "worker_id"),
        (HELPLINE, SubjectInput(worker_id="worker-1"), "subject.worker_id"),
    ],
    ids=["no-consent-or-missing", "deprecated-field", "role-without-workers-read"],
)
def test_an_unknown_or_unconsented_worker_is_422_naming_the_field(
    g: Grievances, caller: object, subject: SubjectInput, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        g.intake.file(command(subject=subject), caller, FORWARDED)  # type: ignore[arg-type]

    assert fields_of(caught.value) == [field]
    assert g.store.collection("grievances").documents == {}


def test_an_unknown_employer_is_422_and_an_unregistered_one_is_kept_sealed(g: Grievances) -> None:
    with pytest.raises(InvalidArgument) as caught:
        g.file(respondent=RespondentInput(employer_id="employer-404"))
    assert fields_of(caught.value) == ["respondent.employer_id"]

    grievance_id = g.file(respondent=RespondentInput(name="Thekedar Mahesh", place=None), idempotency_key="key-2")
    view = g.case_service.get(grievance_id, CASEWORKER)
    assert view.respondent_name == "Thekedar Mahesh"
    assert view.case.employer_id == ""


@pytest.mark.parametrize("service", ["workers", "employers"])
def test_an_unreachable_registry_or_employer_service_is_unavailable(g: Grievances, service: str) -> None:
    getattr(g, service).down = True

    with pytest.raises(Unavailable):
        g.intake.file(command(subject=SubjectInput(worker_id="worker-1")), CASEWORKER, FORWARDED)


def test_a_filing_outside_the_callers_geography_is_refused_naming_the_field(g: Grievances) -> None:
    with pytest.raises(InvalidArgument) as caught:
        g.intake.file(command(), IN_MAHARASHTRA, FORWARDED)

    assert fields_of(caught.value) == ["location.state_code"]


def test_a_retry_returns_the_first_case_and_stores_nothing_more(g: Grievances) -> None:
    first = g.intake.file(command(), HELPLINE, FORWARDED)
    retry = g.intake.file(command(), HELPLINE, FORWARDED)

    assert not retry.created
    assert retry.view.case.grievance_id == first.view.case.grievance_id
    assert retry.view.case.reference == first.view.case.reference
    assert len(g.published("GrievanceFiled")) == 1
    # The retry's freshly drawn reference was released: only the first case's reference stays claimed.
    assert list(g.store.collection("grievance_references").documents) == [first.view.case.reference]
    with pytest.raises(IdempotencyKeyReused):
        g.intake.file(command(summary="Something else entirely."), HELPLINE, FORWARDED)


def test_keys_are_scoped_by_partner_and_ids_are_not_guessable(g: Grievances) -> None:
    a = g.intake.file(command(), HELPLINE, FORWARDED).view.case
    b = g.intake.file(command(), dataclasses.replace(HELPLINE, partner_id="partner-b"), FORWARDED).view.case

    assert a.grievance_id != b.grievance_id
    assert "key-1" not in a.grievance_id


def test_employers_and_roles_without_the_scope_are_refused_before_anything_is_checked(g: Grievances) -> None:
    from mrc_kernel.roles import Role
    from tests.support.auth import caller_for

    for caller in (EMPLOYER, caller_for(Role.REGISTRAR), caller_for(Role.AUDITOR)):
        with pytest.raises(PermissionDenied):
            g.intake.file(command(subject=SubjectInput(worker_id="worker-1")), caller, FORWARDED)
    assert g.workers.calls == []


def test_the_channel_of_a_partner_filing_is_a_partner_channel(g: Grievances) -> None:
    with pytest.raises(InvalidArgument) as caught:
        g.intake.file(command(channel=IntakeChannel.PUBLIC_REPORT), HELPLINE, FORWARDED)

    assert fields_of(caught.value) == ["channel"]


def test_every_bad_field_is_named_at_once(g: Grievances) -> None:
    from mrc_grievance.service_layer.parties import PersonInput
    from mrc_kernel.place import Place

    with pytest.raises(InvalidArgument) as caught:
        g.intake.file(
            command(
                category=None,
                summary="",
                subject=SubjectInput(person=PersonInput(age=300, phone="12")),
                location=Place("10", "999"),
            ),
            HELPLINE,
            FORWARDED,
        )

    assert fields_of(caught.value) == ["location.district_code"]
    with pytest.raises(InvalidArgument) as again:
        g.intake.file(
            command(category=None, summary="", subject=SubjectInput(person=PersonInput(age=300, phone="12"))),
            HELPLINE,
            FORWARDED,
        )
    assert set(fields_of(again.value)) == {"subject.person.age", "subject.person.phone", "category", "summary"}


def test_critical_facts_make_a_critical_case_timed_from_the_call(g: Grievances) -> None:
    view = g.intake.file(command(facts=TriageFacts(held_against_will=True)), HELPLINE, FORWARDED).view

    assert view.case.severity is Severity.CRITICAL
    filed = g.published("GrievanceFiled")[0]
    assert isinstance(filed, events_pb2.GrievanceFiled)
    assert filed.sla_next_deadline.ToDatetime().minute == 22  # 75% of 30 minutes after 09:00
