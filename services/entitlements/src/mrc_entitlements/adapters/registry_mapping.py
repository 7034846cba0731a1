"""What this service reads in the registry's published contract (mrc.registry.v1), never its code.

Registry messages become the domain's facts here: `WorkerFacts` (with the grants of the worker's active
consents), migration episodes and household facts. Names never arrive: the registry does not send them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import events_pb2, migration_pb2, worker_pb2
from mrc_entitlements.domain.facts import (
    ConsentPurpose,
    DocumentKind,
    HouseholdFacts,
    LgdPlace,
    MigrationEpisodeFacts,
    MigrationStatus,
    Vulnerability,
    WorkerFacts,
)
from mrc_kernel.policy import Grant, Purpose

LINKAGE = worker_pb2.CONSENT_PURPOSE_ENTITLEMENT_LINKAGE
_PURPOSE_VALUES = frozenset(p.value for p in Purpose)
_CONSENT_PURPOSES = frozenset(p.value for p in ConsentPurpose)


def _name(enum_pb: Any, number: int) -> str:
    return str(enum_pb.Name(number))


def _enum_value(name: str, prefix: str) -> str:
    return name.removeprefix(prefix).lower()


def _gender(value: int) -> str:
    if value in (worker_pb2.GENDER_UNSPECIFIED, worker_pb2.GENDER_UNDISCLOSED):
        return ""
    return _enum_value(_name(worker_pb2.Gender, value), "GENDER_")


def _documents(values: Iterable[int]) -> frozenset[DocumentKind]:
    kinds = set()
    for value in values:
        if (
            value == worker_pb2.IDENTITY_DOCUMENT_KIND_UNSPECIFIED
            or value not in worker_pb2.IdentityDocumentKind.values()
        ):
            continue
        kinds.add(DocumentKind(_enum_value(_name(worker_pb2.IdentityDocumentKind, value), "IDENTITY_DOCUMENT_KIND_")))
    return frozenset(kinds)


def _vulnerabilities(values: Iterable[int]) -> frozenset[Vulnerability]:
    found = set()
    for value in values:
        if value == worker_pb2.VULNERABILITY_UNSPECIFIED or value not in worker_pb2.Vulnerability.values():
            continue
        found.add(Vulnerability(_enum_value(_name(worker_pb2.Vulnerability, value), "VULNERABILITY_")))
    return frozenset(found)


def consent_purposes(values: Iterable[int]) -> frozenset[ConsentPurpose]:
    found = set()
    for value in values:
        if value == worker_pb2.CONSENT_PURPOSE_UNSPECIFIED or value not in worker_pb2.ConsentPurpose.values():
            continue
        name = _enum_value(_name(worker_pb2.ConsentPurpose, value), "CONSENT_PURPOSE_")
        if name in _CONSENT_PURPOSES:  # a purpose added to the contract later changes nothing here
            found.add(ConsentPurpose(name))
    return frozenset(found)


def active_purposes_include_linkage(active_purposes: Iterable[int]) -> bool:
    """`active_purposes` (in `WorkerFacts` and `ConsentChanged`) is the union over the worker's active consents."""
    return LINKAGE in active_purposes


def _place(location: common_pb2.LgdLocation) -> LgdPlace:
    return LgdPlace(location.state_code, location.district_code, location.subdistrict_code)


def worker_facts(message: events_pb2.WorkerFacts) -> WorkerFacts:
    return WorkerFacts(
        worker_id=message.worker_id,
        birth_year=message.birth_year,
        gender=_gender(message.gender),
        sector=message.sector,
        occupation=message.occupation,
        home=_place(message.home),
        documents=_documents(message.document_kinds),
        vulnerabilities=_vulnerabilities(message.vulnerabilities),
        active_purposes=consent_purposes(message.active_purposes),
        registering_partner_id=message.registering_partner_id,
    )


def grants(message: events_pb2.WorkerFacts) -> tuple[Grant, ...]:
    """The grants of the worker's active consents, as the registry computed them (unknown purposes dropped)."""
    found = []
    for grant in message.grants:
        purposes = frozenset(Purpose(p) for p in grant.purposes if p in _PURPOSE_VALUES)
        if purposes and (grant.partner_id or grant.partner_kind):
            found.append(Grant(purposes, partner_id=grant.partner_id, partner_kind=grant.partner_kind))
    return tuple(found)


def facts_are_active(message: events_pb2.WorkerFacts) -> bool:
    return message.status in (worker_pb2.WORKER_STATUS_UNSPECIFIED, worker_pb2.WORKER_STATUS_ACTIVE)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def episode(message: migration_pb2.MigrationEpisode) -> MigrationEpisodeFacts | None:
    """The episode's facts, or None for a status this service does not know (it changes nothing then)."""
    if message.status == migration_pb2.MIGRATION_STATUS_UNSPECIFIED or message.status not in (
        migration_pb2.MigrationStatus.values()
    ):
        return None
    status = MigrationStatus(_enum_value(migration_pb2.MigrationStatus.Name(message.status), "MIGRATION_STATUS_"))
    return MigrationEpisodeFacts(
        episode_id=message.episode_id,
        origin=_place(message.origin) if message.HasField("origin") and message.origin.state_code else None,
        destination=(
            _place(message.destination) if message.HasField("destination") and message.destination.state_code else None
        ),
        destination_country=message.destination_country,
        sector=message.sector,
        employer_id=message.employer_id,
        start_date=_date(message.start_date),
        end_date=_date(message.end_date),
        status=status,
    )


def household(message: events_pb2.HouseholdFacts) -> HouseholdFacts:
    return HouseholdFacts(
        household_id=message.household_id,
        member_worker_ids=frozenset(message.member_worker_ids),
        size=message.size,
        has_ration_card=message.holds_ration_card,
        ration_card_state=message.ration_card_state_code,
    )
