"""Where a partner's or client's data access reaches, by LGD state and district codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mrc_geography import lgd
from mrc_kernel.errors import FieldViolation


@dataclass(frozen=True)
class Geography:
    """A place is inside when its state is listed (or none is) and its district is listed (or none is).

    Stored normalised: sorted, no duplicates, every listed district's state listed too, and every
    listed state holding a listed district whenever districts are listed (otherwise that state would
    silently grant nothing).
    """

    state_codes: tuple[str, ...] = ()
    district_codes: tuple[str, ...] = ()

    @property
    def unrestricted(self) -> bool:
        return not self.state_codes and not self.district_codes

    def covers(self, other: Geography) -> bool:
        """True when every place inside `other` is inside this geography."""
        if self.state_codes and not (other.state_codes and set(other.state_codes) <= set(self.state_codes)):
            return False
        return not self.district_codes or bool(
            other.district_codes and set(other.district_codes) <= set(self.district_codes)
        )

    @classmethod
    def parse(cls, state_codes: Sequence[str], district_codes: Sequence[str]) -> tuple[Geography, list[FieldViolation]]:
        """Validate codes against LGD; returns the normalised geography and what is wrong with the input."""
        directory = lgd()
        violations: list[FieldViolation] = []
        states = sorted({code.strip() for code in state_codes})
        districts = sorted({code.strip() for code in district_codes})
        for code in states:
            if code not in directory.states:
                violations.append(FieldViolation("state_codes", f"unknown LGD state code {code!r}"))
        states_of_districts: set[str] = set()
        for code in districts:
            district = directory.districts.get(code)
            if district is None:
                violations.append(FieldViolation("district_codes", f"unknown LGD district code {code!r}"))
                continue
            states_of_districts.add(district.state_code)
            if states and district.state_code not in states:
                violations.append(
                    FieldViolation(
                        "district_codes",
                        f"district {code} ({district.name}) is in state {district.state_code}, which is not listed",
                    )
                )
        if districts and not states:
            states = sorted(states_of_districts)
        elif districts:
            for code in states:
                if code in directory.states and code not in states_of_districts:
                    violations.append(
                        FieldViolation(
                            "state_codes",
                            f"state {code} has none of the listed districts; list one or leave district_codes empty",
                        )
                    )
        return cls(tuple(states), tuple(districts)), violations
