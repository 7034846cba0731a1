"""In-memory stand-ins for the registry's ports, so use cases run without infrastructure."""

from __future__ import annotations

import copy

from mrc_plumbing.errors import IdempotencyKeyReused
from mrc_registry.domain.worker import DomainEvent, Worker


class FakeWorkerRepository:
    def __init__(self) -> None:
        self.workers: dict[str, Worker] = {}
        self.by_key: dict[str, tuple[str, str]] = {}
        self.outbox: list[DomainEvent] = []

    def add(self, worker: Worker, *, idempotency_key: str, fingerprint: str) -> tuple[Worker, bool]:
        if idempotency_key in self.by_key:
            worker_id, first_fingerprint = self.by_key[idempotency_key]
            if first_fingerprint != fingerprint:
                raise IdempotencyKeyReused("different request")
            return copy.copy(self.workers[worker_id]), False
        self.by_key[idempotency_key] = (worker.worker_id, fingerprint)
        self.outbox.extend(worker.pending_events)
        worker.pending_events.clear()
        self.workers[worker.worker_id] = copy.copy(worker)
        return worker, True

    def get(self, worker_id: str) -> Worker | None:
        return self.workers.get(worker_id)


class CountingNotifier:
    def __init__(self) -> None:
        self.count = 0

    def notify(self) -> None:
        self.count += 1
