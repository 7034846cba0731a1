"""The employer aggregate: an employer, contractor or recruitment agency that migrant workers deal with."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime

from mrc_geography import lgd
from mrc_kernel.errors import FieldViolation, InvalidArgument

MAX_LEGAL_NAME_LENGTH = 300
MAX_REGISTRATION_NUMBER_LENGTH = 64
MAX_VILLAGE_NAME_LENGTH = 200
# GSTINs, licence numbers under the Inter-State Migrant Workmen Act and the like: upper-case letters, digits, / and -.
REGISTRATION_NUMBER_RE = re.compile(r"^[A-Z0-9/-]+$")


class EmployerKind(enum.StrEnum):
    PRINCIPAL_EMPLOYER = "principal_employer"
    CONTRACTOR = "contractor"
    RECRUITMENT_AGENCY = "recruitment_agency"


class Sector(enum.StrEnum):
    """Broad sectors where internal migrants work (after the PLFS/NIC groups); a string on the wire."""

    CONSTRUCTION = "construction"
    AGRICULTURE = "agriculture"
    BRICK_KILN = "brick_kiln"
    DOMESTIC_WORK = "domestic_work"
    MANUFACTURING = "manufacturing"
    HOSPITALITY = "hospitality"
    TEXTILES = "textiles"
    FISHERIES = "fisheries"
    MINING = "mining"
    OTHER = "other"


SECTORS = frozenset(s.value for s in Sector)


@dataclass(frozen=True)
class Place:
    """A place in India by LGD codes; the village is free text (many have no code of their own)."""

    state_code: str
    district_code: str
    subdistrict_code: str = ""
    village_name: str = ""


@dataclass(frozen=True)
class EmployerRegistered:
    employer: Employer


DomainEvent = EmployerRegistered


@dataclass
class Employer:
    employer_id: str
    legal_name: str
    kind: EmployerKind
    sector: Sector
    location: Place
    # A public registration such as a GSTIN or a licence; empty when not known.
    registration_number: str
    registered_at: datetime
    # Events raised by the last change, not yet stored; the repository moves them into the outbox.
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls,
        *,
        employer_id: str,
        legal_name: str,
        kind: EmployerKind | None,
        sector: str,
        location: Place,
        registration_number: str,
        now: datetime,
    ) -> Employer:
        legal_name = " ".join(legal_name.split())
        sector = sector.strip()
        # Numbers are printed in capitals; accept what a field worker types in lower case.
        registration_number = registration_number.strip().upper()
        violations = _validate(legal_name, kind, sector, location, registration_number)
        if violations or kind is None:
            raise InvalidArgument(violations)
        employer = cls(
            employer_id=employer_id,
            legal_name=legal_name,
            kind=kind,
            sector=Sector(sector),
            location=location,
            registration_number=registration_number,
            registered_at=now,
        )
        employer.pending_events.append(EmployerRegistered(employer))
        return employer


def _validate(
    legal_name: str, kind: EmployerKind | None, sector: str, location: Place, registration_number: str
) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    if not legal_name:
        violations.append(FieldViolation("legal_name", "must not be empty"))
    elif len(legal_name) > MAX_LEGAL_NAME_LENGTH:
        violations.append(FieldViolation("legal_name", f"must be at most {MAX_LEGAL_NAME_LENGTH} characters"))
    if kind is None:
        violations.append(FieldViolation("kind", "must be set"))
    if not sector:
        violations.append(FieldViolation("sector", "must be set"))
    elif sector not in SECTORS:
        violations.append(FieldViolation("sector", f"must be one of {', '.join(s.value for s in Sector)}"))
    for name_of_field, problem in (
        lgd().location_errors(location.state_code, location.district_code, location.subdistrict_code).items()
    ):
        violations.append(FieldViolation(f"location.{name_of_field}", problem))
    if len(location.village_name) > MAX_VILLAGE_NAME_LENGTH:
        violations.append(
            FieldViolation("location.village_name", f"must be at most {MAX_VILLAGE_NAME_LENGTH} characters")
        )
    if len(registration_number) > MAX_REGISTRATION_NUMBER_LENGTH:
        violations.append(
            FieldViolation("registration_number", f"must be at most {MAX_REGISTRATION_NUMBER_LENGTH} characters")
        )
    elif registration_number and not REGISTRATION_NUMBER_RE.fullmatch(registration_number):
        violations.append(FieldViolation("registration_number", "may hold only letters A-Z, digits, '/' and '-'"))
    return violations
