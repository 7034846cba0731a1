"""The worker aggregate: who a migrant worker is, as the registry records them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from mrc_geography import lgd
from mrc_plumbing.errors import FieldViolation, InvalidArgument

MAX_NAME_LENGTH = 200
EARLIEST_BIRTH_YEAR = 1900
# Child labour is a risk we record, not a reason to refuse registration; but nobody under 10 migrates for work.
YOUNGEST_AGE_YEARS = 10


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    TRANSGENDER = "transgender"
    UNDISCLOSED = "undisclosed"


@dataclass(frozen=True)
class Place:
    """A place in India by LGD codes; the village is free text (many have no code of their own)."""

    state_code: str
    district_code: str
    subdistrict_code: str = ""
    village_name: str = ""


@dataclass(frozen=True)
class WorkerRegistered:
    worker: Worker


DomainEvent = WorkerRegistered


@dataclass
class Worker:
    worker_id: str
    full_name: str
    gender: Gender
    birth_year: int | None
    home: Place
    occupation: str
    registering_partner_id: str
    registered_at: datetime
    updated_at: datetime
    version: int = 1
    # Events raised by the last change, not yet stored; the repository moves them into the outbox.
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls,
        *,
        worker_id: str,
        full_name: str,
        gender: Gender | None,
        birth_year: int | None,
        home: Place,
        occupation: str,
        registering_partner_id: str,
        now: datetime,
    ) -> Worker:
        violations = _validate(full_name, birth_year, home, occupation, now)
        if gender is None:
            violations.insert(0, FieldViolation("gender", "must be set"))
        if violations or gender is None:
            raise InvalidArgument(violations)
        worker = cls(
            worker_id=worker_id,
            full_name=" ".join(full_name.split()),
            gender=gender,
            birth_year=birth_year,
            home=home,
            occupation=occupation.strip(),
            registering_partner_id=registering_partner_id,
            registered_at=now,
            updated_at=now,
        )
        worker.pending_events.append(WorkerRegistered(worker))
        return worker


def _validate(
    full_name: str, birth_year: int | None, home: Place, occupation: str, now: datetime
) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    name = " ".join(full_name.split())
    if not name:
        violations.append(FieldViolation("full_name", "must not be empty"))
    elif len(name) > MAX_NAME_LENGTH:
        violations.append(FieldViolation("full_name", f"must be at most {MAX_NAME_LENGTH} characters"))
    if birth_year is not None and not EARLIEST_BIRTH_YEAR <= birth_year <= now.year - YOUNGEST_AGE_YEARS:
        violations.append(
            FieldViolation("birth_year", f"must be between {EARLIEST_BIRTH_YEAR} and {now.year - YOUNGEST_AGE_YEARS}")
        )
    for name_of_field, problem in (
        lgd().location_errors(home.state_code, home.district_code, home.subdistrict_code).items()
    ):
        violations.append(FieldViolation(f"home.{name_of_field}", problem))
    if len(home.village_name) > MAX_NAME_LENGTH:
        violations.append(FieldViolation("home.village_name", f"must be at most {MAX_NAME_LENGTH} characters"))
    if len(occupation) > MAX_NAME_LENGTH:
        violations.append(FieldViolation("occupation", f"must be at most {MAX_NAME_LENGTH} characters"))
    return violations
