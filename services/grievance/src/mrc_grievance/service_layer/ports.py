"""What the use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from mrc_grievance.domain.grievance import Grievance
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.events import Event


class GrievanceRepository(Protocol):
    def add(
        self,
        grievance: Grievance,
        *,
        idempotency_key: str,
        fingerprint: str,
        extra_events: Sequence[Event] = (),
    ) -> tuple[Grievance, bool]:
        """Store a new grievance with its pending events and `extra_events` (audit), unless the key was seen.

        Returns the stored grievance (the first one, for a retry) and whether it was created now; a retry
        stores none of the events.
        """
        ...

    def get(self, grievance_id: str) -> Grievance | None: ...


class WorkerGrievances(Protocol):
    """What the consumer of registry events changes: every grievance filed about one worker."""

    def anonymise_worker(self, worker_id: str, summary: str) -> int:
        """Empty the worker id and replace the summary (stored encrypted) of each grievance about the worker.

        Category, location and status stay for anonymous counts. Naturally idempotent: once done, no grievance
        names the worker any more. Returns how many grievances this call changed.
        """
        ...

    def rekey_worker(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        """Move every grievance about the merged worker to the surviving one; returns how many moved."""
        ...

    def remember_erased(self, worker_id: str, *, at: datetime) -> bool:
        """Keep a tombstone for the erased worker (its id and when, nothing personal); True if new now.

        Idempotent: a tombstone already there is kept as it is.
        """
        ...

    def is_erased(self, worker_id: str) -> bool:
        """Whether the worker has a tombstone."""
        ...


class EventNotifier(Protocol):
    def notify(self) -> None:
        """Tell the outbox relay that events are waiting."""
        ...


class Audit(Protocol):
    """The audit trail (`mrc_plumbing.audit.AuditTrail`)."""

    def event(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
    ) -> Event:
        """The audit event of a write, to store in the aggregate's outbox with the write."""
        ...

    def record(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
    ) -> None:
        """Publish the audit record of a read now; raises Unavailable when it cannot (fail closed)."""
        ...
