"""Partners: the organisations taking part in the collaborative, and what each kind may be granted."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mrc_access.domain.geography import Geography
from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.roles import Role

MAX_NAME_LENGTH = 200
MAX_EMPLOYER_ID_LENGTH = 64


class PartnerKind(enum.StrEnum):
    CSO = "cso"
    GOVERNMENT = "government"
    EMPLOYER = "employer"
    AUDITOR = "auditor"
    OPERATOR = "operator"


# Roles a client may hold, by the kind of its partner: an employer must never hold a role that sees
# complaints against it, and only operators administer the platform.
ROLES_BY_PARTNER_KIND: dict[PartnerKind, frozenset[Role]] = {
    PartnerKind.CSO: frozenset({Role.REGISTRAR, Role.CASEWORKER, Role.SUPERVISOR, Role.HELPLINE_AGENT, Role.PUBLIC}),
    PartnerKind.GOVERNMENT: frozenset(
        {Role.REGISTRAR, Role.CASEWORKER, Role.SUPERVISOR, Role.HELPLINE_AGENT, Role.PUBLIC}
    ),
    PartnerKind.EMPLOYER: frozenset({Role.EMPLOYER, Role.PUBLIC}),
    PartnerKind.AUDITOR: frozenset({Role.AUDITOR, Role.PUBLIC}),
    PartnerKind.OPERATOR: frozenset({Role.OPERATOR, Role.PUBLIC}),
}


@dataclass(frozen=True)
class PartnerRegistered:
    partner: Partner


@dataclass
class Partner:
    partner_id: str
    name: str
    kind: PartnerKind
    geography: Geography
    employer_id: str
    created_at: datetime
    # Events raised by the last change, not yet stored; the repository moves them into the outbox.
    pending_events: list[PartnerRegistered] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls,
        *,
        partner_id: str,
        name: str,
        kind: PartnerKind | None,
        state_codes: Sequence[str],
        district_codes: Sequence[str],
        employer_id: str,
        now: datetime,
    ) -> Partner:
        violations: list[FieldViolation] = []
        clean_name = " ".join(name.split())
        if not clean_name:
            violations.append(FieldViolation("name", "must not be empty"))
        elif len(clean_name) > MAX_NAME_LENGTH:
            violations.append(FieldViolation("name", f"must be at most {MAX_NAME_LENGTH} characters"))
        if kind is None:
            violations.append(FieldViolation("kind", "must be set"))
        geography, geography_violations = Geography.parse(state_codes, district_codes)
        violations.extend(geography_violations)
        employer_id = employer_id.strip()
        if kind is PartnerKind.EMPLOYER and not employer_id:
            violations.append(FieldViolation("employer_id", "must be set for an employer partner"))
        elif kind is not PartnerKind.EMPLOYER and employer_id:
            violations.append(FieldViolation("employer_id", "is only for employer partners"))
        elif len(employer_id) > MAX_EMPLOYER_ID_LENGTH:
            violations.append(FieldViolation("employer_id", f"must be at most {MAX_EMPLOYER_ID_LENGTH} characters"))
        if violations or kind is None:
            raise InvalidArgument(violations)
        partner = cls(
            partner_id=partner_id,
            name=clean_name,
            kind=kind,
            geography=geography,
            employer_id=employer_id,
            created_at=now,
        )
        partner.pending_events.append(PartnerRegistered(partner))
        return partner
