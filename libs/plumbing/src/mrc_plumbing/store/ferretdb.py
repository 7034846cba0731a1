"""The FerretDB 1.24 strategy: every write addressed by a bare `_id`, the only filter it answers from an index.

What FerretDB 1.24 does (verified on the embedded SQLite backend):
- only a filter that is exactly `{_id: x}` is pushed down to an index; `{_id: x, version: 4}`, `$in` on
  `_id` and every other filter read the whole collection;
- update and findAndModify are query-then-write in Go, with nothing held in between (the devstack's
  wire proxy lets one such command per collection run at a time, which makes each one atomic);
- an update command holds one pooled SQLite connection per statement until it ends (100 in the pool:
  a command of 100+ updates waits for itself forever), and concurrent upserts leak connections;
- no transactions, no change streams.

So here a conditional write checks its condition on the one document (an aggregation whose first
stage is a bare `_id` match) and then writes by bare `_id`, both under an in-process lock of that
document: atomic against every other writer of this process. That is why, on the embedded default,
each service runs as one process; several replicas need the MongoDB strategy. Reads of several
documents are concurrent point reads, update commands carry at most 50 statements, nothing upserts,
and secondary keys live in key collections keyed by `_id` (one document per key, listing its ids).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pymongo import InsertOne, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, InvalidOperation

from mrc_kernel.events import Event
from mrc_plumbing.store._pymongo import (
    DUPLICATE_KEY_CODE,
    PymongoCollection,
    PymongoStore,
    projection,
    translated_errors,
    update_with_events,
)
from mrc_plumbing.store.port import (
    APPLIED_EVENTS_FIELD,
    OUTBOX_FIELD,
    Document,
    DocumentCollection,
    Filter,
    IndexSpec,
    KeyIndex,
    KeyListing,
    RankedId,
    Update,
    outbox_entries,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# FerretDB 1.24 deadlocks on update commands of 100 statements or more (its pool holds 100).
MAX_UPDATES_PER_COMMAND = 50
# A key document lists at most this many ids: FerretDB rewrites the whole document on each change.
MAX_IDS_PER_KEY = 1000
# Key documents kept in the process (hot keys: common names in a district), and for how long at most.
KEY_CACHE_CAPACITY = 20_000
KEY_CACHE_TTL_SECONDS = 300.0
# How long the key flusher waits for more writes to join a flush.
KEY_FLUSH_INTERVAL_SECONDS = 0.05
POINT_READ_THREADS = 8
# Batches larger than this get threads of their own, so they never queue ahead of a request's reads.
SHARED_POOL_MAX_ITEMS = 64

# Striped locks: a fixed set, so nothing grows with the number of documents. A writer holds one stripe.
_STRIPES = [threading.Lock() for _ in range(1024)]
_shared_point_readers = ThreadPoolExecutor(max_workers=POINT_READ_THREADS, thread_name_prefix="point-read")


def point_reads(read: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[read(item) for item in items]`, with the reads running concurrently (FerretDB has no `$in` pushdown)."""
    if len(items) <= 2:
        return [read(item) for item in items]
    if len(items) <= SHARED_POOL_MAX_ITEMS:
        return list(_shared_point_readers.map(read, items))
    with ThreadPoolExecutor(max_workers=POINT_READ_THREADS, thread_name_prefix="point-read-batch") as own:
        return list(own.map(read, items))


