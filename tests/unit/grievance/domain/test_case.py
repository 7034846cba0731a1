from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from mrc_grievance.domain.case import TRANSITIONS, Case, IllegalTransition, Operation, TimelineAction
from mrc_grievance.domain.events import (
    GrievanceAssigned,
    GrievanceFiled,
    GrievanceReferralAnswered,
    GrievanceReferred,
    GrievanceReopened,
    GrievanceResolved,
    GrievanceStatusChanged,
    GrievanceTriaged,
)
from mrc_grievance.domain.parties import (
    RegisteredWorker,
    Reporter,
    UnregisteredPerson,
    UnregisteredRespondent,
)
from mrc_grievance.domain.protected import Sealed
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
)
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound
from mrc_kernel.place import Place

from .builders import (
    AHTU,
    CASEWORKER,
    CHENNAI,
    HELPLINE,
    NOW,
    PATNA,
    SUPERVISOR,
    anonymous_report,
    case_in,
    new_case,
    sealed,
    walk,
)

LATER = NOW + timedelta(hours=1)


# --- filing ---------------------------------------------------------------------------------------------


def test_filing_opens_a_new_case_with_a_provisional_severity_and_one_event() -> None:
    case = new_case(facts=TriageFacts(days_unpaid=45))

    assert case.status is CaseStatus.NEW
    assert case.severity is Severity.MEDIUM
    assert case.version == 1
    assert case.escalation_level is EscalationLevel.CASEWORKER
    assert case.filing_partner_id == "partner-a"
    [event] = case.pending_events
    assert isinstance(event, GrievanceFiled)
    facts = event.facts
    assert (facts.grievance_id, facts.category, facts.severity, facts.status) == (
        "g-1",
        Category.WAGE_THEFT,
        Severity.MEDIUM,
        CaseStatus.NEW,
    )
    assert (facts.employer_id, facts.respondent_kind, facts.worker_id) == (
        "employer-7",
        RespondentKind.REGISTERED_EMPLOYER,
        "worker-1",
    )
    assert facts.place == Place("10", "212", "1415")  # codes only: no village name
    assert [e.action for e in case.timeline] == [TimelineAction.FILED]


def test_an_unregistered_respondent_is_published_by_kind_without_an_employer_id() -> None:
    case = new_case(
        respondent=UnregisteredRespondent(RespondentKind.UNREGISTERED_AGENT, sealed("AGENT-NAME"), CHENNAI),
        subject=UnregisteredPerson(name=sealed("PERSON-NAME")),
    )

    facts = case.pending_events[0].facts
    assert (facts.employer_id, facts.respondent_kind, facts.worker_id) == ("", RespondentKind.UNREGISTERED_AGENT, "")


def test_a_case_without_a_respondent_says_so() -> None:
    facts = new_case(respondent=None, category=Category.MISSING_PERSON).pending_events[0].facts

    assert (facts.employer_id, facts.respondent_kind) == ("", RespondentKind.NONE)


def test_filing_names_every_invalid_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        new_case(
            category=None,
            channel=None,
            summary=None,
            subject=RegisteredWorker(""),
            respondent=UnregisteredRespondent(RespondentKind.REGISTERED_EMPLOYER, None, Place("10", "568")),
            location=Place("99", "212"),
            facts=TriageFacts(workers_affected=0),
        )

    assert {v.field for v in caught.value.violations} == {
        "category",
        "channel",
        "summary",
        "subject.worker_id",
        "respondent.kind",
        "respondent.place.district_code",
        "location.state_code",
        "facts.workers_affected",
    }


def test_an_anonymous_reporter_leaves_no_identity() -> None:
    with pytest.raises(InvalidArgument) as caught:
        anonymous_report(reporter=Reporter(ReporterRelation.THIRD_PARTY, Confidentiality.ANONYMOUS, sealed("NAME")))

    assert [v.field for v in caught.value.violations] == ["reporter.confidentiality"]


