"""Anonymous reports followed up by code, and the IVR/SMS webhook opening cases from signed deliveries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from mrc_grievance.domain.intake_webhook import DeliveryRefused, DeliveryReplayed, sign
from mrc_grievance.domain.reports import ReporterStatus
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import Category, Confidentiality, IntakeChannel, NoteAudience, ReporterRelation
from mrc_grievance.service_layer.intake import Delivery
from mrc_grievance.service_layer.parties import ReporterInput, RespondentInput, SubjectInput
from mrc_kernel.errors import InvalidArgument, NotFound, PermissionDenied

from .fakes import CASEWORKER, EMPLOYER, INTAKE_SECRET, NOW, PUBLIC, Grievances, command, contains_text


@pytest.fixture
def g() -> Grievances:
    return Grievances()


def report(g: Grievances, **overrides: object) -> tuple[str, str]:
    values: dict[str, object] = {
        "category": None,
        "channel": None,
        "subject": SubjectInput(),
        "respondent": RespondentInput(name="Brick kiln owner near the canal"),
        "reporter": ReporterInput(ReporterRelation.THIRD_PARTY, Confidentiality.ANONYMOUS),
        "summary": "Children working at the kiln at night, locked in",
        "facts": TriageFacts(child_involved=True),
    }
    values.update(overrides)
    receipt = g.intake.file_report(command(**values), PUBLIC)
    return receipt.reference, receipt.follow_up_code


def test_a_report_answers_a_reference_and_a_code_stored_only_as_a_hash(g: Grievances) -> None:
    reference, code = report(g)

    grievance_id = g.references.case_of(reference)
    assert grievance_id is not None
    doc = g.raw("grievances", grievance_id)
    assert doc["follow_up_code_hash"].startswith("scrypt$")
    assert contains_text(doc, [code, code.replace("-", "")]) == []
    case = g.cases.get(grievance_id)
    assert case is not None
    assert (case.channel, case.category, case.filing_partner_id) == (
        IntakeChannel.PUBLIC_REPORT,
        Category.OTHER,
        "partner-a",
    )
    # The filing partner's caseworkers see it in their queue, critical (a child is involved).
    assert g.case_service.get(grievance_id, CASEWORKER).case.severity.value == "critical"


def test_the_reporter_sees_status_and_messages_for_them_and_nothing_else(g: Grievances) -> None:
    reference, code = report(g)
    grievance_id = g.references.case_of(reference)
    assert grievance_id is not None
    g.case_service.add_note(
        grievance_id, "Internal: the owner is the sarpanch's cousin", NoteAudience.INTERNAL, CASEWORKER
    )
    g.case_service.add_note(grievance_id, "We have informed the police", NoteAudience.REPORTER, CASEWORKER)

    view = g.reports.get(reference.lower().replace("-", " "), code, PUBLIC)

    assert view.view.status is ReporterStatus.RECEIVED
    assert view.texts == ("We have informed the police",)
    sent = g.reports.send_message(reference, code, "They moved the children yesterday", PUBLIC, idempotency_key="m1")
    again = g.reports.send_message(reference, code, "They moved the children yesterday", PUBLIC, idempotency_key="m1")
    assert sent.texts == again.texts == ("We have informed the police", "They moved the children yesterday")
    assert [r.resource_type for r in g.audit.records][:1] == ["grievance_report"]


def test_a_wrong_code_and_an_unknown_reference_answer_the_same(g: Grievances) -> None:
    reference, code = report(g)
    wrong = "0000-0000-0000-0000"

    with pytest.raises(NotFound) as bad_code:
        g.reports.get(reference, wrong, PUBLIC)
    with pytest.raises(NotFound) as unknown:
        g.reports.get("GR-00000-00000", code, PUBLIC)
    with pytest.raises(NotFound):
        g.reports.get("not a reference", code, PUBLIC)

    assert bad_code.value.detail == unknown.value.detail
    assert [r.allowed for r in g.audit.records] == [False]  # the attempt on the real report


def test_a_retried_report_gets_the_same_reference_and_code(g: Grievances) -> None:
    first = report(g, idempotency_key="r-1")
    again = report(g, idempotency_key="r-1")

    assert first == again
    assert len(g.store.collection("grievances").documents) == 1


def test_a_report_names_no_registry_ids_and_employers_cannot_file_one(g: Grievances) -> None:
    with pytest.raises(InvalidArgument) as caught:
        report(g, subject=SubjectInput(worker_id="worker-1"), respondent=RespondentInput(employer_id="employer-7"))
    assert {v.field for v in caught.value.violations} == {"subject.worker_id", "respondent.employer_id"}
    with pytest.raises(PermissionDenied):
        g.intake.file_report(command(), EMPLOYER)


# --- the IVR/SMS webhook ----------------------------------------------------------------------------------


def delivery(message_id: str = "msg_1", *, secret: bytes = INTAKE_SECRET, sent_at: int | None = None) -> Delivery:
    body = json.dumps(
        {
            "message_id": message_id,
            "kind": "ivr",
            "caller_number": "+919812345678",
            "language": "bho",
            "text": "Hum log ke bhatta pe band kar ke rakha hai",
            "recording_ref": "rec/2026/01/05/abc.wav",
            "received_at": "2026-01-05T08:59:00Z",
            "state_code": "10",
            "district_code": "212",
        }
    ).encode()
    timestamp = sent_at if sent_at is not None else int(NOW.timestamp())
    return Delivery(body, message_id, str(timestamp), sign(body, message_id, timestamp, secret))


def test_a_signed_ivr_message_opens_a_confidential_case_for_the_helpline(g: Grievances) -> None:
    receipt = g.intake.receive_message(delivery())

    case = g.cases.get(receipt.grievance_id)
    assert case is not None
    assert (case.channel, case.filing_partner_id, case.location.district_code) == (
        IntakeChannel.IVR,
        "partner-a",
        "212",
    )
    view = g.case_service.get(case.grievance_id, CASEWORKER)
    assert (view.reporter_phone, view.recording_ref) == ("+919812345678", "rec/2026/01/05/abc.wav")
    assert g.reports.get(receipt.reference, receipt.follow_up_code, PUBLIC).view.status is ReporterStatus.RECEIVED
    assert contains_text(g.raw("grievances", case.grievance_id), ["9812345678", "bhatta", "abc.wav"]) == []


@pytest.mark.parametrize(
    "bad",
    [delivery(secret=b"x" * 32), delivery(sent_at=int((NOW - timedelta(minutes=6)).timestamp()))],
    ids=["bad-signature", "stale"],
)
def test_a_bad_signature_or_a_stale_delivery_opens_nothing(g: Grievances, bad: Delivery) -> None:
    with pytest.raises(DeliveryRefused):
        g.intake.receive_message(bad)

    assert g.store.collection("grievances").documents == {}


def test_a_replayed_delivery_is_refused_and_opens_no_second_case(g: Grievances) -> None:
    g.intake.receive_message(delivery())

    with pytest.raises(DeliveryReplayed):
        g.intake.receive_message(delivery())

    assert len(g.store.collection("grievances").documents) == 1
    g.clock.advance(timedelta(minutes=10))
    assert g.replays.forget_older_than(g.clock()) == 1
