"""An organisation's compliance history: the history sheet, its score and the risk flag.

One aggregate per organisation. Records and grievance events are applied to it as they arrive; each is
applied once: a record by its id, a wage batch by its id, a grievance event by its event id, so a
redelivery changes nothing and raises nothing. After every change the score is recomputed from the
whole history (never adjusted incrementally) and the risk flag follows it with hysteresis: raised when
the score falls below the raise threshold or findings repeat, cleared only when the score is back
above the higher clear threshold and findings have stopped repeating. Each crossing raises exactly one
`RiskFlagRaised` (numbered, so whoever notifies the licensing authority can do so once) and each
recovery one `RiskFlagCleared`.

Time passing also moves the score (old findings weigh less); `reevaluate` recomputes it for a day
without new input, for a periodic sweep.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal

from mrc_employer.domain.compliance_records import IloFinding, RecruitmentCostRecord, WorkingConditionsCheck
from mrc_employer.domain.grievance_signals import GrievanceSignal, GrievanceStanding, standings
from mrc_employer.domain.history_sheet import EntryKind, HistoryEntry, WageBatch, WageMonth
from mrc_employer.domain.score import (
    DEFAULT_WEIGHTS,
    ComplianceScore,
    FlagReason,
    ScoreWeights,
    compute_score,
    flag_reasons,
    may_clear,
)
from mrc_employer.domain.wages import AssessmentOutcome, WageRecord
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.privacy import DEFAULT_MIN_CELL_SIZE, SafeCounts, suppress_small_cells

ZERO = Decimal(0)


class Recommendation(enum.StrEnum):
    # To the authority that licensed the organisation (or, for one without a licence, the state labour
    # department): review its licence or registration and inspect its worksites.
    REFER_TO_LICENSING_AUTHORITY = "refer_to_licensing_authority"


@dataclass(frozen=True)
class RiskFlag:
    raised: bool = False
    crossings: int = 0  # how many times it has been raised
    changed_at: datetime | None = None
    reasons: tuple[FlagReason, ...] = ()


@dataclass(frozen=True)
class ScoreChanged:
    organisation_id: str
    previous: Decimal | None
    score: ComplianceScore
    version: int


@dataclass(frozen=True)
class RiskFlagRaised:
    organisation_id: str
    crossing: int
    score: ComplianceScore
    reasons: tuple[FlagReason, ...]
    recommendation: Recommendation
    raised_at: datetime


@dataclass(frozen=True)
class RiskFlagCleared:
    organisation_id: str
    crossing: int
    score: ComplianceScore
    cleared_at: datetime


HistoryEvent = ScoreChanged | RiskFlagRaised | RiskFlagCleared


@dataclass(frozen=True)
class ShortfallLine:
    """Records of a batch, in one month, established or not, measured against rows in doubt or not, that
    fell short: one line of the history sheet."""

    month_end: date
    established: bool
    provisional: bool
    workers: int
    amount: Decimal


@dataclass(frozen=True)
class FeeDeducted:
    record_id: str
    occurred_on: date
    established: bool
    amount: Decimal


@dataclass(frozen=True)
class WageBatchSummary:
    """What the history needs of a batch of wage records: month totals, shortfall lines, fees deducted."""

    months: tuple[WageMonth, ...]
    shortfalls: tuple[ShortfallLine, ...]
    fees: tuple[FeeDeducted, ...]


def summarise_wages(records: Sequence[WageRecord]) -> WageBatchSummary:
    months: dict[date, list[WageRecord]] = defaultdict(list)
    for record in records:
        if record.assessment.outcome is not AssessmentOutcome.NO_APPLICABLE_RATE:
            months[_month_end(record.period_end)].append(record)
    totals: list[WageMonth] = []
    shortfalls: list[ShortfallLine] = []
    for month_end, in_month in sorted(months.items()):
        below = [r for r in in_month if r.assessment.outcome is AssessmentOutcome.BELOW_MINIMUM]
        totals.append(
            WageMonth(
                month_end=month_end,
                due=sum((r.assessment.due for r in in_month), ZERO),
                shortfall=sum((r.assessment.shortfall for r in below if not r.assessment.provisional), ZERO),
                provisional_shortfall=sum((r.assessment.shortfall for r in below if r.assessment.provisional), ZERO),
                records=len(in_month),
                records_below=len(below),
            )
        )
        lines: dict[tuple[bool, bool], list[WageRecord]] = defaultdict(list)
        for record in below:
            lines[(record.source.establishes, record.assessment.provisional)].append(record)
        for (established, provisional), same in sorted(lines.items()):
            amount = sum((r.assessment.shortfall for r in same), ZERO)
            shortfalls.append(ShortfallLine(month_end, established, provisional, len(same), amount))
    fees = tuple(
        FeeDeducted(r.record_id, r.period_end, r.source.establishes, r.assessment.recruitment_fee_deducted)
        for r in records
        if r.assessment.recruitment_fee_deducted > ZERO
    )
    return WageBatchSummary(tuple(totals), tuple(shortfalls), fees)


@dataclass(frozen=True)
class GrievanceCounts:
    alleged: dict[str, int]  # grievances ever alleged, by category (withdrawn ones left out)
    substantiated: dict[str, int]


@dataclass
class ComplianceHistory:
    organisation_id: str
    entries: list[HistoryEntry] = field(default_factory=list)
    wage_batches: list[WageBatch] = field(default_factory=list)
    grievance_signals: list[GrievanceSignal] = field(default_factory=list)
    score: ComplianceScore | None = None
    flag: RiskFlag = field(default_factory=RiskFlag)
    version: int = 0
    weights: ScoreWeights = field(default=DEFAULT_WEIGHTS, repr=False, compare=False)
    pending_events: list[HistoryEvent] = field(default_factory=list, repr=False, compare=False)
    # What has been applied, rebuilt from the lists above (never stored twice).
    _source_ids: set[str] = field(init=False, repr=False, compare=False)
    _event_ids: set[str] = field(init=False, repr=False, compare=False)

    # -- what has been applied ------------------------------------------------------------------

    def __post_init__(self) -> None:
        self._source_ids = {e.source_id for e in self.entries} | {b.batch_id for b in self.wage_batches}
        self._event_ids = {s.event_id for s in self.grievance_signals}

    def _seen(self, source_id: str) -> bool:
        return source_id in self._source_ids

    def _seen_event(self, event_id: str) -> bool:
        return event_id in self._event_ids

    def _add(self, entry: HistoryEntry) -> None:
        self.entries.append(entry)
        self._source_ids.add(entry.source_id)

    # -- applying what arrives ------------------------------------------------------------------

    def apply_wage_batch(self, batch_id: str, records: Sequence[WageRecord], now: datetime) -> bool:
        """Records of one upload (or one record alone): totals per month, a line per month that fell short.

        Records without an applicable rate add nothing: nothing is known about them.
        """
        return self.apply_wage_summary(batch_id, summarise_wages(records), now)

    def apply_wage_summary(self, batch_id: str, summary: WageBatchSummary, now: datetime) -> bool:
        """A batch as `summarise_wages` summed it up where its records were written (no record is read again)."""
        if not batch_id or self._seen(batch_id):
            return False
        for line in summary.shortfalls:
            self._add(
                HistoryEntry(
                    entry_id=f"{batch_id}:{line.month_end.isoformat()}:{int(line.established)}{int(line.provisional)}",
                    kind=EntryKind.WAGE_SHORTFALL,
                    source_id=batch_id,
                    occurred_on=line.month_end,
                    recorded_at=now,
                    detail=line.month_end.strftime("%Y-%m"),
                    established=line.established,
                    workers_affected=line.workers,
                    amount=line.amount,
                    provisional=line.provisional,
                )
            )
        for fee in summary.fees:
            self._add(
                HistoryEntry(
                    entry_id=f"{batch_id}:{fee.record_id}:fee",
                    kind=EntryKind.RECRUITMENT_COST,
                    source_id=batch_id,
                    occurred_on=fee.occurred_on,
                    recorded_at=now,
                    detail="recruitment_fee_deducted_from_wages",
                    established=fee.established,
                    amount=fee.amount,
                )
            )
        self.wage_batches.append(WageBatch(batch_id, now, summary.months))
        self._source_ids.add(batch_id)
        self._reevaluate(now)
        return True

    def apply_recruitment_cost(self, record: RecruitmentCostRecord, now: datetime) -> bool:
        if self._seen(record.record_id):
            return False
        self._add(
            HistoryEntry(
                entry_id=record.record_id,
                kind=EntryKind.RECRUITMENT_COST,
                source_id=record.record_id,
                occurred_on=record.charged_on,
                recorded_at=now,
                detail=record.cost_kind.value,
                established=record.source.establishes,
                amount=record.amount - record.reimbursed,
                remediated=record.remediated,
            )
        )
        self._reevaluate(now)
        return True

    def apply_conditions(self, check: WorkingConditionsCheck, now: datetime) -> bool:
        """A check with no breach adds no line (and needs none to be recognised again: it changes nothing)."""
        if self._seen(check.record_id) or not check.breaches():
            return False
        for breach in check.breaches():
            self._add(
                HistoryEntry(
                    entry_id=f"{check.record_id}:{breach.value}",
                    kind=EntryKind.CONDITION_BREACH,
                    source_id=check.record_id,
                    occurred_on=check.observed_on,
                    recorded_at=now,
                    detail=breach.value,
                    established=check.source.establishes,
                    workers_affected=check.workers_covered,
                )
            )
        self._reevaluate(now)
        return True

    def apply_ilo_finding(self, finding: IloFinding, now: datetime) -> bool:
        if self._seen(finding.record_id):
            return False
        self._add(
            HistoryEntry(
                entry_id=finding.record_id,
                kind=EntryKind.ILO_INDICATOR,
                source_id=finding.record_id,
                occurred_on=finding.observed_on,
                recorded_at=now,
                detail=finding.indicator.value,
                established=finding.source.establishes,
                workers_affected=finding.workers_affected,
            )
        )
        self._reevaluate(now)
        return True

    def apply_grievance(self, signal: GrievanceSignal, now: datetime) -> bool:
        """A grievance event naming this organisation; False (and no effect) when already applied."""
        if violations := signal.violations():
            raise InvalidArgument(violations)
        if self._seen_event(signal.event_id):
            return False
        self.grievance_signals.append(signal)
        self._event_ids.add(signal.event_id)
        self._reevaluate(now)
        return True

    def reevaluate(self, now: datetime) -> bool:
        """Recompute for `now` without new input (findings age): True when the flag crossed a threshold or
        the score moved to another whole point (a daily sweep then stays quiet most days)."""
        return self._reevaluate(now, changed=False)

    # -- reading -------------------------------------------------------------------------------

    def _signals(self, known_before: date | None) -> list[GrievanceSignal]:
        if known_before is None:
            return self.grievance_signals
        return [s for s in self.grievance_signals if s.occurred_at.date() < known_before]

    def grievance_standings(self, *, known_before: date | None = None) -> dict[str, GrievanceStanding]:
        """Each grievance's standing; with `known_before`, as the signals before that day left it."""
        return standings(self._signals(known_before))

    def grievance_counts(self, *, known_before: date | None = None) -> GrievanceCounts:
        alleged: dict[str, int] = defaultdict(int)
        substantiated: dict[str, int] = defaultdict(int)
        for grievance in self.grievance_standings(known_before=known_before).values():
            if grievance.withdrawn:
                continue
            alleged[grievance.category or "other"] += 1
            if grievance.substantiated_on is not None:
                substantiated[grievance.category or "other"] += 1
        return GrievanceCounts(dict(alleged), dict(substantiated))

    def safe_grievance_counts(
        self, *, known_before: date | None = None, min_cell_size: int = DEFAULT_MIN_CELL_SIZE
    ) -> tuple[SafeCounts[str], SafeCounts[str]]:
        """Counts fit to show the organisation itself: a category with one or two complaints could point
        at the workers who complained, so small cells are suppressed (and, with `known_before`, recent
        complaints left out)."""
        counts = self.grievance_counts(known_before=known_before)
        return (
            suppress_small_cells(counts.alleged, min_cell_size),
            suppress_small_cells(counts.substantiated, min_cell_size),
        )

    def history_sheet(self, *, with_grievances: bool = True) -> list[HistoryEntry]:
        """Every finding and (unless left out) every substantiated grievance, oldest first."""
        lines = list(self.entries)
        for grievance in self.grievance_standings().values() if with_grievances else ():
            if grievance.substantiated_on is not None and not grievance.withdrawn:
                lines.append(
                    HistoryEntry(
                        entry_id=f"grievance:{grievance.grievance_id}",
                        kind=EntryKind.GRIEVANCE_SUBSTANTIATED,
                        source_id=grievance.grievance_id,
                        occurred_on=grievance.substantiated_on,
                        recorded_at=datetime.combine(grievance.substantiated_on, time.min, tzinfo=UTC),
                        detail=grievance.category or "other",
                        established=True,
                        severity=grievance.severity,
                    )
                )
        return sorted(lines, key=lambda e: (e.occurred_on, e.entry_id))

    # -- recomputing ---------------------------------------------------------------------------

    def compute(self, as_of: date, *, grievances_known_before: date | None = None) -> ComplianceScore:
        """The score on `as_of`; with `grievances_known_before`, counting only grievance signals older than
        that day (the view an employer gets of itself)."""
        standing = self.grievance_standings(known_before=grievances_known_before).values()
        return compute_score(self.entries, self.wage_batches, standing, as_of, self.weights)

    def _reevaluate(self, now: datetime, *, changed: bool = True) -> bool:
        previous = self.score
        score = self.compute(now.date())
        # New input reports any movement; a sweep (findings ageing) only a move to another whole point.
        moved = previous is None or (
            previous.value != score.value if changed else int(previous.value) != int(score.value)
        )
        reasons = flag_reasons(score, self.weights)
        raise_flag = not self.flag.raised and bool(reasons)
        clear_flag = self.flag.raised and may_clear(score, self.weights)
        if not (changed or moved or raise_flag or clear_flag):
            return False
        self.version += 1
        self.score = score
        if moved:
            self.pending_events.append(
                ScoreChanged(self.organisation_id, previous.value if previous else None, score, self.version)
            )
        if raise_flag:
            self.flag = RiskFlag(True, self.flag.crossings + 1, now, reasons)
            self.pending_events.append(
                RiskFlagRaised(
                    self.organisation_id,
                    self.flag.crossings,
                    score,
                    reasons,
                    Recommendation.REFER_TO_LICENSING_AUTHORITY,
                    now,
                )
            )
        elif clear_flag:
            self.flag = replace(self.flag, raised=False, changed_at=now, reasons=())
            self.pending_events.append(RiskFlagCleared(self.organisation_id, self.flag.crossings, score, now))
        return True


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)