def test_a_public_report_needs_its_reporter_even_if_anonymous() -> None:
    with pytest.raises(InvalidArgument) as caught:
        new_case(channel=IntakeChannel.PUBLIC_REPORT, reporter=None)

    assert [v.field for v in caught.value.violations] == ["reporter"]


def test_a_recording_alone_is_an_account() -> None:
    case = new_case(channel=IntakeChannel.IVR, summary=None, recording_ref=sealed("RECORDING-REF"))

    assert case.recording_ref == sealed("RECORDING-REF")


# --- the whole way through ------------------------------------------------------------------------------


def test_a_case_goes_from_intake_to_closure_through_legal_moves() -> None:
    case = new_case()
    case.triage(TriageFacts(workers_affected=12), HELPLINE, NOW)
    case.assign("cw-1", "partner-a", SUPERVISOR, NOW)
    case.start_work(CASEWORKER, NOW)
    case.await_complainant(CASEWORKER, NOW)
    case.resume_work(CASEWORKER, NOW)
    referral = case.refer("r-1", ReferralTarget.LABOUR_DEPARTMENT, "partner-labour", CASEWORKER, NOW)
    case.answer_referral(referral.referral_id, accept=True, by=AHTU, now=NOW)
    case.resolve(Outcome.WAGES_RECOVERED, substantiated=True, amount_recovered_paise=2_450_000, by=CASEWORKER, now=NOW)
    case.reopen(sealed("REOPEN-REASON"), SUPERVISOR, LATER)
    case.triage(TriageFacts(workers_affected=12), HELPLINE, LATER)
    case.resolve(Outcome.NOT_SUBSTANTIATED, substantiated=False, by=CASEWORKER, now=LATER)
    case.close(SUPERVISOR, LATER)

    assert case.status is CaseStatus.CLOSED
    assert [type(e).__name__ for e in case.pending_events] == [
        "GrievanceFiled",
        "GrievanceTriaged",
        "GrievanceAssigned",
        "GrievanceStatusChanged",
        "GrievanceStatusChanged",
        "GrievanceStatusChanged",
        "GrievanceReferred",
        "GrievanceReferralAnswered",
        "GrievanceResolved",
        "GrievanceReopened",
        "GrievanceTriaged",
        "GrievanceResolved",
        "GrievanceStatusChanged",
    ]
    assert [e.status for e in case.timeline] == [
        CaseStatus.NEW,
        CaseStatus.TRIAGED,
        CaseStatus.ASSIGNED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.AWAITING_COMPLAINANT,
        CaseStatus.IN_PROGRESS,
        CaseStatus.REFERRED,
        CaseStatus.REFERRED,
        CaseStatus.RESOLVED,
        CaseStatus.REOPENED,
        CaseStatus.TRIAGED,
        CaseStatus.RESOLVED,
        CaseStatus.CLOSED,
    ]
    # Every change is one version, and the timeline says which.
    assert case.version == 13
    assert [e.version for e in case.timeline] == list(range(1, 14))
    assert [r.outcome for r in case.past_resolutions] == [Outcome.WAGES_RECOVERED]
    assert case.cycle == 2


def test_events_carry_the_status_and_severity_after_the_change() -> None:
    case = case_in(CaseStatus.TRIAGED)
    case.pending_events.clear()

    case.assign("cw-1", "partner-a", SUPERVISOR, LATER)

    [event] = case.pending_events
    assert isinstance(event, GrievanceAssigned)
    assert (event.assignee_id, event.assignee_partner_id) == ("cw-1", "partner-a")
    assert (event.facts.status, event.facts.version, event.facts.occurred_at) == (
        CaseStatus.ASSIGNED,
        case.version,
        LATER,
    )


# --- illegal transitions ----------------------------------------------------------------------------------


