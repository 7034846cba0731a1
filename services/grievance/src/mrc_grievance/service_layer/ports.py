"""What the use cases need from the outside world; adapters implement these, tests run them on the in-memory
store with the real adapters, and fakes stand in for the other services."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_grievance.domain.case import Case
from mrc_grievance.domain.consent import ConsentChange
from mrc_grievance.domain.trace import Trace
from mrc_kernel.audit import ListingAuditRecorder
from mrc_kernel.caller import Caller
from mrc_kernel.events import Event

# The audit trail: events stored with writes, synchronous records for reads (fail closed), and one record for a
# page of the queue.
AccessRecorder = ListingAuditRecorder


@dataclass(frozen=True)
class QueueFilter:
    partner_id: str  # cases the policy may admit this partner to
    states: frozenset[str]
    districts: frozenset[str]
    statuses: frozenset[str]  # empty: every open status
    assignee_id: str = ""
    district_code: str = ""
    categories: frozenset[str] = frozenset()
    min_escalation_level: int = 0


@dataclass(frozen=True)
class QueuePage:
    cases: list[Case]
    next_after: str  # empty at the end


@dataclass(frozen=True)
class StatisticsFilter:
    states: frozenset[str]
    districts: frozenset[str]
    filed_from: datetime | None = None
    filed_to: datetime | None = None


class CaseRepository(Protocol):
    def add(
        self, case: Case, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event] = ()
    ) -> tuple[Case, bool]:
        """Store a new case with its pending events and `also_publish` (its audit event) in one write, unless
        the idempotency key was seen: then the first case and False (nothing stored)."""
        ...

    def get(self, grievance_id: str) -> Case | None: ...

    def save(self, case: Case, *, loaded_version: int, also_publish: Sequence[Event] = ()) -> None:
        """Store a changed case and its events if it is still at `loaded_version` (else Conflict)."""
        ...

    def queue(self, where: QueueFilter, *, after: str, limit: int) -> QueuePage:
        """Cases matching the filter, the least SLA time left first (waiting on the complainant last)."""
        ...

    def about_worker(self, worker_id: str) -> list[str]:
        """Ids of the cases naming this registry worker."""
        ...

    def with_reference(self, reference: str) -> str | None:
        """The id of the case holding this canonical reference, read from the cases themselves (for cases
        filed before every filing claimed its reference in `References`)."""
        ...

    def statistics_rows(self, where: StatisticsFilter) -> list[object]:
        """`domain.statistics.CaseRow`s of the cases in the geography and period."""
        ...


class References(Protocol):
    """Case references (GR-XXXXX-XXXXX) are unique; reports are found by them."""

    def claim(self, reference: str, grievance_id: str) -> bool:
        """Reserve a reference for a case; False if another case holds it."""
        ...

    def release(self, reference: str, grievance_id: str) -> None: ...

    def case_of(self, reference: str) -> str | None: ...


class TraceRepository(Protocol):
    def add(
        self, trace: Trace, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event] = ()
    ) -> tuple[Trace, bool]: ...

    def get(self, trace_id: str) -> Trace | None: ...

    def save(self, trace: Trace, *, loaded_version: int, also_publish: Sequence[Event] = ()) -> None: ...

    def about_worker(self, worker_id: str) -> list[str]: ...


class Sealer(Protocol):
    """Field encryption and blind indexes (keys never reach the use cases or the domain)."""

    def seal(self, state_code: str, field: str, plaintext: str) -> str: ...

    def open(self, field: str, token: str) -> str: ...

    def blind_index(self, kind: str, value: str) -> str: ...


class Replays(Protocol):
    """What an IVR/SMS delivery leaves behind so its replay is refused."""

    def remember(self, key: str, forget_after: datetime) -> bool:
        """True the first time; False when the key is remembered already (a replay)."""
        ...

    def forget_older_than(self, now: datetime) -> int: ...


class ErasedWorkers(Protocol):
    def remember(self, worker_id: str, at: datetime) -> bool: ...

    def is_erased(self, worker_id: str) -> bool: ...


class WorkKind(enum.StrEnum):
    SLA = "sla"  # the SLA worker saw a milestone fall due
    FORGET_WORKER = "forget_worker"  # the registry erased the worker a case or trace names
    MOVE_WORKER = "move_worker"  # the registry merged the worker into another
    UNLINK_WORKER = "unlink_worker"  # the worker's consent no longer covers the partner holding the link


@dataclass(frozen=True)
class WorkItem:
    """Work for the one process that writes cases (the API), handed over by the SLA and registry worker.

    FerretDB makes a conditional write atomic only within one process, so cases have one writer; the worker
    only inserts these (an insert is atomic everywhere) and reads."""

    item_id: str
    kind: WorkKind
    grievance_id: str = ""
    trace_id: str = ""
    worker_id: str = ""
    surviving_worker_id: str = ""
    enqueued_at: datetime | None = None
    # UNLINK_WORKER: the consents as the registry's change left them (the writer judges the case by them).
    consent: ConsentChange | None = None


class WorkQueue(Protocol):
    def enqueue(self, item: WorkItem) -> bool:
        """False when the same item is already waiting."""
        ...

    def waiting(self, limit: int) -> list[WorkItem]: ...

    def done(self, item_id: str) -> None: ...


@dataclass(frozen=True)
class Forwarded:
    """What a check on the caller's behalf sends along: its bearer token and request id."""

    authorization: str
    request_id: str = ""


class WorkerCheck(enum.StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # no such worker, or no grievance_follow_up consent for the caller's partner
    NOT_PERMITTED = "not_permitted"  # the caller's role may not look workers up


@dataclass(frozen=True)
class WorkerLookup:
    check: WorkerCheck
    # The worker's registry version when found (a link remembers it: older consent changes leave it alone).
    registry_version: int = 0


@dataclass(frozen=True)
class MigrationEpisodeRef:
    episode_id: str
    start_date: str
    ongoing: bool


class WorkerDirectory(Protocol):
    """The registry, over gRPC, as the caller (Unavailable when it cannot be reached)."""

    def check_worker(self, worker_id: str, caller: Caller, forwarded: Forwarded) -> WorkerLookup: ...

    def migration_episodes(self, worker_id: str, caller: Caller, forwarded: Forwarded) -> list[MigrationEpisodeRef]:
        """The worker's migration episodes the caller may see (empty when it may see none)."""
        ...


class EmployerCheck(enum.StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # no such organisation, or not visible to the caller
    NOT_PERMITTED = "not_permitted"


class EmployerDirectory(Protocol):
    """The employer service's `EmployerDetailsService.CheckEmployerReference`, as the caller."""

    def check_employer(self, employer_id: str, caller: Caller, forwarded: Forwarded) -> EmployerCheck: ...
