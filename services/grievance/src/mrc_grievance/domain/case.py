"""The case aggregate: a complaint or a call for help, from intake to resolution, with its clocks and timeline.

A case is about a subject (a registry worker, or someone outside the registry), may be against a
respondent (an organisation of the employer service, or an unregistered employer, contractor or agent),
and may come from a reporter other than the subject (a neighbour, family) who can stay confidential or
anonymous. Its status moves only as `TRANSITIONS` allows; anything else is an `IllegalTransition`
(409) naming the current and the requested state. Every change bumps `version`, is written to the
timeline (who, when, what; never a note's text or a typed reason, which stay sealed) and raises its
events, which the repository stores in the case's own document.

Escalation is a level beside the status, not a status: an escalated case is still assigned, in progress
or referred, and the level says who answers for it (caseworker -> district coordinator -> state
authority). SLA breaches raise it one level, exactly once per breach (see `sla`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from mrc_grievance.domain.consent import ConsentChange
from mrc_grievance.domain.events import (
    CaseEvent,
    CaseFacts,
    GrievanceAssigned,
    GrievanceEscalated,
    GrievanceFiled,
    GrievanceReferralAnswered,
    GrievanceReferred,
    GrievanceReopened,
    GrievanceResolved,
    GrievanceSlaWarned,
    GrievanceStatusChanged,
    GrievanceTriaged,
    GrievanceWorkerUnlinked,
    codes_only,
)
from mrc_grievance.domain.parties import (
    REGISTRY,
    REPORTER,
    SLA_CLOCK,
    Actor,
    RegisteredWorker,
    Reporter,
    Respondent,
    Subject,
    UnregisteredPerson,
    id_violations,
    reporter_violations,
    respondent_employer_id,
    respondent_kind,
    respondent_violations,
    subject_violations,
    subject_worker_id,
)
from mrc_grievance.domain.protected import Sealed
from mrc_grievance.domain.sla import ClockKind, DueMilestone, MilestoneKind, SlaClocks, policy_for
from mrc_grievance.domain.triage import SeverityOverride, Triage, TriageFacts, assess
from mrc_grievance.domain.triage import triage as run_triage
from mrc_grievance.domain.vocabulary import (
    OUTCOMES_NEVER_SUBSTANTIATED,
    OUTCOMES_WITH_AMOUNT,
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
    Severity,
    UnlinkReason,
)
from mrc_kernel.errors import Conflict, FieldViolation, IdempotencyKeyReused, InvalidArgument, NotFound
from mrc_kernel.place import Place

MAX_AMOUNT_PAISE = 10**12
MAX_NOTES = 2000
# Idempotency keys of the latest requests applied to a case, so a retried change is answered, not redone.
MAX_REMEMBERED_REQUESTS = 100


class KeepRespondent:
    """Triage without a correction of the respondent (None would mean "against nobody")."""


KEEP_RESPONDENT = KeepRespondent()


class Operation(enum.StrEnum):
    TRIAGE = "triage"
    OVERRIDE_SEVERITY = "override_severity"
    ASSIGN = "assign"
    START_WORK = "start_work"
    AWAIT_COMPLAINANT = "await_complainant"
    RESUME_WORK = "resume_work"
    REFER = "refer"
    ANSWER_REFERRAL = "answer_referral"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    ADD_NOTE = "add_note"


S = CaseStatus
_OPEN_WORKING = (S.TRIAGED, S.ASSIGNED, S.IN_PROGRESS, S.AWAITING_COMPLAINANT, S.REFERRED)
_ALL_OPEN = (S.NEW, *_OPEN_WORKING, S.REOPENED)

# From which status each operation is allowed, and the status it leads to. The one status decided at run
# time is a declined referral's: back to in progress if a caseworker holds the case, else to triaged.
TRANSITIONS: dict[Operation, dict[CaseStatus, CaseStatus]] = {
    Operation.TRIAGE: {S.NEW: S.TRIAGED, S.REOPENED: S.TRIAGED, **{s: s for s in _OPEN_WORKING}},
    Operation.OVERRIDE_SEVERITY: {S.NEW: S.TRIAGED, S.REOPENED: S.TRIAGED, **{s: s for s in _OPEN_WORKING}},
    Operation.ASSIGN: {
        S.TRIAGED: S.ASSIGNED,
        S.REOPENED: S.ASSIGNED,
        S.ASSIGNED: S.ASSIGNED,
        # Another caseworker takes over: they start afresh...
        S.IN_PROGRESS: S.ASSIGNED,
        # ...unless the case waits on the complainant or sits with an authority, which it still does.
        S.AWAITING_COMPLAINANT: S.AWAITING_COMPLAINANT,
        S.REFERRED: S.REFERRED,
    },
    Operation.START_WORK: {S.ASSIGNED: S.IN_PROGRESS},
    Operation.AWAIT_COMPLAINANT: {S.IN_PROGRESS: S.AWAITING_COMPLAINANT},
    Operation.RESUME_WORK: {S.AWAITING_COMPLAINANT: S.IN_PROGRESS},
    Operation.REFER: {S.TRIAGED: S.REFERRED, S.ASSIGNED: S.REFERRED, S.IN_PROGRESS: S.REFERRED, S.REFERRED: S.REFERRED},
    Operation.ANSWER_REFERRAL: {S.REFERRED: S.REFERRED},
    Operation.ESCALATE: {s: s for s in _ALL_OPEN},
    Operation.RESOLVE: {s: S.RESOLVED for s in _ALL_OPEN},
    Operation.REOPEN: {S.RESOLVED: S.REOPENED},
    Operation.CLOSE: {S.RESOLVED: S.CLOSED},
    Operation.ADD_NOTE: {s: s for s in (*_ALL_OPEN, S.RESOLVED)},
}

# What a caller asked for, for the 409 when the operation is not allowed (the status it would lead to).
_REQUESTED: dict[Operation, str] = {
    Operation.TRIAGE: S.TRIAGED.value,
    Operation.OVERRIDE_SEVERITY: S.TRIAGED.value,
    Operation.ASSIGN: S.ASSIGNED.value,
    Operation.START_WORK: S.IN_PROGRESS.value,
    Operation.AWAIT_COMPLAINANT: S.AWAITING_COMPLAINANT.value,
    Operation.RESUME_WORK: S.IN_PROGRESS.value,
    Operation.REFER: S.REFERRED.value,
    Operation.ANSWER_REFERRAL: "an answered referral",
    Operation.ESCALATE: "a higher escalation level",
    Operation.RESOLVE: S.RESOLVED.value,
    Operation.REOPEN: S.REOPENED.value,
    Operation.CLOSE: S.CLOSED.value,
    Operation.ADD_NOTE: "a new note",
}


class IllegalTransition(Conflict):
    """The case is not in a state that allows the operation (409): says where it is and what was asked."""

    def __init__(self, grievance_id: str, current: CaseStatus, operation: Operation, detail: str = "") -> None:
        self.grievance_id = grievance_id
        self.current = current
        self.operation = operation
        self.requested = _REQUESTED[operation]
        super().__init__(
            detail
            or f"grievance {grievance_id} is {current.value}: {operation.value} (to {self.requested}) "
            f"is not allowed from {current.value}"
        )


class TimelineAction(enum.StrEnum):
    FILED = "filed"
    TRIAGED = "triaged"
    SEVERITY_OVERRIDDEN = "severity_overridden"
    ASSIGNED = "assigned"
    WORK_STARTED = "work_started"
    AWAITING_COMPLAINANT = "awaiting_complainant"
    WORK_RESUMED = "work_resumed"
    REFERRED = "referred"
    REFERRAL_ACCEPTED = "referral_accepted"
    REFERRAL_DECLINED = "referral_declined"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    NOTE_ADDED = "note_added"
    WORKER_ERASED = "worker_erased"
    WORKER_MERGED = "worker_merged"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    WORKER_LINKED = "worker_linked"


@dataclass(frozen=True)
class TimelineEntry:
    """One change: who, when, what. `summary` is built here from facts, never from typed text; a reason typed by
    staff (an override's, a reopening's) stays sealed in `reason`, for those allowed to read it."""

    at: datetime
    actor: Actor
    action: TimelineAction
    summary: str
    status: CaseStatus  # after the change
    version: int  # the case's version after the change
    reason: Sealed | None = None


@dataclass(frozen=True)
class Assignment:
    assignee_id: str
    assignee_partner_id: str
    by: Actor
    at: datetime


@dataclass(frozen=True)
class Referral:
    referral_id: str
    target: ReferralTarget
    # The partner (CSO, department or authority registered with the access service) that receives it: the
    # access policy lets it read the case once referred.
    target_partner_id: str
    status: ReferralStatus
    by: Actor
    at: datetime
    answered_by: Actor | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    substantiated: bool
    amount_recovered_paise: int
    by: Actor
    at: datetime
    cycle: int


@dataclass(frozen=True)
class Note:
    note_id: str
    audience: NoteAudience
    text: Sealed
    author: Actor
    written_at: datetime


@dataclass
class Case:
    grievance_id: str
    reference: str  # human-friendly, quoted on the phone and in the reporter's follow-up
    category: Category
    channel: IntakeChannel
    subject: Subject
    respondent: Respondent | None
    reporter: Reporter | None  # None when the subject reported it themselves through a partner
    summary: Sealed | None  # the complainant's own account, sealed
    recording_ref: Sealed | None  # an IVR recording reference, sealed
    location: Place  # where it happened (or where the person was last known): scopes access
    intake_facts: TriageFacts
    filed_by: Actor  # its partner is the filing partner, whose caseworkers and supervisors may read the case
    filed_at: datetime
    status: CaseStatus
    severity: Severity
    sla: SlaClocks
    # Only a slow salted hash (see `reports`): the code itself is shown once to the reporter, never stored.
    follow_up_code_hash: str = ""
    current_triage: Triage | None = None
    assignment: Assignment | None = None
    escalation_level: EscalationLevel = EscalationLevel.CASEWORKER
    referrals: list[Referral] = field(default_factory=list)
    resolution: Resolution | None = None
    past_resolutions: list[Resolution] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)  # keys of the SLA breaches, for statistics
    version: int = 1
    updated_at: datetime | None = None
    # Idempotency key -> request fingerprint of the latest requests applied (see `remember_request`).
    handled_requests: dict[str, str] = field(default_factory=dict)
    # Events raised by the last change, not yet stored; the repository moves them into the outbox.
    pending_events: list[CaseEvent] = field(default_factory=list, repr=False, compare=False)

    # --- intake ---------------------------------------------------------------------------------------

    @classmethod
    def file(
        cls,
        *,
        grievance_id: str,
        reference: str,
        category: Category | None,
        channel: IntakeChannel | None,
        subject: Subject,
        respondent: Respondent | None,
        reporter: Reporter | None,
        summary: Sealed | None,
        recording_ref: Sealed | None = None,
        location: Place,
        facts: TriageFacts | None = None,
        filed_by: Actor,
        now: datetime,
        follow_up_code_hash: str = "",
        sla_scale: float = 1.0,
    ) -> Case:
        """Open a case. Its severity is provisional (the rules over what the intake learned) until a person
        triages it; its SLA clocks start now, so a critical call is timed from the call, not from triage."""
        facts = facts or TriageFacts()
        violations = [
            *id_violations("grievance_id", grievance_id),
            *id_violations("reference", reference),
            *subject_violations(subject),
            *respondent_violations(respondent),
            *(reporter_violations(reporter) if reporter is not None else []),
            *location.violations("location"),
            *facts.violations(),
        ]
        if category is None:
            violations.append(FieldViolation("category", "must be set"))
        if channel is None:
            violations.append(FieldViolation("channel", "must be set"))
        if summary is None and recording_ref is None:
            violations.append(FieldViolation("summary", "an account of what happened (text or a recording) is needed"))
        if channel is IntakeChannel.PUBLIC_REPORT and reporter is None:
            violations.append(FieldViolation("reporter", "a public report says who reports it, even if anonymously"))
        if violations or category is None or channel is None:
            raise InvalidArgument(violations)
        severity = assess(category, facts).severity
        case = cls(
            grievance_id=grievance_id,
            reference=reference,
            category=category,
            channel=channel,
            subject=subject,
            respondent=respondent,
            reporter=reporter,
            summary=summary,
            recording_ref=recording_ref,
            location=location,
            intake_facts=facts,
            filed_by=filed_by,
            filed_at=now,
            status=CaseStatus.NEW,
            severity=severity,
            sla=SlaClocks.start(policy_for(category, severity), now, scale=sla_scale),
            follow_up_code_hash=follow_up_code_hash,
            updated_at=now,
        )
        case._record(
            now, filed_by, TimelineAction.FILED, f"filed via {channel.value}: {category.value}, {severity.value}"
        )
        case.pending_events.append(GrievanceFiled(case.facts(now)))
        return case

    # --- what the rest of the platform reads ------------------------------------------------------------

    @property
    def worker_id(self) -> str:
        return subject_worker_id(self.subject)

    @property
    def employer_id(self) -> str:
        return respondent_employer_id(self.respondent)

    @property
    def filing_partner_id(self) -> str:
        return self.filed_by.partner_id

    @property
    def cycle(self) -> int:
        return self.sla.cycle

    @property
    def confidential_reporter(self) -> bool:
        return self.reporter is not None and self.reporter.confidentiality is not Confidentiality.OPEN

    def referral_partner_ids(self) -> frozenset[str]:
        """Partners a referral is with (pending or accepted): the access policy lets them read the case."""
        return frozenset(r.target_partner_id for r in self.referrals if r.status is not ReferralStatus.DECLINED)

    def facts(self, now: datetime) -> CaseFacts:
        return CaseFacts(
            grievance_id=self.grievance_id,
            category=self.category,
            severity=self.severity,
            status=self.status,
            place=codes_only(self.location),
            employer_id=self.employer_id,
            respondent_kind=respondent_kind(self.respondent),
            worker_id=self.worker_id,
            channel=self.channel,
            escalation_level=self.escalation_level,
            version=self.version,
            occurred_at=now,
            sla_next_deadline=self.sla.next_deadline(self.grievance_id),
        )

    def require_version(self, expected_version: int) -> None:
        """Optimistic concurrency for callers that read the case first; 0 skips the check."""
        if expected_version and expected_version != self.version:
            raise Conflict(f"grievance {self.grievance_id} is at version {self.version}, not {expected_version}")

    def can(self, operation: Operation) -> bool:
        return self.status in TRANSITIONS[operation]

    # --- triage ---------------------------------------------------------------------------------------

    def triage(
        self,
        facts: TriageFacts,
        by: Actor,
        now: datetime,
        *,
        category: Category | None = None,
        respondent: Respondent | KeepRespondent | None = KEEP_RESPONDENT,
        worker: RegisteredWorker | None = None,
    ) -> None:
        """Assess the case from the facts as now known, and set its category if the intake could not (an IVR
        message, a public report). New facts are a new assessment: an earlier override is dropped (the
        supervisor may override again), so an old downgrade never hides new danger.

        `respondent` corrects who the case is against (that it is a supervisor's decision is checked by the
        service layer); `GrievanceTriaged` then names the previous employer too, so the employer service
        moves the allegation.

        `worker` links a case that names no registry worker to one (the service layer asked the registry:
        exists, visible, consent to grievance follow-up for the caller's partner), e.g. after the worker's
        consent was withdrawn and given again: a link is never restored by itself. The registry's record
        then stands for the person, so a description typed at intake goes."""
        if not isinstance(respondent, KeepRespondent) and (found := respondent_violations(respondent)):
            raise InvalidArgument(found)
        if worker is not None:
            if found := subject_violations(worker, "worker_id"):
                raise InvalidArgument([FieldViolation("worker_id", v.description) for v in found])
            if self.worker_id and self.worker_id != worker.worker_id:
                raise InvalidArgument.for_field("worker_id", "the case already names another registry worker")
        target = self._target(Operation.TRIAGE)
        linked = worker is not None and not self.worker_id
        if linked and worker is not None:
            self.subject = worker
        previous_employer_id, previous_kind = self.employer_id, respondent_kind(self.respondent)
        corrected = not isinstance(respondent, KeepRespondent) and respondent != self.respondent
        if corrected and not isinstance(respondent, KeepRespondent):
            self.respondent = respondent
        previous_category = self.category
        assessed = run_triage(category or self.category, facts, by, now)
        previous = self.severity
        self.category = category or self.category
        self.current_triage = assessed
        self._set_severity(assessed.severity)
        self.sla = self.sla.meet(ClockKind.ACKNOWLEDGE, now)
        self._move(target, now)
        rules = ", ".join(assessed.assessment.matched_rules) or "no rule"
        change = (
            f"category {previous_category.value} -> {self.category.value}, "
            if self.category != previous_category
            else ""
        )
        if corrected:
            change += f"respondent {previous_kind.value} -> {respondent_kind(self.respondent).value}, "
        self._record(
            now, by, TimelineAction.TRIAGED, f"{change}severity {previous.value} -> {self.severity.value} ({rules})"
        )
        if linked:
            self._record(
                now,
                by,
                TimelineAction.WORKER_LINKED,
                "linked to a registry worker (consent to grievance follow-up checked)",
            )
        self.pending_events.append(
            GrievanceTriaged(
                self.facts(now),
                previous,
                overridden=False,
                previous_employer_id=previous_employer_id,
                previous_respondent_kind=previous_kind,
            )
        )

    def override_severity(self, severity: Severity, reason: Sealed | None, by: Actor, now: datetime) -> None:
        """A supervisor's decision, with its reason (mandatory, sealed). Checking that `by` is a supervisor is
        the access policy's job; the domain makes sure the reason is there and the decision recorded."""
        if reason is None:
            raise InvalidArgument.for_field("reason", "an override needs the supervisor's reason")
        target = self._target(Operation.OVERRIDE_SEVERITY)
        current = self.current_triage or run_triage(self.category, self.intake_facts, by, now)
        previous = self.severity
        self.current_triage = replace(current, override=SeverityOverride(severity, reason, by, now))
        self._set_severity(severity)
        self.sla = self.sla.meet(ClockKind.ACKNOWLEDGE, now)
        self._move(target, now)
        self._record(
            now,
            by,
            TimelineAction.SEVERITY_OVERRIDDEN,
            f"severity {previous.value} -> {severity.value} (override; rules said {current.assessment.severity.value})",
            reason=reason,
        )
        self.pending_events.append(
            GrievanceTriaged(
                self.facts(now),
                previous,
                overridden=True,
                previous_employer_id=self.employer_id,
                previous_respondent_kind=respondent_kind(self.respondent),
            )
        )

    def _set_severity(self, severity: Severity) -> None:
        self.severity = severity
        self.sla = self.sla.with_policy(policy_for(self.category, severity))

    # --- assignment and work ----------------------------------------------------------------------------

    def assign(self, assignee_id: str, assignee_partner_id: str, by: Actor, now: datetime) -> None:
        violations = [
            *id_violations("assignee_id", assignee_id),
            *id_violations("assignee_partner_id", assignee_partner_id),
        ]
        if violations:
            raise InvalidArgument(violations)
        target = self._target(Operation.ASSIGN)
        self.assignment = Assignment(assignee_id, assignee_partner_id, by, now)
        # Somebody has looked at it: a reopened case is acknowledged by its new assignment too.
        self.sla = self.sla.meet(ClockKind.ACKNOWLEDGE, now)
        self._move(target, now)
        self._record(now, by, TimelineAction.ASSIGNED, f"assigned to {assignee_id} ({assignee_partner_id})")
        self.pending_events.append(GrievanceAssigned(self.facts(now), assignee_id, assignee_partner_id))

    def start_work(self, by: Actor, now: datetime) -> None:
        self._simple_move(
            Operation.START_WORK,
            TimelineAction.WORK_STARTED,
            "work started",
            by,
            now,
            lambda: self.sla.meet(ClockKind.ACT, now),
        )

    def await_complainant(self, by: Actor, now: datetime) -> None:
        """Waiting on the complainant (a document, a call back): the SLA clocks pause."""
        self._simple_move(
            Operation.AWAIT_COMPLAINANT,
            TimelineAction.AWAITING_COMPLAINANT,
            "waiting on the complainant",
            by,
            now,
            lambda: self.sla.pause(now),
        )

    def resume_work(self, by: Actor, now: datetime) -> None:
        self._simple_move(
            Operation.RESUME_WORK,
            TimelineAction.WORK_RESUMED,
            "complainant answered",
            by,
            now,
            lambda: self.sla.resume(now),
        )

    def _simple_move(
        self,
        operation: Operation,
        action: TimelineAction,
        summary: str,
        by: Actor,
        now: datetime,
        clocks: Callable[[], SlaClocks] | None = None,
    ) -> None:
        target = self._target(operation)
        previous = self.status
        if clocks is not None:
            # The clocks change before the event is raised, so it carries their next deadline.
            self.sla = clocks()
        self._move(target, now)
        self._record(now, by, action, summary)
        self.pending_events.append(GrievanceStatusChanged(self.facts(now), previous))

    # --- referral -------------------------------------------------------------------------------------

    def refer(
        self, referral_id: str, target: ReferralTarget, target_partner_id: str, by: Actor, now: datetime
    ) -> Referral:
        violations = [
            *id_violations("referral_id", referral_id),
            *id_violations("target_partner_id", target_partner_id),
        ]
        if any(
            r.target_partner_id == target_partner_id and r.status is not ReferralStatus.DECLINED for r in self.referrals
        ):
            violations.append(FieldViolation("target_partner_id", "the case is already referred to this partner"))
        if violations:
            raise InvalidArgument(violations)
        status = self._target(Operation.REFER)
        referral = Referral(referral_id, target, target_partner_id, ReferralStatus.PENDING, by, now)
        self.referrals.append(referral)
        self._move(status, now)
        self._record(now, by, TimelineAction.REFERRED, f"referred to {target.value} ({target_partner_id})")
        self.pending_events.append(GrievanceReferred(self.facts(now), referral_id, target, target_partner_id))
        return referral

    def answer_referral(
        self, referral_id: str, *, accept: bool, by: Actor, now: datetime, reason: Sealed | None = None
    ) -> Referral:
        """The receiving partner accepts or declines (that it is them is the access policy's check).

        Accepting meets the ACT clock: the authority (for trafficking, a rescue team) has the case. Declining
        hands the case back: in progress if a caseworker holds it, else triaged, unless another referral
        still stands.
        """
        self._target(Operation.ANSWER_REFERRAL)
        index, referral = self._referral(referral_id)
        if referral.status is not ReferralStatus.PENDING:
            raise IllegalTransition(
                self.grievance_id,
                self.status,
                Operation.ANSWER_REFERRAL,
                f"referral {referral_id} of grievance {self.grievance_id} is already {referral.status.value}",
            )
        answered = replace(
            referral,
            status=ReferralStatus.ACCEPTED if accept else ReferralStatus.DECLINED,
            answered_by=by,
            answered_at=now,
        )
        self.referrals[index] = answered
        if accept:
            self.sla = self.sla.meet(ClockKind.ACT, now)
        elif not self.referral_partner_ids():
            self.status = S.IN_PROGRESS if self.assignment is not None else S.TRIAGED
        self._touch(now)
        action = TimelineAction.REFERRAL_ACCEPTED if accept else TimelineAction.REFERRAL_DECLINED
        self._record(
            now,
            by,
            action,
            f"{referral.target.value} ({referral.target_partner_id}) {answered.status.value}",
            reason=reason,
        )
        self.pending_events.append(GrievanceReferralAnswered(self.facts(now), referral_id, accept))
        return answered

    def _referral(self, referral_id: str) -> tuple[int, Referral]:
        for index, referral in enumerate(self.referrals):
            if referral.referral_id == referral_id:
                return index, referral
        raise NotFound(f"no referral {referral_id!r} on grievance {self.grievance_id!r}")

    # --- SLA and escalation -----------------------------------------------------------------------------

    def record_sla_milestones(self, now: datetime) -> tuple[DueMilestone, ...]:
        """Fire what the SLA clocks have reached by `now` and not fired yet; returns it (empty: nothing to do,
        no change, so a redelivered timer writes nothing). A warning raises `GrievanceSlaWarned`; a breach
        escalates one level (`GrievanceEscalated`) unless the case is already at the top."""
        due = self.sla.due(self.grievance_id, now)
        if not due:
            return ()
        self.sla = self.sla.mark_fired({d.key for d in due})
        self.version += 1
        self.updated_at = now
        for item in due:
            if not item.announce:
                continue
            milestone = item.milestone
            if milestone.kind is MilestoneKind.BREACH:
                self._breach(item, now)
                continue
            breach = self.sla.deadline_of(self.sla.budget(milestone.clock) * milestone.period)
            percent = milestone.kind.value.removeprefix("warning_")
            self._entry(
                now,
                TimelineAction.SLA_WARNING,
                f"{milestone.clock.value} clock at {percent}% (period {milestone.period})",
            )
            self.pending_events.append(
                GrievanceSlaWarned(
                    self.facts(now), milestone.clock, milestone.kind, milestone.period, item.deadline, breach, item.key
                )
            )
        return due

    def _breach(self, item: DueMilestone, now: datetime) -> None:
        milestone = item.milestone
        self.breaches.append(item.key)
        summary = f"{milestone.clock.value} clock breached (period {milestone.period})"
        if self.escalation_level is EscalationLevel.STATE_AUTHORITY:
            self._entry(now, TimelineAction.SLA_BREACHED, f"{summary}; already at the state authority")
            return
        previous = self.escalation_level
        self.escalation_level = EscalationLevel(previous + 1)
        self._entry(now, TimelineAction.ESCALATED, f"{summary}: {previous.label} -> {self.escalation_level.label}")
        self.pending_events.append(
            GrievanceEscalated(self.facts(now), previous, milestone.clock, milestone.period, item.deadline, item.key)
        )

    def escalate(self, reason: Sealed | None, by: Actor, now: datetime) -> None:
        """A supervisor raises the case one level by hand, with a reason."""
        if reason is None:
            raise InvalidArgument.for_field("reason", "an escalation by hand needs a reason")
        self._target(Operation.ESCALATE)
        if self.escalation_level is EscalationLevel.STATE_AUTHORITY:
            raise IllegalTransition(
                self.grievance_id,
                self.status,
                Operation.ESCALATE,
                f"grievance {self.grievance_id} is already escalated to the state authority",
            )
        previous = self.escalation_level
        self.escalation_level = EscalationLevel(previous + 1)
        self._touch(now)
        self._record(
            now, by, TimelineAction.ESCALATED, f"by hand: {previous.label} -> {self.escalation_level.label}", reason
        )
        self.pending_events.append(
            GrievanceEscalated(self.facts(now), previous, None, 0, None, f"{self.grievance_id}:manual:{self.version}")
        )

    # --- resolution -----------------------------------------------------------------------------------

    def resolve(
        self, outcome: Outcome | None, *, substantiated: bool, amount_recovered_paise: int = 0, by: Actor, now: datetime
    ) -> Resolution:
        violations: list[FieldViolation] = []
        if outcome is None:
            violations.append(FieldViolation("outcome", "must be set"))
        elif outcome in OUTCOMES_WITH_AMOUNT:
            if not 0 < amount_recovered_paise <= MAX_AMOUNT_PAISE:
                violations.append(FieldViolation("amount_recovered_paise", f"must be between 1 and {MAX_AMOUNT_PAISE}"))
        elif amount_recovered_paise:
            violations.append(
                FieldViolation("amount_recovered_paise", f"only for {', '.join(sorted(OUTCOMES_WITH_AMOUNT))}")
            )
        if outcome in OUTCOMES_NEVER_SUBSTANTIATED and substantiated:
            violations.append(FieldViolation("substantiated", f"cannot be true for {outcome}"))
        if violations or outcome is None:
            raise InvalidArgument(violations)
        target = self._target(Operation.RESOLVE)
        resolution = Resolution(outcome, substantiated, amount_recovered_paise, by, now, self.cycle)
        self.resolution = resolution
        self.sla = self.sla.stop(now)
        self._move(target, now)
        finding = "substantiated" if substantiated else "not substantiated"
        self._record(now, by, TimelineAction.RESOLVED, f"resolved: {outcome.value}, {finding}")
        self.pending_events.append(
            GrievanceResolved(self.facts(now), outcome, substantiated, amount_recovered_paise, self.filed_at)
        )
        return resolution

    def reopen(self, reason: Sealed | None, by: Actor, now: datetime) -> None:
        """A resolved case opens again, with a reason: a new cycle of SLA clocks starts now."""
        if reason is None:
            raise InvalidArgument.for_field("reason", "a reopening needs a reason")
        target = self._target(Operation.REOPEN)
        if self.resolution is not None:
            self.past_resolutions.append(self.resolution)
        self.resolution = None
        self.sla = SlaClocks.start(
            policy_for(self.category, self.severity), now, cycle=self.cycle + 1, scale=self.sla.scale
        )
        self._move(target, now)
        self._record(now, by, TimelineAction.REOPENED, f"reopened (cycle {self.cycle})", reason=reason)
        self.pending_events.append(GrievanceReopened(self.facts(now), self.cycle))

    def close(self, by: Actor, now: datetime) -> None:
        """Final: a closed case is never reopened (a new complaint is a new case)."""
        self._simple_move(Operation.CLOSE, TimelineAction.CLOSED, "closed", by, now)

    # --- notes ----------------------------------------------------------------------------------------

    def add_note(self, note_id: str, text: Sealed, audience: NoteAudience, by: Actor, now: datetime) -> Note:
        if violations := id_violations("note_id", note_id):
            raise InvalidArgument(violations)
        self._target(Operation.ADD_NOTE)
        if audience is NoteAudience.REPORTER and not self.follow_up_code_hash:
            raise InvalidArgument.for_field("audience", "this case has no reporter following it up by code")
        if len(self.notes) >= MAX_NOTES:
            raise InvalidArgument.for_field("notes", f"a case holds at most {MAX_NOTES} notes")
        note = Note(note_id, audience, text, by, now)
        self.notes.append(note)
        self._touch(now)
        self._record(now, by, TimelineAction.NOTE_ADDED, f"note {note_id} ({audience.value})")
        return note

    def add_reporter_message(self, note_id: str, text: Sealed, now: datetime) -> Note:
        """A message from the reporter who followed the case up with its code (the service layer checked it)."""
        if not self.follow_up_code_hash:
            raise InvalidArgument.for_field("reference", "this case is not followed up by code")
        return self.add_note(note_id, text, NoteAudience.REPORTER, REPORTER, now)

    def notes_for_reporter(self) -> list[Note]:
        return [n for n in self.notes if n.audience is NoteAudience.REPORTER]

    # --- retried requests ---------------------------------------------------------------------------------

    def handled(self, key: str, fingerprint: str) -> bool:
        """Whether a request with this idempotency key was applied already (its retry changes nothing);
        the same key with another request is refused."""
        if not key or key not in self.handled_requests:
            return False
        if self.handled_requests[key] != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
        return True

    def remember_request(self, key: str, fingerprint: str) -> None:
        if not key:
            return
        self.handled_requests[key] = fingerprint
        while len(self.handled_requests) > MAX_REMEMBERED_REQUESTS:
            self.handled_requests.pop(next(iter(self.handled_requests)))

    # --- the registry's erasures and merges ----------------------------------------------------------------

    def forget_worker(self, worker_id: str, erased: Sealed, erased_note: Sealed, now: datetime) -> bool:
        """The worker was erased from the registry (their right): the case keeps what counts and evidence
        need (category, place, status, outcome, timeline) and loses who they are and what they said: the
        subject, their own account, the recording, note texts and a reporter who was themselves (`erased`
        and `erased_note` are the sealed placeholders). False when the case is not about this worker (a
        redelivery)."""
        if not worker_id or self.worker_id != worker_id:
            return False
        self.subject = UnregisteredPerson()
        self.summary = erased
        self.recording_ref = None
        self.notes = [replace(note, text=erased_note) for note in self.notes]
        if self.reporter is not None and self.reporter.relation is ReporterRelation.SELF:
            self.reporter = replace(self.reporter, name=None, phone=None)
        self._touch(now)
        self._record(now, REGISTRY, TimelineAction.WORKER_ERASED, "the worker's personal data was erased")
        self.pending_events.append(GrievanceWorkerUnlinked(self.facts(now), UnlinkReason.WORKER_ERASED))
        return True

    def consent_ends_link(self, change: ConsentChange) -> bool:
        """Whether a consent change leaves the partner holding the link to the worker without a consent that
        covers grievance follow-up (and is newer than the link)."""
        return change.ends(self.subject, self.filing_partner_id)

    def unlink_worker(self, change: ConsentChange, now: datetime) -> bool:
        """The worker's consent no longer covers following this case up: the case stops naming them, and
        nothing the registry told about them stays (the subject becomes an unknown person). The complaint
        itself stays with the partner handling it: category, place, status, clocks, account, notes, reporter
        and timeline. The timeline says consent was withdrawn (no id, no name). False when the change does
        not end the link (another worker, a covered partner, a redelivered or older change): nothing changes.
        A later new consent does not restore the link; a caseworker links the case again at triage."""
        if not self.consent_ends_link(change):
            return False
        self.subject = UnregisteredPerson()
        self._touch(now)
        what = "expired" if change.reason is UnlinkReason.CONSENT_EXPIRED else "was withdrawn"
        self._record(
            now,
            REGISTRY,
            TimelineAction.CONSENT_WITHDRAWN,
            f"the worker's consent to grievance follow-up {what}: the case no longer names a registry worker",
        )
        self.pending_events.append(GrievanceWorkerUnlinked(self.facts(now), change.reason))
        return True

    def move_to_worker(self, merged_worker_id: str, surviving_worker_id: str, now: datetime) -> bool:
        """Two registry records were one person: the case follows the surviving one. False when the case is
        not about the merged worker (a redelivery)."""
        if not merged_worker_id or self.worker_id != merged_worker_id or not surviving_worker_id:
            return False
        # The surviving record holds the merged one's consents; the version the link was checked at was the
        # merged record's, so it no longer orders the survivor's changes.
        previous = self.subject
        self.subject = (
            replace(previous, worker_id=surviving_worker_id, registry_version=0)
            if isinstance(previous, RegisteredWorker)
            else RegisteredWorker(surviving_worker_id)
        )
        self._touch(now)
        self._record(
            now, REGISTRY, TimelineAction.WORKER_MERGED, f"worker {merged_worker_id} merged into {surviving_worker_id}"
        )
        return True

    # --- helpers --------------------------------------------------------------------------------------

    def _target(self, operation: Operation) -> CaseStatus:
        allowed = TRANSITIONS[operation]
        if self.status not in allowed:
            raise IllegalTransition(self.grievance_id, self.status, operation)
        return allowed[self.status]

    def _move(self, target: CaseStatus, now: datetime) -> None:
        self.status = target
        self._touch(now)

    def _touch(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now

    def _record(
        self, now: datetime, by: Actor, action: TimelineAction, summary: str, reason: Sealed | None = None
    ) -> None:
        self.timeline.append(TimelineEntry(now, by, action, summary, self.status, self.version, reason))

    def _entry(self, now: datetime, action: TimelineAction, summary: str) -> None:
        self._record(now, SLA_CLOCK, action, summary)