def _perform(operation: Operation) -> Callable[[Case], object]:
    return {
        Operation.TRIAGE: lambda c: c.triage(TriageFacts(), HELPLINE, LATER),
        Operation.OVERRIDE_SEVERITY: lambda c: c.override_severity(Severity.HIGH, sealed("WHY"), SUPERVISOR, LATER),
        Operation.ASSIGN: lambda c: c.assign("cw-2", "partner-a", SUPERVISOR, LATER),
        Operation.START_WORK: lambda c: c.start_work(CASEWORKER, LATER),
        Operation.AWAIT_COMPLAINANT: lambda c: c.await_complainant(CASEWORKER, LATER),
        Operation.RESUME_WORK: lambda c: c.resume_work(CASEWORKER, LATER),
        Operation.REFER: lambda c: c.refer("r-9", ReferralTarget.PARTNER_CSO, "partner-b", CASEWORKER, LATER),
        Operation.ANSWER_REFERRAL: lambda c: c.answer_referral("r-1", accept=True, by=AHTU, now=LATER),
        Operation.ESCALATE: lambda c: c.escalate(sealed("WHY"), SUPERVISOR, LATER),
        Operation.RESOLVE: lambda c: c.resolve(Outcome.WITHDRAWN, substantiated=False, by=CASEWORKER, now=LATER),
        Operation.REOPEN: lambda c: c.reopen(sealed("WHY"), SUPERVISOR, LATER),
        Operation.CLOSE: lambda c: c.close(SUPERVISOR, LATER),
        Operation.ADD_NOTE: lambda c: c.add_note("n-9", sealed("NOTE"), NoteAudience.INTERNAL, CASEWORKER, LATER),
    }[operation]


ILLEGAL = [(op, status) for op in Operation for status in CaseStatus if status not in TRANSITIONS[op]]
LEGAL = [(op, status, target) for op in Operation for status, target in TRANSITIONS[op].items()]


@pytest.mark.parametrize(("operation", "status"), ILLEGAL, ids=[f"{o.value}-from-{s.value}" for o, s in ILLEGAL])
def test_an_illegal_transition_is_a_conflict_naming_both_states(operation: Operation, status: CaseStatus) -> None:
    case = case_in(status)
    version = case.version

    with pytest.raises(IllegalTransition) as caught:
        _perform(operation)(case)

    assert isinstance(caught.value, Conflict)
    assert (caught.value.current, caught.value.operation) == (status, operation)
    assert f"is {status.value}" in caught.value.detail
    assert caught.value.requested in caught.value.detail
    assert case.status is status
    assert case.version == version


@pytest.mark.parametrize(
    ("operation", "status", "target"), LEGAL, ids=[f"{o.value}-from-{s.value}" for o, s, _ in LEGAL]
)
def test_every_legal_transition_lands_where_the_table_says(
    operation: Operation, status: CaseStatus, target: CaseStatus
) -> None:
    case = case_in(status)

    _perform(operation)(case)

    assert case.status is target


def test_the_table_covers_every_operation_and_closed_is_final() -> None:
    assert set(TRANSITIONS) == set(Operation)
    assert all(CaseStatus.CLOSED not in allowed for allowed in TRANSITIONS.values())


def test_an_illegal_move_names_current_and_requested_states_in_its_message() -> None:
    with pytest.raises(IllegalTransition) as caught:
        case_in(CaseStatus.TRIAGED).start_work(CASEWORKER, LATER)

    assert caught.value.detail == "grievance g-1 is triaged: start_work (to in_progress) is not allowed from triaged"


# --- triage on the case -----------------------------------------------------------------------------------


