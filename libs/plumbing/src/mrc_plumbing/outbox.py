"""Transactional outbox without multi-document transactions.

An aggregate's pending events live inside its own document (field `outbox`), written by the same
single-document write that changes the aggregate, so a change is never stored without its events
and no event exists for a change that was not stored. The relay publishes them with an idempotent
producer and only then removes them from the document. If the process dies in between, the events
stay in the document and are published again on restart: delivery is at least once, and consumers
drop duplicates by event id (see `mrc_plumbing.idempotency`).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from kafka import KafkaProducer
from pymongo import ASCENDING, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from mrc_kernel.events import Event
from mrc_plumbing.conditional_writes import is_ferretdb
from mrc_plumbing.mongo_wiring import bulk_write_in_chunks, point_reads
from mrc_plumbing.settings import FaultInjection

log = logging.getLogger(__name__)

OUTBOX_FIELD = "outbox"
# A top-level, indexed flag so the relay finds pending documents without scanning the collection.
PENDING_FLAG = "outbox_pending"
SCAN_TIME_SHARE_FACTOR = 20

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


def _outbox_of(collection: Collection[Any], document_id: Any) -> dict[str, Any] | None:
    return collection.find_one({"_id": document_id}, {OUTBOX_FIELD: 1})


class OutboxRelay:
    """Publishes events waiting in the outboxes of the given collections.

    Writers pass the id of the document they wrote (`notify(document_id)`): the relay then reads just
    that document by `_id`, which every store answers from an index (FerretDB 1.24 pushes nothing else
    down). A scan for pending documents runs at start, when asked (`notify()` without an id), and every
    `scan_interval_seconds`, to pick up whatever a crash left behind.
    """

    def __init__(
        self,
        db: Database[Any],
        collections: Iterable[str],
        producer: KafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval_seconds: float = 1.0,
        scan_interval_seconds: float = 30.0,
        faults: FaultInjection | None = None,
    ) -> None:
        self._db = db
        self._collections = list(collections)
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval_seconds
        self._scan_interval = scan_interval_seconds
        self._faults = faults or FaultInjection()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._hints: set[Any] = set()
        self._scan_requested = True
        self._thread: threading.Thread | None = None
        self._ferretdb: bool | None = None

    def _on_ferretdb(self) -> bool:
        if self._ferretdb is None:
            self._ferretdb = is_ferretdb(self._db)
        return self._ferretdb

    def _pending_filter(self) -> dict[str, Any]:
        # MongoDB answers the flag from its index. FerretDB scans whatever the filter, so it asks the
        # outboxes directly, and the flag need not be kept exact there.
        return {f"{OUTBOX_FIELD}.0": {"$exists": True}} if self._on_ferretdb() else {PENDING_FLAG: True}

    def notify(self, document_id: Any = None) -> None:
        """Called after a write that added events, so they go out now rather than at the next scan."""
        with self._lock:
            if document_id is None:
                self._scan_requested = True
            else:
                self._hints.add(document_id)
        self._wake.set()

    def relay_pending(self) -> int:
        """One scan over every collection; returns how many events were published."""
        published = 0
        for name in self._collections:
            while True:
                collection = self._db[name]
                docs = list(collection.find(self._pending_filter(), {OUTBOX_FIELD: 1}).limit(self._batch_size))
                published += self._publish_and_clear(collection, name, docs)
                if len(docs) < self._batch_size:
                    break
        return published

    def relay_hinted(self) -> int:
        """Publish the events of the documents writers told us about, each read by `_id`."""
        with self._lock:
            hints, self._hints = self._hints, set()
        if not hints:
            return 0
        published = 0
        try:
            for name in self._collections:
                collection = self._db[name]
                found = point_reads(functools.partial(_outbox_of, collection), sorted(hints, key=str))
                docs = [doc for doc in found if doc and doc.get(OUTBOX_FIELD)]
                published += self._publish_and_clear(collection, name, docs)
        except Exception:
            with self._lock:
                self._hints |= hints  # try them again on the next pass
            raise
        return published

    def _publish_and_clear(self, collection: Collection[Any], collection_name: str, docs: list[dict[str, Any]]) -> int:
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
        if self._on_ferretdb():
            # FerretDB reads the whole collection for any filter but a bare `_id`, so the clear is one
            # atomic $pullAll by `_id` (exactly the entries published; events appended meanwhile stay)
            # and the pending flag is left alone: scans there look at the outboxes themselves.
            bulk_write_in_chunks(
                collection,
                [UpdateOne({"_id": d["_id"]}, {"$pullAll": {OUTBOX_FIELD: d.get(OUTBOX_FIELD, [])}}) for d in docs],
            )
            log.debug("relayed events", extra={"collection": collection_name, "count": len(batch)})
            return len(batch)
        # MongoDB: the usual case in one write per document. The outbox still holds exactly what was
        # published, so empty it and drop the pending flag together; the filter makes that conditional.
        emptied_at_once = bulk_write_in_chunks(
            collection,
            [
                UpdateOne(
                    {"_id": d["_id"], OUTBOX_FIELD: d.get(OUTBOX_FIELD, [])},
                    {"$set": {OUTBOX_FIELD: []}, "$unset": {PENDING_FLAG: ""}},
                )
                for d in docs
            ],
        )
        if emptied_at_once == len(docs):
            log.debug("relayed events", extra={"collection": collection_name, "count": len(batch)})
            return len(batch)
        # Otherwise events were appended meanwhile to some document: remove exactly the entries we
        # published ($pullAll matches whole elements, which FerretDB supports, unlike $pull with a
        # condition); events appended meanwhile stay. Repeating it for documents emptied above is harmless.
        bulk_write_in_chunks(
            collection,
            [UpdateOne({"_id": d["_id"]}, {"$pullAll": {OUTBOX_FIELD: d.get(OUTBOX_FIELD, [])}}) for d in docs],
        )
        # Conditional, so an event appended after the $pullAll keeps its document flagged for the scans.
        bulk_write_in_chunks(
            collection, [UpdateOne({"_id": d["_id"], OUTBOX_FIELD: []}, {"$unset": {PENDING_FLAG: ""}}) for d in docs]
        )
        log.debug("relayed events", extra={"collection": collection_name, "count": len(batch)})
        return len(batch)

    def run(self) -> None:
        last_scan = 0.0
        interval = self._scan_interval
        while not self._stop.is_set():
            try:
                self.relay_hinted()
                with self._lock:
                    scan = self._scan_requested or time.monotonic() - last_scan >= interval
                    self._scan_requested = False
                if scan:
                    began = time.monotonic()
                    self.relay_pending()
                    last_scan = time.monotonic()
                    # A scan reads every document on FerretDB: keep it to about 5% of the time.
                    interval = max(self._scan_interval, SCAN_TIME_SHARE_FACTOR * (last_scan - began))
            except Exception:
                # The broker or store is down: events stay in their documents; try again later.
                log.exception("outbox relay pass failed; retrying")
                with self._lock:
                    self._scan_requested = True
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
            self.relay_hinted()  # a last pass so a clean shutdown leaves nothing behind
        except Exception:
            log.exception("final outbox pass failed; events stay stored for the next start")
