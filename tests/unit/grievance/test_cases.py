"""Use cases on filed cases, through the access policy: who reads what, who changes what, notes, the queue."""

from __future__ import annotations

import pytest

from mrc.grievance.v1 import events_pb2
from mrc_grievance.domain.case import IllegalTransition
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import (
    CaseStatus,
    Category,
    Confidentiality,
    EscalationLevel,
    NoteAudience,
    Outcome,
    ReferralTarget,
    ReporterRelation,
    Severity,
)
from mrc_grievance.service_layer.cases import QueueQuery
from mrc_grievance.service_layer.parties import ReporterInput, RespondentInput
from mrc_kernel.audit import Action
from mrc_kernel.errors import Conflict, IdempotencyKeyReused, InvalidArgument, NotFound, PermissionDenied, Unavailable

from .fakes import (
    AHTU,
    CASEWORKER,
    EMPLOYER,
    FORWARDED,
    IN_MAHARASHTRA,
    OTHER_CSO,
    OTHER_CSO_COLLEAGUE,
    SUPERVISOR,
    Grievances,
    purpose,
)


@pytest.fixture
def g() -> Grievances:
    return Grievances()


def confidential_case(g: Grievances) -> str:
    return g.file(reporter=ReporterInput(ReporterRelation.FAMILY, Confidentiality.CONFIDENTIAL, "Ramesh", "9123456789"))


# --- reads --------------------------------------------------------------------------------------------------


def test_the_filing_partner_reads_the_case_and_the_read_is_audited(g: Grievances) -> None:
    grievance_id = confidential_case(g)

    view = g.case_service.get(grievance_id, purpose(CASEWORKER, "case_management"))

    assert (view.summary, view.reporter_name, view.confidential) == (
        "Contractor has not paid wages for six weeks.",
        "Ramesh",
        True,
    )
    (record,) = g.audit.records
    assert (record.action, record.resource_id, record.allowed, record.state_code) == (
        Action.READ,
        grievance_id,
        True,
        "10",
    )
    assert "reporter.identity" in record.fields and record.caller.purpose == "case_management"


@pytest.mark.parametrize("caller", [OTHER_CSO, IN_MAHARASHTRA], ids=["other-partner", "other-state"])
def test_a_case_out_of_reach_answers_exactly_like_a_missing_one(g: Grievances, caller: object) -> None:
    grievance_id = g.file()

    with pytest.raises(NotFound) as outside:
        g.case_service.get(grievance_id, caller)  # type: ignore[arg-type]
    with pytest.raises(NotFound) as missing:
        g.case_service.get("00000000-0000-4000-8000-000000000000", caller)  # type: ignore[arg-type]

    assert outside.value.detail == missing.value.detail == "no such grievance"
    assert grievance_id not in outside.value.detail
    assert [(r.resource_id, r.allowed) for r in g.audit.records] == [(grievance_id, False)]


def test_a_read_fails_closed_when_the_audit_trail_is_down(g: Grievances) -> None:
    grievance_id = g.file()
    g.audit.failing = True

    with pytest.raises(Unavailable):
        g.case_service.get(grievance_id, CASEWORKER)


