"""Cases, actors and places for the domain tests, and a clock the tests move by hand."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mrc_grievance.domain.case import Case
from mrc_grievance.domain.parties import Actor, RegisteredEmployer, RegisteredWorker, Reporter
from mrc_grievance.domain.protected import Sealed
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import (
    CaseStatus,
    Category,
    Confidentiality,
    IntakeChannel,
    Outcome,
    ReferralTarget,
    ReporterRelation,
)
from mrc_kernel.place import Place

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PATNA = Place(state_code="10", district_code="212", subdistrict_code="1415", village_name="Phulwari")
CHENNAI = Place(state_code="33", district_code="568")

HELPLINE = Actor("client-helpline", "partner-a")
CASEWORKER = Actor("client-caseworker", "partner-a")
SUPERVISOR = Actor("client-supervisor", "partner-a")
AHTU = Actor("client-ahtu", "partner-ahtu")


def sealed(label: str) -> Sealed:
    """A stand-in for a field-cipher token; the label makes leaks easy to spot."""
    return Sealed(f"enc:v1:10:{label}")


class Clock:
    """Time the tests move by hand."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


def new_case(**overrides: Any) -> Case:
    values: dict[str, Any] = {
        "grievance_id": "g-1",
        "reference": "GR-7K3M9-QXD2A",
        "category": Category.WAGE_THEFT,
        "channel": IntakeChannel.HELPLINE,
        "subject": RegisteredWorker("worker-1"),
        "respondent": RegisteredEmployer("employer-7"),
        "reporter": None,
        "summary": sealed("ACCOUNT-TEXT"),
        "location": PATNA,
        "facts": TriageFacts(),
        "filed_by": HELPLINE,
        "now": NOW,
    }
    values.update(overrides)
    return Case.file(**values)


def anonymous_report(**overrides: Any) -> Case:
    values: dict[str, Any] = {
        "channel": IntakeChannel.PUBLIC_REPORT,
        "reporter": Reporter(ReporterRelation.THIRD_PARTY, Confidentiality.ANONYMOUS),
        "follow_up_code_hash": "scrypt$ln=10,r=8,p=1$AAAA$AAAA",
    }
    values.update(overrides)
    return new_case(**values)


def case_in(status: CaseStatus, **overrides: Any) -> Case:
    """A case brought to `status` by legal moves only."""
    case = new_case(**overrides)
    if status is CaseStatus.NEW:
        return case
    case.triage(TriageFacts(), HELPLINE, NOW)
    if status is CaseStatus.TRIAGED:
        return case
    if status is CaseStatus.REFERRED:
        case.refer("r-1", ReferralTarget.LABOUR_DEPARTMENT, "partner-labour", CASEWORKER, NOW)
        return case
    case.assign("cw-1", "partner-a", SUPERVISOR, NOW)
    if status is CaseStatus.ASSIGNED:
        return case
    case.start_work(CASEWORKER, NOW)
    if status is CaseStatus.IN_PROGRESS:
        return case
    if status is CaseStatus.AWAITING_COMPLAINANT:
        case.await_complainant(CASEWORKER, NOW)
        return case
    case.resolve(Outcome.WAGES_RECOVERED, substantiated=True, amount_recovered_paise=1_200_000, by=CASEWORKER, now=NOW)
    if status is CaseStatus.RESOLVED:
        return case
    if status is CaseStatus.CLOSED:
        case.close(SUPERVISOR, NOW)
        return case
    case.reopen(sealed("REOPEN-REASON"), SUPERVISOR, NOW)
    assert status is CaseStatus.REOPENED
    return case


def walk(value: Any) -> list[Any]:
    """Every value inside a (nested) dataclass, list, tuple or dict: to look for leaks in events."""
    found: list[Any] = [value]
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            found.extend(walk(getattr(value, f.name)))
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            found.extend(walk(item))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(walk(key))
            found.extend(walk(item))
    return found
