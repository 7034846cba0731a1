"""Domain events of cases and traces: past tense, ids and non-identifying facts only.

Every grievance event carries the same `CaseFacts`: ids, category, severity, status, escalation level, the
place as LGD codes (never the village name, which can point at a household), and the employer link agreed
with the employer service: `employer_id` (the employer service's organisation id, empty when there is
none or it is unregistered) and `respondent_kind`. `GrievanceFiled` and `GrievanceReopened` count as
allegations against the employer, `GrievanceResolved` with `substantiated` as a substantiated one.

No event carries a name, a phone number, an age, a note, the complainant's account, a reason typed by
staff, or the reporter's identity. Published on `mrc.grievance.grievances.v1` keyed by grievance id;
trace events on `mrc.grievance.traces.v1` keyed by trace id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mrc_grievance.domain.sla import ClockKind, MilestoneKind
from mrc_grievance.domain.vocabulary import (
    CaseStatus,
    Category,
    EscalationLevel,
    IntakeChannel,
    Outcome,
    ReferralTarget,
    RespondentKind,
    Severity,
    TraceStatus,
    UnlinkReason,
)
from mrc_kernel.place import Place

GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"
TRACES_TOPIC = "mrc.grievance.traces.v1"


def codes_only(place: Place) -> Place:
    """The place as published: LGD codes, without the free-text village name."""
    return Place(place.state_code, place.district_code, place.subdistrict_code)


@dataclass(frozen=True)
class CaseFacts:
    grievance_id: str
    category: Category
    severity: Severity
    status: CaseStatus
    place: Place  # LGD codes only
    employer_id: str
    respondent_kind: RespondentKind
    worker_id: str  # the registry worker, empty for an unregistered person
    channel: IntakeChannel
    escalation_level: EscalationLevel
    version: int
    occurred_at: datetime
    # When the SLA clocks next need looking at (a warning or a breach), None when nothing is left: the
    # SLA worker schedules its timer from this, without reading the case.
    sla_next_deadline: datetime | None = None


@dataclass(frozen=True)
class GrievanceFiled:
    facts: CaseFacts


@dataclass(frozen=True)
class GrievanceTriaged:
    facts: CaseFacts
    previous_severity: Severity | None  # None at the first triage
    overridden: bool  # the severity is a supervisor's override, not the rules'
    # A supervisor corrected the respondent at triage: where the allegation was (so the employer service
    # can move it); equal to the current ones when nothing was corrected.
    previous_employer_id: str = ""
    previous_respondent_kind: RespondentKind | None = None


@dataclass(frozen=True)
class GrievanceAssigned:
    facts: CaseFacts
    assignee_id: str
    assignee_partner_id: str


@dataclass(frozen=True)
class GrievanceStatusChanged:
    """A move with no event of its own: work started, waiting on the complainant, resumed, closed."""

    facts: CaseFacts
    previous_status: CaseStatus


@dataclass(frozen=True)
class GrievanceReferred:
    facts: CaseFacts
    referral_id: str
    target: ReferralTarget
    target_partner_id: str


@dataclass(frozen=True)
class GrievanceReferralAnswered:
    facts: CaseFacts
    referral_id: str
    accepted: bool


@dataclass(frozen=True)
class GrievanceSlaWarned:
    facts: CaseFacts
    clock: ClockKind
    milestone: MilestoneKind
    period: int
    deadline: datetime  # when the warning fell due
    breach_at: datetime  # when the clock will breach if nothing happens (and it is not paused)
    idempotency_key: str


@dataclass(frozen=True)
class GrievanceEscalated:
    facts: CaseFacts
    previous_level: EscalationLevel
    # Set for an SLA breach; empty for a supervisor's escalation.
    clock: ClockKind | None
    period: int
    deadline: datetime | None
    idempotency_key: str


@dataclass(frozen=True)
class GrievanceResolved:
    facts: CaseFacts
    outcome: Outcome
    substantiated: bool
    amount_recovered_paise: int  # for wages recovered or compensation paid, else 0
    filed_at: datetime  # so consumers can measure time to resolution without another read


@dataclass(frozen=True)
class GrievanceReopened:
    facts: CaseFacts
    cycle: int


@dataclass(frozen=True)
class GrievanceWorkerUnlinked:
    """The case no longer names a registry worker (its facts carry no worker id): the worker's consent stopped
    covering the case's partner, or the worker was erased. Says why, and nothing about who."""

    facts: CaseFacts
    reason: UnlinkReason


CaseEvent = (
    GrievanceFiled
    | GrievanceTriaged
    | GrievanceAssigned
    | GrievanceStatusChanged
    | GrievanceReferred
    | GrievanceReferralAnswered
    | GrievanceSlaWarned
    | GrievanceEscalated
    | GrievanceResolved
    | GrievanceReopened
    | GrievanceWorkerUnlinked
)


# --- traces -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceFacts:
    trace_id: str
    worker_id: str  # the registry worker, empty for an unregistered person
    minor: bool  # a missing child: police and the CWC act at once, whatever else is known
    last_known_place: Place  # LGD codes only
    last_known_on: date
    destination: Place | None  # LGD codes only; partners there are the ones who can help
    employer_id: str
    respondent_kind: RespondentKind
    grievance_id: str  # the missing-person case it came from, if any
    migration_episode_id: str  # the registry's episode, when the worker is registered
    status: TraceStatus  # after the change
    version: int
    occurred_at: datetime


@dataclass(frozen=True)
class TraceOpened:
    facts: TraceFacts


@dataclass(frozen=True)
class TraceSightingRecorded:
    facts: TraceFacts
    sighting_id: str
    seen_at: datetime
    place: Place  # LGD codes only


@dataclass(frozen=True)
class TraceClosed:
    facts: TraceFacts
    outcome: TraceStatus  # found, reunited or deceased
    previous_status: TraceStatus  # open, or found for a person found and later reunited


@dataclass(frozen=True)
class TraceWorkerUnlinked:
    """The trace no longer names a registry worker nor their migration episode (see `GrievanceWorkerUnlinked`)."""

    facts: TraceFacts
    reason: UnlinkReason


TraceEvent = TraceOpened | TraceSightingRecorded | TraceClosed | TraceWorkerUnlinked
