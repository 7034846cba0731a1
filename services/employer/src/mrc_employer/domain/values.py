"""Small value types and parsers the employer domain shares: rupee amounts, day counts, dates, keys.

Inputs arrive as text (REST bodies, gRPC strings, wage-register cells), so each parser takes the
field's dotted path and a list to append violations to: one bad cell never hides another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from mrc_kernel.errors import FieldViolation

PAISA = Decimal("0.01")
HALF_DAY = Decimal("0.5")
ZERO = Decimal(0)
# No single wage payment or recruitment cost we record comes near a crore; a bigger number is a typo.
MAX_AMOUNT_INR = Decimal(10_000_000)
MAX_ID_LENGTH = 64
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]{1,2})?$")
_DAYS = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_HOURS = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
_KEY = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
_NOT_KEY_CHARACTERS = re.compile(r"[^a-z0-9]+")
# Indian mobile numbers (10 digits from 6) and Aadhaar numbers (12 digits): never an employer's worker code.
_LOOKS_PERSONAL = re.compile(r"^(?:\+?91)?[6-9][0-9]{9}$|^[0-9]{12}$")
_WORKER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$")


def rupees(value: Decimal | int | str) -> Decimal:
    """An amount in rupees, to the paisa (half up, as payslips round)."""
    return Decimal(value).quantize(PAISA, rounding=ROUND_HALF_UP)


def key_of(label: str) -> str:
    """The lower-case key of a label as a notification prints it: 'Semi-skilled' -> 'semi_skilled'."""
    return _NOT_KEY_CHARACTERS.sub("_", label.strip().lower()).strip("_")


def is_key(value: str) -> bool:
    return bool(_KEY.fullmatch(value))


def parse_date(path: str, value: str, violations: list[FieldViolation], *, required: bool = True) -> date | None:
    value = value.strip()
    if not value:
        if required:
            violations.append(FieldViolation(path, "must be set (YYYY-MM-DD)"))
        return None
    if not _ISO_DATE.fullmatch(value):
        violations.append(FieldViolation(path, "must be a date as YYYY-MM-DD"))
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        violations.append(FieldViolation(path, "is not a calendar date"))
        return None


def parse_amount(
    path: str, value: str, violations: list[FieldViolation], *, required: bool = True, positive: bool = False
) -> Decimal | None:
    """Rupees as digits with at most two decimals ('603', '603.50'); no signs, commas or currency symbols."""
    value = value.strip()
    if not value:
        if required:
            violations.append(FieldViolation(path, "must be set (rupees, e.g. 603 or 603.50)"))
        return None
    if not _AMOUNT.fullmatch(value):
        violations.append(FieldViolation(path, "must be rupees as digits with at most two decimals, e.g. 603.50"))
        return None
    amount = Decimal(value)
    if amount > MAX_AMOUNT_INR:
        violations.append(FieldViolation(path, f"must be at most {MAX_AMOUNT_INR} rupees"))
        return None
    if positive and amount <= ZERO:
        violations.append(FieldViolation(path, "must be more than 0"))
        return None
    return rupees(amount)


def parse_days(path: str, value: str, violations: list[FieldViolation]) -> Decimal | None:
    """Days worked, in whole or half days ('26', '25.5')."""
    value = value.strip()
    if not value:
        violations.append(FieldViolation(path, "must be set (days, e.g. 26 or 25.5)"))
        return None
    try:
        days = Decimal(value) if _DAYS.fullmatch(value) else None
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        days = None
    if days is None or days % HALF_DAY != ZERO:
        violations.append(FieldViolation(path, "must be a number of whole or half days, e.g. 26 or 25.5"))
        return None
    return days


def parse_hours(path: str, value: str, violations: list[FieldViolation]) -> Decimal | None:
    """Hours as a decimal number ('56', '52.5'); empty means not observed."""
    value = value.strip()
    if not value:
        return None
    if not _HOURS.fullmatch(value):
        violations.append(FieldViolation(path, "must be a number of hours, e.g. 56 or 52.5"))
        return None
    return Decimal(value)


def check_id(path: str, value: str, violations: list[FieldViolation], *, required: bool = True) -> str:
    value = value.strip()
    if not value:
        if required:
            violations.append(FieldViolation(path, "must be set"))
    elif len(value) > MAX_ID_LENGTH:
        violations.append(FieldViolation(path, f"must be at most {MAX_ID_LENGTH} characters"))
    return value


def check_text(path: str, value: str, violations: list[FieldViolation], *, max_length: int, required: bool) -> str:
    value = " ".join(value.split())
    if not value:
        if required:
            violations.append(FieldViolation(path, "must not be empty"))
    elif len(value) > max_length:
        violations.append(FieldViolation(path, f"must be at most {max_length} characters"))
    return value


def looks_personal(text: str) -> bool:
    """Whether text looks like a phone or Aadhaar number (kept out of reports and logs)."""
    return bool(_LOOKS_PERSONAL.fullmatch(text.replace(" ", "").replace("-", "")))


@dataclass(frozen=True)
class WorkerRef:
    """Whom a record is about, by reference only: a registry worker id, or the employer's own worker code.

    Never a name, a phone number or an identity number: the record is about a payment or a practice,
    and the registry (under consent) is where a worker is a person.
    """

    registry_worker_id: str = ""
    employer_worker_code: str = ""

    def violations(self, path: str) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        worker_id, code = self.registry_worker_id.strip(), self.employer_worker_code.strip()
        if bool(worker_id) == bool(code):
            found.append(FieldViolation(path, "give exactly one of registry_worker_id and employer_worker_code"))
            return found
        check_id(f"{path}.registry_worker_id", worker_id, found, required=False)
        if code:
            if len(code) > MAX_ID_LENGTH:
                found.append(
                    FieldViolation(f"{path}.employer_worker_code", f"must be at most {MAX_ID_LENGTH} characters")
                )
            elif _LOOKS_PERSONAL.fullmatch(code.replace(" ", "")):
                found.append(
                    FieldViolation(
                        f"{path}.employer_worker_code",
                        "looks like a phone or Aadhaar number: use the employer's own worker code, "
                        "never a personal number",
                    )
                )
            elif not _WORKER_CODE.fullmatch(code):
                found.append(
                    FieldViolation(
                        f"{path}.employer_worker_code", "may hold only letters, digits, '/', '_', '.' and '-'"
                    )
                )
        return found

    def tidy(self) -> WorkerRef:
        return WorkerRef(self.registry_worker_id.strip(), self.employer_worker_code.strip())