class FerretCollection(PymongoCollection):
    def ensure_indexes(self, indexes: Sequence[IndexSpec]) -> None:
        # FerretDB 1.24 answers no query from a secondary index: such an index only slows every write.
        # Unique indexes stay, for the uniqueness they enforce.
        super().ensure_indexes([index for index in indexes if index.unique])

    def _stripe(self, document_id: Any) -> threading.Lock:
        return _STRIPES[hash((self._collection.database.name, self.name, str(document_id))) % len(_STRIPES)]

    @contextlib.contextmanager
    def _locked(self, document_id: Any) -> Iterator[None]:
        with self._stripe(document_id):
            yield

    def _holds(self, document_id: Any, condition: Filter) -> bool:
        """Whether the document exists and matches `condition`, checked by the store on that one document."""
        with translated_errors():
            if not condition:
                return self._collection.find_one({"_id": document_id}, {"_id": 1}) is not None
            # The first $match is a bare `_id`, answered from the index; the second sees one document.
            pipeline = [{"$match": {"_id": document_id}}, {"$match": dict(condition)}, {"$project": {"_id": 1}}]
            return any(True for _ in self._collection.aggregate(pipeline))

    def get_many(
        self, document_ids: Sequence[Any], *, fields: Sequence[str] | None = None, exclude: Sequence[str] = ()
    ) -> list[Document]:
        read = functools.partial(self._read_one, fields=fields, exclude=exclude)
        return [document for document in point_reads(read, list(document_ids)) if document is not None]

    def _read_one(self, document_id: Any, *, fields: Sequence[str] | None, exclude: Sequence[str]) -> Document | None:
        return self.get(document_id, fields=fields, exclude=exclude)

    def insert_many(self, documents: Sequence[tuple[Document, Sequence[Event]]]) -> Any:
        # Inserts are safe in one command; only updates hit FerretDB's connection-per-statement limit.
        return super().insert_many(documents)

    def update(
        self, document_id: Any, update: Update, *, where: Filter | None = None, events: Sequence[Event] = ()
    ) -> bool:
        entries = outbox_entries(events)
        with self._locked(document_id):
            if where and not self._holds(document_id, where):
                return False
            with translated_errors():
                matched = self._collection.update_one(
                    {"_id": document_id}, update_with_events(update, entries)
                ).matched_count
        if matched == 1:
            self._stored({document_id: entries} if entries else {})
            return True
        return False

    def update_each(self, updates: Sequence[tuple[Any, Update]]) -> int:
        # Unconditional single-document updates are atomic at the proxy; no lock needed.
        return super().update_each(updates)

    def apply_once(self, document_id: Any, update: Update, event_id: str, *, events: Sequence[Event] = ()) -> bool:
        entries = outbox_entries(events)
        combined = update_with_events(update, entries)
        combined.setdefault("$addToSet", {})[APPLIED_EVENTS_FIELD] = event_id
        with self._locked(document_id):
            if not self._holds(document_id, {APPLIED_EVENTS_FIELD: {"$ne": event_id}}):
                return False
            with translated_errors():
                modified = self._collection.update_one({"_id": document_id}, combined).modified_count
        if modified:
            self._stored({document_id: entries} if entries else {})
            return True
        return False

    def delete(self, document_id: Any, *, where: Filter | None = None) -> bool:
        with self._locked(document_id):
            if where and not self._holds(document_id, where):
                return False
            with translated_errors():
                return bool(self._collection.delete_one({"_id": document_id}).deleted_count)

    def pending_outboxes(self, limit: int) -> list[Document]:
        # FerretDB reads the whole collection for any filter but a bare `_id`, so it looks at the
        # outboxes themselves rather than the pending flag (which it need not keep exact).
        with translated_errors():
            cursor = self._collection.find({f"{OUTBOX_FIELD}.0": {"$exists": True}}, projection([OUTBOX_FIELD], ()))
            return list(cursor.limit(limit))

    def clear_outboxes(self, published: Sequence[Document]) -> None:
        # One atomic $pullAll by `_id` per document: exactly the entries published; events appended
        # meanwhile stay.
        self.update_each([(d["_id"], {"$pullAll": {OUTBOX_FIELD: d.get(OUTBOX_FIELD, [])}}) for d in published])


