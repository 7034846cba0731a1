"""Builders of worker profiles and the starter catalogue for the entitlements domain tests."""

from __future__ import annotations

import copy
import functools
from datetime import UTC, date, datetime

from mrc_entitlements.catalogue import starter_catalogue
from mrc_entitlements.domain.determinations import Determination, determine
from mrc_entitlements.domain.facts import (
    ConsentPurpose,
    DocumentKind,
    HouseholdFacts,
    LgdPlace,
    MigrationEpisodeFacts,
    MigrationStatus,
    Vulnerability,
    WorkerFacts,
    WorkerProfile,
)
from mrc_entitlements.domain.schemes import RuleVersion, Scheme

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
BIHAR, JHARKHAND, KERALA, MAHARASHTRA = "10", "20", "32", "27"
PATNA, ERNAKULAM = "212", "540"

# Facts a caseworker would record from the worker's declaration, for a worker who qualifies on each.
UNORGANISED = {"epfo_member": False, "esic_member": False, "nps_member": False, "government_employee": False}


def worker_facts(
    worker_id: str = "w-1",
    *,
    birth_year: int = 1996,
    gender: str = "male",
    sector: str = "construction",
    home_state: str = BIHAR,
    home_district: str = PATNA,
    documents: tuple[DocumentKind, ...] = (DocumentKind.AADHAAR,),
    vulnerabilities: tuple[Vulnerability, ...] = (),
    purposes: tuple[ConsentPurpose, ...] = (ConsentPurpose.REGISTRATION, ConsentPurpose.ENTITLEMENT_LINKAGE),
) -> WorkerFacts:
    return WorkerFacts(
        worker_id=worker_id,
        birth_year=birth_year,
        gender=gender,
        sector=sector,
        occupation="mason",
        home=LgdPlace(home_state, home_district),
        documents=frozenset(documents),
        vulnerabilities=frozenset(vulnerabilities),
        active_purposes=frozenset(purposes),
        registering_partner_id="p-1",
    )


def episode(
    episode_id: str = "e-1",
    *,
    destination_state: str = KERALA,
    destination_district: str = ERNAKULAM,
    abroad: str = "",
    status: MigrationStatus = MigrationStatus.ONGOING,
    start: date = date(2026, 3, 1),
    end: date | None = None,
) -> MigrationEpisodeFacts:
    return MigrationEpisodeFacts(
        episode_id=episode_id,
        origin=LgdPlace(BIHAR, PATNA),
        destination=None if abroad else LgdPlace(destination_state, destination_district),
        destination_country=abroad,
        sector="construction",
        employer_id="",
        start_date=start,
        end_date=end,
        status=status,
    )


def household(
    *, members: tuple[str, ...] = ("w-1",), size: int = 5, ration_card: bool = True, card_state: str = BIHAR
) -> HouseholdFacts:
    return HouseholdFacts("h-1", frozenset(members), size, ration_card, card_state if ration_card else "")


def profile(
    *,
    migrating_to: str | None = None,
    home_household: HouseholdFacts | None = None,
    declared: dict[str, object] | None = None,
    **facts: object,
) -> WorkerProfile:
    built = WorkerProfile("w-1")
    built.record_worker(worker_facts(**facts))  # type: ignore[arg-type]
    if migrating_to is not None:
        built.record_episode(episode(destination_state=migrating_to))
    if home_household is not None:
        built.record_household(home_household)
    for name, value in (declared or {}).items():
        built.declare(name, value, TODAY)
    return built


@functools.cache
def _catalogue() -> tuple[Scheme, ...]:
    return tuple(starter_catalogue(NOW))


def catalogue() -> list[Scheme]:
    """A fresh copy each time, so a test that drafts or publishes never affects another."""
    return copy.deepcopy(list(_catalogue()))


def published_rule(scheme_code: str) -> RuleVersion:
    for scheme in _catalogue():
        if scheme.code == scheme_code:
            rule = scheme.published_rule
            assert rule is not None
            return rule
    raise KeyError(scheme_code)


def determination(scheme_code: str, worker: WorkerProfile) -> Determination:
    (found,) = determine(worker.worker_id, [published_rule(scheme_code)], worker.snapshot(TODAY), NOW)
    return found


def statuses(found: Determination) -> dict[str, str]:
    return {c.name: c.status.value for c in found.conditions}
