"""What the use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from typing import Protocol

from mrc_registry.domain.worker import Worker


class WorkerRepository(Protocol):
    def add(self, worker: Worker, *, idempotency_key: str, fingerprint: str) -> tuple[Worker, bool]:
        """Store a new worker with its pending events, unless the idempotency key was seen.

        Returns the stored worker (the first one, for a retry) and whether it was created now.
        """
        ...

    def get(self, worker_id: str) -> Worker | None: ...


class EventNotifier(Protocol):
    def notify(self) -> None:
        """Tell the outbox relay that events are waiting."""
        ...