def test_an_override_needs_a_reason_and_is_recorded_with_it() -> None:
    case = case_in(CaseStatus.TRIAGED)
    with pytest.raises(InvalidArgument):
        case.override_severity(Severity.CRITICAL, None, SUPERVISOR, LATER)

    case.override_severity(Severity.CRITICAL, sealed("OVERRIDE-REASON"), SUPERVISOR, LATER)

    assert case.severity is Severity.CRITICAL
    assert case.current_triage is not None and case.current_triage.override is not None
    assert case.current_triage.override.reason == sealed("OVERRIDE-REASON")
    assert case.current_triage.assessment.severity is Severity.MEDIUM
    entry = case.timeline[-1]
    assert entry.action is TimelineAction.SEVERITY_OVERRIDDEN
    assert entry.reason == sealed("OVERRIDE-REASON")
    assert "OVERRIDE-REASON" not in entry.summary
    event = case.pending_events[-1]
    assert isinstance(event, GrievanceTriaged)
    assert (event.previous_severity, event.overridden) == (Severity.MEDIUM, True)


def test_an_override_of_a_new_case_is_its_triage() -> None:
    case = new_case()

    case.override_severity(Severity.HIGH, sealed("WHY"), SUPERVISOR, LATER)

    assert case.status is CaseStatus.TRIAGED
    assert case.current_triage is not None and case.current_triage.by == SUPERVISOR


def test_new_facts_drop_an_earlier_override() -> None:
    case = case_in(CaseStatus.TRIAGED)
    case.override_severity(Severity.LOW, sealed("WHY"), SUPERVISOR, LATER)

    case.triage(TriageFacts(child_involved=True), CASEWORKER, LATER)

    assert case.severity is Severity.CRITICAL
    assert case.current_triage is not None and case.current_triage.override is None


def test_triage_may_set_the_category_an_ivr_message_could_not() -> None:
    case = new_case(category=Category.OTHER, channel=IntakeChannel.IVR)

    case.triage(TriageFacts(), HELPLINE, LATER, category=Category.TRAFFICKING)

    assert (case.category, case.severity) == (Category.TRAFFICKING, Severity.CRITICAL)
    assert "category other -> trafficking" in case.timeline[-1].summary
    assert case.pending_events[-1].facts.category is Category.TRAFFICKING


# --- referral -------------------------------------------------------------------------------------------


def test_a_referral_is_pending_until_answered_and_lets_its_partner_in() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)

    referral = case.refer("r-1", ReferralTarget.ANTI_HUMAN_TRAFFICKING_UNIT, "partner-ahtu", CASEWORKER, LATER)

    assert referral.status is ReferralStatus.PENDING
    assert case.referral_partner_ids() == {"partner-ahtu"}
    event = case.pending_events[-1]
    assert isinstance(event, GrievanceReferred)
    assert (event.target, event.target_partner_id) == (ReferralTarget.ANTI_HUMAN_TRAFFICKING_UNIT, "partner-ahtu")


@pytest.mark.parametrize(
    ("assigned", "back_to"), [(True, CaseStatus.IN_PROGRESS), (False, CaseStatus.TRIAGED)], ids=["held", "unheld"]
)
def test_a_declined_referral_hands_the_case_back(assigned: bool, back_to: CaseStatus) -> None:
    case = case_in(CaseStatus.IN_PROGRESS if assigned else CaseStatus.TRIAGED)
    case.refer("r-1", ReferralTarget.LEGAL_SERVICES_AUTHORITY, "partner-dlsa", CASEWORKER, LATER)

    answered = case.answer_referral("r-1", accept=False, by=AHTU, now=LATER, reason=sealed("DECLINE-REASON"))

    assert answered.status is ReferralStatus.DECLINED
    assert case.status is back_to
    assert case.referral_partner_ids() == frozenset()
    event = case.pending_events[-1]
    assert isinstance(event, GrievanceReferralAnswered) and not event.accepted


