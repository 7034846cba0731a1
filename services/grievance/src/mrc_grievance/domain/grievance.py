"""The grievance aggregate: a complaint or request for help, from a worker or on their behalf."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from mrc_geography import lgd
from mrc_kernel.errors import FieldViolation, InvalidArgument

MAX_SUMMARY_LENGTH = 4000
MAX_ID_LENGTH = 64
MAX_VILLAGE_NAME_LENGTH = 200


class GrievanceCategory(enum.StrEnum):
    WAGE_THEFT = "wage_theft"
    RECRUITMENT_FEE = "recruitment_fee"
    UNSAFE_WORK = "unsafe_work"
    TRAFFICKING = "trafficking"
    MISSING_PERSON = "missing_person"
    ENTITLEMENT_DENIED = "entitlement_denied"
    OTHER = "other"


class IntakeChannel(enum.StrEnum):
    HELPLINE = "helpline"
    FIELD = "field"
    PARTNER_API = "partner_api"


class GrievanceStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


@dataclass(frozen=True)
class Place:
    """Where the grievance arose, by LGD codes; the village is free text (many have no code of their own)."""

    state_code: str
    district_code: str
    subdistrict_code: str = ""
    village_name: str = ""


@dataclass(frozen=True)
class GrievanceFiled:
    grievance: Grievance


DomainEvent = GrievanceFiled


@dataclass
class Grievance:
    grievance_id: str
    # Empty for anonymous reports.
    worker_id: str
    category: GrievanceCategory
    channel: IntakeChannel
    summary: str
    location: Place
    # The employer, contractor or agency complained about, if known.
    employer_id: str
    status: GrievanceStatus
    anonymous: bool
    filed_at: datetime
    # The partner whose client filed it. Internal: stored, never published or returned (no contract field).
    filed_by_partner_id: str
    # Events raised by the last change, not yet stored; the repository moves them into the outbox.
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def file(
        cls,
        *,
        grievance_id: str,
        worker_id: str,
        category: GrievanceCategory | None,
        channel: IntakeChannel | None,
        summary: str,
        location: Place,
        employer_id: str,
        anonymous: bool,
        filed_by_partner_id: str,
        now: datetime,
    ) -> Grievance:
        worker_id = worker_id.strip()
        employer_id = employer_id.strip()
        summary = summary.strip()
        violations = _validate(worker_id, category, channel, summary, location, employer_id, anonymous)
        if violations or category is None or channel is None:
            raise InvalidArgument(violations)
        grievance = cls(
            grievance_id=grievance_id,
            worker_id=worker_id,
            category=category,
            channel=channel,
            summary=summary,
            location=location,
            employer_id=employer_id,
            status=GrievanceStatus.OPEN,
            anonymous=anonymous,
            filed_at=now,
            filed_by_partner_id=filed_by_partner_id,
        )
        grievance.pending_events.append(GrievanceFiled(grievance))
        return grievance


def _validate(
    worker_id: str,
    category: GrievanceCategory | None,
    channel: IntakeChannel | None,
    summary: str,
    location: Place,
    employer_id: str,
    anonymous: bool,
) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    if anonymous and worker_id:
        violations.append(FieldViolation("worker_id", "must be empty when the grievance is anonymous"))
    elif not anonymous and not worker_id:
        violations.append(FieldViolation("worker_id", "must be set unless the grievance is anonymous"))
    elif len(worker_id) > MAX_ID_LENGTH:
        violations.append(FieldViolation("worker_id", f"must be at most {MAX_ID_LENGTH} characters"))
    if category is None:
        violations.append(FieldViolation("category", "must be set"))
    if channel is None:
        violations.append(FieldViolation("channel", "must be set"))
    if not summary:
        violations.append(FieldViolation("summary", "must not be empty"))
    elif len(summary) > MAX_SUMMARY_LENGTH:
        violations.append(FieldViolation("summary", f"must be at most {MAX_SUMMARY_LENGTH} characters"))
    for name_of_field, problem in (
        lgd().location_errors(location.state_code, location.district_code, location.subdistrict_code).items()
    ):
        violations.append(FieldViolation(f"location.{name_of_field}", problem))
    if len(location.village_name) > MAX_VILLAGE_NAME_LENGTH:
        violations.append(
            FieldViolation("location.village_name", f"must be at most {MAX_VILLAGE_NAME_LENGTH} characters")
        )
    if len(employer_id) > MAX_ID_LENGTH:
        violations.append(FieldViolation("employer_id", f"must be at most {MAX_ID_LENGTH} characters"))
    return violations
