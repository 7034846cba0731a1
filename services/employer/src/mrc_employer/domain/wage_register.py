"""Rows of an uploaded wage register (CSV or XLSX): one worker, one wage period per row.

The file itself is read by the shared tabular adapter; here a row is a dict of column -> text, and the
answer is a wage record or the list of what is wrong with it, each problem named by its column, so the
per-row report tells the uploader exactly which cell to fix. Values are never echoed in problems.

Columns (a header row, any order):
- `row_key` (optional): the uploader's own row reference; a re-upload of the same row is then idempotent.
- `worker_id` or `worker_code` (one of them): the registry worker id, or the employer's own worker
  code (never a phone or Aadhaar number).
- `worksite_id`: one of this organisation's worksites; its wage basis (sphere, scheduled employment,
  area) applies unless the row overrides it with `sphere`, `scheduled_employment` or `area`.
- `period_start`, `period_end`: YYYY-MM-DD, at most a month apart.
- `days_worked`: days actually worked (not weekly rest days), whole or half, e.g. 26 or 25.5.
- `amount_paid`: rupees actually paid to the worker for the period, e.g. 15678.50; `overtime_paid`
  (optional): the part of it that was overtime pay.
- `skill_category`: e.g. unskilled, semi_skilled, skilled, highly_skilled (labels such as
  "Semi-skilled" are accepted).
- `deduction_<kind>` (optional, rupees), one column per kind: social_security, tax_or_court_order,
  housing, amenities, advance_recovery, loan_recovery, cooperative_or_insurance, fine, damage_or_loss,
  absence, recruitment_fee, tools_or_equipment, security_deposit, other (see `wages` for which count).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from mrc_employer.domain.compliance_records import RecordSource
from mrc_employer.domain.minimum_wages import MinimumWageKey, MinimumWageTable, WageSphere
from mrc_employer.domain.values import ZERO, WorkerRef, key_of, parse_amount, parse_date, parse_days
from mrc_employer.domain.wages import Deduction, DeductionKind, WageInput, WageRecord, wage_violations
from mrc_employer.domain.worksites import Worksite
from mrc_kernel.errors import FieldViolation, InvalidArgument

DEDUCTION_PREFIX = "deduction_"
DEDUCTION_COLUMNS = {f"{DEDUCTION_PREFIX}{kind.value}": kind for kind in DeductionKind}
REQUIRED_COLUMNS = (
    "worksite_id",
    "period_start",
    "period_end",
    "days_worked",
    "amount_paid",
    "skill_category",
)
COLUMNS = (
    "row_key",
    "worker_id",
    "worker_code",
    *REQUIRED_COLUMNS,
    "overtime_paid",
    "scheduled_employment",
    "area",
    "sphere",
    *DEDUCTION_COLUMNS,
)
MAX_ROW_KEY_LENGTH = 128
# A domain field, as `wage_violations` names it, to the column an uploader fixes.
_COLUMN_OF_FIELD = {
    "worker": "worker_id",
    "worker.registry_worker_id": "worker_id",
    "worker.employer_worker_code": "worker_code",
    "state_code": "worksite_id",
}
_DEDUCTION_FIELD = re.compile(r"^deductions\.(\d+)")


def check_columns(headers: Sequence[str]) -> list[FieldViolation]:
    """What makes a whole file unreadable: unknown, repeated or missing columns."""
    named = [h.strip() for h in headers if h.strip()]
    found = []
    if unknown := sorted(set(named) - set(COLUMNS)):
        found.append(FieldViolation("file", f"unknown columns: {', '.join(unknown)}"))
    if repeated := sorted({h for h in named if named.count(h) > 1}):
        found.append(FieldViolation("file", f"columns named twice: {', '.join(repeated)}"))
    if missing := [c for c in REQUIRED_COLUMNS if c not in named]:
        found.append(FieldViolation("file", f"missing columns: {', '.join(missing)}"))
    if "worker_id" not in named and "worker_code" not in named:
        found.append(FieldViolation("file", "missing column: worker_id or worker_code"))
    return found


def parse_wage_row(row: Mapping[str, str], *, worksites: Mapping[str, Worksite]) -> WageInput | list[FieldViolation]:
    """The wage input a row asks for, or every problem with it (by column)."""
    cell = {name.strip(): (value or "").strip() for name, value in row.items() if name}
    problems: list[FieldViolation] = []
    if len(cell.get("row_key", "")) > MAX_ROW_KEY_LENGTH:
        problems.append(FieldViolation("row_key", f"must be at most {MAX_ROW_KEY_LENGTH} characters"))
    worksite_id = cell.get("worksite_id", "")
    worksite = worksites.get(worksite_id)
    if not worksite_id:
        problems.append(FieldViolation("worksite_id", "must be set"))
    elif worksite is None:
        problems.append(FieldViolation("worksite_id", "is not a worksite of this organisation"))
    start = parse_date("period_start", cell.get("period_start", ""), problems)
    end = parse_date("period_end", cell.get("period_end", ""), problems)
    days = parse_days("days_worked", cell.get("days_worked", ""), problems)
    paid = parse_amount("amount_paid", cell.get("amount_paid", ""), problems)
    overtime = parse_amount("overtime_paid", cell.get("overtime_paid", ""), problems, required=False)
    skill = key_of(cell.get("skill_category", ""))
    if not skill:
        problems.append(FieldViolation("skill_category", "must be set, e.g. unskilled or semi_skilled"))
    sphere: WageSphere | None = None
    if cell.get("sphere"):
        try:
            sphere = WageSphere(cell["sphere"].lower())
        except ValueError:
            problems.append(FieldViolation("sphere", "must be central or state"))
    deductions: list[tuple[str, Deduction]] = []
    for column, kind in DEDUCTION_COLUMNS.items():
        amount = parse_amount(column, cell.get(column, ""), problems, required=False)
        if amount is not None and amount > ZERO:
            deductions.append((column, Deduction(kind, amount)))
    if problems or worksite is None or start is None or end is None or days is None or paid is None:
        return problems
    basis = worksite.wage_basis
    given = WageInput(
        worker=WorkerRef(cell.get("worker_id", ""), cell.get("worker_code", "")),
        worksite_id=worksite_id,
        period_start=start,
        period_end=end,
        days_worked=days,
        amount_paid=paid,
        overtime_paid=overtime or ZERO,
        deductions=tuple(deduction for _, deduction in deductions),
        key=MinimumWageKey(
            sphere=sphere or basis.sphere,
            state_code=worksite.place.state_code,
            scheduled_employment=key_of(cell.get("scheduled_employment", "")) or basis.scheduled_employment,
            skill_category=skill,
            area=key_of(cell.get("area", "")) or basis.area,
        ),
    )
    columns = [column for column, _ in deductions]
    domain_problems = [FieldViolation(_column_of(v.field, columns), v.description) for v in wage_violations(given)]
    return domain_problems or given


def wage_record_from_row(
    row: Mapping[str, str],
    *,
    record_id: str,
    organisation_id: str,
    worksites: Mapping[str, Worksite],
    table: MinimumWageTable,
    source: RecordSource,
    now: datetime,
    batch_id: str = "",
) -> WageRecord | list[FieldViolation]:
    parsed = parse_wage_row(row, worksites=worksites)
    if isinstance(parsed, list):
        return parsed
    try:
        return WageRecord.record(
            record_id=record_id,
            organisation_id=organisation_id,
            given=parsed,
            table=table,
            source=source,
            now=now,
            batch_id=batch_id,
        )
    except InvalidArgument as invalid:  # pragma: no cover - parse_wage_row already applied the same rules
        return invalid.violations


def _column_of(field_path: str, deduction_columns: Sequence[str]) -> str:
    if found := _DEDUCTION_FIELD.match(field_path):
        position = int(found.group(1))
        if position < len(deduction_columns):
            return deduction_columns[position]
    return _COLUMN_OF_FIELD.get(field_path, field_path)
