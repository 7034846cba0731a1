"""The grievance worker (`python -m mrc_grievance.worker`): the SLA clocks' schedule, and the registry's
erasures, merges and consent changes.

SLA clocks run in faust. Every grievance event carries when the case's clocks next need looking at
(`sla_next_deadline`); the worker keeps that per case in a table (`sla-schedule`, backed by its changelog
topic `mrc-grievance-sla-schedule-changelog`, so a restarted worker recovers it) and a timer hands each
milestone that falls due over to the case writer (the API process) as a work item, then checks that it was
applied. Nothing fires twice: work items are keyed per case, and the case remembers each milestone it fired
(its idempotency key) in the same write as the escalation event.

Registry events are followed as before: an erased worker is remembered and every case and trace naming
them is handed over to be anonymised; a merge moves them to the surviving worker; a consent change that
leaves the partner holding a case's (or trace's) link without consent to grievance follow-up hands the record
over to be unlinked (`ConsentChange`, judged again by the writer). Events arrive at least
once and are idempotent; a record that still fails goes to the dead-letter topic (`subscribe`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import faust

from mrc.grievance.v1 import events_pb2 as grievance_events  # noqa: F401 - registers the types the decoder reads
from mrc.registry.v1 import events_pb2 as registry_events
from mrc.registry.v1 import worker_pb2
from mrc_grievance.adapters.federation import StoredFederatedWorkers, StoredForwardedCases, StoredForwardedTraces
from mrc_grievance.adapters.mongo_repository import StoredCases, StoredErasedWorkers, StoredTraces, StoredWork
from mrc_grievance.adapters.protobuf_mapping import consent_change_of
from mrc_grievance.service_layer.background import (
    KEEP,
    RegistryEvents,
    ScheduleEntry,
    ScheduleIndex,
    SlaTimer,
    entry_for_event,
)
from mrc_grievance.settings import CONSUMER_APP_ID, GRIEVANCES_TOPIC, REGISTRY_WORKERS_TOPIC, GrievanceSettings
from mrc_kernel.events import Event
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.faust_app import EventHandler, create_faust_app, dead_letter_topic_name, subscribe
from mrc_plumbing.protobuf import datetime_from
from mrc_plumbing.service_runtime import connect

log = logging.getLogger(__name__)

SCHEDULE_TABLE = "sla-schedule"
# The index is rebuilt from the table this often (a recovered or rebalanced table bypasses the handlers).
INDEX_REBUILD_SECONDS = 30.0
BRIDGE_TIMEOUT_SECONDS = 30.0


GRIEVANCE_FOLLOW_UP = worker_pb2.CONSENT_PURPOSE_GRIEVANCE_FOLLOW_UP


def registry_handler(
    service: RegistryEvents,
    decoder: EventDecoder,
    federated: StoredFederatedWorkers | None = None,
    forwarded: StoredForwardedCases | None = None,
    forwarded_traces: StoredForwardedTraces | None = None,
) -> EventHandler:
    def handle(event: Event) -> None:
        message = decoder.decode(event)
        if federated is not None and isinstance(
            message, registry_events.WorkerRegistered | registry_events.WorkerUpdated | registry_events.ConsentChanged
        ):
            facts = message.facts
            if facts.worker_id and facts.federated_from_state_code:
                # A copy of another state's record: cases about it go to that state while its consent allows.
                follow_up = GRIEVANCE_FOLLOW_UP in facts.active_purposes and facts.status in (
                    worker_pb2.WORKER_STATUS_UNSPECIFIED,
                    worker_pb2.WORKER_STATUS_ACTIVE,
                )
                federated.record(facts.worker_id, facts.federated_from_state_code, follow_up, facts.version)
        elif isinstance(message, registry_events.WorkerErased):
            handed = service.worker_erased(message.worker_id)
            if federated is not None:
                federated.forget(message.worker_id)
            if forwarded is not None:
                forwarded.forget_worker(message.worker_id)
            if forwarded_traces is not None:
                forwarded_traces.forget_worker(message.worker_id)
            log.info("worker erased", extra={"event_id": event.id, "handed_over": handed})
        elif isinstance(message, registry_events.WorkersMerged):
            handed = service.workers_merged(message.merged_worker_id, message.surviving_worker_id)
            log.info("workers merged", extra={"event_id": event.id, "handed_over": handed})
        elif isinstance(message, registry_events.ConsentChanged):
            change = consent_change_of(message)
            handed = service.consent_changed(event.id, change) if change is not None else 0
            log.info("consent changed", extra={"event_id": event.id, "handed_over": handed})
        # Other registry events are not ours to act on.

    return handle


class Schedule:
    """The faust table of SLA schedule entries, its deadline index, and the bridge from handler threads.

    `subscribe` runs handlers in a thread; the table lives on the event loop, so a handler applies its
    change there and waits for it (the change reaches the changelog before the offset is committed)."""

    def __init__(self, app: faust.App, partitions: int) -> None:
        # Written outside stream iteration (from the bridge and the timer): the producer's partitioner
        # places each key, the same murmur2 of the grievance id that placed its events.
        self.table: Any = app.Table(
            SCHEDULE_TABLE,
            default=None,
            partitions=partitions,
            key_type=str,
            use_partitioner=True,
        )
        self.index = ScheduleIndex()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rebuilt_at = 0.0

    def get(self, grievance_id: str) -> ScheduleEntry | None:
        return ScheduleEntry.from_json(self.table.get(grievance_id))

    def put(self, grievance_id: str, entry: ScheduleEntry | None) -> None:
        if entry is None:
            if self.table.get(grievance_id) is not None:
                del self.table[grievance_id]
            self.index.remove(grievance_id)
            return
        self.table[grievance_id] = entry.to_json()
        self.index.set(grievance_id, entry.at)

    def rebuild_index(self) -> None:
        entries = []
        for key, value in list(self.table.items()):
            entry = ScheduleEntry.from_json(value)
            if entry is not None:
                entries.append((key.decode() if isinstance(key, bytes) else str(key), entry.at))
        self.index.rebuild(entries)
        self.rebuilt_at = time.monotonic()

    def apply_from_thread(self, grievance_id: str, version: int, next_deadline: datetime | None) -> None:
        loop = self.loop
        if loop is None:
            raise RuntimeError("the schedule is not ready yet")

        async def apply() -> None:
            decided = entry_for_event(self.get(grievance_id), version, next_deadline)
            if decided is not KEEP:
                self.put(grievance_id, decided if isinstance(decided, ScheduleEntry) else None)

        asyncio.run_coroutine_threadsafe(apply(), loop).result(timeout=BRIDGE_TIMEOUT_SECONDS)


def schedule_handler(schedule: Schedule, decoder: EventDecoder) -> EventHandler:
    def handle(event: Event) -> None:
        message = decoder.decode(event)
        if not event.type.startswith("mrc.grievance.v1.Grievance"):
            return
        grievance_id = getattr(message, "grievance_id", "")
        if not grievance_id:
            return
        deadline = datetime_from(message.sla_next_deadline) if message.HasField("sla_next_deadline") else None  # type: ignore[attr-defined]
        schedule.apply_from_thread(grievance_id, int(message.version), deadline)  # type: ignore[attr-defined]

    return handle


def main() -> None:
    settings = GrievanceSettings()
    # It writes no cases (the API does, from the work handed over), so it relays no outbox.
    connections = connect(
        settings,
        topics=[REGISTRY_WORKERS_TOPIC, GRIEVANCES_TOPIC, dead_letter_topic_name(CONSUMER_APP_ID)],
        outbox_collections=[],
    )
    store = connections.store
    cases, traces = StoredCases(store), StoredTraces(store)
    work, erased = StoredWork(store), StoredErasedWorkers(store)
    registry = RegistryEvents(cases, traces, work, erased)
    timer = SlaTimer(cases, work, recheck_seconds=settings.sla_recheck_seconds)

    app = create_faust_app(
        CONSUMER_APP_ID, settings.infra, web_port=settings.worker_web_port, bind_host=settings.bind_host
    )
    schedule = Schedule(app, settings.infra.kafka_topic_partitions)
    decoder = EventDecoder()
    federated = settings.infra.state_code and settings.federation.peer_codes()
    subscribe(
        app,
        REGISTRY_WORKERS_TOPIC,
        registry_handler(
            registry,
            decoder,
            StoredFederatedWorkers(store) if federated else None,
            StoredForwardedCases(store) if federated else None,
            StoredForwardedTraces(store) if federated else None,
        ),
    )
    subscribe(app, GRIEVANCES_TOPIC, schedule_handler(schedule, decoder))

    @app.task()  # type: ignore[untyped-decorator]
    async def remember_loop() -> None:
        schedule.loop = asyncio.get_running_loop()

    @app.timer(interval=settings.sla_tick_seconds)  # type: ignore[untyped-decorator]
    async def tick() -> None:
        if time.monotonic() - schedule.rebuilt_at > INDEX_REBUILD_SECONDS:
            schedule.rebuild_index()
        now = datetime.now(UTC)
        for grievance_id in schedule.index.due(now.timestamp()):
            entry = schedule.get(grievance_id)
            if entry is None:
                continue
            try:
                decided = await asyncio.to_thread(timer.due, grievance_id, entry, now)
            except Exception:
                log.exception("SLA hand-over failed; trying again", extra={"grievance_id": grievance_id})
                schedule.index.set(grievance_id, now.timestamp() + settings.sla_recheck_seconds)
                continue
            schedule.put(grievance_id, decided)

    try:
        worker = faust.Worker(app, loglevel=settings.infra.log_level.lower(), override_logging=False)
        worker.execute_from_commandline()
    finally:
        connections.close()
    sys.exit(0)
