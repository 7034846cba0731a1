"""Licences that allow an organisation to supply or recruit workers, with their validity.

No national number format is published for any of them, so numbers are kept as the authority printed
them (checked as text), with the issuing authority and the validity dates that decide standing:

- ISMW contractor licence: Inter-State Migrant Workmen (Regulation of Employment and Conditions of
  Service) Act 1979, s. 8 (Form VIII of the Central Rules 1980), issued by the licensing officer of the
  state or the centre. The Act is repealed by the Occupational Safety, Health and Working Conditions
  Code 2020 (in force from 21 November 2025); a licence issued under it is recorded with the validity
  printed on it.
- OSH contractor licence: OSH Code 2020 s. 47 (including the work-specific licence of s. 47(2)), from
  the authority of s. 119; a contractor working in more than one state may hold a central licence.
- Recruiting agent registration certificate (RC): Emigration Act 1983 s. 10, issued by the Protector
  General of Emigrants for recruitment abroad. The Ministry of External Affairs states an RC is first
  valid for five years, so a longer validity is refused. Certificates seen in public carry a serial
  such as `B-1794` before the rest of the number (`B-1794/PUN/PER/100/5/10094/2022`); the eMigrate
  list is searched by it, so the serial is kept as a lookup key when present.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import date

from mrc_employer.domain.identifiers import canonical
from mrc_employer.domain.values import check_text, parse_date
from mrc_geography import lgd
from mrc_kernel.errors import FieldViolation

MAX_LICENCE_NUMBER_LENGTH = 80
MAX_AUTHORITY_LENGTH = 200
MAX_LICENSED_WORKERS = 100_000
EMIGRATION_RC_MAX_YEARS = 5
_LICENCE_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 ./()+-]*$")
_RA_SERIAL = re.compile(r"^(?:RA[ /-]?)?(B-[0-9]{1,5})(?:/|$)")


class LicenceKind(enum.StrEnum):
    ISMW_CONTRACTOR = "ismw_contractor"
    OSH_CONTRACTOR = "osh_contractor"
    EMIGRATION_RECRUITING_AGENT = "emigration_recruiting_agent"


class LicenceStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class LicenceInput:
    """A licence as a caller states it: text fields, dates as YYYY-MM-DD."""

    kind: LicenceKind | None
    number: str
    issuing_authority: str
    valid_from: str
    valid_until: str
    # LGD code of the issuing state; empty for a central (all-India) authority.
    issuing_state_code: str = ""
    max_workers: int | None = None


@dataclass(frozen=True)
class Licence:
    kind: LicenceKind
    number: str  # upper case, single spaces
    issuing_authority: str
    valid_from: date
    valid_until: date  # the last day it is valid
    issuing_state_code: str = ""
    max_workers: int | None = None
    status: LicenceStatus = LicenceStatus.ACTIVE
    status_reason: str = ""

    def valid_on(self, day: date) -> bool:
        return self.status is LicenceStatus.ACTIVE and self.valid_from <= day <= self.valid_until

    @property
    def lookup_keys(self) -> frozenset[str]:
        """What a member of the public may type to find it (see `identifiers.canonical`): the number, and an
        RC's serial."""
        keys = {canonical(self.number)}
        if self.kind is LicenceKind.EMIGRATION_RECRUITING_AGENT and (serial := _RA_SERIAL.match(self.number)):
            keys.add(canonical(serial.group(1)))
        return frozenset(keys)

    def with_status(self, status: LicenceStatus, reason: str) -> Licence:
        return replace(self, status=status, status_reason=reason)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def parse_licence(path: str, given: LicenceInput, violations: list[FieldViolation]) -> Licence | None:
    found: list[FieldViolation] = []
    if given.kind is None:
        found.append(FieldViolation(f"{path}.kind", f"must be one of {', '.join(k.value for k in LicenceKind)}"))
    number = " ".join(given.number.split()).upper()
    if not number:
        found.append(FieldViolation(f"{path}.number", "must be set, as printed on the licence"))
    elif len(number) > MAX_LICENCE_NUMBER_LENGTH:
        found.append(FieldViolation(f"{path}.number", f"must be at most {MAX_LICENCE_NUMBER_LENGTH} characters"))
    elif not _LICENCE_NUMBER.fullmatch(number):
        found.append(FieldViolation(f"{path}.number", "may hold letters, digits, spaces and . / ( ) + -"))
    authority = check_text(
        f"{path}.issuing_authority", given.issuing_authority, found, max_length=MAX_AUTHORITY_LENGTH, required=True
    )
    state_code = given.issuing_state_code.strip()
    if state_code and state_code not in lgd().states:
        found.append(FieldViolation(f"{path}.issuing_state_code", f"unknown LGD state code {state_code!r}"))
    valid_from = parse_date(f"{path}.valid_from", given.valid_from, found)
    valid_until = parse_date(f"{path}.valid_until", given.valid_until, found)
    if valid_from and valid_until:
        if valid_until < valid_from:
            found.append(FieldViolation(f"{path}.valid_until", "must not be before valid_from"))
        elif given.kind is LicenceKind.EMIGRATION_RECRUITING_AGENT and valid_until > _years_later(
            valid_from, EMIGRATION_RC_MAX_YEARS
        ):
            found.append(
                FieldViolation(
                    f"{path}.valid_until",
                    "a recruiting agent's registration certificate is valid for at most "
                    f"{EMIGRATION_RC_MAX_YEARS} years",
                )
            )
    if given.max_workers is not None and not 1 <= given.max_workers <= MAX_LICENSED_WORKERS:
        found.append(FieldViolation(f"{path}.max_workers", f"must be between 1 and {MAX_LICENSED_WORKERS}"))
    violations.extend(found)
    if found or given.kind is None or valid_from is None or valid_until is None:
        return None
    return Licence(
        kind=given.kind,
        number=number,
        issuing_authority=authority,
        valid_from=valid_from,
        valid_until=valid_until,
        issuing_state_code=state_code,
        max_workers=given.max_workers,
    )
