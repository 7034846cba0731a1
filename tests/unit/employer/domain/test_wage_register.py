"""Wage-register rows: text cells to a wage record, or the list of problems by column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mrc_employer.domain.compliance_records import RecordSource
from mrc_employer.domain.minimum_wages import MinimumWageKey, WageSphere
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.wage_register import COLUMNS, check_columns, parse_wage_row, wage_record_from_row
from mrc_employer.domain.wages import AssessmentOutcome, Deduction, DeductionKind, WageInput, WageRecord
from mrc_kernel.errors import FieldViolation

from .support import NOW, seeded_table, worksite

SITES = {"site-1": worksite()}


def row(**cells: str) -> dict[str, str]:
    values = {
        "row_key": "r-1",
        "worker_code": "EMP-0001",
        "worksite_id": "site-1",
        "period_start": "2024-11-01",
        "period_end": "2024-11-30",
        "days_worked": "26",
        "amount_paid": "13000",
        "skill_category": "Unskilled",
    }
    values.update(cells)
    return values


def problems(**cells: str) -> list[tuple[str, str]]:
    parsed = parse_wage_row(row(**cells), worksites=SITES)
    assert isinstance(parsed, list), parsed
    return [(v.field, v.description) for v in parsed]


def test_a_good_row_becomes_a_wage_input_with_the_worksites_wage_basis() -> None:
    parsed = parse_wage_row(
        row(deduction_social_security="1560", deduction_recruitment_fee="500.50", overtime_paid="", deduction_fine="0"),
        worksites=SITES,
    )
    assert parsed == WageInput(
        worker=WorkerRef(employer_worker_code="EMP-0001"),
        worksite_id="site-1",
        period_start=date(2024, 11, 1),
        period_end=date(2024, 11, 30),
        days_worked=Decimal(26),
        amount_paid=Decimal("13000.00"),
        key=MinimumWageKey(WageSphere.CENTRAL, "7", "construction", "unskilled", "a"),
        deductions=(
            Deduction(DeductionKind.SOCIAL_SECURITY, Decimal("1560.00")),
            Deduction(DeductionKind.RECRUITMENT_FEE, Decimal("500.50")),
        ),
    )


def test_a_row_may_override_the_wage_basis() -> None:
    parsed = parse_wage_row(row(sphere="STATE", scheduled_employment="Construction", area=""), worksites=SITES)
    assert isinstance(parsed, WageInput)
    assert parsed.key == MinimumWageKey(WageSphere.STATE, "7", "construction", "unskilled", "a")


def test_a_row_becomes_an_assessed_wage_record() -> None:
    record = wage_record_from_row(
        row(),
        record_id="upload-1:r-1",
        organisation_id="org-1",
        worksites=SITES,
        table=seeded_table(),
        source=RecordSource.SELF_REPORTED,
        now=NOW,
    )
    assert isinstance(record, WageRecord)
    assert record.assessment.outcome is AssessmentOutcome.BELOW_MINIMUM
    assert record.assessment.shortfall == Decimal("7358.00")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"worker_code": ""}, [("worker_id", "give exactly one of registry_worker_id and employer_worker_code")]),
        (
            {"worker_code": "98765 43210"},
            [
                (
                    "worker_code",
                    "looks like a phone or Aadhaar number: use the employer's own worker code, never a personal number",
                )
            ],
        ),
        ({"worksite_id": "site-9"}, [("worksite_id", "is not a worksite of this organisation")]),
        ({"worksite_id": ""}, [("worksite_id", "must be set")]),
        ({"period_start": "01/11/2024"}, [("period_start", "must be a date as YYYY-MM-DD")]),
        ({"period_end": "2024-11-31"}, [("period_end", "is not a calendar date")]),
        (
            {"period_end": "2024-12-31"},
            [("period_end", "a wage period is at most a month (Code on Wages 2019, s. 16)")],
        ),
        ({"days_worked": "26.3"}, [("days_worked", "must be a number of whole or half days, e.g. 26 or 25.5")]),
        ({"days_worked": "31"}, [("days_worked", "must be at most the 30 days of the period")]),
        (
            {"amount_paid": "₹13,000"},
            [("amount_paid", "must be rupees as digits with at most two decimals, e.g. 603.50")],
        ),
        ({"amount_paid": "=1+1"}, [("amount_paid", "must be rupees as digits with at most two decimals, e.g. 603.50")]),
        ({"skill_category": ""}, [("skill_category", "must be set, e.g. unskilled or semi_skilled")]),
        ({"sphere": "federal"}, [("sphere", "must be central or state")]),
        (
            {"deduction_housing": "-100"},
            [("deduction_housing", "must be rupees as digits with at most two decimals, e.g. 603.50")],
        ),
        ({"overtime_paid": "14000"}, [("overtime_paid", "is part of amount_paid, so cannot exceed it")]),
        ({"row_key": "k" * 129}, [("row_key", "must be at most 128 characters")]),
    ],
)
def test_each_problem_is_named_by_its_column(cells: dict[str, str], expected: list[tuple[str, str]]) -> None:
    assert problems(**cells) == expected


def test_all_problems_of_a_row_are_reported_together_and_values_never_echoed() -> None:
    found = problems(
        worker_code="9876543210", period_start="x", days_worked="abc", amount_paid="1e9", skill_category=""
    )
    assert [column for column, _ in found] == ["period_start", "days_worked", "amount_paid", "skill_category"]
    found = problems(worker_code="9876543210")
    assert found[0][0] == "worker_code" and all("9876543210" not in description for _, description in found)


def test_columns_are_checked_once_for_the_whole_file() -> None:
    assert check_columns(COLUMNS) == []
    assert (
        check_columns(
            ["worker_code", "worksite_id", "period_start", "period_end", "days_worked", "amount_paid", "skill_category"]
        )
        == []
    )
    assert check_columns(["worker_name", "worksite_id", "worksite_id", "amount_paid"]) == [
        FieldViolation("file", "unknown columns: worker_name"),
        FieldViolation("file", "columns named twice: worksite_id"),
        FieldViolation("file", "missing columns: period_start, period_end, days_worked, skill_category"),
        FieldViolation("file", "missing column: worker_id or worker_code"),
    ]
