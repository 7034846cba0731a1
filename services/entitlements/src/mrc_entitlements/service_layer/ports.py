"""What the use cases need from the outside: repositories of the service's aggregates, and the audit trail.

Each repository stores an aggregate with its pending events (and any audit event passed along) in one
write: the unit of work. A save that started from a stale version raises Conflict; the use case reads
again and retries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from mrc_entitlements.domain.applications import Application
from mrc_entitlements.domain.facts import HouseholdFacts
from mrc_entitlements.domain.reevaluation import ReevaluationJob
from mrc_entitlements.domain.schemes import Scheme
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_kernel.audit import AuditRecorder
from mrc_kernel.events import Event

__all__ = [
    "ApplicationRepository",
    "AuditRecorder",
    "HouseholdRepository",
    "JobRepository",
    "SchemeRepository",
    "WorkerRecordRepository",
]


class WorkerRecordRepository(Protocol):
    def get(self, worker_id: str) -> WorkerRecord | None: ...

    def save(self, record: WorkerRecord, also_publish: Sequence[Event] = ()) -> None:
        """Insert (version 0) or update from the version read, with the record's events; Conflict if stale."""
        ...

    def stream(self, *, after: str = "") -> Iterator[WorkerRecord]:
        """Records consenting to linkage after `after`, in worker-id order."""
        ...

    def count_consenting(self) -> int: ...

    def scan_consenting(self) -> Iterator[WorkerRecord]:
        """Consenting records with their home and determinations only (for statistics)."""
        ...


class HouseholdRepository(Protocol):
    def put(self, household: HouseholdFacts, version: int) -> tuple[bool, frozenset[str]]:
        """Keep the household unless a newer version is held: (kept, member ids listed before)."""
        ...

    def of_member(self, worker_id: str) -> list[tuple[HouseholdFacts, int]]: ...

    def forget_member(self, worker_id: str) -> None: ...


class SchemeRepository(Protocol):
    def add_if_absent(self, scheme: Scheme) -> bool: ...

    def get(self, code: str) -> Scheme | None: ...

    def all(self) -> list[Scheme]: ...

    def versions(self) -> dict[str, int]: ...

    def save(
        self,
        scheme: Scheme,
        *,
        started_from: int,
        job_ids: dict[tuple[str, int], str],
        also_publish: Sequence[Event] = (),
    ) -> None: ...


class ApplicationRepository(Protocol):
    def add(
        self, application: Application, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event] = ()
    ) -> tuple[Application, bool]: ...

    def get(self, application_id: str) -> Application | None: ...

    def save(self, application: Application, *, started_from: int, also_publish: Sequence[Event] = ()) -> None: ...

    def of_worker(self, worker_id: str) -> list[Application]: ...

    def rekey(self, application: Application, surviving_worker_id: str) -> None: ...

    def delete(self, application: Application) -> None: ...

    def scan(self) -> Iterator[Application]: ...


class JobRepository(Protocol):
    def add_if_absent(self, job: ReevaluationJob) -> bool: ...

    def get(self, job_id: str) -> ReevaluationJob | None: ...

    def unfinished(self) -> list[ReevaluationJob]: ...

    def save(self, job: ReevaluationJob, *, started_from: int) -> None: ...
