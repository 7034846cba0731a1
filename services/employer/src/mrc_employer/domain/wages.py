"""Wage records (one worker, one wage period) and their comparison with the applicable minimum wage.

What is compared (Code on Wages 2019, in force since 21 November 2025, as the Minimum Wages and Payment
of Wages Acts before it):

    due      = sum over the period's parts of (rate per day x days worked x part's share of the period)
    received = amount paid - overtime pay + deductions that count as paid
    shortfall = due - received, when positive (amounts under one rupee are rounding, not a shortfall)

- Days worked are the days actually worked, not weekly rest days: the notified rates include the rest
  day (the central orders' monthly rate is the daily rate x 26). A period is at most a month (s. 16:
  daily, weekly, fortnightly or monthly wage periods). When a rate changes inside the period, the days
  worked are spread over its parts in proportion to their calendar days. Against a monthly rate, a
  month's due is at most the monthly rate (26 days' worth), however many days were worked.
- Overtime pay is owed on top of the minimum (at twice the ordinary rate), so it is taken out of the
  amount before the comparison; otherwise long hours would hide an underpaid day.
- Deductions that count as paid are those the Code authorises (s. 18(2)) and the worker actually
  benefits from: social security contributions (i), income tax, statutory levies and court orders (h),
  housing accepted as a term of employment (d, s. 22), authorised amenities and services (e), recovery
  of advances and loans already received (f, g), co-operative and insurance payments (j, k), fines
  (a: at most 3 % of the wages, s. 19) and damage or loss attributable to the worker (c). Together they
  count up to 50 % of the wages (s. 18(3)); any excess does not count.
- Deductions that do not count: absence (the days worked already leave absent days out), a
  recruitment fee or commission (a payment to the employer or its agent is a deduction, s. 18(1)
  Explanation (a), and none is authorised for recruitment; the Employer Pays principle), tools,
  equipment and raw materials (s. 18(2)(e) Explanation: not "services"), security deposits, anything
  else. A recruitment fee deducted from wages is also reported as a recruitment fee.
"""

from __future__ import annotations

import enum
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from mrc_employer.domain.compliance_records import ComplianceRecorded, RecordSource, RecruitmentFeeFound
from mrc_employer.domain.minimum_wages import (
    MONTHLY_DAYS_DIVISOR,
    MinimumWageKey,
    MinimumWageTable,
    RateCaveat,
    RateUnit,
    WageSphere,
)
from mrc_employer.domain.values import ZERO, WorkerRef, check_id, is_key, rupees
from mrc_kernel.errors import FieldViolation, InvalidArgument

MAX_WAGE_PERIOD_DAYS = 31
MAX_DEDUCTIONS = 20
FINE_CAP = Decimal("0.03")
COUNTED_DEDUCTIONS_CAP = Decimal("0.50")
# Payments are often rounded to the rupee; a difference smaller than this is not an underpayment.
SHORTFALL_TOLERANCE = Decimal("1.00")


class DeductionKind(enum.StrEnum):
    SOCIAL_SECURITY = "social_security"
    TAX_OR_COURT_ORDER = "tax_or_court_order"
    HOUSING = "housing"
    AMENITIES = "amenities"
    ADVANCE_RECOVERY = "advance_recovery"
    LOAN_RECOVERY = "loan_recovery"
    COOPERATIVE_OR_INSURANCE = "cooperative_or_insurance"
    FINE = "fine"
    DAMAGE_OR_LOSS = "damage_or_loss"
    ABSENCE = "absence"
    RECRUITMENT_FEE = "recruitment_fee"
    TOOLS_OR_EQUIPMENT = "tools_or_equipment"
    SECURITY_DEPOSIT = "security_deposit"
    OTHER = "other"


COUNTED_AS_PAID = frozenset(
    {
        DeductionKind.SOCIAL_SECURITY,
        DeductionKind.TAX_OR_COURT_ORDER,
        DeductionKind.HOUSING,
        DeductionKind.AMENITIES,
        DeductionKind.ADVANCE_RECOVERY,
        DeductionKind.LOAN_RECOVERY,
        DeductionKind.COOPERATIVE_OR_INSURANCE,
        DeductionKind.FINE,
        DeductionKind.DAMAGE_OR_LOSS,
    }
)


@dataclass(frozen=True)
class Deduction:
    kind: DeductionKind
    amount: Decimal