class _KeyCache:
    """Key documents this process read or wrote, so a hot key is not read (or its size checked) on every
    registration. Coherent because one process of a service writes its collections on the FerretDB strategy;
    entries also expire, bounding any staleness should that rule be broken."""

    def __init__(self, capacity: int, ttl_seconds: float) -> None:
        self._entries: OrderedDict[str, tuple[float, bool, list[str]]] = OrderedDict()
        self._capacity = capacity
        self._ttl = ttl_seconds
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, list[str]] | None:
        """(whether the key document exists, its ids), or None when not cached."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > self._ttl:
                return None
            self._entries.move_to_end(key)
            return entry[1], list(entry[2])

    def put(self, key: str, exists: bool, ids: Sequence[str]) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), exists, list(ids))
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def added(self, key: str, ids: Sequence[str]) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                present = set(entry[2])
                entry[2].extend(i for i in ids if i not in present)

    def removed(self, key: str, document_id: str) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and document_id in entry[2]:
                entry[2].remove(document_id)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class FerretKeyIndex(KeyIndex):
    """One document per key in `<collection>__<field>`, `{_id: key, ids: [...]}`, capped at MAX_IDS_PER_KEY.

    A key listing that many ids is incomplete: lookups must be narrowed by another key. Key documents are
    cached in the process (`_KeyCache`).

    Additions are written behind, through a journal. FerretDB rewrites a whole key document for each change
    and its proxy runs one update of a collection at a time, so updating every key of every registration as
    it happens serialises registrations on hot keys (a common name in a district). Instead, `added` inserts
    one small journal entry (durable before the owning document is written, so an interruption can only
    leave a key naming a document that was never stored) and keeps the additions in memory, where lookups
    see them at once; a flusher merges the additions of many writes into one update per key and deletes
    their journal entries. A process that stops before a flush replays the journal when it starts.
    Removals are written at once.
    """

    def __init__(
        self,
        keys: Collection[Any],
        journal: Collection[Any],
        cap: int = MAX_IDS_PER_KEY,
        *,
        cache_capacity: int = KEY_CACHE_CAPACITY,
        cache_ttl_seconds: float = KEY_CACHE_TTL_SECONDS,
        flush_interval_seconds: float = KEY_FLUSH_INTERVAL_SECONDS,
    ) -> None:
        self._keys = keys
        self._journal = journal
        self._cap = cap
        self._cache = _KeyCache(cache_capacity, cache_ttl_seconds)
        self._flush_interval = flush_interval_seconds
        # Additions not yet in the key documents: key -> ids, and the journal entries that hold them.
        self._pending: dict[str, list[str]] = {}
        self._pending_entries: list[str] = []
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None
        self._replayed = threading.Event()
        self._replay_lock = threading.Lock()

    # -- reads ---------------------------------------------------------------------------------------

    def _read(self, key: str) -> tuple[bool, list[str]]:
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        with translated_errors():
            document = self._keys.find_one({"_id": key})
        found = (document is not None, list(document["ids"]) if document else [])
        self._cache.put(key, *found)
        return found

    def _ids(self, key: str) -> list[str]:
        self._replay()
        ids = self._read(key)[1]
        with self._pending_lock:
            pending = self._pending.get(key, ())
        if pending:
            present = set(ids)
            room = max(0, self._cap - len(ids))
            ids += [i for i in pending if i not in present][:room]
        return ids

    def listing(self, key: str, *, after: str = "", limit: int | None = None) -> KeyListing:
        ids = self._ids(key)
        complete = len(ids) < self._cap
        ordered = sorted(i for i in ids if i > after)
        return KeyListing(ordered if limit is None else ordered[:limit], complete)

    def ranked(self, keys: Iterable[str], *, limit: int, exclude: str = "") -> list[RankedId]:
        shared: dict[str, int] = {}
        wanted = sorted(set(keys))
        for ids in point_reads(self._ids, wanted):
            for document_id in ids:
                if document_id != exclude:
                    shared[document_id] = shared.get(document_id, 0) + 1
        ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))
        return [RankedId(document_id, count) for document_id, count in ranked[:limit]]

    # -- writes --------------------------------------------------------------------------------------

    def added(self, document_id: str, keys: Iterable[str]) -> None:
        self.added_many({key: [document_id] for key in keys})

    def added_many(self, ids_by_key: Mapping[str, Sequence[str]]) -> None:
        # Objects, not arrays: FerretDB stores no nested arrays.
        pairs = [{"k": key, "id": document_id} for key, ids in sorted(ids_by_key.items()) for document_id in ids]
        if not pairs:
            return
        self._replay()
        entry = str(uuid.uuid4())
        with translated_errors():
            self._journal.insert_one({"_id": entry, "pairs": pairs})
        self._remember(entry, pairs)
        self._start_flusher()
        self._wake.set()

    def removed(self, document_id: str, keys: Iterable[str]) -> None:
        ordered = sorted(set(keys))
        with self._pending_lock:
            for key in ordered:
                if document_id in self._pending.get(key, ()):
                    self._pending[key].remove(document_id)
        self._write([UpdateOne({"_id": key}, {"$pull": {"ids": document_id}}) for key in ordered])
        for key in ordered:
            self._cache.removed(key, document_id)

    def _remember(self, entry: str, pairs: Sequence[Mapping[str, str]]) -> None:
        with self._pending_lock:
            self._pending_entries.append(entry)
            for pair in pairs:
                ids = self._pending.setdefault(pair["k"], [])
                if pair["id"] not in ids:
                    ids.append(pair["id"])

    # -- the flusher ---------------------------------------------------------------------------------

    def _start_flusher(self) -> None:
        if self._flusher is None:
            with self._pending_lock:
                if self._flusher is None:
                    self._flusher = threading.Thread(target=self._run, name="key-index-flusher", daemon=True)
                    self._flusher.start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self._flush_interval)  # let more writes join this flush
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:
                if _stopping(exc):
                    # The client or the interpreter is closing: the journal keeps what was not flushed, and
                    # the next process to open this index replays it.
                    return
                log.exception("key index flush failed; retrying")
                time.sleep(1.0)
                self._wake.set()

    def flush(self) -> None:
        """Write the pending additions into the key documents and drop their journal entries."""
        with self._flush_lock:
            with self._pending_lock:
                pending = {key: list(ids) for key, ids in self._pending.items() if ids}
                entries = list(self._pending_entries)
            if pending:
                self._write_additions(pending)
            if entries:
                with translated_errors():
                    self._journal.delete_many({"_id": {"$in": entries}})  # a small collection: the scan is cheap
            with self._pending_lock:
                for key, ids in pending.items():
                    remaining = [i for i in self._pending.get(key, []) if i not in ids]
                    if remaining:
                        self._pending[key] = remaining
                    else:
                        self._pending.pop(key, None)
                done = set(entries)
                self._pending_entries = [e for e in self._pending_entries if e not in done]

    def _write_additions(self, ids_by_key: Mapping[str, Sequence[str]]) -> None:
        """New keys are inserted, keys that exist get the ids added (under the cap).

        No upserts (concurrent upserts leak FerretDB's pooled connections). The cap is checked on the cached
        (or read) key rather than in the update's filter.
        """
        wanted = sorted(ids_by_key)
        known = dict(zip(wanted, point_reads(self._read, wanted), strict=True))
        new_keys = [key for key in wanted if not known[key][0]]
        clashed: set[str] = set()
        with translated_errors():
            try:
                if new_keys:
                    self._keys.bulk_write(
                        [InsertOne({"_id": key, "ids": list(ids_by_key[key])[: self._cap]}) for key in new_keys],
                        ordered=False,
                    )
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(error.get("code") != DUPLICATE_KEY_CODE for error in errors):
                    raise
                clashed = {error["op"]["_id"] for error in errors}  # written by a replay of the same journal
        for key in new_keys:
            if key in clashed:
                self._cache.forget(key)
            else:
                self._cache.put(key, True, list(ids_by_key[key])[: self._cap])
        operations = []
        for key in (k for k in wanted if known[k][0] or k in clashed):
            stored = known[key][1] if key not in clashed else self._read(key)[1]
            present = set(stored)
            new = [i for i in ids_by_key[key] if i not in present][: max(0, self._cap - len(stored))]
            if new:
                operations.append(UpdateOne({"_id": key}, {"$addToSet": {"ids": {"$each": new}}}))
                self._cache.added(key, new)
        self._write(operations)

    def _replay(self) -> None:
        """Once per process: additions a stopped process journaled but never flushed."""
        if self._replayed.is_set():
            return
        with self._replay_lock:
            if self._replayed.is_set():
                return
            with translated_errors():
                entries = list(self._journal.find({}))
            for entry in entries:
                self._remember(entry["_id"], entry.get("pairs", []))
            self._replayed.set()
        if entries:
            log.info("replaying the key journal", extra={"entries": len(entries)})
            self._start_flusher()
            self._wake.set()

    def _write(self, operations: list[UpdateOne]) -> None:
        with translated_errors():
            for start in range(0, len(operations), MAX_UPDATES_PER_COMMAND):
                self._keys.bulk_write(operations[start : start + MAX_UPDATES_PER_COMMAND], ordered=False)


def _stopping(exc: Exception) -> bool:
    return isinstance(exc, InvalidOperation) or (isinstance(exc, RuntimeError) and "after shutdown" in str(exc))


class FerretStore(PymongoStore):
    strategy = "ferretdb"

    def __init__(self, database: Database[Any]) -> None:
        super().__init__(database)
        self._key_indexes: dict[str, FerretKeyIndex] = {}
        self._key_indexes_lock = threading.Lock()

    def _open(self, collection: Collection[Any]) -> DocumentCollection:
        return FerretCollection(self, collection)

    def key_index(self, collection: str, field: str) -> KeyIndex:
        # One instance per key collection, so every repository of the process shares its cache.
        name = f"{collection}__{field}"
        with self._key_indexes_lock:
            if name not in self._key_indexes:
                self._key_indexes[name] = FerretKeyIndex(self.database[name], self.database[f"{name}__journal"])
            return self._key_indexes[name]