def test_a_decline_keeps_the_case_referred_while_another_referral_stands() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    case.refer("r-1", ReferralTarget.ANTI_HUMAN_TRAFFICKING_UNIT, "partner-ahtu", CASEWORKER, LATER)
    case.refer("r-2", ReferralTarget.CHILD_WELFARE_COMMITTEE, "partner-cwc", CASEWORKER, LATER)

    case.answer_referral("r-2", accept=False, by=AHTU, now=LATER)

    assert case.status is CaseStatus.REFERRED
    assert case.referral_partner_ids() == {"partner-ahtu"}


def test_a_referral_is_answered_once() -> None:
    case = case_in(CaseStatus.REFERRED)
    case.answer_referral("r-1", accept=True, by=AHTU, now=LATER)

    with pytest.raises(IllegalTransition, match="already accepted"):
        case.answer_referral("r-1", accept=False, by=AHTU, now=LATER)
    with pytest.raises(NotFound):
        case.answer_referral("r-404", accept=True, by=AHTU, now=LATER)


def test_a_case_is_not_referred_twice_to_the_same_partner() -> None:
    case = case_in(CaseStatus.REFERRED)

    with pytest.raises(InvalidArgument, match="already referred"):
        case.refer("r-2", ReferralTarget.LABOUR_DEPARTMENT, "partner-labour", CASEWORKER, LATER)


# --- resolution -------------------------------------------------------------------------------------------


def test_resolution_carries_outcome_finding_and_amount_with_the_employer_link() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)

    case.resolve(
        Outcome.WAGES_RECOVERED, substantiated=True, amount_recovered_paise=1_850_000, by=CASEWORKER, now=LATER
    )

    event = case.pending_events[-1]
    assert isinstance(event, GrievanceResolved)
    assert (event.outcome, event.substantiated, event.amount_recovered_paise) == (
        Outcome.WAGES_RECOVERED,
        True,
        1_850_000,
    )
    assert (event.facts.employer_id, event.facts.respondent_kind) == ("employer-7", RespondentKind.REGISTERED_EMPLOYER)
    assert (event.facts.status, event.filed_at) == (CaseStatus.RESOLVED, NOW)


@pytest.mark.parametrize(
    ("outcome", "substantiated", "amount", "field"),
    [
        (Outcome.WAGES_RECOVERED, True, 0, "amount_recovered_paise"),
        (Outcome.COMPENSATION_PAID, True, -5, "amount_recovered_paise"),
        (Outcome.RESCUED, True, 100, "amount_recovered_paise"),
        (Outcome.NOT_SUBSTANTIATED, True, 0, "substantiated"),
        (Outcome.DUPLICATE, True, 0, "substantiated"),
        (None, False, 0, "outcome"),
    ],
)
def test_a_resolution_must_be_consistent(outcome: Outcome | None, substantiated: bool, amount: int, field: str) -> None:
    case = case_in(CaseStatus.IN_PROGRESS)

    with pytest.raises(InvalidArgument) as caught:
        case.resolve(outcome, substantiated=substantiated, amount_recovered_paise=amount, by=CASEWORKER, now=LATER)

    assert [v.field for v in caught.value.violations] == [field]
    assert case.status is CaseStatus.IN_PROGRESS


def test_reopening_needs_a_reason_and_counts_as_an_allegation_again() -> None:
    case = case_in(CaseStatus.RESOLVED)
    with pytest.raises(InvalidArgument):
        case.reopen(None, SUPERVISOR, LATER)

    case.reopen(sealed("REOPEN-REASON"), SUPERVISOR, LATER)

    event = case.pending_events[-1]
    assert isinstance(event, GrievanceReopened)
    assert (event.cycle, event.facts.status, event.facts.employer_id) == (2, CaseStatus.REOPENED, "employer-7")
    assert case.resolution is None


# --- notes, timeline and what events never carry --------------------------------------------------------------