class AssessmentOutcome(enum.StrEnum):
    PAID_AT_LEAST_MINIMUM = "paid_at_least_minimum"
    BELOW_MINIMUM = "below_minimum"
    # No row of the table applies to some part of the period: nothing can be said (the table needs a row).
    NO_APPLICABLE_RATE = "no_applicable_rate"


@dataclass(frozen=True)
class AppliedRate:
    rate_id: str
    revision: int
    start: date
    end: date
    per_day: Decimal
    caveats: frozenset[RateCaveat]


@dataclass(frozen=True)
class WageAssessment:
    outcome: AssessmentOutcome
    due: Decimal
    received: Decimal  # what counts towards the minimum
    shortfall: Decimal
    shortfall_per_day: Decimal
    counted_deductions: Decimal
    uncounted_deductions: Decimal
    recruitment_fee_deducted: Decimal
    rates: tuple[AppliedRate, ...]
    # Measured against a row whose amount or date is in doubt (see PROVISIONAL_CAVEATS).
    provisional: bool

    @property
    def caveats(self) -> frozenset[RateCaveat]:
        return frozenset(c for r in self.rates for c in r.caveats)


@dataclass(frozen=True)
class WageShortfallFound:
    record_id: str
    organisation_id: str
    worksite_id: str
    period_start: date
    period_end: date
    days_worked: Decimal
    assessment: WageAssessment


WageEvent = ComplianceRecorded | WageShortfallFound | RecruitmentFeeFound


@dataclass(frozen=True)
class WageInput:
    """A wage record as stated by its author; amounts in rupees, already parsed (see `wage_register`)."""

    worker: WorkerRef
    worksite_id: str
    period_start: date
    period_end: date
    days_worked: Decimal
    amount_paid: Decimal
    key: MinimumWageKey
    overtime_paid: Decimal = ZERO
    deductions: tuple[Deduction, ...] = ()