def test_employers_never_reach_a_case_even_with_grievance_scopes(g: Grievances) -> None:
    import dataclasses

    from mrc_kernel.roles import Scope

    grievance_id = g.file()
    employer = dataclasses.replace(EMPLOYER, scopes=frozenset({Scope.GRIEVANCES_READ, Scope.GRIEVANCES_WRITE}))

    for call in (
        lambda: g.case_service.get(grievance_id, employer),
        lambda: g.case_service.notes(grievance_id, employer),
        lambda: g.case_service.add_note(grievance_id, "x", None, employer),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_an_unknown_purpose_is_refused_naming_purpose(g: Grievances) -> None:
    with pytest.raises(InvalidArgument) as caught:
        g.case_service.get(g.file(), purpose(CASEWORKER, "marketing"))

    assert [v.field for v in caught.value.violations] == ["purpose"]


# --- notes and the reporter's identity ---------------------------------------------------------------------


def test_notes_are_for_the_filing_partner_the_assignee_and_the_referral_partner(g: Grievances) -> None:
    grievance_id = confidential_case(g)
    g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER)
    g.case_service.add_note(grievance_id, "Met the complainant at the site office", None, CASEWORKER)
    # Assigned to a caseworker of another CSO: that caseworker reads notes, their colleague only the case.
    g.case_service.assign(grievance_id, OTHER_CSO.client_id, OTHER_CSO.partner_id, SUPERVISOR)

    assert [n.text for n in g.case_service.notes(grievance_id, OTHER_CSO)] == ["Met the complainant at the site office"]
    colleague = g.case_service.get(grievance_id, OTHER_CSO_COLLEAGUE)
    assert (colleague.confidential, colleague.reporter_name) == (False, "")
    with pytest.raises(PermissionDenied):
        g.case_service.notes(grievance_id, OTHER_CSO_COLLEAGUE)
    # Not referred yet: the anti-trafficking unit reaches nothing.
    with pytest.raises(NotFound):
        g.case_service.notes(grievance_id, AHTU)
    g.case_service.refer(grievance_id, ReferralTarget.ANTI_HUMAN_TRAFFICKING_UNIT, AHTU.partner_id, CASEWORKER)
    assert len(g.case_service.notes(grievance_id, AHTU)) == 1
    assert g.case_service.get(grievance_id, AHTU).reporter_name == "Ramesh"


def test_an_open_reporter_is_named_to_every_reader(g: Grievances) -> None:
    grievance_id = g.file(reporter=ReporterInput(ReporterRelation.CO_WORKER, Confidentiality.OPEN, "Ali", ""))
    g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER)
    g.case_service.assign(grievance_id, OTHER_CSO.client_id, OTHER_CSO.partner_id, SUPERVISOR)

    assert g.case_service.get(grievance_id, OTHER_CSO_COLLEAGUE).reporter_name == "Ali"


def test_notes_are_stored_sealed_and_their_reads_audited(g: Grievances) -> None:
    grievance_id = g.file()
    note = g.case_service.add_note(grievance_id, "Contractor threatened him", NoteAudience.INTERNAL, CASEWORKER)

    assert note.text == "Contractor threatened him"
    assert "threatened" not in str(g.raw("grievances", grievance_id)["notes"])
    g.case_service.notes(grievance_id, CASEWORKER)
    assert g.audit.records[-1].fields == ("notes",)


def test_a_retried_note_is_stored_once(g: Grievances) -> None:
    grievance_id = g.file()
    first = g.case_service.add_note(grievance_id, "Called back", None, CASEWORKER, idempotency_key="n-1")
    again = g.case_service.add_note(grievance_id, "Called back", None, CASEWORKER, idempotency_key="n-1")

    assert first.note.note_id == again.note.note_id
    assert len(g.cases.get(grievance_id).notes) == 1  # type: ignore[union-attr]


# --- changes --------------------------------------------------------------------------------------------------


def test_the_case_moves_through_its_life_and_every_step_is_published(g: Grievances) -> None:
    grievance_id = g.file()
    s = g.case_service
    s.triage(grievance_id, TriageFacts(days_unpaid=70), CASEWORKER)
    s.assign(grievance_id, CASEWORKER.client_id, "", SUPERVISOR)
    s.start_work(grievance_id, CASEWORKER)
    s.await_complainant(grievance_id, CASEWORKER)
    s.resume_work(grievance_id, CASEWORKER)
    done = s.resolve(grievance_id, Outcome.WAGES_RECOVERED, True, 1_200_000, CASEWORKER)
    s.reopen(grievance_id, "The contractor stopped paying again", SUPERVISOR)

    assert done.view.case.status is CaseStatus.RESOLVED
    types = [type(m).__name__ for m in g.published()]
    assert types == [
        "GrievanceFiled",
        "GrievanceTriaged",
        "GrievanceAssigned",
        "GrievanceStatusChanged",
        "GrievanceStatusChanged",
        "GrievanceStatusChanged",
        "GrievanceResolved",
        "GrievanceReopened",
    ]
    resolved = g.published("GrievanceResolved")[0]
    assert (resolved.employer_id, resolved.substantiated, resolved.amount_recovered_paise) == (
        "employer-7",
        True,
        1_200_000,
    )
    assert [a.action for a in g.audit_messages()].count(3) >= 7  # ACCESS_ACTION_UPDATE for each change


