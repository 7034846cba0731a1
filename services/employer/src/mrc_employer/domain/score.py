"""The compliance score: 100 minus penalty points from five components, each capped, from the history
sheet and grievance standings as of a day. `docs/compliance-score.md` explains every weight and why.

Pure and deterministic: the same history and the same day give the same score, to the tenth of a point
(decimal arithmetic throughout, including the recency decay).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from mrc_employer.domain.compliance_records import ConditionBreach, IloIndicator
from mrc_employer.domain.grievance_signals import GrievanceStanding, Severity
from mrc_employer.domain.history_sheet import EntryKind, HistoryEntry, WageBatch

ZERO = Decimal(0)
HALF = Decimal("0.5")
HUNDRED = Decimal(100)
TENTH = Decimal("0.1")


class Component(enum.StrEnum):
    WAGES = "wages"
    RECRUITMENT_FEES = "recruitment_fees"
    WORKING_CONDITIONS = "working_conditions"
    ILO_INDICATORS = "ilo_indicators"
    GRIEVANCES = "grievances"


class FlagReason(enum.StrEnum):
    SCORE_BELOW_THRESHOLD = "score_below_threshold"
    REPEATED_ESTABLISHED_FINDINGS = "repeated_established_findings"


def _points(values: Mapping[str, int | str]) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in values.items()}


@dataclass(frozen=True)
class ScoreWeights:
    # Recency: a finding counts half after a year, and not at all after five.
    half_life_days: int = 365
    horizon_days: int = 5 * 365
    # Wages: the share of wages due (recency-weighted) that went unpaid; a quarter or more takes the cap.
    wages_cap: Decimal = Decimal(30)
    wages_full_share: Decimal = Decimal("0.25")
    # Recruitment costs charged to workers: per worker charged; a fully reimbursed cost counts a quarter.
    fee_points: Decimal = Decimal(5)
    fee_remediated_factor: Decimal = Decimal("0.25")
    fees_cap: Decimal = Decimal(25)
    condition_points: Mapping[str, Decimal] = field(
        default_factory=lambda: _points(
            {
                ConditionBreach.NO_WRITTEN_CONTRACT_BEFORE_WORK: 2,
                ConditionBreach.IDENTITY_DOCUMENTS_RETAINED: 5,
                ConditionBreach.EXCESSIVE_HOURS: 2,
                ConditionBreach.OVERTIME_NOT_PAID_DOUBLE: 2,
                ConditionBreach.INADEQUATE_ACCOMMODATION: 2,
                ConditionBreach.NOT_FREE_TO_LEAVE: 5,
            }
        )
    )
    conditions_cap: Decimal = Decimal(15)
    ilo_points: Mapping[str, Decimal] = field(
        default_factory=lambda: _points(
            {
                IloIndicator.PHYSICAL_AND_SEXUAL_VIOLENCE: 15,
                IloIndicator.DEBT_BONDAGE: 12,
                IloIndicator.RESTRICTION_OF_MOVEMENT: 10,
                IloIndicator.RETENTION_OF_IDENTITY_DOCUMENTS: 8,
                IloIndicator.WITHHOLDING_OF_WAGES: 8,
                IloIndicator.INTIMIDATION_AND_THREATS: 8,
                IloIndicator.ISOLATION: 6,
                IloIndicator.DECEPTION: 6,
                IloIndicator.ABUSE_OF_VULNERABILITY: 6,
                IloIndicator.ABUSIVE_WORKING_AND_LIVING_CONDITIONS: 5,
                IloIndicator.EXCESSIVE_OVERTIME: 4,
            }
        )
    )
    ilo_cap: Decimal = Decimal(40)
    grievance_alleged_points: Decimal = Decimal(1)
    grievance_substantiated_points: Decimal = Decimal(4)
    severity_factors: Mapping[str, Decimal] = field(
        default_factory=lambda: _points(
            {Severity.LOW: "0.5", Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}
        )
    )
    # Categories that are not necessarily the employer's doing count half; any other counts fully.
    category_factors: Mapping[str, Decimal] = field(
        default_factory=lambda: _points(
            {
                # The grievance service's keys (mrc_grievance.domain.vocabulary.Category).
                "missing_person": "0.5",
                "entitlement_denied": "0.5",
                "stranded": "0.5",
            }
        )
    )
    grievances_cap: Decimal = Decimal(30)
    # A partner's report not yet confirmed, and a shortfall against a rate in doubt, count half.
    alleged_factor: Decimal = HALF
    provisional_factor: Decimal = HALF
    # The risk flag, with hysteresis: raised below 40 or on 3 established occasions in a year;
    # cleared only at 60 or more with at most 1 such occasion.
    raise_below: Decimal = Decimal(40)
    clear_at: Decimal = Decimal(60)
    raise_at_occasions: int = 3
    clear_at_most_occasions: int = 1
    occasion_window_days: int = 365


DEFAULT_WEIGHTS = ScoreWeights()


@dataclass(frozen=True)
class ScoreComponent:
    component: Component
    penalty: Decimal  # after the cap, to the tenth
    cap: Decimal
    uncapped: Decimal
    findings: int  # items that contributed


@dataclass(frozen=True)
class ComplianceScore:
    value: Decimal  # 0 to 100, to the tenth; 100 = nothing adverse on record
    components: tuple[ScoreComponent, ...]
    as_of: date
    # Distinct days in the window with an established finding: what "repeat offender" counts.
    established_occasions: int

    def penalty(self, component: Component) -> Decimal:
        return next(c.penalty for c in self.components if c.component is component)


def decay(occurred_on: date, as_of: date, weights: ScoreWeights = DEFAULT_WEIGHTS) -> Decimal:
    age = (as_of - occurred_on).days
    if age > weights.horizon_days:
        return ZERO
    if age <= 0:
        return Decimal(1)
    return HALF ** (Decimal(age) / Decimal(weights.half_life_days))


def _tenth(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


def _component(component: Component, uncapped: Decimal, cap: Decimal, findings: int) -> ScoreComponent:
    return ScoreComponent(component, _tenth(min(cap, uncapped)), cap, _tenth(uncapped), findings)


def _wages(batches: Iterable[WageBatch], as_of: date, w: ScoreWeights) -> ScoreComponent:
    unpaid = due = ZERO
    findings = 0
    for batch in batches:
        for month in batch.months:
            weight = decay(month.month_end, as_of, w)
            if not weight:
                continue
            unpaid += weight * (month.shortfall + w.provisional_factor * month.provisional_shortfall)
            due += weight * month.due
            findings += month.records_below
    share = unpaid / due if due else ZERO
    return _component(Component.WAGES, w.wages_cap * share / w.wages_full_share, w.wages_cap, findings)


def _entries_component(
    component: Component,
    entries: Iterable[HistoryEntry],
    as_of: date,
    w: ScoreWeights,
    points_of: Mapping[str, Decimal] | None,
    cap: Decimal,
) -> ScoreComponent:
    total = ZERO
    findings = 0
    for entry in entries:
        weight = decay(entry.occurred_on, as_of, w)
        if not weight:
            continue
        if points_of is None:  # recruitment costs: per worker charged
            points = w.fee_points * entry.workers_affected
            if entry.remediated:
                points *= w.fee_remediated_factor
        else:
            points = points_of.get(entry.detail, ZERO)
        if not entry.established:
            points *= w.alleged_factor
        total += points * weight
        findings += 1
    return _component(component, total, cap, findings)


def _grievances(standing: Iterable[GrievanceStanding], as_of: date, w: ScoreWeights) -> ScoreComponent:
    total = ZERO
    findings = 0
    for grievance in standing:
        if grievance.withdrawn:
            continue
        factor = w.severity_factors.get(grievance.severity, Decimal(1)) * w.category_factors.get(
            grievance.category, Decimal(1)
        )
        counted = False
        if grievance.substantiated_on is not None:
            total += w.grievance_substantiated_points * factor * decay(grievance.substantiated_on, as_of, w)
            counted = True
        if grievance.open and grievance.alleged_on is not None:
            total += w.grievance_alleged_points * factor * decay(grievance.alleged_on, as_of, w)
            counted = True
        findings += counted
    return _component(Component.GRIEVANCES, total, w.grievances_cap, findings)


def established_occasions(
    entries: Iterable[HistoryEntry], standing: Iterable[GrievanceStanding], as_of: date, w: ScoreWeights
) -> int:
    since = as_of - timedelta(days=w.occasion_window_days)
    days = {
        e.occurred_on
        for e in entries
        if e.established and not e.provisional and not e.remediated and since < e.occurred_on <= as_of
    }
    days |= {
        g.substantiated_on
        for g in standing
        if not g.withdrawn and g.substantiated_on is not None and since < g.substantiated_on <= as_of
    }
    return len(days)


def compute_score(
    entries: Iterable[HistoryEntry],
    batches: Iterable[WageBatch],
    standing: Iterable[GrievanceStanding],
    as_of: date,
    weights: ScoreWeights = DEFAULT_WEIGHTS,
) -> ComplianceScore:
    entries = list(entries)
    standing = list(standing)

    def of(kind: EntryKind) -> list[HistoryEntry]:
        return [e for e in entries if e.kind is kind]

    components = (
        _wages(batches, as_of, weights),
        _entries_component(
            Component.RECRUITMENT_FEES, of(EntryKind.RECRUITMENT_COST), as_of, weights, None, weights.fees_cap
        ),
        _entries_component(
            Component.WORKING_CONDITIONS,
            of(EntryKind.CONDITION_BREACH),
            as_of,
            weights,
            weights.condition_points,
            weights.conditions_cap,
        ),
        _entries_component(
            Component.ILO_INDICATORS, of(EntryKind.ILO_INDICATOR), as_of, weights, weights.ilo_points, weights.ilo_cap
        ),
        _grievances(standing, as_of, weights),
    )
    value = max(ZERO, HUNDRED - sum((c.penalty for c in components), ZERO))
    return ComplianceScore(_tenth(value), components, as_of, established_occasions(entries, standing, as_of, weights))


def flag_reasons(score: ComplianceScore, weights: ScoreWeights = DEFAULT_WEIGHTS) -> tuple[FlagReason, ...]:
    """Why the flag should be raised now (empty: no reason to raise)."""
    reasons = []
    if score.value < weights.raise_below:
        reasons.append(FlagReason.SCORE_BELOW_THRESHOLD)
    if score.established_occasions >= weights.raise_at_occasions:
        reasons.append(FlagReason.REPEATED_ESTABLISHED_FINDINGS)
    return tuple(reasons)


def may_clear(score: ComplianceScore, weights: ScoreWeights = DEFAULT_WEIGHTS) -> bool:
    """The lower threshold of the hysteresis: a raised flag clears only when both have recovered."""
    return score.value >= weights.clear_at and score.established_occasions <= weights.clear_at_most_occasions
