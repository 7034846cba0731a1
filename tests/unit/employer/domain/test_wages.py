"""Wage records against the minimum wage: due, what counts as received, the shortfall and its events."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from mrc_employer.domain.compliance_records import ComplianceRecorded, RecordSource, RecruitmentFeeFound
from mrc_employer.domain.minimum_wages import MinimumWageKey, RateCaveat, WageSphere
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.wages import (
    AssessmentOutcome,
    Deduction,
    DeductionKind,
    WageShortfallFound,
    assess,
)
from mrc_kernel.errors import InvalidArgument

from .support import CENTRAL_CONSTRUCTION_A, NOW, seeded_table, wage_input, wage_record

D = Decimal


def test_paid_exactly_the_minimum_is_no_shortfall() -> None:
    record = wage_record()  # 26 days x 783 = 20358

    assert record.assessment.outcome is AssessmentOutcome.PAID_AT_LEAST_MINIMUM
    assert record.assessment.due == D("20358.00")
    assert record.assessment.shortfall == 0
    assert [r.rate_id for r in record.assessment.rates] == ["mw-seed-085"]
    assert record.pending_events == [
        ComplianceRecorded("wage-1", "org-1", "wage", "site-1", RecordSource.SELF_REPORTED, date(2024, 11, 30), NOW)
    ]


def test_a_shortfall_per_day_and_in_total_raises_an_event() -> None:
    record = wage_record(amount_paid=D(13000))  # 500 a day for 26 days

    assessment = record.assessment
    assert assessment.outcome is AssessmentOutcome.BELOW_MINIMUM
    assert (assessment.due, assessment.received, assessment.shortfall) == (D("20358.00"), D("13000.00"), D("7358.00"))
    assert assessment.shortfall_per_day == D("283.00")
    assert not assessment.provisional
    assert record.pending_events[1] == WageShortfallFound(
        "wage-1", "org-1", "site-1", date(2024, 11, 1), date(2024, 11, 30), D(26), assessment
    )


def test_half_days_and_part_months_count_what_was_worked() -> None:
    assessment = wage_record(
        period_start=date(2024, 11, 1), period_end=date(2024, 11, 15), days_worked=D("12.5"), amount_paid=D(9000)
    ).assessment
    assert assessment.due == D("9787.50")  # 12.5 x 783
    assert assessment.shortfall == D("787.50")
    assert assessment.shortfall_per_day == D("63.00")


def test_a_rate_change_inside_the_period_spreads_the_days_by_calendar_share() -> None:
    # 16 Sep - 15 Oct 2024: 15 days at 736, 15 days at 783; 26 days worked split evenly.
    assessment = wage_record(
        period_start=date(2024, 9, 16), period_end=date(2024, 10, 15), amount_paid=D(19747)
    ).assessment
    assert assessment.due == D("19747.00")  # 13 x 736 + 13 x 783
    assert [(r.rate_id, r.start, r.end) for r in assessment.rates] == [
        ("mw-seed-061", date(2024, 9, 16), date(2024, 9, 30)),
        ("mw-seed-085", date(2024, 10, 1), date(2024, 10, 15)),
    ]
    assert assessment.outcome is AssessmentOutcome.PAID_AT_LEAST_MINIMUM


def test_a_difference_under_a_rupee_is_rounding_not_a_shortfall() -> None:
    assert wage_record(amount_paid=D("20357.01")).assessment.outcome is AssessmentOutcome.PAID_AT_LEAST_MINIMUM
    assert wage_record(amount_paid=D("20357.00")).assessment.shortfall == D("1.00")


def test_overtime_pay_is_taken_out_before_comparing() -> None:
    assessment = wage_record(amount_paid=D(22000), overtime_paid=D(3000)).assessment
    assert assessment.received == D("19000.00")
    assert assessment.shortfall == D("1358.00")


def test_authorised_deductions_count_as_paid() -> None:
    deductions = [
        Deduction(DeductionKind.SOCIAL_SECURITY, D(1500)),
        Deduction(DeductionKind.HOUSING, D(1000)),
        Deduction(DeductionKind.ADVANCE_RECOVERY, D(858)),
    ]
    assessment = wage_record(amount_paid=D(17000), deductions=deductions).assessment
    assert assessment.counted_deductions == D(3358)
    assert assessment.received == D("20358.00")
    assert assessment.outcome is AssessmentOutcome.PAID_AT_LEAST_MINIMUM


@pytest.mark.parametrize(
    "kind",
    [
        DeductionKind.RECRUITMENT_FEE,
        DeductionKind.TOOLS_OR_EQUIPMENT,
        DeductionKind.SECURITY_DEPOSIT,
        DeductionKind.ABSENCE,
        DeductionKind.OTHER,
    ],
)
def test_unauthorised_deductions_do_not_count(kind: DeductionKind) -> None:
    assessment = wage_record(amount_paid=D(18358), deductions=[Deduction(kind, D(2000))]).assessment
    assert assessment.counted_deductions == 0 and assessment.uncounted_deductions == D(2000)
    assert assessment.shortfall == D("2000.00")


def test_fines_count_only_up_to_three_per_cent_of_the_wages() -> None:
    # Gross 20358: 3 % is 610.74; a fine of 1000 counts only that much.
    assessment = wage_record(amount_paid=D(19358), deductions=[Deduction(DeductionKind.FINE, D(1000))]).assessment
    assert assessment.counted_deductions == D("610.74")
    assert assessment.shortfall == D("389.26")


def test_deductions_count_only_up_to_half_the_wages() -> None:
    deductions = [Deduction(DeductionKind.HOUSING, D(8000)), Deduction(DeductionKind.LOAN_RECOVERY, D(4000))]
    assessment = wage_record(amount_paid=D(8358), deductions=deductions).assessment
    assert assessment.counted_deductions == D("10179.00")  # half of 20358
    assert assessment.uncounted_deductions == D("1821.00")
    assert assessment.shortfall == D("1821.00")


def test_a_recruitment_fee_deducted_from_wages_is_also_a_recruitment_fee_finding() -> None:
    record = wage_record(amount_paid=D(17358), deductions=[Deduction(DeductionKind.RECRUITMENT_FEE, D(3000))])
    assert record.assessment.recruitment_fee_deducted == D(3000)
    assert [type(e) for e in record.pending_events] == [ComplianceRecorded, WageShortfallFound, RecruitmentFeeFound]
    fee = record.pending_events[2]
    assert isinstance(fee, RecruitmentFeeFound) and fee.amount == D(3000) and fee.charged_by_organisation_id == "org-1"


def test_a_rate_in_doubt_makes_the_shortfall_provisional() -> None:
    # October 2021: the original order's figures conflict with its corrected reissue.
    assessment = wage_record(
        period_start=date(2021, 11, 1), period_end=date(2021, 11, 30), amount_paid=D(15000)
    ).assessment
    assert assessment.outcome is AssessmentOutcome.BELOW_MINIMUM
    assert assessment.provisional
    assert assessment.caveats == {RateCaveat.CONFLICTS_WITH_REISSUE}


def test_without_an_applicable_row_nothing_is_claimed() -> None:
    rajasthan = MinimumWageKey(WageSphere.STATE, "8", "brick_kiln", "unskilled")
    record = wage_record(key=rajasthan, amount_paid=D(100))
    assert record.assessment.outcome is AssessmentOutcome.NO_APPLICABLE_RATE
    assert record.assessment.shortfall == 0
    assert [type(e) for e in record.pending_events] == [ComplianceRecorded]
    partly = assess(
        wage_input(period_start=date(2019, 9, 20), period_end=date(2019, 10, 5), days_worked=D(14)), seeded_table()
    )
    assert partly.outcome is AssessmentOutcome.NO_APPLICABLE_RATE


def test_a_monthly_state_rate_is_compared_per_day() -> None:
    delhi = MinimumWageKey(WageSphere.STATE, "7", "security_services", "unskilled")
    assessment = wage_record(
        key=delhi,
        period_start=date(2023, 11, 1),
        period_end=date(2023, 11, 30),
        days_worked=D(26),
        amount_paid=D(17494),
    ).assessment
    assert assessment.due == D("17494.00")
    assert assessment.outcome is AssessmentOutcome.PAID_AT_LEAST_MINIMUM
    assert wage_record(
        key=delhi, period_start=date(2023, 11, 1), period_end=date(2023, 11, 30), days_worked=D(13), amount_paid=D(8000)
    ).assessment.shortfall == D("747.00")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"worker": WorkerRef()}, "worker"),
        ({"worker": WorkerRef("w-1", "EMP-1")}, "worker"),
        ({"worker": WorkerRef(employer_worker_code="9876543210")}, "worker.employer_worker_code"),
        ({"worker": WorkerRef(employer_worker_code="123412341234")}, "worker.employer_worker_code"),
        ({"worker": WorkerRef(employer_worker_code="Ram Kumar")}, "worker.employer_worker_code"),
        ({"worksite_id": " "}, "worksite_id"),
        ({"period_end": date(2024, 10, 31)}, "period_end"),
        ({"period_start": date(2024, 10, 1)}, "period_end"),  # 61 days: longer than a month
        ({"days_worked": D(31)}, "days_worked"),
        ({"days_worked": D(-1)}, "days_worked"),
        ({"amount_paid": D(-5)}, "amount_paid"),
        ({"overtime_paid": D(30000)}, "overtime_paid"),
        ({"deductions": (Deduction(DeductionKind.FINE, D(0)),)}, "deductions.0.amount"),
        ({"key": replace(CENTRAL_CONSTRUCTION_A, skill_category="Semi skilled")}, "skill_category"),
        ({"key": MinimumWageKey(WageSphere.STATE, "", "construction", "unskilled")}, "state_code"),
    ],
)
def test_each_invalid_field_is_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        wage_record(**overrides)
    assert [v.field for v in caught.value.violations] == [field]


def test_against_a_monthly_rate_a_month_is_due_at_most_once() -> None:
    delhi = MinimumWageKey(WageSphere.STATE, "7", "security_services", "unskilled")
    every_day = wage_record(
        key=delhi,
        period_start=date(2023, 11, 1),
        period_end=date(2023, 11, 30),
        days_worked=D(30),
        amount_paid=D(17494),
    )
    assert every_day.assessment.due == D("17494.00")
    assert every_day.assessment.outcome is AssessmentOutcome.PAID_AT_LEAST_MINIMUM
    # A daily rate is due for every day worked.
    assert wage_record(days_worked=D(30), amount_paid=D(20358)).assessment.shortfall == D("3132.00")
