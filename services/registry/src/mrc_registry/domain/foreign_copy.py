"""Copies of other states' records: what a shared summary makes of the copy held here.

A summary (`SharedWorker`) arrives from another state's registry through the federation topics, already
opened (names) and mapped by the adapters. It replaces the copy's details and the consent that allows it,
never what this state's partners added: the consents they captured when they linked their registration to
the copy stay. A withdrawal removes the copy's personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.federation import ForeignRecord
from mrc_registry.domain.identity.transliteration import to_latin
from mrc_registry.domain.worker import Worker, WorkerDetails, WorkerRegistered, WorkerStatus, WorkerUpdated


@dataclass(frozen=True)
class SharedWorker:
    """A worker's summary as another state shares it (mrc.federation.v1.WorkerShared), names opened."""

    worker_id: str
    home_state_code: str
    shared_with_state_codes: frozenset[str]
    # No village, phone or identity number: the phone and documents as blind index and masked number only.
    details: WorkerDetails
    registering_partner_id: str
    registered_at: datetime
    consent_id: str
    consent_purposes: frozenset[ConsentPurpose]
    consent_expires_at: datetime | None
    version: int
    shared_at: datetime

    def addressed_to(self, state_code: str) -> bool:
        return not self.shared_with_state_codes or state_code in self.shared_with_state_codes


@dataclass(frozen=True)
class SharedWorkerWithdrawn:
    """Another state's registry withdrew a record it shared (mrc.federation.v1.WorkerWithdrawn)."""

    worker_id: str
    home_state_code: str
    withdrawn_from_state_codes: frozenset[str]
    reason: str
    version: int
    withdrawn_at: datetime

    def addressed_to(self, state_code: str) -> bool:
        return not self.withdrawn_from_state_codes or state_code in self.withdrawn_from_state_codes


def is_newer(shared_version: int, held: Worker | None) -> bool:
    """Whether a summary or withdrawal of this version changes the copy held (None: no copy yet)."""
    return held is None or held.foreign is None or shared_version > held.foreign.source_version


def materialise(shared: SharedWorker, local_state_code: str, held: Worker | None, now: datetime) -> Worker:
    """The copy after this summary: a new copy (`WorkerRegistered`), or the held one replaced (`WorkerUpdated`
    naming what changed), keeping the consents this state's partners captured on it. `held` must be a copy."""
    if held is not None and held.foreign is None:
        raise ValueError(f"worker {shared.worker_id} is this registry's own record, not a copy")
    details = shared.details.normalised()
    if details.full_name and not details.latin_name:
        details = WorkerDetails(**{**details.__dict__, "latin_name": to_latin(details.full_name)})
    foreign = ForeignRecord(
        home_state_code=shared.home_state_code,
        local_state_code=local_state_code,
        consent_id=shared.consent_id,
        purposes=shared.consent_purposes,
        consent_expires_at=shared.consent_expires_at,
        shared_with_state_codes=shared.shared_with_state_codes,
        source_version=shared.version,
        shared_at=shared.shared_at,
    )
    revived = held is None or held.status is not WorkerStatus.ACTIVE
    copy = Worker(
        worker_id=shared.worker_id,
        details=details,
        registering_partner_id=shared.registering_partner_id,
        registered_at=shared.registered_at,
        updated_at=now,
        consents=[] if held is None or revived else list(held.consents),
        status=WorkerStatus.ACTIVE,
        version=1 if held is None else held.version + 1,
        foreign=foreign,
    )
    if revived:
        copy.pending_events.append(WorkerRegistered(copy))
    else:
        assert held is not None
        changed = tuple(
            f.name for f in fields(WorkerDetails) if getattr(details, f.name) != getattr(held.details, f.name)
        )
        if _consent_of(held.foreign) != _consent_of(foreign):
            changed += ("consents",)
        copy.pending_events.append(WorkerUpdated(copy, changed))
    return copy


def _consent_of(record: ForeignRecord | None) -> tuple[object, ...]:
    if record is None:
        return ()
    return (record.consent_id, record.purposes, record.consent_expires_at, record.shared_with_state_codes)