@dataclass
class WageRecord:
    record_id: str
    organisation_id: str
    worksite_id: str
    worker: WorkerRef
    period_start: date
    period_end: date
    days_worked: Decimal
    amount_paid: Decimal
    overtime_paid: Decimal
    deductions: tuple[Deduction, ...]
    key: MinimumWageKey
    assessment: WageAssessment
    source: RecordSource
    recorded_at: datetime
    pending_events: list[WageEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(
        cls,
        *,
        record_id: str,
        organisation_id: str,
        given: WageInput,
        table: MinimumWageTable,
        source: RecordSource,
        now: datetime,
        batch_id: str = "",
    ) -> WageRecord:
        """A validated record, assessed against the table, with its events: `ComplianceRecorded` (unless it is
        one of a wage-register batch, which is announced as a whole: `batch_id`), a shortfall, a fee deducted."""
        if violations := wage_violations(given):
            raise InvalidArgument(violations)
        assessment = assess(given, table)
        record = cls(
            record_id=record_id,
            organisation_id=organisation_id,
            worksite_id=given.worksite_id.strip(),
            worker=given.worker.tidy(),
            period_start=given.period_start,
            period_end=given.period_end,
            days_worked=given.days_worked,
            amount_paid=given.amount_paid,
            overtime_paid=given.overtime_paid,
            deductions=given.deductions,
            key=given.key,
            assessment=assessment,
            source=source,
            recorded_at=now,
        )
        if not batch_id:
            record.pending_events.append(
                ComplianceRecorded(
                    record_id, organisation_id, "wage", record.worksite_id, source, record.period_end, now
                )
            )
        if assessment.outcome is AssessmentOutcome.BELOW_MINIMUM:
            record.pending_events.append(
                WageShortfallFound(
                    record_id,
                    organisation_id,
                    record.worksite_id,
                    record.period_start,
                    record.period_end,
                    record.days_worked,
                    assessment,
                )
            )
        if assessment.recruitment_fee_deducted > ZERO:
            record.pending_events.append(
                RecruitmentFeeFound(
                    record_id,
                    organisation_id,
                    "recruitment_fee",
                    assessment.recruitment_fee_deducted,
                    ZERO,
                    organisation_id,
                    record.period_end,
                )
            )
        return record


def wage_violations(given: WageInput) -> list[FieldViolation]:
    found = given.worker.violations("worker")
    check_id("worksite_id", given.worksite_id, found)
    start, end = given.period_start, given.period_end
    calendar_days = (end - start).days + 1
    if end < start:
        found.append(FieldViolation("period_end", "must not be before period_start"))
    elif calendar_days > MAX_WAGE_PERIOD_DAYS:
        found.append(FieldViolation("period_end", "a wage period is at most a month (Code on Wages 2019, s. 16)"))
    if given.days_worked < ZERO:
        found.append(FieldViolation("days_worked", "must not be negative"))
    elif end >= start and given.days_worked > calendar_days:
        found.append(FieldViolation("days_worked", f"must be at most the {calendar_days} days of the period"))
    if given.amount_paid < ZERO:
        found.append(FieldViolation("amount_paid", "must not be negative"))
    if given.overtime_paid < ZERO:
        found.append(FieldViolation("overtime_paid", "must not be negative"))
    elif given.amount_paid >= ZERO and given.overtime_paid > given.amount_paid:
        found.append(FieldViolation("overtime_paid", "is part of amount_paid, so cannot exceed it"))
    if len(given.deductions) > MAX_DEDUCTIONS:
        found.append(FieldViolation("deductions", f"at most {MAX_DEDUCTIONS} deductions"))
    for position, deduction in enumerate(given.deductions):
        if deduction.amount <= ZERO:
            found.append(FieldViolation(f"deductions.{position}.amount", "must be more than 0"))
    key = given.key
    if key.sphere is WageSphere.STATE and not key.state_code:
        found.append(FieldViolation("state_code", "a state-sphere wage needs the worksite's state"))
    for name in ("scheduled_employment", "skill_category"):
        if not is_key(getattr(key, name)):
            found.append(FieldViolation(name, "must be a key such as construction, unskilled or semi_skilled"))
    if key.area and not is_key(key.area):
        found.append(FieldViolation("area", "must be a key such as a, b or c"))
    return found


def _counted(deductions: Sequence[Deduction], gross: Decimal) -> tuple[Decimal, Decimal]:
    """(counted as paid, not counted), applying the fine cap and then the overall cap."""
    fines = sum((d.amount for d in deductions if d.kind is DeductionKind.FINE), ZERO)
    others = sum((d.amount for d in deductions if d.kind in COUNTED_AS_PAID and d.kind is not DeductionKind.FINE), ZERO)
    total = sum((d.amount for d in deductions), ZERO)
    counted = min(fines, rupees(gross * FINE_CAP)) + others
    counted = min(counted, rupees(gross * COUNTED_DEDUCTIONS_CAP))
    return counted, total - counted


def assess(given: WageInput, table: MinimumWageTable) -> WageAssessment:
    deductions = given.deductions
    gross = given.amount_paid + sum((d.amount for d in deductions), ZERO)
    counted, uncounted = _counted(deductions, gross)
    fee = sum((d.amount for d in deductions if d.kind is DeductionKind.RECRUITMENT_FEE), ZERO)
    received = given.amount_paid - given.overtime_paid + counted
    period_days = (given.period_end - given.period_start).days + 1
    spans = table.spans(given.key, given.period_start, given.period_end)
    applied = tuple(
        AppliedRate(s.rate.rate_id, s.rate.revision, s.start, s.end, s.rate.per_day, s.rate.caveats)
        for s in spans
        if s.rate is not None
    )
    provisional = any(s.rate is not None and s.rate.provisional for s in spans)
    if any(s.rate is None for s in spans):
        return WageAssessment(
            AssessmentOutcome.NO_APPLICABLE_RATE,
            ZERO,
            rupees(received),
            ZERO,
            ZERO,
            counted,
            uncounted,
            fee,
            applied,
            False,
        )
    exact_due = ZERO
    for span in spans:
        if span.rate is None:  # pragma: no cover - returned above
            continue
        days = given.days_worked * span.days / period_days
        if span.rate.unit is RateUnit.PER_MONTH:
            # A monthly rate pays the whole month: 26 working days of it, however many were worked.
            month_days = monthrange(span.start.year, span.start.month)[1]
            days = min(days, Decimal(MONTHLY_DAYS_DIVISOR) * span.days / month_days)
        exact_due += span.rate.per_day * days
    due = rupees(exact_due)
    shortfall = due - rupees(received)
    if shortfall < SHORTFALL_TOLERANCE:
        return WageAssessment(
            AssessmentOutcome.PAID_AT_LEAST_MINIMUM,
            due,
            rupees(received),
            ZERO,
            ZERO,
            counted,
            uncounted,
            fee,
            applied,
            provisional,
        )
    per_day = rupees(shortfall / given.days_worked) if given.days_worked else shortfall
    return WageAssessment(
        AssessmentOutcome.BELOW_MINIMUM,
        due,
        rupees(received),
        shortfall,
        per_day,
        counted,
        uncounted,
        fee,
        applied,
        provisional,
    )
