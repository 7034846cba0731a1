"""What the registry's use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.events import Event
from mrc_registry.domain.worker import Sector, Worker


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

    def get(self, worker_id: str) -> Worker | None: ...

    def save(self, worker: Worker, *, match_keys: set[str] | None = None, also_publish: Sequence[Event] = ()) -> None:
        """Store a changed worker and its events, if nobody changed it since it was read (else Conflict)."""
        ...

    def find_candidates(self, match_keys: set[str], *, exclude: str = "", limit: int = 50) -> list[Worker]:
        """Active workers sharing at least one matching key."""
        ...

    def search(self, criteria: SearchCriteria, *, after: str, limit: int) -> list[Worker]:
        """Active workers matching every given criterion, ordered by worker id, after the cursor."""
        ...


class Protector(Protocol):
    """Field encryption and blind indexes (keys never reach the domain)."""

    def encrypt(self, state_code: str, field: str, plaintext: str) -> str: ...

    def decrypt(self, field: str, token: str) -> str: ...

    def blind_index(self, kind: str, value: str) -> str: ...


class AccessRecorder(Protocol):
    """The audit trail: events to store with writes, synchronous records for reads (fail closed)."""

    def event(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
    ) -> Event: ...

    def record(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
    ) -> None: ...


class EventNotifier(Protocol):
    def notify(self, document_id: Any = None) -> None:
        """Tell the outbox relay that events are waiting (in that document, when given)."""
        ...
