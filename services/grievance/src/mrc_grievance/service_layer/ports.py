"""What the use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from typing import Protocol

from mrc_grievance.domain.grievance import Grievance


class GrievanceRepository(Protocol):
    def add(self, grievance: Grievance, *, idempotency_key: str, fingerprint: str) -> tuple[Grievance, bool]:
        """Store a new grievance with its pending events, unless the idempotency key was seen.

        Returns the stored grievance (the first one, for a retry) and whether it was created now.
        """
        ...

    def get(self, grievance_id: str) -> Grievance | None: ...


class EventNotifier(Protocol):
    def notify(self) -> None:
        """Tell the outbox relay that events are waiting."""
        ...
