"""The employer worker: a faust consumer that keeps each organisation's compliance history up to date.

It follows the grievance service's events (allegations, triage, reopenings, resolutions naming an
organisation), this service's own (a compliance record or a wage-register batch stored) and the
registry's erasures and merges of workers (records naming an erased worker lose the id), and calls
the plain, idempotent use cases of `service_layer.history_updates`; at least once, with a dead-letter
topic for what still fails after a few attempts (`mrc_plumbing.faust_app.subscribe`). It relays the
history's events (`ScoreChanged`, `RiskFlagRaised`, `RiskFlagCleared`) and sweeps every history
periodically, since findings age.
"""

from __future__ import annotations

import logging
import sys
import threading

import faust

from mrc.employer.v1 import events_pb2 as employer_events
from mrc.registry.v1 import events_pb2 as registry_events
from mrc_employer.adapters.grievance_events import SIGNALLING_TYPES, signals_of
from mrc_employer.adapters.histories import ComplianceHistoryDocument, StoredHistories
from mrc_employer.adapters.organisations import StoredOrganisations
from mrc_employer.adapters.records import StoredRecords
from mrc_employer.service_layer.history_updates import HistoryUpdates
from mrc_employer.settings import (
    CONSUMER_APP_ID,
    EMPLOYERS_TOPIC,
    GRIEVANCES_TOPIC,
    MINIMUM_WAGES_TOPIC,
    REGISTRY_WORKERS_TOPIC,
    EmployerSettings,
)
from mrc_kernel.events import Event
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.faust_app import EventHandler, create_faust_app, dead_letter_topic_name, subscribe
from mrc_plumbing.service_runtime import connect
from mrc_plumbing.store.schema import collection_of

log = logging.getLogger(__name__)

COMPLIANCE_RECORDED = employer_events.ComplianceRecorded.DESCRIPTOR.full_name
WAGE_RECORDS_BATCHED = employer_events.WageRecordsBatched.DESCRIPTOR.full_name
WORKER_ERASED = registry_events.WorkerErased.DESCRIPTOR.full_name
WORKERS_MERGED = registry_events.WorkersMerged.DESCRIPTOR.full_name


def build_handler(updates: HistoryUpdates, decoder: EventDecoder) -> EventHandler:
    def handle(event: Event) -> None:
        if event.type in SIGNALLING_TYPES:
            for organisation_id, signal in signals_of(event, decoder.decode(event)):
                changed = updates.grievance_signalled(organisation_id, signal)
                log.info("grievance signal", extra={"event_id": event.id, "kind": signal.kind, "changed": changed})
        elif event.type == COMPLIANCE_RECORDED:
            recorded = decoder.decode(event)
            assert isinstance(recorded, employer_events.ComplianceRecorded)
            updates.record_stored(recorded.record_id)  # a register's records arrive as their batch
        elif event.type == WAGE_RECORDS_BATCHED:
            batched = decoder.decode(event)
            assert isinstance(batched, employer_events.WageRecordsBatched)
            updates.batch_stored(batched.batch_id)
        elif event.type == WORKER_ERASED:
            erased = decoder.decode(event)
            assert isinstance(erased, registry_events.WorkerErased)
            log.info("worker erased", extra={"event_id": event.id, "records": updates.worker_erased(erased.worker_id)})
        elif event.type == WORKERS_MERGED:
            merged = decoder.decode(event)
            assert isinstance(merged, registry_events.WorkersMerged)
            moved = updates.workers_merged(merged.merged_worker_id, merged.surviving_worker_id)
            log.info("workers merged", extra={"event_id": event.id, "records": moved})
        # Every other event (ours: scores, flags, organisations; theirs: assignments, SLA) changes nothing here.

    return handle


class ScoreSweep:
    """Recomputes every history for the day (findings age), every `interval_seconds`."""

    def __init__(self, updates: HistoryUpdates, interval_seconds: float) -> None:
        self._updates = updates
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="score-sweep", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                log.info("score sweep", extra={"changed": self._updates.reevaluate_all()})
            except Exception:
                log.exception("score sweep failed; trying again at the next interval")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    settings = EmployerSettings()
    connections = connect(
        settings,
        topics=[
            EMPLOYERS_TOPIC,
            MINIMUM_WAGES_TOPIC,
            GRIEVANCES_TOPIC,
            REGISTRY_WORKERS_TOPIC,
            dead_letter_topic_name(CONSUMER_APP_ID),
        ],
        outbox_collections=[collection_of(ComplianceHistoryDocument)],
    )
    store = connections.store
    histories = StoredHistories(store)
    histories.ensure_indexes()
    updates = HistoryUpdates(StoredOrganisations(store), StoredRecords(store), histories)

    app = create_faust_app(
        CONSUMER_APP_ID, settings.infra, web_port=settings.worker_web_port, bind_host=settings.bind_host
    )
    handler = build_handler(updates, EventDecoder())
    # Grievances are handled several at once (each one's events in order); two about one employer meet in its
    # history's version check, which reads again and retries.
    subscribe(app, GRIEVANCES_TOPIC, handler, concurrency=4)
    subscribe(app, EMPLOYERS_TOPIC, handler)
    subscribe(app, REGISTRY_WORKERS_TOPIC, handler)
    connections.relay.start()
    sweep = ScoreSweep(updates, settings.score_sweep_seconds)
    sweep.start()
    try:
        worker = faust.Worker(app, loglevel=settings.infra.log_level.lower(), override_logging=False)
        worker.execute_from_commandline()
    finally:
        sweep.stop()
        connections.close()
    sys.exit(0)
