"""Local Government Directory (LGD) codes, loaded once from the bundled CSV files."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class State:
    code: str
    name: str
    census_2011_code: str


@dataclass(frozen=True)
class District:
    code: str
    name: str
    state_code: str
    census_2011_code: str


@dataclass(frozen=True)
class SubDistrict:
    code: str
    name: str
    district_code: str
    state_code: str


def _rows(filename: str) -> list[list[str]]:
    text = resources.files("mrc_geography").joinpath("data", filename).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    return [[cell.strip() for cell in row] for row in rows[1:] if row]


class LGD:
    def __init__(self) -> None:
        self.states = {
            r[1]: State(code=r[1], name=r[3].title(), census_2011_code=r[6]) for r in _rows("lgd_states.csv")
        }
        self.districts = {
            r[2]: District(code=r[2], name=r[3], state_code=r[0], census_2011_code=r[5])
            for r in _rows("lgd_districts.csv")
        }
        self.subdistricts = {
            r[5]: SubDistrict(code=r[5], name=r[7], district_code=r[3], state_code=r[1])
            for r in _rows("lgd_subdistricts.csv")
        }

    def location_errors(self, state_code: str, district_code: str, subdistrict_code: str = "") -> dict[str, str]:
        """What is wrong with a place given by codes, keyed by the offending field; empty when valid."""
        errors: dict[str, str] = {}
        if state_code not in self.states:
            errors["state_code"] = f"unknown LGD state code {state_code!r}"
        district = self.districts.get(district_code)
        if district is None:
            errors["district_code"] = f"unknown LGD district code {district_code!r}"
        elif "state_code" not in errors and district.state_code != state_code:
            errors["district_code"] = f"district {district_code} ({district.name}) is not in state {state_code}"
        if subdistrict_code:
            sub = self.subdistricts.get(subdistrict_code)
            if sub is None:
                errors["subdistrict_code"] = f"unknown LGD sub-district code {subdistrict_code!r}"
            elif district is not None and sub.district_code != district_code:
                errors["subdistrict_code"] = f"sub-district {subdistrict_code} is not in district {district_code}"
        return errors


@functools.cache
def lgd() -> LGD:
    return LGD()