def test_notes_are_sealed_and_the_timeline_never_repeats_them() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)

    note = case.add_note("n-1", sealed("NOTE-TEXT"), NoteAudience.INTERNAL, CASEWORKER, LATER)

    assert note.text == sealed("NOTE-TEXT")
    assert case.notes == [note]
    entry = case.timeline[-1]
    assert (entry.action, entry.actor, entry.at) == (TimelineAction.NOTE_ADDED, CASEWORKER, LATER)
    assert all("NOTE-TEXT" not in e.summary for e in case.timeline)


def test_a_note_for_the_reporter_needs_a_reporter_who_follows_up() -> None:
    with pytest.raises(InvalidArgument):
        case_in(CaseStatus.IN_PROGRESS).add_note("n-1", sealed("TEXT"), NoteAudience.REPORTER, CASEWORKER, LATER)

    report = anonymous_report()
    report.add_note("n-1", sealed("TEXT"), NoteAudience.REPORTER, CASEWORKER, LATER)
    report.add_reporter_message("n-2", sealed("REPLY"), LATER)

    assert [n.note_id for n in report.notes_for_reporter()] == ["n-1", "n-2"]


def test_no_event_carries_a_sealed_value_a_village_or_a_typed_reason() -> None:
    case = new_case(
        subject=UnregisteredPerson(name=sealed("PERSON-NAME"), age=sealed("AGE"), gender=sealed("GENDER")),
        respondent=UnregisteredRespondent(RespondentKind.UNREGISTERED_CONTRACTOR, sealed("CONTRACTOR-NAME"), PATNA),
        reporter=Reporter(ReporterRelation.FAMILY, Confidentiality.CONFIDENTIAL, sealed("REPORTER-NAME")),
    )
    case.override_severity(Severity.CRITICAL, sealed("OVERRIDE-REASON"), SUPERVISOR, LATER)
    case.assign("cw-1", "partner-a", SUPERVISOR, LATER)
    case.add_note("n-1", sealed("NOTE-TEXT"), NoteAudience.INTERNAL, CASEWORKER, LATER)
    case.escalate(sealed("ESCALATION-REASON"), SUPERVISOR, LATER)
    case.record_sla_milestones(LATER + timedelta(days=30))
    case.resolve(Outcome.RESCUED, substantiated=True, by=CASEWORKER, now=LATER + timedelta(days=31))
    case.reopen(sealed("REOPEN-REASON"), SUPERVISOR, LATER + timedelta(days=32))

    values = walk(case.pending_events)
    assert not [v for v in values if isinstance(v, Sealed)]
    strings = [v for v in values if isinstance(v, str)]
    assert not [s for s in strings if "enc:" in s or "Phulwari" in s]


def test_require_version_guards_a_stale_read() -> None:
    case = case_in(CaseStatus.TRIAGED)

    case.require_version(case.version)
    case.require_version(0)
    with pytest.raises(Conflict, match="version"):
        case.require_version(case.version - 1)


def test_a_confidential_reporter_is_flagged_for_the_access_policy() -> None:
    confidential = new_case(reporter=Reporter(ReporterRelation.FAMILY, Confidentiality.CONFIDENTIAL, sealed("NAME")))
    open_reporter = new_case(reporter=Reporter(ReporterRelation.FAMILY, Confidentiality.OPEN, sealed("NAME")))

    assert confidential.confidential_reporter
    assert not open_reporter.confidential_reporter
    assert not new_case().confidential_reporter


def test_status_changes_without_an_event_of_their_own_say_where_they_came_from() -> None:
    case = case_in(CaseStatus.ASSIGNED)

    case.start_work(CASEWORKER, LATER)

    event = case.pending_events[-1]
    assert isinstance(event, GrievanceStatusChanged)
    assert (event.previous_status, event.facts.status) == (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS)


def test_filing_place_outside_the_reporter_state_is_allowed() -> None:
    # A Bihar helpline takes calls about worksites in Tamil Nadu: the place is where it happened.
    case = new_case(location=CHENNAI)

    assert case.location.scope == ("33", "568")
    assert PATNA.scope == ("10", "212")
