"""What the use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from mrc_grievance.domain.grievance import Grievance
from mrc_plumbing.audit import Action
from mrc_plumbing.auth.caller import Caller
from mrc_plumbing.events import Event


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
