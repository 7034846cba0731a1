"""What the MongoDB and FerretDB strategies share: pymongo calls, error translation, outbox entries."""

from __future__ import annotations

import abc
import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    DuplicateKeyError,
    ExecutionTimeout,
    OperationFailure,
    WaitQueueTimeoutError,
)

from mrc_kernel.errors import IdempotencyKeyReused
from mrc_kernel.events import Event
from mrc_plumbing.store.port import (
    FINGERPRINT_FIELD,
    IDEMPOTENCY_FIELD,
    OUTBOX_FIELD,
    PENDING_FLAG,
    Document,
    DocumentCollection,
    DocumentStore,
    DuplicateDocument,
    Filter,
    IndexSpec,
    InsertReport,
    Page,
    StoreUnavailable,
    Update,
    outbox_entries,
)

DUPLICATE_KEY_CODE = 11000
# The server's own limit on a page's query is never tighter than this: a server-side timeout gives no position to
# continue from, so a tiny budget must still let the first documents arrive (the client deadline cuts the page).
SERVER_TIME_FLOOR_SECONDS = 0.5


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """pymongo's failures in the port's terms: an outage is StoreUnavailable (503), a clash DuplicateDocument."""
    try:
        yield
    except DuplicateKeyError as exc:
        raise DuplicateDocument() from exc
    except (ConnectionFailure, WaitQueueTimeoutError) as exc:
        raise StoreUnavailable() from exc
    except OperationFailure as exc:
        if stopping_server(exc):
            raise StoreUnavailable() from exc
        raise


# MongoDB's answers to a command interrupted by a shutdown or a change of primary (the rest arrive as
# ConnectionFailure): ShutdownInProgress, PrimarySteppedDown, NotWritablePrimary, InterruptedAtShutdown,
# InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
INTERRUPTED_CODES = frozenset({91, 189, 10107, 11600, 11602, 13435, 13436})


def stopping_server(exc: OperationFailure) -> bool:
    """The server gave up on the command because it is stopping, not because the command was wrong.
    FerretDB answers the commands in flight when it stops with InternalError "context canceled"."""
    if exc.code in INTERRUPTED_CODES:
        return True
    message = str((exc.details or {}).get("errmsg", ""))
    return exc.code == 1 and "context canceled" in message


def projection(fields: Sequence[str] | None, exclude: Sequence[str]) -> dict[str, int] | None:
    if fields is not None:
        return {name: 1 for name in fields}
    if exclude:
        return {name: 0 for name in exclude}
    return None


def with_events(document: Document, entries: Sequence[Document]) -> Document:
    """A new document carrying its first outbox entries (`outbox_entries(events)`)."""
    stored = {**document, OUTBOX_FIELD: list(entries)}
    if entries:
        stored[PENDING_FLAG] = True
    return stored


def update_with_events(update: Update, entries: Sequence[Document]) -> dict[str, Any]:
    """The update, also appending these outbox entries to the document's outbox."""
    combined = {operator: dict(arguments) for operator, arguments in update.items()}
    if entries:
        combined.setdefault("$push", {})[OUTBOX_FIELD] = {"$each": list(entries)}
        combined.setdefault("$set", {})[PENDING_FLAG] = True
    return combined


