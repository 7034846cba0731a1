from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mrc_employer.domain.employer import (
    MAX_LEGAL_NAME_LENGTH,
    Employer,
    EmployerKind,
    EmployerRegistered,
    Sector,
)
from mrc_kernel.errors import InvalidArgument

from .fakes import ARARIA, NOW


def register(**overrides: Any) -> Employer:
    values: dict[str, Any] = {
        "employer_id": "e-1",
        "legal_name": "Shree Ganesh Bricks Pvt Ltd",
        "kind": EmployerKind.CONTRACTOR,
        "sector": "brick_kiln",
        "location": ARARIA,
        "registration_number": "",
        "now": NOW,
    }
    values.update(overrides)
    return Employer.register(**values)


def test_registering_raises_one_event_and_normalises_text() -> None:
    employer = register(legal_name="  Shree   Ganesh\tBricks ", registration_number=" isMW/2019-44 ")

    assert employer.legal_name == "Shree Ganesh Bricks"
    assert employer.sector is Sector.BRICK_KILN
    assert employer.registration_number == "ISMW/2019-44"
    assert employer.registered_at == NOW
    assert employer.pending_events == [EmployerRegistered(employer)]


@pytest.mark.parametrize("sector", [s.value for s in Sector])
def test_every_sector_in_the_vocabulary_is_accepted(sector: str) -> None:
    assert register(sector=sector).sector.value == sector


def test_registration_number_is_optional() -> None:
    assert register(registration_number="").registration_number == ""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_name": ""}, "legal_name"),
        ({"legal_name": " \t "}, "legal_name"),
        ({"legal_name": "x" * (MAX_LEGAL_NAME_LENGTH + 1)}, "legal_name"),
        ({"kind": None}, "kind"),
        ({"sector": ""}, "sector"),
        ({"sector": "software"}, "sector"),
        ({"sector": "Construction"}, "sector"),
        ({"registration_number": "X" * 65}, "registration_number"),
        ({"registration_number": "GST 123"}, "registration_number"),
        ({"registration_number": "AB_12"}, "registration_number"),
        ({"location": replace(ARARIA, state_code="99")}, "location.state_code"),
        ({"location": replace(ARARIA, district_code="603", subdistrict_code="")}, "location.district_code"),
        ({"location": replace(ARARIA, subdistrict_code="999999")}, "location.subdistrict_code"),
        ({"location": replace(ARARIA, village_name="v" * 201)}, "location.village_name"),
    ],
)
def test_each_invalid_field_is_named(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        register(**overrides)

    assert [v.field for v in caught.value.violations] == [field]


def test_all_violations_are_reported_together() -> None:
    with pytest.raises(InvalidArgument) as caught:
        register(legal_name="", kind=None, sector="", location=replace(ARARIA, state_code="99"))

    fields = {v.field for v in caught.value.violations}
    assert {"legal_name", "kind", "sector", "location.state_code"} <= fields
