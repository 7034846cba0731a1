"""Use cases: record a worker's migration episode, list a worker's episodes."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import InvalidArgument, NotFound
from mrc_kernel.events import Event
from mrc_kernel.idempotency import request_fingerprint, scoped_key
from mrc_registry.domain.migration import Location, MigrationEpisode, MigrationStatus, RecruitmentChannel
from mrc_registry.service_layer.households import READ_PURPOSE, with_purpose, writer
from mrc_registry.service_layer.ports import AccessRecorder, EventNotifier

RESOURCE = "migration_episode"
EPISODE_FIELDS = (
    "origin",
    "destination",
    "destination_country",
    "sector",
    "employer_id",
    "recruitment_channel",
    "start_date",
    "end_date",
    "status",
)


class WorkerLookup(Protocol):
    def exists(self, worker_id: str) -> bool:
        """Whether the registry holds this worker (not erased, not merged away)."""
        ...


class MigrationRepository(Protocol):
    def add(
        self, episode: MigrationEpisode, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event]
    ) -> tuple[MigrationEpisode, bool]:
        """Store a new episode with its pending and audit events, unless the idempotency key was seen.

        Returns the stored episode (the first one, for a retry) and whether it was created now.
        """
        ...

    def list_for_worker(self, worker_id: str, *, recorded_by_partner_id: str) -> list[MigrationEpisode]:
        """The worker's episodes recorded by this partner, by start date (then recording time)."""
        ...


@dataclass(frozen=True)
class RecordMigration:
    worker_id: str
    origin: Location
    destination: Location | None
    destination_country: str
    sector: str
    recruitment_channel: RecruitmentChannel | None
    start_date: str
    status: MigrationStatus | None
    end_date: str = ""
    employer_id: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class MigrationRecording:
    episode: MigrationEpisode
    created: bool


class MigrationService:
    def __init__(
        self,
        repo: MigrationRepository,
        notifier: EventNotifier,
        audit: AccessRecorder,
        workers: WorkerLookup,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._repo = repo
        self._notifier = notifier
        self._audit = audit
        self._workers = workers
        self._clock = clock
        self._new_id = new_id

    def record(self, caller: Caller, command: RecordMigration) -> MigrationRecording:
        caller = writer(caller)
        episode = MigrationEpisode.record(
            episode_id=self._new_id(),
            worker_id=command.worker_id,
            origin=command.origin,
            destination=command.destination,
            destination_country=command.destination_country,
            sector=command.sector,
            employer_id=command.employer_id,
            recruitment_channel=command.recruitment_channel,
            start_date=command.start_date,
            end_date=command.end_date,
            status=command.status,
            recorded_by_partner_id=caller.partner_id,
            now=self._clock(),
        )
        self._require_worker(episode.worker_id)
        payload = dataclasses.asdict(command)
        payload.pop("idempotency_key")
        fields = [f for f in EPISODE_FIELDS if payload.get(f) not in (None, "")]
        stored, created = self._repo.add(
            episode,
            idempotency_key=scoped_key(caller.partner_id, command.idempotency_key or self._new_id()),
            fingerprint=request_fingerprint(payload),
            also_publish=[self._audit.event(caller, Action.CREATE, RESOURCE, episode.episode_id, fields)],
        )
        if created:
            self._notifier.notify(stored.episode_id)
        else:
            # A replay serves the stored episode: account for it like any read.
            self._audit.record(caller, Action.READ, RESOURCE, stored.episode_id, EPISODE_FIELDS)
        return MigrationRecording(stored, created)

    def list_for_worker(self, caller: Caller, worker_id: str) -> list[MigrationEpisode]:
        caller = with_purpose(caller, READ_PURPOSE)
        worker_id = worker_id.strip()
        if not worker_id:
            raise InvalidArgument.for_field("worker_id", "must be set")
        self._require_worker(worker_id)
        # Until consent-based sharing exists, a partner sees the episodes it recorded, and only those.
        episodes = self._repo.list_for_worker(worker_id, recorded_by_partner_id=caller.partner_id)
        self._audit.record(caller, Action.READ, "worker", worker_id, ["migration_episodes"])
        return sorted(episodes, key=lambda e: (e.start_date, e.recorded_at, e.episode_id))

    def _require_worker(self, worker_id: str) -> None:
        if not self._workers.exists(worker_id):
            raise NotFound(f"no worker {worker_id!r}")
