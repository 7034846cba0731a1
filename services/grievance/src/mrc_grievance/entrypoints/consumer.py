"""The grievance consumer: a faust worker that applies the registry's erasures and merges to grievances.

It is only an entrypoint: it decodes the event and calls the plain use case, which is idempotent.
"""

from __future__ import annotations

import logging
import sys

import faust

from mrc.registry.v1 import events_pb2 as registry_events
from mrc_grievance.adapters.mongo_repository import MongoGrievanceRepository
from mrc_grievance.service_layer.worker_events import WorkerEventsService
from mrc_grievance.settings import CONSUMER_APP_ID, REGISTRY_WORKERS_TOPIC, GrievanceSettings
from mrc_kernel.events import Event
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.faust_app import EventHandler, create_faust_app, dead_letter_topic_name, subscribe
from mrc_plumbing.service_runtime import connect

log = logging.getLogger(__name__)


def build_handler(service: WorkerEventsService, decoder: EventDecoder) -> EventHandler:
    def handle(event: Event) -> None:
        message = decoder.decode(event)
        if isinstance(message, registry_events.WorkerErased):
            changed = service.worker_erased(message.worker_id)
            log.info("worker erased", extra={"event_id": event.id, "grievances": changed})
        elif isinstance(message, registry_events.WorkersMerged):
            changed = service.workers_merged(message.merged_worker_id, message.surviving_worker_id)
            log.info("workers merged", extra={"event_id": event.id, "grievances": changed})
        # Other registry events are not ours to act on.

    return handle


def main() -> None:
    settings = GrievanceSettings()
    # It raises no events of its own, so it relays no outbox (the API process does).
    connections = connect(
        settings, topics=[REGISTRY_WORKERS_TOPIC, dead_letter_topic_name(CONSUMER_APP_ID)], outbox_collections=[]
    )
    MongoGrievanceRepository.ensure_indexes()
    service = WorkerEventsService(MongoGrievanceRepository(connections.crypto.cipher))

    app = create_faust_app(
        CONSUMER_APP_ID, settings.infra, web_port=settings.worker_web_port, bind_host=settings.bind_host
    )
    subscribe(app, REGISTRY_WORKERS_TOPIC, build_handler(service, EventDecoder()))
    try:
        worker = faust.Worker(app, loglevel=settings.infra.log_level.lower(), override_logging=False)
        worker.execute_from_commandline()
    finally:
        connections.close()
    sys.exit(0)
