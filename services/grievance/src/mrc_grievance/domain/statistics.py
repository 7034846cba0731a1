"""Aggregates of cases for dashboards and policy work, with small cells suppressed.

"Two trafficking complaints from district X" can point at a family, so every count below k (default 5)
is suppressed (`mrc_kernel.privacy.suppress_small_cells`), and a count's total is given only when no cell
was. The three breakdowns are one-way only (district, category, status): a cross-tabulation next to its
margins would let a reader subtract their way to the suppressed cells. The median time to resolution
and the breach rate are given only over at least k cases, so neither describes one person's case.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mrc_grievance.domain.case import Case
from mrc_grievance.domain.vocabulary import CaseStatus, Category
from mrc_kernel.privacy import DEFAULT_MIN_CELL_SIZE, SafeCounts, suppress_small_cells


@dataclass(frozen=True)
class CaseRow:
    """What the statistics need of one case: a projection the store can produce without opening a case."""

    state_code: str
    district_code: str
    category: Category
    status: CaseStatus
    filed_at: datetime
    resolved_at: datetime | None  # the current resolution, for resolved and closed cases
    breached: bool  # any SLA breach, in any cycle


def case_row(case: Case) -> CaseRow:
    return CaseRow(
        state_code=case.location.state_code,
        district_code=case.location.district_code,
        category=case.category,
        status=case.status,
        filed_at=case.filed_at,
        resolved_at=case.resolution.at if case.resolution is not None else None,
        breached=bool(case.breaches),
    )


@dataclass(frozen=True)
class GrievanceStatistics:
    by_district: SafeCounts[str]  # LGD district code
    by_category: SafeCounts[Category]
    by_status: SafeCounts[CaseStatus]
    median_hours_to_resolution: float | None  # None: fewer than k resolved cases
    sla_breach_rate: float | None  # share of cases with a breach; None: fewer than k cases
    min_cell_size: int


def grievance_statistics(rows: Iterable[CaseRow], *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> GrievanceStatistics:
    by_district: Counter[str] = Counter()
    by_category: Counter[Category] = Counter()
    by_status: Counter[CaseStatus] = Counter()
    hours_to_resolution: list[float] = []
    cases = breached = 0
    for row in rows:
        cases += 1
        breached += row.breached
        by_district[row.district_code] += 1
        by_category[row.category] += 1
        by_status[row.status] += 1
        if row.resolved_at is not None and row.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            hours_to_resolution.append((row.resolved_at - row.filed_at).total_seconds() / 3600)
    enough_resolved = len(hours_to_resolution) >= min_cell_size
    return GrievanceStatistics(
        by_district=suppress_small_cells(by_district, min_cell_size),
        by_category=suppress_small_cells(by_category, min_cell_size),
        by_status=suppress_small_cells(by_status, min_cell_size),
        median_hours_to_resolution=round(statistics.median(hours_to_resolution), 1) if enough_resolved else None,
        sla_breach_rate=round(breached / cases, 4) if cases >= min_cell_size else None,
        min_cell_size=min_cell_size,
    )
