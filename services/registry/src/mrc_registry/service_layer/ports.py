"""What the registry's use cases need from the outside world; adapters implement these, tests run them
on the in-memory store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from mrc_kernel.audit import AuditRecorder
from mrc_kernel.events import Event
from mrc_kernel.vocabulary import Sector
from mrc_registry.domain.worker import Worker

# The audit trail: events stored with writes, synchronous records for reads (fail closed).
AccessRecorder = AuditRecorder


@dataclass(frozen=True)
class SearchCriteria:
    name_keys: tuple[str, ...] = ()  # phonetic/name keys of the name searched for
    # The first-name + district blocking keys: they narrow a name too common to list on its own.
    name_district_keys: tuple[str, ...] = ()
    phone_index: str = ""
    document_index: str = ""
    district_code: str = ""
    registering_partner_id: str = ""
    sector: Sector | None = None


@dataclass(frozen=True)
class SearchPage:
    workers: list[Worker]
    # Where the next read continues (the last worker id read); empty when there is no more.
    next_after: str = ""


@dataclass(frozen=True)
class NewWorker:
    """A worker to store, with what `WorkerRepository.add` stores alongside it."""

    worker: Worker
    idempotency_key: str
    fingerprint: str
    match_keys: set[str]
    also_publish: Sequence[Event] = ()


class WorkerRepository(Protocol):
    def add(
        self,
        worker: Worker,
        *,
        idempotency_key: str,
        fingerprint: str,
        match_keys: set[str],
        also_publish: Sequence[Event] = (),
    ) -> tuple[Worker, bool]:
        """Store a new worker with its pending events (and `also_publish`, e.g. its audit event) in one write,
        unless the idempotency key was seen: then return the first worker and False."""
        ...

    def add_many(self, workers: Sequence[NewWorker]) -> set[str]:
        """Store each worker with its events, one write per worker; the ids stored by this call.

        A worker whose id or idempotency key is already stored is left out (an earlier run stored it)."""
        ...

    def get(self, worker_id: str) -> Worker | None: ...

    def save(self, worker: Worker, *, match_keys: set[str] | None = None, also_publish: Sequence[Event] = ()) -> None:
        """Store a changed worker and its events, if nobody changed it since it was read (else Conflict)."""
        ...

    def find_candidates(self, match_keys: set[str], *, exclude: str = "", limit: int = 50) -> list[Worker]:
        """Active workers sharing at least one matching key, those sharing more first."""
        ...

    def search(self, criteria: SearchCriteria, *, after: str, limit: int) -> SearchPage:
        """Active workers matching every given criterion, ordered by worker id, after the cursor. A listing
        the store cut short for time comes back short, with where to continue."""
        ...

    def with_consents_expiring(self, before: object, *, limit: int) -> list[Worker]:
        """Active workers holding a consent that expired before this moment and is not yet announced."""
        ...


class RekeyableWorkers(Protocol):
    def keyed_by_older_rules(self) -> Iterator[Worker]:
        """Workers whose stored match keys older matching rules computed."""
        ...

    def rekey(self, worker: Worker, match_keys: set[str]) -> bool:
        """Replace a worker's stored keys unless it changed since it was read; whether it did."""
        ...


class Protector(Protocol):
    """Field encryption and blind indexes (keys never reach the domain)."""

    def encrypt(self, state_code: str, field: str, plaintext: str) -> str: ...

    def decrypt(self, field: str, token: str) -> str: ...

    def blind_index(self, kind: str, value: str) -> str: ...


class TextMessages(Protocol):
    """An SMS gateway: a one-time code to the phone on record (never stored in clear by the registry)."""

    def send(self, phone_e164: str, text: str, *, reference: str) -> None:
        """Send `text`; `reference` (e.g. a link request id) lets a retried send be recognised."""
        ...
