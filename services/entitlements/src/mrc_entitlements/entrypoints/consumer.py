"""The entitlements consumer: a faust worker that turns registry events into eligibility records.

It is only an entrypoint: it decodes the event and calls the plain use case, which is idempotent.
"""

from __future__ import annotations

import logging
import sys

import faust

from mrc.registry.v1 import events_pb2 as registry_events
from mrc_entitlements.adapters.mongo_repository import EligibilityDocument, MongoEligibilityRepository
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_entitlements.settings import (
    CONSUMER_APP_ID,
    ELIGIBILITY_TOPIC,
    REGISTRY_WORKERS_TOPIC,
    EntitlementsSettings,
)
from mrc_plumbing.events import Event, EventDecoder
from mrc_plumbing.faust_app import EventHandler, create_faust_app, dead_letter_topic_name, subscribe
from mrc_plumbing.service_runtime import connect

log = logging.getLogger(__name__)


def build_handler(service: EligibilityService, decoder: EventDecoder) -> EventHandler:
    def handle(event: Event) -> None:
        message = decoder.decode(event)
        if isinstance(message, registry_events.WorkerRegistered):
            recorded = service.worker_registered(message.worker.worker_id, event_id=event.id)
            log.info("worker registered", extra={"event_id": event.id, "recorded": recorded})
        # Other registry events are not ours to act on yet.

    return handle


def main() -> None:
    settings = EntitlementsSettings()
    connections = connect(
        settings,
        topics=[ELIGIBILITY_TOPIC, REGISTRY_WORKERS_TOPIC, dead_letter_topic_name(CONSUMER_APP_ID)],
        outbox_collections=[EligibilityDocument._meta["collection"]],
    )
    MongoEligibilityRepository.ensure_indexes()
    service = EligibilityService(MongoEligibilityRepository(), connections.relay)

    app = create_faust_app(
        CONSUMER_APP_ID, settings.infra, web_port=settings.worker_web_port, bind_host=settings.bind_host
    )
    handler = build_handler(service, EventDecoder())
    subscribe(app, REGISTRY_WORKERS_TOPIC, handler)
    connections.relay.start()
    try:
        worker = faust.Worker(app, loglevel=settings.infra.log_level.lower(), override_logging=False)
        worker.execute_from_commandline()
    finally:
        connections.close()
    sys.exit(0)
