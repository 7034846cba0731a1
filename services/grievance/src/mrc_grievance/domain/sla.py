"""SLA clocks: how long a case may wait to be acknowledged, acted on and resolved; pure, with time passed in.

Three clocks run from the moment a case is filed (a reopening starts a new cycle of all three):
- ACKNOWLEDGE stops when a person triages the case;
- ACT stops when a caseworker starts work on it or an authority accepts its referral (for trafficking:
  a rescue team has it);
- RESOLVE stops when an outcome is recorded.

Every clock counts active time only: it is paused while the case waits on the complainant. Each clock has
a budget from `SLA_TABLE` (by category and severity). Milestones fall at 75% and 90% of the budget
(warnings) and at 100% (a breach, which escalates the case one level). A clock still running after its
breach gets a second budget, with its own warnings and a second breach: caseworker -> district
coordinator -> state authority. After `BREACH_PERIODS` breaches a clock has no more milestones.

Exactly once: every milestone has a key (case, cycle, clock, milestone, period) and the clocks remember
which keys have fired. The key names the milestone, not its time: a pause or a change of severity moves
the deadline, and the milestone must still fire once. A timer that fires late, twice, or after a restart
asks `due(now)` and gets only what has not fired yet; `next_deadline()` says when to look next, computed
from the stored state alone, so a restarted worker recomputes every schedule from the store.

Durations are calendar time: the helpline, rescue teams and the police work around the clock, and the
statutory periods quoted below are in calendar days or months.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from mrc_grievance.domain.vocabulary import Category, Severity

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# A clock that stays unmet breaches at most this many times (one per level above the caseworker).
BREACH_PERIODS = 2


class ClockKind(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ACT = "act"
    RESOLVE = "resolve"


class MilestoneKind(enum.StrEnum):
    WARNING_75 = "warning_75"
    WARNING_90 = "warning_90"
    BREACH = "breach"


# Where each milestone falls within its period, as a fraction of the budget.
MILESTONE_FRACTIONS: tuple[tuple[MilestoneKind, float], ...] = (
    (MilestoneKind.WARNING_75, 0.75),
    (MilestoneKind.WARNING_90, 0.90),
    (MilestoneKind.BREACH, 1.0),
)


@dataclass(frozen=True)
class SlaPolicy:
    """Budgets of the three clocks, each counted from the start of the cycle (filing or reopening)."""

    acknowledge: timedelta
    act: timedelta
    resolve: timedelta

    def budget(self, clock: ClockKind) -> timedelta:
        return {ClockKind.ACKNOWLEDGE: self.acknowledge, ClockKind.ACT: self.act, ClockKind.RESOLVE: self.resolve}[
            clock
        ]


@dataclass(frozen=True)
class SlaRow:
    """One line of the SLA table: `category` None is the default for the severity. `basis` says why."""

    category: Category | None
    severity: Severity
    policy: SlaPolicy
    basis: str


def _policy(acknowledge: timedelta, act: timedelta, resolve: timedelta) -> SlaPolicy:
    return SlaPolicy(acknowledge, act, resolve)


SLA_TABLE: tuple[SlaRow, ...] = (
    # Defaults by severity.
    SlaRow(
        None,
        Severity.CRITICAL,
        _policy(30 * MINUTE, 4 * HOUR, 7 * DAY),
        "life or liberty at stake: a person within the half hour, an authority or rescue team within hours; "
        "a child must be before a Child Welfare Committee within 24 h (JJ Act 2015 s. 31)",
    ),
    SlaRow(
        None,
        Severity.HIGH,
        _policy(4 * HOUR, 1 * DAY, 21 * DAY),
        "can become critical within days; 21 days is the government's own grievance redress limit (DARPG "
        "CPGRAMS guidelines, 23 Aug 2024)",
    ),
    SlaRow(
        None,
        Severity.MEDIUM,
        _policy(1 * DAY, 3 * DAY, 30 * DAY),
        "someone acts within the working week; resolved within a month (CPGRAMS' limit before 2024)",
    ),
    SlaRow(
        None,
        Severity.LOW,
        _policy(3 * DAY, 7 * DAY, 60 * DAY),
        "no harm is running: acknowledged within days, worked within a week, never left for months",
    ),
    # Where the category changes what "in time" means.
    SlaRow(
        Category.TRAFFICKING,
        Severity.CRITICAL,
        _policy(15 * MINUTE, 2 * HOUR, 7 * DAY),
        "a trafficked person can be moved on within hours: the anti-human-trafficking unit or police must "
        "have it within 2 h",
    ),
    SlaRow(
        Category.MISSING_PERSON,
        Severity.CRITICAL,
        _policy(15 * MINUTE, 2 * HOUR, 30 * DAY),
        "a missing child is presumed abducted or trafficked and the report goes to the police at once "
        "(Supreme Court, Bachpan Bachao Andolan v. Union of India, 10 May 2013); tracing continues in a trace",
    ),
    SlaRow(
        Category.MISSING_PERSON,
        Severity.HIGH,
        _policy(1 * HOUR, 1 * DAY, 30 * DAY),
        "a missing adult: police report within a day; tracing continues in a trace",
    ),
    SlaRow(
        Category.WORKPLACE_ACCIDENT,
        Severity.CRITICAL,
        _policy(30 * MINUTE, 4 * HOUR, 30 * DAY),
        "medical help within hours; compensation is due when it falls due and draws interest after one "
        "month (Employees' Compensation Act 1923 s. 4A)",
    ),
    SlaRow(
        Category.WORKPLACE_ACCIDENT,
        Severity.HIGH,
        _policy(4 * HOUR, 1 * DAY, 30 * DAY),
        "compensation draws interest after one month (Employees' Compensation Act 1923 s. 4A)",
    ),
    SlaRow(
        Category.STRANDED,
        Severity.HIGH,
        _policy(2 * HOUR, 12 * HOUR, 7 * DAY),
        "stranded workers without money need food and shelter the same day and a way home within a week",
    ),
    SlaRow(
        Category.DOCUMENT_CONFISCATION,
        Severity.HIGH,
        _policy(4 * HOUR, 1 * DAY, 14 * DAY),
        "without documents a worker can neither leave nor claim entitlements: returned within two weeks",
    ),
    SlaRow(
        Category.WAGE_THEFT,
        Severity.HIGH,
        _policy(4 * HOUR, 2 * DAY, 90 * DAY),
        "many workers or two months unpaid: act within two days; the claims authority endeavours to decide "
        "within three months (Code on Wages 2019 s. 45(2))",
    ),
    SlaRow(
        Category.WAGE_THEFT,
        Severity.MEDIUM,
        _policy(1 * DAY, 7 * DAY, 90 * DAY),
        "conciliation starts within a week so the claim never sits forgotten; the claims authority "
        "endeavours to decide within three months (Code on Wages 2019 s. 45(2))",
    ),
    SlaRow(
        Category.WAGE_THEFT,
        Severity.LOW,
        _policy(3 * DAY, 7 * DAY, 90 * DAY),
        "the claims authority endeavours to decide within three months (Code on Wages 2019 s. 45(2))",
    ),
    SlaRow(
        Category.RECRUITMENT_FEE,
        Severity.MEDIUM,
        _policy(1 * DAY, 7 * DAY, 90 * DAY),
        "recovered through the same claims route as wages (Code on Wages 2019 s. 45(2))",
    ),
    SlaRow(
        Category.ENTITLEMENT_DENIED,
        Severity.MEDIUM,
        _policy(1 * DAY, 3 * DAY, 21 * DAY),
        "taken to the department, whose grievance limit is 21 days (DARPG CPGRAMS guidelines, 23 Aug 2024)",
    ),
    SlaRow(
        Category.ENTITLEMENT_DENIED,
        Severity.LOW,
        _policy(3 * DAY, 7 * DAY, 21 * DAY),
        "taken to the department, whose grievance limit is 21 days (DARPG CPGRAMS guidelines, 23 Aug 2024)",
    ),
)

_BY_KEY: dict[tuple[Category | None, Severity], SlaRow] = {(row.category, row.severity): row for row in SLA_TABLE}


def sla_row(category: Category, severity: Severity) -> SlaRow:
    return _BY_KEY.get((category, severity)) or _BY_KEY[(None, severity)]


def policy_for(category: Category, severity: Severity) -> SlaPolicy:
    return sla_row(category, severity).policy


def table_violations(table: tuple[SlaRow, ...] = SLA_TABLE) -> list[str]:
    """Mistakes in an SLA table; empty when sound."""
    problems: list[str] = []
    keys = [(row.category, row.severity) for row in table]
    problems.extend(f"duplicate row {key}" for key in set(keys) if keys.count(key) > 1)
    problems.extend(f"no default for {s.value}" for s in Severity if (None, s) not in keys)
    for row in table:
        p = row.policy
        if not timedelta(0) < p.acknowledge <= p.act <= p.resolve:
            problems.append(f"{row.category} x {row.severity}: budgets must grow acknowledge <= act <= resolve")
        if not row.basis:
            problems.append(f"{row.category} x {row.severity}: no basis given")
    return problems


@dataclass(frozen=True)
class Milestone:
    clock: ClockKind
    kind: MilestoneKind
    period: int  # 1 within the first budget, 2 within the second...
    offset: timedelta  # active time from the start of the cycle

    def key(self, grievance_id: str, cycle: int) -> str:
        """The milestone's idempotency key: a redelivered timer can never fire it twice."""
        return f"{grievance_id}:sla:{cycle}:{self.clock.value}:{self.kind.value}:{self.period}"


