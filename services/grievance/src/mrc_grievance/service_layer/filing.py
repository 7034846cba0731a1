"""Use cases: file a grievance, look one up."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from mrc_grievance.domain.grievance import Grievance, GrievanceCategory, IntakeChannel, Place
from mrc_grievance.service_layer.ports import EventNotifier, GrievanceRepository
from mrc_plumbing.clock import utc_now
from mrc_plumbing.errors import NotFound
from mrc_plumbing.idempotency import request_fingerprint, scoped_key


@dataclass(frozen=True)
class FileGrievance:
    worker_id: str
    category: GrievanceCategory | None
    channel: IntakeChannel | None
    summary: str
    location: Place
    employer_id: str
    anonymous: bool
    partner_id: str
    idempotency_key: str = ""


@dataclass(frozen=True)
class Filing:
    grievance: Grievance
    created: bool


class FilingService:
    def __init__(
        self,
        grievances: GrievanceRepository,
        notifier: EventNotifier,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._grievances = grievances
        self._notifier = notifier
        self._clock = clock
        self._new_id = new_id

    def file(self, command: FileGrievance) -> Filing:
        grievance = Grievance.file(
            grievance_id=self._new_id(),
            worker_id=command.worker_id,
            category=command.category,
            channel=command.channel,
            summary=command.summary,
            location=command.location,
            employer_id=command.employer_id,
            anonymous=command.anonymous,
            now=self._clock(),
        )
        # Without a client key every call is a new request; with one, a retry returns the first result.
        key = command.idempotency_key or self._new_id()
        payload = asdict(command)
        payload.pop("idempotency_key")
        stored, created = self._grievances.add(
            grievance,
            idempotency_key=scoped_key(command.partner_id, key),
            fingerprint=request_fingerprint(payload),
        )
        if created:
            self._notifier.notify()
        return Filing(stored, created)

    def get(self, grievance_id: str) -> Grievance:
        grievance = self._grievances.get(grievance_id)
        if grievance is None:
            raise NotFound(f"no grievance {grievance_id!r}")
        return grievance
