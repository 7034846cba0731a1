"""What the use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from typing import Protocol

from mrc_employer.domain.employer import Employer


class EmployerRepository(Protocol):
    def add(self, employer: Employer, *, idempotency_key: str, fingerprint: str) -> tuple[Employer, bool]:
        """Store a new employer with its pending events, unless the idempotency key was seen.

        Returns the stored employer (the first one, for a retry) and whether it was created now.
        """
        ...

    def get(self, employer_id: str) -> Employer | None: ...


class EventNotifier(Protocol):
    def notify(self) -> None:
        """Tell the outbox relay that events are waiting."""
        ...
