"""Transactional outbox without multi-document transactions: the relay.

An aggregate's pending events live inside its own document (field `outbox`), written by the same
single-document write that changes the aggregate, so a change is never stored without its events
and no event exists for a change that was not stored. The relay publishes them with an idempotent
producer and only then removes them from the document. If the process dies in between, the events
stay in the document and are published again on restart: delivery is at least once, and consumers
drop duplicates by event id (`DocumentCollection.apply_once`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kafka import KafkaProducer

from mrc_kernel.events import Event
from mrc_plumbing.settings import FaultInjection
from mrc_plumbing.store import OUTBOX_FIELD, PENDING_FLAG, DocumentCollection, DocumentStore, IndexSpec

log = logging.getLogger(__name__)

# A scan reads every document on FerretDB: the relay keeps scans to about 1/20 of its time.
SCAN_TIME_SHARE_FACTOR = 20
# Documents whose new outbox entries the relay keeps in memory to publish without reading them back; past
# this (the broker is down and writes go on), it keeps only their ids and reads them when it can publish.
MAX_ENTRIES_IN_MEMORY = 20_000

FAULT_EXIT_CODE = 86


class OutboxRelay:
    """Publishes events waiting in the outboxes of the given collections.

    The store tells the relay which document a write stored events in (`notify(collection, ids)`,
    registered with `store.on_events_stored`): the relay then reads just those documents by `_id`,
    which every store answers from an index. A scan for pending documents runs at start, when asked,
    and every `scan_interval_seconds`, to pick up whatever a crash left behind.
    """

    def __init__(
        self,
        store: DocumentStore,
        collections: Iterable[str],
        producer: KafkaProducer,
        *,
        batch_size: int = 500,
        poll_interval_seconds: float = 1.0,
        scan_interval_seconds: float = 30.0,
        faults: FaultInjection | None = None,
    ) -> None:
        self._store = store
        self._collections = list(collections)
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval_seconds
        self._scan_interval = scan_interval_seconds
        self._faults = faults or FaultInjection()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        # Per collection, the documents the store told us about: their new outbox entries, or None (read them).
        self._hints: dict[str, dict[Any, list[dict[str, Any]] | None]] = {}
        self._entries_in_memory = 0
        self._scan_requested = True
        self._thread: threading.Thread | None = None
        store.on_events_stored(self.notify)

    def ensure_indexes(self) -> None:
        """The pending flag's index, through which MongoDB finds documents with events to publish."""
        for name in self._collections:
            self._store.collection(name).ensure_indexes([IndexSpec((PENDING_FLAG,), "outbox_pending", sparse=True)])

    def notify(self, collection: str, stored: Mapping[Any, Sequence[dict[str, Any]]]) -> None:
        """Events were stored in these documents (these outbox entries): publish them now, without reading the
        documents back, rather than at the next scan."""
        if collection not in self._collections:
            return
        with self._lock:
            hints = self._hints.setdefault(collection, {})
            for document_id, entries in stored.items():
                known = hints.get(document_id, [])
                if document_id in hints and known is None:
                    continue  # already to be read from the store
                if self._entries_in_memory >= MAX_ENTRIES_IN_MEMORY:
                    hints[document_id] = None
                    continue
                hints[document_id] = [*(known or []), *entries]
                self._entries_in_memory += 1
        self._wake.set()

    def request_scan(self) -> None:
        with self._lock:
            self._scan_requested = True
        self._wake.set()

    def relay_pending(self) -> int:
        """One scan over every collection; returns how many events were published."""
        published = 0
        for name in self._collections:
            collection = self._store.collection(name)
            while True:
                docs = collection.pending_outboxes(self._batch_size)
                published += self._publish_and_clear(collection, docs)
                self._forget(name, [d["_id"] for d in docs])
                if len(docs) < self._batch_size:
                    break
        return published

    def relay_hinted(self) -> int:
        """Publish the events of the documents the store told us about: from memory, or read by `_id`."""
        with self._lock:
            hints, self._hints = self._hints, {}
            self._entries_in_memory = 0
        published = 0
        try:
            for name, documents in hints.items():
                collection = self._store.collection(name)
                known = [{"_id": i, OUTBOX_FIELD: entries} for i, entries in documents.items() if entries]
                unknown = sorted((i for i, entries in documents.items() if entries is None), key=str)
                for start in range(0, len(known), self._batch_size):
                    published += self._publish_and_clear(collection, known[start : start + self._batch_size])
                for start in range(0, len(unknown), self._batch_size):
                    docs = collection.outboxes_of(unknown[start : start + self._batch_size])
                    published += self._publish_and_clear(collection, docs)
        except Exception:
            # Try them again on the next pass, from the store: what was published meanwhile is no longer there.
            with self._lock:
                for name, documents in hints.items():
                    self._hints.setdefault(name, {}).update(dict.fromkeys(documents))
            raise
        return published

    def _forget(self, collection: str, document_ids: Sequence[Any]) -> None:
        """A scan published these documents' events: drop what memory still holds of them (entries stored after
        the scan read them are read again from the store, so none is lost)."""
        with self._lock:
            hints = self._hints.get(collection, {})
            for document_id in document_ids:
                if hints.get(document_id) is not None:
                    hints[document_id] = None

    def _publish_and_clear(self, collection: DocumentCollection, docs: list[dict[str, Any]]) -> int:
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
        collection.clear_outboxes(docs)
        log.debug("relayed events", extra={"collection": collection.name, "count": len(batch)})
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
        self.ensure_indexes()
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
