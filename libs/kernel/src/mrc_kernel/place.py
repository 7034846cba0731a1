"""A place in India by LGD codes (Local Government Directory), the geography every service shares."""

from __future__ import annotations

from dataclasses import dataclass

from mrc_geography import lgd
from mrc_kernel.errors import FieldViolation

MAX_VILLAGE_NAME_LENGTH = 200


@dataclass(frozen=True)
class Place:
    """A state and district by LGD code, optionally a sub-district; the village is free text (many have no
    LGD code of their own)."""

    state_code: str
    district_code: str
    subdistrict_code: str = ""
    village_name: str = ""

    def violations(self, prefix: str) -> list[FieldViolation]:
        """What is wrong with this place, each named `<prefix>.<field>` (e.g. `home.district_code`)."""
        found = [
            FieldViolation(f"{prefix}.{name}", problem)
            for name, problem in lgd()
            .location_errors(self.state_code, self.district_code, self.subdistrict_code)
            .items()
        ]
        if len(self.village_name) > MAX_VILLAGE_NAME_LENGTH:
            found.append(
                FieldViolation(f"{prefix}.village_name", f"must be at most {MAX_VILLAGE_NAME_LENGTH} characters")
            )
        return found

    @property
    def scope(self) -> tuple[str, str]:
        """(state, district): what access scoping compares with a caller's geography."""
        return (self.state_code, self.district_code)
