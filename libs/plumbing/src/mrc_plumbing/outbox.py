"""Transactional outbox without multi-document transactions.

An aggregate's pending events live inside its own document (field `outbox`), written by the same
single-document write that changes the aggregate, so a change is never stored without its events
and no event exists for a change that was not stored. The relay publishes them with an idempotent
producer and only then removes them from the document. If the process dies in between, the events
stay in the document and are published again on restart: delivery is at least once, and consumers
drop duplicates by event id (see `mrc_plumbing.idempotency`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from kafka import KafkaProducer
from pymongo import ASCENDING, UpdateMany, UpdateOne
from pymongo.database import Database

from mrc_plumbing.events import Event
from mrc_plumbing.settings import FaultInjection

log = logging.getLogger(__name__)

OUTBOX_FIELD = "outbox"
# A top-level, indexed flag so the relay finds pending documents without scanning the collection.
PENDING_FLAG = "outbox_pending"

FAULT_EXIT_CODE = 86


def with_events(document: dict[str, Any], events: Sequence[Event]) -> dict[str, Any]:
    """A new document that carries its first events."""
    document[OUTBOX_FIELD] = [e.to_document() for e in events]
    if events:
        document[PENDING_FLAG] = True
    return document


def append_events(update: dict[str, Any], events: Sequence[Event]) -> dict[str, Any]:
    """Add events to an update of an existing document (the same update_one that changes it)."""
    if not events:
        return update
    update.setdefault("$push", {})[OUTBOX_FIELD] = {"$each": [e.to_document() for e in events]}
    update.setdefault("$set", {})[PENDING_FLAG] = True
    return update


def ensure_outbox_index(db: Database[Any], collection: str) -> None:
    db[collection].create_index([(PENDING_FLAG, ASCENDING)], name="outbox_pending")


class OutboxRelay:
    """Publishes events waiting in the outboxes of the given collections."""

    def __init__(
        self,
        db: Database[Any],
        collections: Iterable[str],
        producer: KafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval_seconds: float = 1.0,
        faults: FaultInjection | None = None,
    ) -> None:
        self._db = db
        self._collections = list(collections)
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval_seconds
        self._faults = faults or FaultInjection()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        """Called after a write that added events, so they go out now rather than at the next poll."""
        self._wake.set()

    def relay_pending(self) -> int:
        """One pass over every collection; returns how many events were published."""
        published = 0
        for name in self._collections:
            while True:
                count = self._relay_batch(name)
                published += count
                if count < self._batch_size:
                    break
        return published

    def _relay_batch(self, collection_name: str) -> int:
        collection = self._db[collection_name]
        docs = list(collection.find({PENDING_FLAG: True}, {OUTBOX_FIELD: 1}).limit(self._batch_size))
        if not docs:
            return 0
        batch = [Event.from_document(stored) for doc in docs for stored in doc.get(OUTBOX_FIELD, [])]
        if batch and self._faults.crash_before_publish:
            log.critical("fault injection: exiting before publishing stored events")
            os._exit(FAULT_EXIT_CODE)
        futures = [
            self._producer.send(event.topic, key=event.key, value=event.data, headers=event.kafka_headers())
            for event in batch
        ]
        self._producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises if the broker did not take the record: events stay pending
        if self._faults.crash_after_publish:
            log.critical("fault injection: exiting after publishing, before clearing the outbox")
            os._exit(FAULT_EXIT_CODE)
        # Remove exactly the entries we published ($pullAll matches whole elements, which FerretDB
        # supports, unlike $pull with a condition); events appended meanwhile stay.
        ops: list[UpdateOne | UpdateMany] = [
            UpdateOne({"_id": doc["_id"]}, {"$pullAll": {OUTBOX_FIELD: doc.get(OUTBOX_FIELD, [])}}) for doc in docs
        ]
        # Only documents whose outbox is now empty lose the flag; a write that raced in keeps it.
        ops.append(
            UpdateMany(
                {"_id": {"$in": [doc["_id"] for doc in docs]}, OUTBOX_FIELD: {"$size": 0}},
                {"$unset": {PENDING_FLAG: ""}},
            )
        )
        collection.bulk_write(ops, ordered=True)
        if batch:
            log.debug("relayed events", extra={"collection": collection_name, "count": len(batch)})
        return len(docs)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.relay_pending()
            except Exception:
                # The broker or store is down: events stay in their documents; try again later.
                log.exception("outbox relay pass failed; retrying")
                self._stop.wait(self._poll_interval)
            self._wake.wait(self._poll_interval)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        try:
            self.relay_pending()  # a last pass so a clean shutdown leaves nothing behind
        except Exception:
            log.exception("final outbox pass failed; events stay stored for the next start")
