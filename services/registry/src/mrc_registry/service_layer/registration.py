"""Use cases: register a worker, look one up."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from mrc_plumbing.clock import utc_now
from mrc_plumbing.errors import NotFound
from mrc_plumbing.idempotency import request_fingerprint, scoped_key
from mrc_registry.domain.worker import Gender, Place, Worker
from mrc_registry.service_layer.ports import EventNotifier, WorkerRepository


@dataclass(frozen=True)
class RegisterWorker:
    full_name: str
    gender: Gender | None
    birth_year: int | None
    home: Place
    occupation: str
    partner_id: str
    idempotency_key: str = ""


@dataclass(frozen=True)
class Registration:
    worker: Worker
    created: bool


class RegistrationService:
    def __init__(
        self,
        workers: WorkerRepository,
        notifier: EventNotifier,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._workers = workers
        self._notifier = notifier
        self._clock = clock
        self._new_id = new_id

    def register(self, command: RegisterWorker) -> Registration:
        worker = Worker.register(
            worker_id=self._new_id(),
            full_name=command.full_name,
            gender=command.gender,
            birth_year=command.birth_year,
            home=command.home,
            occupation=command.occupation,
            registering_partner_id=command.partner_id,
            now=self._clock(),
        )
        # Without a client key every call is a new request; with one, a retry returns the first result.
        key = command.idempotency_key or self._new_id()
        payload = asdict(command)
        payload.pop("idempotency_key")
        stored, created = self._workers.add(
            worker,
            idempotency_key=scoped_key(command.partner_id, key),
            fingerprint=request_fingerprint(payload),
        )
        if created:
            self._notifier.notify()
        return Registration(stored, created)

    def get(self, worker_id: str) -> Worker:
        worker = self._workers.get(worker_id)
        if worker is None:
            raise NotFound(f"no worker {worker_id!r}")
        return worker
