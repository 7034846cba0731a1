from __future__ import annotations

from datetime import timedelta

from mrc_grievance.domain.statistics import CaseRow, case_row, grievance_statistics
from mrc_grievance.domain.vocabulary import CaseStatus, Category, Outcome

from .builders import CASEWORKER, NOW, case_in, new_case


def row(
    district: str = "212",
    category: Category = Category.WAGE_THEFT,
    status: CaseStatus = CaseStatus.IN_PROGRESS,
    hours_to_resolve: float | None = None,
    breached: bool = False,
) -> CaseRow:
    resolved_at = NOW + timedelta(hours=hours_to_resolve) if hours_to_resolve is not None else None
    return CaseRow("10", district, category, status, NOW, resolved_at, breached)


def test_counts_by_district_category_and_status_with_small_cells_suppressed() -> None:
    rows = [
        *[row("212") for _ in range(6)],
        *[row("188", Category.TRAFFICKING) for _ in range(2)],
        *[row("212", status=CaseStatus.RESOLVED, hours_to_resolve=48) for _ in range(5)],
    ]

    result = grievance_statistics(rows)

    assert result.by_district.cells == {"212": 11, "188": None}
    assert result.by_district.total is None  # the total would give the hidden cell away
    assert result.by_category.cells == {Category.WAGE_THEFT: 11, Category.TRAFFICKING: None}
    assert result.by_status.cells == {CaseStatus.IN_PROGRESS: 8, CaseStatus.RESOLVED: 5}
    assert result.by_status.total == 13


def test_median_time_to_resolution_counts_resolved_and_closed_cases_only_over_k_of_them() -> None:
    resolved = [row(status=CaseStatus.RESOLVED, hours_to_resolve=h) for h in (10, 20, 30, 40)]

    assert grievance_statistics(resolved).median_hours_to_resolution is None
    closed = row(status=CaseStatus.CLOSED, hours_to_resolve=1000)
    reopened = row(status=CaseStatus.REOPENED)
    assert grievance_statistics([*resolved, closed, reopened]).median_hours_to_resolution == 30.0


def test_breach_rate_is_the_share_of_cases_with_a_breach_over_k_cases_at_least() -> None:
    rows = [row(breached=True), row(breached=True), row(), row(), row(), row(), row(), row()]

    assert grievance_statistics(rows).sla_breach_rate == 0.25
    assert grievance_statistics(rows[:4]).sla_breach_rate is None
    assert grievance_statistics(rows, min_cell_size=3).min_cell_size == 3


def test_nothing_in_nothing_out() -> None:
    result = grievance_statistics([])

    assert result.by_district.cells == {}
    assert (result.median_hours_to_resolution, result.sla_breach_rate) == (None, None)


def test_a_case_projects_to_its_row() -> None:
    case = case_in(CaseStatus.IN_PROGRESS)
    case.record_sla_milestones(NOW + timedelta(days=400))
    case.resolve(Outcome.WITHDRAWN, substantiated=False, by=CASEWORKER, now=NOW + timedelta(days=401))

    assert case_row(case) == CaseRow(
        "10", "212", Category.WAGE_THEFT, CaseStatus.RESOLVED, NOW, NOW + timedelta(days=401), True
    )
    assert case_row(new_case()).breached is False
