"""Lines of an organisation's history sheet: every adverse finding, as the score reads it.

A line says what was found, when, by whom (established: admitted by the employer or found by an
auditor; or alleged: reported by a partner), how many workers it touched, and for money how much.
Wage records enter as batches: per month, what was due and what fell short, so the share of wages
left unpaid can be weighed against everything the organisation paid, not only what went wrong.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class EntryKind(enum.StrEnum):
    WAGE_SHORTFALL = "wage_shortfall"
    RECRUITMENT_COST = "recruitment_cost"
    CONDITION_BREACH = "condition_breach"
    ILO_INDICATOR = "ilo_indicator"
    GRIEVANCE_SUBSTANTIATED = "grievance_substantiated"


@dataclass(frozen=True)
class HistoryEntry:
    entry_id: str
    kind: EntryKind
    source_id: str  # the record, wage batch or grievance it comes from
    occurred_on: date
    recorded_at: datetime
    # What exactly: the ILO indicator, the cost kind, the breach, the grievance category, the month.
    detail: str
    established: bool
    workers_affected: int = 1
    amount: Decimal | None = None
    provisional: bool = False  # a shortfall measured against a minimum-wage row in doubt
    remediated: bool = False  # a recruitment cost fully reimbursed to the worker
    severity: str = ""  # a grievance's severity


@dataclass(frozen=True)
class WageMonth:
    """One batch's wage records whose period ends in one month."""

    month_end: date
    due: Decimal
    shortfall: Decimal  # against rows not in doubt
    provisional_shortfall: Decimal  # against rows in doubt
    records: int
    records_below: int


@dataclass(frozen=True)
class WageBatch:
    batch_id: str  # a wage-register upload, or one wage record entered alone
    applied_at: datetime
    months: tuple[WageMonth, ...]
