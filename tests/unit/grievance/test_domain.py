from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mrc_grievance.domain.grievance import (
    MAX_SUMMARY_LENGTH,
    Grievance,
    GrievanceCategory,
    GrievanceFiled,
    GrievanceStatus,
    IntakeChannel,
)
from mrc_kernel.errors import InvalidArgument

from .fakes import ARARIA, NOW


def file(**overrides: Any) -> Grievance:
    values: dict[str, Any] = {
        "grievance_id": "g-1",
        "worker_id": "worker-1",
        "category": GrievanceCategory.WAGE_THEFT,
        "channel": IntakeChannel.FIELD,
        "summary": "Wages withheld since January.",
        "location": ARARIA,
        "employer_id": "",
        "anonymous": False,
        "filed_by_partner_id": "partner-a",
        "now": NOW,
    }
    values.update(overrides)
    return Grievance.file(**values)


def test_filing_opens_the_grievance_and_raises_one_event() -> None:
    grievance = file(summary="  Wages withheld.\nTwo workers injured.  ", employer_id=" employer-7 ")

    assert grievance.status is GrievanceStatus.OPEN
    assert grievance.summary == "Wages withheld.\nTwo workers injured."
    assert grievance.employer_id == "employer-7"
    assert grievance.filed_at == NOW
    assert grievance.filed_by_partner_id == "partner-a"
    assert grievance.pending_events == [GrievanceFiled(grievance)]


def test_an_anonymous_grievance_has_no_worker() -> None:
    grievance = file(worker_id="", anonymous=True)

    assert grievance.anonymous
    assert grievance.worker_id == ""


def test_summary_may_be_exactly_the_maximum_length() -> None:
    assert len(file(summary="x" * MAX_SUMMARY_LENGTH).summary) == MAX_SUMMARY_LENGTH


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"summary": ""}, "summary"),
        ({"summary": "  \n "}, "summary"),
        ({"summary": "x" * (MAX_SUMMARY_LENGTH + 1)}, "summary"),
        ({"category": None}, "category"),
        ({"channel": None}, "channel"),
        ({"anonymous": True}, "worker_id"),
        ({"worker_id": "", "anonymous": False}, "worker_id"),
        ({"worker_id": "   "}, "worker_id"),
        ({"worker_id": "w" * 65}, "worker_id"),
        ({"employer_id": "e" * 65}, "employer_id"),
        ({"location": replace(ARARIA, state_code="99")}, "location.state_code"),
        ({"location": replace(ARARIA, district_code="603", subdistrict_code="")}, "location.district_code"),
        ({"location": replace(ARARIA, subdistrict_code="999999")}, "location.subdistrict_code"),
        ({"location": replace(ARARIA, village_name="v" * 201)}, "location.village_name"),
    ],
)
def test_each_invalid_field_is_named(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        file(**overrides)

    assert [v.field for v in caught.value.violations] == [field]


def test_all_violations_are_reported_together() -> None:
    with pytest.raises(InvalidArgument) as caught:
        file(summary="", category=None, channel=None, worker_id="", location=replace(ARARIA, state_code="99"))

    fields = {v.field for v in caught.value.violations}
    assert {"summary", "category", "channel", "worker_id", "location.state_code"} <= fields