def test_an_illegal_move_is_a_conflict_naming_both_states(g: Grievances) -> None:
    grievance_id = g.file()

    with pytest.raises(IllegalTransition) as caught:
        g.case_service.start_work(grievance_id, CASEWORKER)

    assert "new" in caught.value.detail and "in_progress" in caught.value.detail
    assert isinstance(caught.value, Conflict)


def test_a_stale_expected_version_is_a_conflict(g: Grievances) -> None:
    grievance_id = g.file()

    with pytest.raises(Conflict):
        g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER, expected_version=7)


def test_a_retried_change_is_answered_not_applied_again(g: Grievances) -> None:
    grievance_id = g.file()
    g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER)

    first = g.case_service.resolve(grievance_id, Outcome.WITHDRAWN, False, 0, CASEWORKER, idempotency_key="r-1")
    retry = g.case_service.resolve(grievance_id, Outcome.WITHDRAWN, False, 0, CASEWORKER, idempotency_key="r-1")

    assert (first.replayed, retry.replayed) == (False, True)
    assert len(g.published("GrievanceResolved")) == 1
    with pytest.raises(IdempotencyKeyReused):
        g.case_service.resolve(grievance_id, Outcome.RESCUED, False, 0, CASEWORKER, idempotency_key="r-1")


def test_only_a_supervisor_overrides_escalates_or_corrects_the_respondent(g: Grievances) -> None:
    grievance_id = g.file()

    for call in (
        lambda who: g.case_service.override_severity(grievance_id, Severity.CRITICAL, "She is a minor", who),
        lambda who: g.case_service.escalate(grievance_id, "No answer from the site", who),
        lambda who: g.case_service.triage(
            grievance_id, TriageFacts(), who, respondent=RespondentInput(employer_id="employer-8"), forwarded=FORWARDED
        ),
    ):
        with pytest.raises(PermissionDenied):
            call(CASEWORKER)
        call(SUPERVISOR)
    case = g.cases.get(grievance_id)
    assert case is not None
    assert (case.severity, case.escalation_level, case.employer_id) == (
        Severity.MEDIUM,  # the later triage is a new assessment
        EscalationLevel.DISTRICT_COORDINATOR,
        "employer-8",
    )


def test_a_corrected_respondent_names_the_previous_employer_in_the_event(g: Grievances) -> None:
    grievance_id = g.file()

    g.case_service.triage(
        grievance_id,
        TriageFacts(),
        SUPERVISOR,
        respondent=RespondentInput(employer_id="employer-8"),
        forwarded=FORWARDED,
    )

    (triaged,) = g.published("GrievanceTriaged")
    assert isinstance(triaged, events_pb2.GrievanceTriaged)
    assert (triaged.employer_id, triaged.previous_employer_id) == ("employer-8", "employer-7")
    with pytest.raises(InvalidArgument):
        g.case_service.triage(
            grievance_id, TriageFacts(), SUPERVISOR, respondent=RespondentInput(employer_id="nope"), forwarded=FORWARDED
        )


def test_only_the_partner_referred_to_answers_the_referral(g: Grievances) -> None:
    grievance_id = g.file()
    g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER)
    referred = g.case_service.refer(
        grievance_id, ReferralTarget.ANTI_HUMAN_TRAFFICKING_UNIT, AHTU.partner_id, CASEWORKER, idempotency_key="ref-1"
    )
    referral_id = referred.view.case.referrals[0].referral_id

    with pytest.raises(PermissionDenied):
        g.case_service.answer_referral(grievance_id, referral_id, True, CASEWORKER)
    answered = g.case_service.answer_referral(grievance_id, referral_id, True, AHTU)

    assert answered.view.case.status is CaseStatus.REFERRED
    assert g.published("GrievanceReferralAnswered")[0].accepted


