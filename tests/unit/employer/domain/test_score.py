"""The compliance score, component by component, as documented in docs/compliance-score.md."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from mrc_employer.domain.compliance_records import ConditionBreach, IloIndicator
from mrc_employer.domain.grievance_signals import GrievanceStanding
from mrc_employer.domain.history_sheet import EntryKind, HistoryEntry, WageBatch, WageMonth
from mrc_employer.domain.score import (
    DEFAULT_WEIGHTS,
    ComplianceScore,
    Component,
    FlagReason,
    compute_score,
    decay,
    flag_reasons,
    may_clear,
)

D = Decimal
AS_OF = date(2025, 3, 31)
AT = datetime(2025, 3, 31, tzinfo=UTC)


def entry(
    kind: EntryKind, detail: str = "", *, on: date = AS_OF, established: bool = True, **more: object
) -> HistoryEntry:
    values: dict[str, object] = {
        "entry_id": f"{kind}-{detail}-{on}-{random.random()}",
        "kind": kind,
        "source_id": f"src-{random.random()}",
        "occurred_on": on,
        "recorded_at": AT,
        "detail": detail,
        "established": established,
    }
    values.update(more)
    return HistoryEntry(**values)


def grievance(**overrides: object) -> GrievanceStanding:
    values: dict[str, object] = {
        "grievance_id": f"g-{random.random()}",
        "category": "wage_theft",
        "severity": "medium",
        "open": True,
        "alleged_on": AS_OF,
        "substantiated_on": None,
    }
    values.update(overrides)
    return GrievanceStanding(**values)


def wages(*months: WageMonth) -> list[WageBatch]:
    return [WageBatch("batch-1", AT, months)]


def month(due: int, shortfall: int = 0, provisional: int = 0, *, end: date = AS_OF) -> WageMonth:
    return WageMonth(
        end, D(due), D(shortfall), D(provisional), records=10, records_below=1 if shortfall or provisional else 0
    )


def penalty(
    component: Component,
    *,
    entries: Sequence[HistoryEntry] = (),
    batches: Sequence[WageBatch] = (),
    standing: Sequence[GrievanceStanding] = (),
) -> Decimal:
    return compute_score(entries, batches, standing, AS_OF).penalty(component)


def test_a_clean_record_scores_100() -> None:
    score = compute_score([], [], [], AS_OF)
    assert score.value == D(100)
    assert [c.penalty for c in score.components] == [0, 0, 0, 0, 0]
    assert score.established_occasions == 0


# -- recency ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age_days", "weight"),
    [(-3, D(1)), (0, D(1)), (365, D("0.5")), (730, D("0.25")), (1825, D("0.03125")), (1826, D(0))],
)
def test_findings_weigh_half_after_a_year_and_nothing_after_five(age_days: int, weight: Decimal) -> None:
    assert decay(AS_OF - timedelta(days=age_days), AS_OF) == weight


# -- wages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "shortfall", "expected"),
    [
        (100_000, 0, D(0)),
        (100_000, 2_500, D(3)),
        (100_000, 10_000, D(12)),
        (100_000, 25_000, D(30)),
        (100_000, 60_000, D(30)),
    ],
)
def test_wages_penalise_the_share_of_wages_left_unpaid(due: int, shortfall: int, expected: Decimal) -> None:
    assert penalty(Component.WAGES, batches=wages(month(due, shortfall))) == expected


def test_wage_shortfalls_are_weighed_against_all_wages_paid_and_by_recency() -> None:
    one_bad_month = [month(100_000, 10_000)]
    with_good_months = [month(100_000, 10_000), month(300_000, end=AS_OF - timedelta(days=31))]
    assert penalty(Component.WAGES, batches=wages(*one_bad_month)) == D(12)
    assert penalty(Component.WAGES, batches=wages(*with_good_months)) < D(12)
    a_year_ago = month(100_000, 10_000, end=AS_OF - timedelta(days=365))
    assert penalty(Component.WAGES, batches=wages(a_year_ago, month(100_000))) == D("4.0")  # 5000 / 150000 x 120


def test_provisional_shortfalls_count_half() -> None:
    assert penalty(Component.WAGES, batches=wages(month(100_000, 0, 10_000))) == D(6)


# -- recruitment fees ----------------------------------------------------------------------------------


def test_recruitment_fees_cost_five_points_per_worker_charged() -> None:
    fee = entry(EntryKind.RECRUITMENT_COST, "recruitment_fee", amount=D(12000))
    assert penalty(Component.RECRUITMENT_FEES, entries=[fee]) == D(5)
    assert penalty(Component.RECRUITMENT_FEES, entries=[entry(EntryKind.RECRUITMENT_COST, workers_affected=3)]) == D(15)
    assert penalty(Component.RECRUITMENT_FEES, entries=[entry(EntryKind.RECRUITMENT_COST, remediated=True)]) == D("1.3")
    assert penalty(Component.RECRUITMENT_FEES, entries=[entry(EntryKind.RECRUITMENT_COST, established=False)]) == D(
        "2.5"
    )
    assert penalty(Component.RECRUITMENT_FEES, entries=[entry(EntryKind.RECRUITMENT_COST, workers_affected=9)]) == D(25)


# -- working conditions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("breach", "points"),
    [
        (ConditionBreach.NO_WRITTEN_CONTRACT_BEFORE_WORK, 2),
        (ConditionBreach.IDENTITY_DOCUMENTS_RETAINED, 5),
        (ConditionBreach.EXCESSIVE_HOURS, 2),
        (ConditionBreach.OVERTIME_NOT_PAID_DOUBLE, 2),
        (ConditionBreach.INADEQUATE_ACCOMMODATION, 2),
        (ConditionBreach.NOT_FREE_TO_LEAVE, 5),
    ],
)
def test_each_working_condition_breach_has_its_points(breach: ConditionBreach, points: int) -> None:
    assert penalty(Component.WORKING_CONDITIONS, entries=[entry(EntryKind.CONDITION_BREACH, breach)]) == D(points)


def test_working_conditions_are_capped_at_15() -> None:
    many = [entry(EntryKind.CONDITION_BREACH, ConditionBreach.NOT_FREE_TO_LEAVE) for _ in range(4)]
    score = compute_score(many, [], [], AS_OF)
    component = next(c for c in score.components if c.component is Component.WORKING_CONDITIONS)
    assert (component.penalty, component.uncapped, component.findings) == (D(15), D(20), 4)


# -- ILO indicators ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indicator", "points"),
    [
        (IloIndicator.PHYSICAL_AND_SEXUAL_VIOLENCE, 15),
        (IloIndicator.DEBT_BONDAGE, 12),
        (IloIndicator.RESTRICTION_OF_MOVEMENT, 10),
        (IloIndicator.RETENTION_OF_IDENTITY_DOCUMENTS, 8),
        (IloIndicator.WITHHOLDING_OF_WAGES, 8),
        (IloIndicator.INTIMIDATION_AND_THREATS, 8),
        (IloIndicator.ISOLATION, 6),
        (IloIndicator.DECEPTION, 6),
        (IloIndicator.ABUSE_OF_VULNERABILITY, 6),
        (IloIndicator.ABUSIVE_WORKING_AND_LIVING_CONDITIONS, 5),
        (IloIndicator.EXCESSIVE_OVERTIME, 4),
    ],
)
def test_ilo_indicators_weigh_by_severity(indicator: IloIndicator, points: int) -> None:
    assert penalty(Component.ILO_INDICATORS, entries=[entry(EntryKind.ILO_INDICATOR, indicator)]) == D(points)
    alleged = entry(EntryKind.ILO_INDICATOR, indicator, established=False)
    assert penalty(Component.ILO_INDICATORS, entries=[alleged]) == D(points) / 2


def test_every_ilo_indicator_has_a_weight() -> None:
    assert set(DEFAULT_WEIGHTS.ilo_points) == {i.value for i in IloIndicator}
    assert set(DEFAULT_WEIGHTS.condition_points) == {b.value for b in ConditionBreach}


# -- grievances --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("standing", "points"),
    [
        (grievance(), D(1)),  # an open allegation, medium severity
        (grievance(severity="low"), D("0.5")),
        (grievance(severity="critical"), D(3)),
        (grievance(severity=""), D(1)),  # not yet triaged: medium
        (grievance(category="missing_person"), D("0.5")),
        (grievance(open=False, substantiated_on=AS_OF), D(4)),
        (grievance(open=False, substantiated_on=AS_OF, severity="high"), D(8)),
        (grievance(open=True, substantiated_on=AS_OF), D(5)),  # substantiated, then reopened
        (grievance(open=False), D(0)),  # resolved, not substantiated
        (grievance(open=False, substantiated_on=AS_OF, withdrawn=True), D(0)),
        (grievance(alleged_on=AS_OF - timedelta(days=365)), D("0.5")),
    ],
)
def test_grievances_allegations_count_less_than_substantiated_ones(
    standing: GrievanceStanding, points: Decimal
) -> None:
    assert penalty(Component.GRIEVANCES, standing=[standing]) == points


def test_grievances_are_capped_at_30() -> None:
    assert penalty(
        Component.GRIEVANCES, standing=[grievance(severity="critical", open=False, substantiated_on=AS_OF)] * 4
    ) == D(30)


# -- the total, flags, determinism ---------------------------------------------------------------------


def test_the_score_is_100_minus_the_capped_penalties_and_never_negative() -> None:
    entries = [entry(EntryKind.ILO_INDICATOR, IloIndicator.DEBT_BONDAGE), entry(EntryKind.RECRUITMENT_COST)]
    score = compute_score(entries, wages(month(100_000, 5_000)), [grievance()], AS_OF)
    assert score.value == D(100) - D(12) - D(5) - D(6) - D(1)

    worst = [entry(EntryKind.ILO_INDICATOR, IloIndicator.PHYSICAL_AND_SEXUAL_VIOLENCE)] * 3 + [
        entry(EntryKind.RECRUITMENT_COST, workers_affected=10),
        entry(EntryKind.CONDITION_BREACH, ConditionBreach.NOT_FREE_TO_LEAVE, workers_affected=3),
    ] * 3
    standing = [grievance(severity="critical", open=False, substantiated_on=AS_OF)] * 3
    assert compute_score(worst, wages(month(10, 10)), standing, AS_OF).value == 0


def test_the_score_does_not_depend_on_the_order_of_the_history() -> None:
    days = [AS_OF - timedelta(days=n * 37) for n in range(12)]
    entries = [entry(EntryKind.ILO_INDICATOR, i, on=d) for i, d in zip(IloIndicator, days, strict=False)]
    entries += [entry(EntryKind.RECRUITMENT_COST, on=d, established=n % 2 == 0) for n, d in enumerate(days)]
    first = compute_score(entries, [], [], AS_OF)
    random.Random(7).shuffle(entries)
    assert compute_score(entries, [], [], AS_OF) == first


def test_established_occasions_count_distinct_days_within_a_year() -> None:
    entries = [
        entry(EntryKind.ILO_INDICATOR, IloIndicator.DECEPTION, on=AS_OF),
        entry(EntryKind.CONDITION_BREACH, ConditionBreach.EXCESSIVE_HOURS, on=AS_OF),  # same visit: one occasion
        entry(EntryKind.RECRUITMENT_COST, on=AS_OF - timedelta(days=100)),
        entry(EntryKind.RECRUITMENT_COST, on=AS_OF - timedelta(days=200), remediated=True),  # put right: not counted
        entry(EntryKind.RECRUITMENT_COST, on=AS_OF - timedelta(days=300), established=False),  # only alleged
        entry(EntryKind.WAGE_SHORTFALL, on=AS_OF - timedelta(days=250), provisional=True),  # rate in doubt
        entry(EntryKind.ILO_INDICATOR, IloIndicator.ISOLATION, on=AS_OF - timedelta(days=366)),  # too old
    ]
    standing = [grievance(open=False, substantiated_on=AS_OF - timedelta(days=30))]
    assert compute_score(entries, [], standing, AS_OF).established_occasions == 3


def test_flag_reasons_and_the_lower_clear_threshold() -> None:
    def scored(value: int, occasions: int = 0) -> ComplianceScore:
        return replace(compute_score([], [], [], AS_OF), value=D(value), established_occasions=occasions)

    assert flag_reasons(scored(39)) == (FlagReason.SCORE_BELOW_THRESHOLD,)
    assert flag_reasons(scored(40)) == ()
    assert flag_reasons(scored(90, 3)) == (FlagReason.REPEATED_ESTABLISHED_FINDINGS,)
    assert not may_clear(scored(59))
    assert not may_clear(scored(80, 2))
    assert may_clear(scored(60, 1))