def milestones(clock: ClockKind, budget: timedelta) -> tuple[Milestone, ...]:
    return tuple(
        Milestone(clock, kind, period, budget * (period - 1) + budget * fraction)
        for period in range(1, BREACH_PERIODS + 1)
        for kind, fraction in MILESTONE_FRACTIONS
    )


@dataclass(frozen=True)
class DueMilestone:
    milestone: Milestone
    key: str
    deadline: datetime  # when it fell due
    # False for a warning overtaken by a later milestone of the same clock (a timer that ran late): it is
    # marked as fired but not announced, so nobody gets a 75% warning after the breach.
    announce: bool


@dataclass(frozen=True)
class SlaClocks:
    """The clocks of one cycle of a case: from filing (or reopening) to resolution."""

    cycle: int
    started_at: datetime
    policy: SlaPolicy
    paused_total: timedelta = timedelta(0)
    paused_since: datetime | None = None
    stopped_at: datetime | None = None  # the case was resolved: no clock runs
    met: dict[ClockKind, datetime] = field(default_factory=dict)
    fired: frozenset[str] = frozenset()
    # Budgets are multiplied by this: 1 in production; a test stack compresses hours into seconds.
    scale: float = 1.0

    @classmethod
    def start(cls, policy: SlaPolicy, now: datetime, cycle: int = 1, scale: float = 1.0) -> SlaClocks:
        if not 0 < scale <= 1:
            raise ValueError("the SLA time scale must be in (0, 1]")
        return cls(cycle=cycle, started_at=now, policy=policy, scale=scale)

    def budget(self, clock: ClockKind) -> timedelta:
        return self.policy.budget(clock) * self.scale

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    def active_elapsed(self, now: datetime) -> timedelta:
        """Time the clocks have run: since the start, minus every pause, and nothing after they stopped."""
        end = self.stopped_at or now
        if self.paused_since is not None:
            end = min(end, self.paused_since)
        return max(timedelta(0), end - self.started_at - self.paused_total)

    def running(self, clock: ClockKind) -> bool:
        return self.stopped_at is None and clock not in self.met

    # --- changes (each returns new clocks) -------------------------------------------------------------

    def pause(self, now: datetime) -> SlaClocks:
        if self.paused or self.stopped_at is not None:
            return self
        return replace(self, paused_since=now)

    def resume(self, now: datetime) -> SlaClocks:
        if self.paused_since is None:
            return self
        return replace(
            self, paused_total=self.paused_total + max(timedelta(0), now - self.paused_since), paused_since=None
        )

    def meet(self, clock: ClockKind, now: datetime) -> SlaClocks:
        if not self.running(clock):
            return self
        return replace(self, met={**self.met, clock: now})

    def stop(self, now: datetime) -> SlaClocks:
        """The case is resolved: every clock still running stops (unmet ones are met now)."""
        if self.stopped_at is not None:
            return self
        clocks = self.resume(now)
        met = {**clocks.met, **{c: now for c in ClockKind if c not in clocks.met}}
        return replace(clocks, stopped_at=now, met=met)

    def with_policy(self, policy: SlaPolicy) -> SlaClocks:
        """A new severity: the same elapsed time against new budgets; what has fired stays fired."""
        return replace(self, policy=policy)

    def mark_fired(self, keys: frozenset[str] | set[str]) -> SlaClocks:
        return replace(self, fired=self.fired | frozenset(keys))

    # --- questions --------------------------------------------------------------------------------------

    def deadline_of(self, offset: timedelta) -> datetime:
        """Wall time at which the clocks reach `offset` of active time, if they run without another pause."""
        return self.started_at + self.paused_total + offset

    def due(self, grievance_id: str, now: datetime) -> tuple[DueMilestone, ...]:
        """Milestones reached by `now` that have not fired yet, oldest first."""
        if self.stopped_at is not None:
            return ()
        elapsed = self.active_elapsed(now)
        found: list[DueMilestone] = []
        for clock in ClockKind:
            if not self.running(clock):
                continue
            reached = [
                m
                for m in milestones(clock, self.budget(clock))
                if m.offset <= elapsed and m.key(grievance_id, self.cycle) not in self.fired
            ]
            last = max((m.offset for m in reached), default=None)
            found.extend(
                DueMilestone(
                    m,
                    m.key(grievance_id, self.cycle),
                    self.deadline_of(m.offset),
                    announce=m.kind is MilestoneKind.BREACH or m.offset == last,
                )
                for m in reached
            )
        return tuple(sorted(found, key=lambda d: (d.milestone.offset, list(ClockKind).index(d.milestone.clock))))

    def _pending(self, grievance_id: str, *, kinds: frozenset[MilestoneKind] | None = None) -> list[Milestone]:
        if self.stopped_at is not None:
            return []
        return [
            m
            for clock in ClockKind
            if self.running(clock)
            for m in milestones(clock, self.budget(clock))
            if m.key(grievance_id, self.cycle) not in self.fired and (kinds is None or m.kind in kinds)
        ]

    def next_deadline(self, grievance_id: str) -> datetime | None:
        """When the next milestone falls due (possibly already past); None when none is left, or while paused
        with nothing reached before the pause still to fire.

        Computed from the stored state alone, so a timer can be (re)scheduled from it after any restart.
        """
        pending = self._pending(grievance_id)
        if self.paused_since is not None:
            # A timer that ran late may have missed a milestone reached before the pause: it is still due.
            reached = self.active_elapsed(self.paused_since)
            pending = [m for m in pending if m.offset <= reached]
        return self.deadline_of(min(m.offset for m in pending)) if pending else None

    def next_breach(self, grievance_id: str) -> Milestone | None:
        pending = self._pending(grievance_id, kinds=frozenset({MilestoneKind.BREACH}))
        return min(pending, key=lambda m: m.offset) if pending else None

    def time_to_breach(self, grievance_id: str, now: datetime) -> timedelta | None:
        """Active time left before the next breach (negative once overdue); frozen while paused. Sorts queues."""
        upcoming = self.next_breach(grievance_id)
        return None if upcoming is None else upcoming.offset - self.active_elapsed(now)

    def breach_due_at(self, grievance_id: str) -> datetime | None:
        """Wall time of the next breach if the clocks keep running; None while paused or when none is left."""
        upcoming = self.next_breach(grievance_id)
        return None if upcoming is None or self.paused else self.deadline_of(upcoming.offset)
