"""The audit worker: a faust agent that appends every `mrc.audit.v1.DataAccessed` event to the trail.

It is only an entrypoint: it decodes the event and calls the append-only use case, which ignores
redeliveries (the record's id is the event's id).
"""

from __future__ import annotations

import logging
import sys

import faust

from mrc.audit.v1 import audit_pb2
from mrc_access.adapters.mongo_audit_records import StoredAuditRecords
from mrc_access.adapters.protobuf_mapping import access_record_from_proto
from mrc_access.service_layer.audit_trail import AuditTrail
from mrc_access.settings import AUDIT_TOPIC, CONSUMER_APP_ID, AccessSettings
from mrc_kernel.events import Event
from mrc_plumbing import kafka_wiring
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.faust_app import EventHandler, create_faust_app, dead_letter_topic_name, subscribe
from mrc_plumbing.store.wiring import open_store
from mrc_plumbing.structured_logging import configure_logging

log = logging.getLogger(__name__)


def build_handler(audit_trail: AuditTrail, decoder: EventDecoder) -> EventHandler:
    def handle(event: Event) -> None:
        message = decoder.decode(event)
        if not isinstance(message, audit_pb2.DataAccessed):
            log.warning("not an audit event; skipped", extra={"event_id": event.id, "type": event.type})
            return
        record = access_record_from_proto(message, record_id=event.id, sent_at=event.time)
        stored = audit_trail.record(record)
        log.debug("audit record", extra={"event_id": event.id, "stored": stored})

    return handle


def main() -> None:
    settings = AccessSettings()
    infra = settings.infra
    # This process only stores records: a database and the consumer, no producer or outbox relay.
    configure_logging(f"{settings.service_name}-worker", level=infra.log_level, fmt=infra.log_format)
    store = open_store(infra, settings.mongo_database)
    kafka_wiring.ensure_topics(infra, [AUDIT_TOPIC, dead_letter_topic_name(CONSUMER_APP_ID)])
    records = StoredAuditRecords(store)
    records.ensure_indexes()
    audit_trail = AuditTrail(records)

    app = create_faust_app(CONSUMER_APP_ID, infra, web_port=settings.worker_web_port, bind_host=settings.bind_host)
    # Every audit record is its own insert (applied once by event id): several are stored at once.
    subscribe(app, AUDIT_TOPIC, build_handler(audit_trail, EventDecoder()), concurrency=8)
    worker = faust.Worker(app, loglevel=infra.log_level.lower(), override_logging=False)
    worker.execute_from_commandline()
    sys.exit(0)