class PymongoCollection(DocumentCollection, abc.ABC):
    # How many updates one command carries. FerretDB 1.24 deadlocks on update commands of 100 statements
    # or more, and the contract suite runs the MongoDB strategy on it too; on MongoDB 50 per round trip
    # already amortises the latency.
    updates_per_command = 50

    def __init__(self, store: DocumentStore, collection: Collection[Any]) -> None:
        super().__init__(collection.name)
        self._store = store
        self._collection = collection

    def _stored(self, stored: Mapping[Any, Sequence[Document]]) -> None:
        self._store.events_stored(self.name, stored)

    # -- reads -------------------------------------------------------------------------------------

    def get(
        self, document_id: Any, *, fields: Sequence[str] | None = None, exclude: Sequence[str] = ()
    ) -> Document | None:
        with translated_errors():
            return self._collection.find_one({"_id": document_id}, projection(fields, exclude))

    def find(
        self,
        filter: Filter,
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int | None = None,
        fields: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
    ) -> list[Document]:
        with translated_errors():
            cursor = self._collection.find(dict(filter), projection(fields, exclude))
            if sort:
                cursor = cursor.sort(list(sort))
            if limit is not None:
                cursor = cursor.limit(limit)
            return list(cursor)

    def page(
        self,
        filter: Filter,
        *,
        after: str = "",
        limit: int,
        time_budget_seconds: float,
        fields: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
    ) -> Page:
        query = dict(filter)
        if after:
            query = {"$and": [query, {"_id": {"$gt": after}}]} if "_id" in query else {**query, "_id": {"$gt": after}}
        deadline = time.monotonic() + time_budget_seconds
        found: list[Document] = []
        exhausted = False
        with translated_errors():
            cursor = (
                self._collection.find(query, projection(fields, exclude))
                .sort("_id", ASCENDING)
                .limit(limit + 1)
                .max_time_ms(int(max(time_budget_seconds, SERVER_TIME_FLOOR_SECONDS) * 1000))
                .batch_size(min(limit + 1, 200))
            )
            try:
                for document in cursor:
                    found.append(document)
                    if len(found) > limit or time.monotonic() > deadline:
                        exhausted = len(found) <= limit
                        break
            except ExecutionTimeout:
                exhausted = True
            finally:
                cursor.close()
        more = len(found) > limit or exhausted
        page = found[:limit]
        next_after = str(page[-1]["_id"]) if more and page else (after if exhausted else "")
        return Page(page, next_after, exhausted)

    def scan(
        self, filter: Filter | None = None, *, fields: Sequence[str] | None = None, batch_size: int = 500
    ) -> Iterator[Document]:
        with translated_errors():
            cursor = (
                self._collection.find(dict(filter or {}), projection(fields, ()))
                .sort("_id", ASCENDING)
                .batch_size(batch_size)
            )
            try:
                yield from cursor
            finally:
                cursor.close()

    def count(self, filter: Filter | None = None) -> int:
        with translated_errors():
            return self._collection.count_documents(dict(filter or {}))

    # -- writes ------------------------------------------------------------------------------------

    def insert(self, document: Document, *, events: Sequence[Event] = ()) -> None:
        entries = outbox_entries(events)
        with translated_errors():
            self._collection.insert_one(with_events(document, entries))
        self._stored({document["_id"]: entries} if entries else {})

    def insert_many(self, documents: Sequence[tuple[Document, Sequence[Event]]]) -> InsertReport:
        report = InsertReport()
        if not documents:
            return report
        entries = {document["_id"]: outbox_entries(events) for document, events in documents}
        with_outboxes = [with_events(document, entries[document["_id"]]) for document, _ in documents]
        with translated_errors():
            try:
                self._collection.bulk_write([InsertOne(d) for d in with_outboxes], ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(error.get("code") != DUPLICATE_KEY_CODE for error in errors):
                    raise
                report.duplicates = [with_outboxes[error["index"]]["_id"] for error in errors]
        clashed = set(map(str, report.duplicates))
        report.inserted = [d["_id"] for d in with_outboxes if str(d["_id"]) not in clashed]
        self._stored({i: entries[i] for i in report.inserted if entries.get(i)})
        return report

    def insert_once(self, document: Document, *, events: Sequence[Event] = ()) -> tuple[Document, bool]:
        try:
            self.insert(document, events=events)
            return document, True
        except DuplicateDocument:
            pass
        # Ids usually derive from the key, so the clash is on `_id`: a lookup every store answers from an
        # index. Otherwise the clash was on the unique idempotency key itself.
        existing = self.get(document["_id"]) if "_id" in document else None
        if existing is None or existing.get(IDEMPOTENCY_FIELD) != document[IDEMPOTENCY_FIELD]:
            with translated_errors():
                existing = self._collection.find_one({IDEMPOTENCY_FIELD: document[IDEMPOTENCY_FIELD]})
        if existing is None:  # the clash was on another unique index
            raise DuplicateDocument([document.get("_id")])
        if existing.get(FINGERPRINT_FIELD) != document.get(FINGERPRINT_FIELD):
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
        return existing, False

    def update_each(self, updates: Sequence[tuple[Any, Update]]) -> int:
        return self._bulk_update([UpdateOne({"_id": document_id}, dict(update)) for document_id, update in updates])

    def _bulk_update(self, operations: Sequence[UpdateOne]) -> int:
        """Run updates in commands of at most `updates_per_command`; how many documents matched."""
        matched = 0
        with translated_errors():
            for start in range(0, len(operations), self.updates_per_command):
                chunk = list(operations[start : start + self.updates_per_command])
                matched += self._collection.bulk_write(chunk, ordered=False).matched_count
        return matched

    def ensure_indexes(self, indexes: Sequence[IndexSpec]) -> None:
        with translated_errors():
            for index in indexes:
                self._collection.create_index(
                    [(name, ASCENDING) for name in index.fields],
                    name=index.name,
                    unique=index.unique,
                    sparse=index.sparse,
                )

    def outboxes_of(self, document_ids: Sequence[Any]) -> list[Document]:
        found = self.get_many(document_ids, fields=[OUTBOX_FIELD])
        return [document for document in found if document.get(OUTBOX_FIELD)]


class PymongoStore(DocumentStore, abc.ABC):
    def __init__(self, database: Database[Any]) -> None:
        super().__init__()
        self.database = database
        self._collections: dict[str, DocumentCollection] = {}

    def collection(self, name: str) -> DocumentCollection:
        if name not in self._collections:
            self._collections[name] = self._open(self.database[name])
        return self._collections[name]

    @abc.abstractmethod
    def _open(self, collection: Collection[Any]) -> DocumentCollection: ...

    def is_reachable(self) -> bool:
        try:
            self.database.client.admin.command("ping")
            return True
        except Exception:
            return False
