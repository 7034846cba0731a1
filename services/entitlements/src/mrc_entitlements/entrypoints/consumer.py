"""The entitlements consumer: a faust worker that keeps eligibility records in step with registry events.

It is only an entrypoint: it decodes the event and calls the plain use case, which is idempotent.
Consent revocation (ConsentChanged), erasure (WorkerErased) and deduplication (WorkersMerged) take effect
here, as the DPDP Act requires of every service holding the worker's data.
"""

from __future__ import annotations

import logging
import sys

import faust

from mrc.registry.v1 import events_pb2 as registry_events
from mrc_entitlements.adapters.mongo_repository import EligibilityDocument, MongoEligibilityRepository
from mrc_entitlements.adapters.registry_mapping import (
    active_purposes_include_linkage,
    registered_with_linkage_consent,
)
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_entitlements.settings import (
    CONSUMER_APP_ID,
    ELIGIBILITY_TOPIC,
    REGISTRY_WORKERS_TOPIC,
    EntitlementsSettings,
)
from mrc_kernel.events import Event
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.faust_app import EventHandler, create_faust_app, dead_letter_topic_name, subscribe
from mrc_plumbing.service_runtime import connect

log = logging.getLogger(__name__)


def build_handler(service: EligibilityService, decoder: EventDecoder) -> EventHandler:
    def handle(event: Event) -> None:
        message = decoder.decode(event)
        if isinstance(message, registry_events.WorkerRegistered):
            worker = message.worker
            recorded = service.worker_registered(
                worker.worker_id,
                event_id=event.id,
                linkage_consented=registered_with_linkage_consent(worker, event.time),
                state_code=worker.home.state_code,
                district_code=worker.home.district_code,
            )
            log.info("worker registered", extra={"event_id": event.id, "recorded": recorded})
        elif isinstance(message, registry_events.ConsentChanged):
            changed = service.consent_changed(
                message.worker_id,
                event_id=event.id,
                linkage_consented=active_purposes_include_linkage(message.active_purposes),
            )
            log.info("consent changed", extra={"event_id": event.id, "changed": changed})
        elif isinstance(message, registry_events.WorkerErased):
            erased = service.worker_erased(message.worker_id, event_id=event.id)
            log.info("worker erased", extra={"event_id": event.id, "erased": erased})
        elif isinstance(message, registry_events.WorkersMerged):
            moved = service.workers_merged(message.merged_worker_id, message.surviving_worker_id, event_id=event.id)
            log.info("workers merged", extra={"event_id": event.id, "moved": moved})
        # Other registry events are not ours to act on.

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
