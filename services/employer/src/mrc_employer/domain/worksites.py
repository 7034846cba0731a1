"""Worksites: where an organisation's workers work, by LGD place, sector and kind.

A worksite also says which minimum wage applies there by default (central or state sphere, the
scheduled employment and the area class), so a wage register names only each worker's skill.
A household (domestic work) is recorded without a name: the household is a family, not a business.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from mrc_employer.domain.minimum_wages import WageSphere
from mrc_employer.domain.values import check_id, check_text, is_key
from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Sector

MAX_WORKSITE_NAME_LENGTH = 200


class WorksiteKind(enum.StrEnum):
    CONSTRUCTION_SITE = "construction_site"
    BRICK_KILN = "brick_kiln"
    FACTORY = "factory"
    FARM = "farm"
    HOUSEHOLD = "household"
    MINE = "mine"
    PLANTATION = "plantation"
    OTHER = "other"


@dataclass(frozen=True)
class WageBasis:
    """The minimum-wage row family a worksite's workers are paid under, all but the skill."""

    sphere: WageSphere
    scheduled_employment: str  # key, e.g. "construction", "agriculture", "all_scheduled_employments"
    area: str = ""  # key, e.g. "a", "b", "c", "below_ground"; empty where the state has one rate

    def violations(self, path: str) -> list[FieldViolation]:
        found = []
        if not is_key(self.scheduled_employment):
            found.append(
                FieldViolation(f"{path}.scheduled_employment", "must be a key such as construction or agriculture")
            )
        if self.area and not is_key(self.area):
            found.append(FieldViolation(f"{path}.area", "must be a key such as a, b, c or below_ground"))
        return found


@dataclass(frozen=True)
class WorksiteAdded:
    worksite: Worksite


@dataclass
class Worksite:
    worksite_id: str
    organisation_id: str
    kind: WorksiteKind
    sector: Sector
    place: Place
    wage_basis: WageBasis
    name: str
    added_at: datetime
    version: int = 1
    pending_events: list[WorksiteAdded] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def add(
        cls,
        *,
        worksite_id: str,
        organisation_id: str,
        kind: WorksiteKind | None,
        sector: str,
        place: Place,
        wage_basis: WageBasis,
        name: str = "",
        now: datetime,
    ) -> Worksite:
        violations: list[FieldViolation] = []
        organisation_id = check_id("organisation_id", organisation_id, violations)
        if kind is None:
            violations.append(FieldViolation("kind", f"must be one of {', '.join(k.value for k in WorksiteKind)}"))
        sector = sector.strip()
        if sector not in {s.value for s in Sector}:
            violations.append(FieldViolation("sector", f"must be one of {', '.join(s.value for s in Sector)}"))
        violations += place.violations("place")
        name = check_text("name", name, violations, max_length=MAX_WORKSITE_NAME_LENGTH, required=False)
        if kind is WorksiteKind.HOUSEHOLD and name:
            violations.append(FieldViolation("name", "a household is recorded without a name (it names a family)"))
        violations += wage_basis.violations("wage_basis")
        if violations or kind is None:
            raise InvalidArgument(violations)
        worksite = cls(
            worksite_id=worksite_id,
            organisation_id=organisation_id,
            kind=kind,
            sector=Sector(sector),
            place=place,
            wage_basis=wage_basis,
            name=name,
            added_at=now,
        )
        worksite.pending_events.append(WorksiteAdded(worksite))
        return worksite

    @property
    def scope(self) -> tuple[str, str]:
        return self.place.scope
