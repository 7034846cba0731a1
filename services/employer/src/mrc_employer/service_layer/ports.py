"""What the use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from mrc_employer.domain.employer import Employer
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.events import Event


class EmployerRepository(Protocol):
    def add(
        self,
        employer: Employer,
        *,
        idempotency_key: str,
        fingerprint: str,
        extra_events: Sequence[Event] = (),
    ) -> tuple[Employer, bool]:
        """Store a new employer with its pending events and `extra_events` (audit), unless the key was seen.

        Returns the stored employer (the first one, for a retry) and whether it was created now; a retry
        stores none of the events. Raises AlreadyExists if another request already took the employer id.
        """
        ...

    def get(self, employer_id: str) -> Employer | None: ...


class EventNotifier(Protocol):
    def notify(self) -> None:
        """Tell the outbox relay that events are waiting."""
        ...


class AuditEvents(Protocol):
    """The part of the audit trail (`mrc_plumbing.audit.AuditTrail`) used here: events of writes."""

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