def test_the_timeline_shows_typed_reasons_only_to_those_who_may_read_them(g: Grievances) -> None:
    grievance_id = g.file()
    g.case_service.override_severity(grievance_id, Severity.HIGH, "Ten workers, not one", SUPERVISOR)
    g.case_service.assign(grievance_id, OTHER_CSO.client_id, OTHER_CSO.partner_id, SUPERVISOR)

    own = g.case_service.timeline(grievance_id, CASEWORKER)
    colleague = g.case_service.timeline(grievance_id, OTHER_CSO_COLLEAGUE)

    assert [e.reason for e in own if e.reason] == ["Ten workers, not one"]
    assert all(not e.reason for e in colleague)
    assert all("Ten workers" not in e.entry.summary for e in own)


# --- the queue ------------------------------------------------------------------------------------------------


def test_the_queue_lists_the_partners_open_cases_least_time_left_first(g: Grievances) -> None:
    wage = g.file(idempotency_key="k-wage")  # medium: acknowledge within a day
    trafficking = g.file(idempotency_key="k-traffic", category=Category.TRAFFICKING)  # 15 minutes
    accident = g.file(idempotency_key="k-accident", category=Category.WORKPLACE_ACCIDENT)  # high: 4 hours
    resolved = g.file(idempotency_key="k-resolved")
    g.case_service.resolve(resolved, Outcome.WITHDRAWN, False, 0, CASEWORKER)
    g.file(idempotency_key="k-other", caller=OTHER_CSO)

    views, token = g.case_service.queue(QueueQuery(), CASEWORKER)

    assert [v.case.grievance_id for v in views] == [trafficking, accident, wage]
    assert token == ""
    # One audit record for the page, naming every case it showed, in the cases' state.
    assert g.audit.records == []
    (listing,) = g.audit.listings
    assert (listing.action, listing.resource_ids, listing.state_code) == (
        Action.SEARCH,
        (trafficking, accident, wage),
        "10",
    )
    assert listing.message.resource_id == "" and list(listing.message.resource_ids) == [trafficking, accident, wage]
    assert listing.message.state_code == "10" and listing.message.resource_type == "grievance"
    assert "summary" in listing.fields


def test_an_empty_page_records_nothing_and_a_trail_that_is_down_refuses_the_page(g: Grievances) -> None:
    assert g.case_service.queue(QueueQuery(), CASEWORKER) == ([], "")
    assert g.audit.listings == []

    g.file()
    g.audit.failing = True
    with pytest.raises(Unavailable):
        g.case_service.queue(QueueQuery(), CASEWORKER)


def test_the_queue_filters_and_pages(g: Grievances) -> None:
    ids = [g.file(idempotency_key=f"k-{i}", category=Category.TRAFFICKING) for i in range(3)]
    g.file(idempotency_key="k-wage")

    first, token = g.case_service.queue(
        QueueQuery(categories=frozenset({Category.TRAFFICKING}), page_size=2), CASEWORKER
    )
    second, end = g.case_service.queue(
        QueueQuery(categories=frozenset({Category.TRAFFICKING}), page_size=2, page_token=token), CASEWORKER
    )

    assert sorted(v.case.grievance_id for v in [*first, *second]) == sorted(ids)
    assert end == ""
    assert g.case_service.queue(QueueQuery(assignee_id="nobody"), CASEWORKER)[0] == []
    with pytest.raises(InvalidArgument):
        g.case_service.queue(QueueQuery(page_token="%%%"), CASEWORKER)


def test_a_case_filed_before_references_were_claimed_is_still_found_by_its_reference(g: Grievances) -> None:
    grievance_id = g.file()
    reference = g.cases.get(grievance_id).reference  # type: ignore[union-attr]
    g.store.collection("grievance_references").delete(reference)  # as stored before every filing claimed one

    assert g.case_service.by_reference(reference, CASEWORKER).case.grievance_id == grievance_id
    with pytest.raises(NotFound, match="no such grievance"):
        g.case_service.by_reference(reference, OTHER_CSO)
    with pytest.raises(InvalidArgument):
        g.case_service.by_reference("GR-12345", CASEWORKER)
