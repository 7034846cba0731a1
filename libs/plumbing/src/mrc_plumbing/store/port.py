"""The document-store port: what every repository of every service writes and reads through.

One store is opened per process (`mrc_plumbing.store.open_store`) with the strategy that fits the
server: MongoDB (native conditional filters and secondary indexes; safe with several replicas per
service) or FerretDB 1.24 (only `{_id: x}` reaches an index, so conditions are checked on the one
document under an in-process lock, and secondary lookups go through key collections keyed by `_id`).
An in-memory strategy serves unit tests. Repositories never ask which one they got: the contract
suite (`tests/contracts/store/`) runs the same tests against all three.

Writes are single-document and carry the aggregate's pending events: the store puts them in the
document's outbox in the same write (there are no multi-document transactions), then tells the
outbox relay which document holds them. That is the platform's unit of work: use cases save an
aggregate; they never publish and never notify.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mrc_kernel.errors import Unavailable
from mrc_kernel.events import Event

Document = dict[str, Any]
Filter = Mapping[str, Any]
Update = Mapping[str, Any]

# Fields the store manages inside documents.
OUTBOX_FIELD = "outbox"
PENDING_FLAG = "outbox_pending"  # top level and indexed, so MongoDB finds pending documents cheaply
IDEMPOTENCY_FIELD = "idempotency_key"
FINGERPRINT_FIELD = "request_fingerprint"
APPLIED_EVENTS_FIELD = "applied_event_ids"

# (collection, {document id: the outbox entries just stored in it}).
EventsStoredListener = Callable[[str, Mapping[Any, Sequence["Document"]]], None]


class StoreUnavailable(Unavailable):
    """The store cannot be reached (or did not answer in time): a 503, never a 500."""

    def __init__(self, detail: str = "the data store is unreachable; retry later") -> None:
        super().__init__(detail, retry_after_seconds=5)


class DuplicateDocument(Exception):
    """An insert clashed with an existing document (same `_id` or same value of a unique index)."""

    def __init__(self, document_ids: Sequence[Any] = ()) -> None:
        super().__init__(f"duplicate documents: {list(document_ids)[:5]}")
        self.document_ids = list(document_ids)


@dataclass(frozen=True)
class IndexSpec:
    """A secondary index. On FerretDB 1.24 it keeps uniqueness but never speeds up a query."""

    fields: tuple[str, ...]
    name: str
    unique: bool = False
    sparse: bool = False


@dataclass(frozen=True)
class Page:
    documents: list[Document]
    # Pass as `after` for the next page; empty when there is no more.
    next_after: str = ""
    # True when the time budget ran out before the page was full: the page is short, not the end.
    budget_exhausted: bool = False


@dataclass(frozen=True)
class KeyListing:
    """The documents that carry one key, ordered by id."""

    ids: list[str]
    # False when the store keeps a capped list for this key (FerretDB strategy): more documents carry
    # it than are listed, so a caller must narrow the lookup to find them all.
    complete: bool = True


@dataclass(frozen=True)
class RankedId:
    document_id: str
    shared_keys: int


@dataclass
class InsertReport:
    inserted: list[Any] = field(default_factory=list)
    duplicates: list[Any] = field(default_factory=list)


class KeyIndex(abc.ABC):
    """Which documents carry a key in a list field (`match_keys: ["phone:…", "name:…"]`).

    A repository stores the keys in the document itself (the same write as the document) and calls
    `added` before that write and `removed` after it, so an interrupted save can only leave a key
    listing a document that no longer carries it (readers re-check), never a key missing.
    """

    @abc.abstractmethod
    def added(self, document_id: str, keys: Iterable[str]) -> None: ...

    def added_many(self, ids_by_key: Mapping[str, Sequence[str]]) -> None:
        """`added` for many documents at once (a bulk import's batch)."""
        by_document: dict[str, list[str]] = {}
        for key, ids in ids_by_key.items():
            for document_id in ids:
                by_document.setdefault(document_id, []).append(key)
        for document_id, keys in by_document.items():
            self.added(document_id, keys)

    @abc.abstractmethod
    def removed(self, document_id: str, keys: Iterable[str]) -> None: ...

    @abc.abstractmethod
    def listing(self, key: str, *, after: str = "", limit: int | None = None) -> KeyListing: ...

    @abc.abstractmethod
    def ranked(self, keys: Iterable[str], *, limit: int, exclude: str = "") -> list[RankedId]:
        """Documents carrying any of the keys, those carrying more of them first (then by id)."""


class DocumentCollection(abc.ABC):
    """One collection. Documents are dicts with a string `_id` unless said otherwise."""

    def __init__(self, name: str) -> None:
        self.name = name

    # -- reads -------------------------------------------------------------------------------------

    @abc.abstractmethod
    def get(
        self, document_id: Any, *, fields: Sequence[str] | None = None, exclude: Sequence[str] = ()
    ) -> Document | None:
        """One document by `_id` (every store answers this from an index)."""

    @abc.abstractmethod
    def get_many(
        self, document_ids: Sequence[Any], *, fields: Sequence[str] | None = None, exclude: Sequence[str] = ()
    ) -> list[Document]:
        """The documents that exist among these ids, in the order of the ids."""

    @abc.abstractmethod
    def find(
        self,
        filter: Filter,
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int | None = None,
        fields: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
    ) -> list[Document]:
        """Documents matching a filter. Indexed on MongoDB; a scan on FerretDB: keep it to small
        collections, background jobs and bounded listings."""

    @abc.abstractmethod
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
        """Documents matching a filter in `_id` order after `after`, at most `limit`, and no longer than
        the time budget: a listing no caller can turn into a stall."""

    @abc.abstractmethod
    def scan(
        self, filter: Filter | None = None, *, fields: Sequence[str] | None = None, batch_size: int = 500
    ) -> Iterator[Document]:
        """Every matching document, streamed in `_id` order (background jobs, statistics)."""

    @abc.abstractmethod
    def count(self, filter: Filter | None = None) -> int: ...

    # -- writes ------------------------------------------------------------------------------------

    @abc.abstractmethod
    def insert(self, document: Document, *, events: Sequence[Event] = ()) -> None:
        """Insert a new document with its events; DuplicateDocument if it clashes."""

    @abc.abstractmethod
    def insert_many(self, documents: Sequence[tuple[Document, Sequence[Event]]]) -> InsertReport:
        """Insert documents (each with its events), skipping those that clash."""

    @abc.abstractmethod
    def insert_once(self, document: Document, *, events: Sequence[Event] = ()) -> tuple[Document, bool]:
        """Insert unless a document with the same idempotency key exists (`IDEMPOTENCY_FIELD`, with the
        request's `FINGERPRINT_FIELD`). Returns the stored document and whether this call created it;
        the same key with another fingerprint raises `IdempotencyKeyReused`."""

    @abc.abstractmethod
    def update(
        self,
        document_id: Any,
        update: Update,
        *,
        where: Filter | None = None,
        events: Sequence[Event] = (),
    ) -> bool:
        """Apply `update` to the document (if it also matches `where`), atomically, with its events.
        True if the document matched."""

    @abc.abstractmethod
    def update_each(self, updates: Sequence[tuple[Any, Update]]) -> int:
        """Unconditional updates of several documents by id (no events); how many matched."""

    @abc.abstractmethod
    def apply_once(self, document_id: Any, update: Update, event_id: str, *, events: Sequence[Event] = ()) -> bool:
        """Apply a consumed event's effect unless this document already applied `event_id` (the id is
        recorded by the same write). True if applied now; False if already applied or no document."""

    @abc.abstractmethod
    def delete(self, document_id: Any, *, where: Filter | None = None) -> bool: ...

    # -- schema and outbox -------------------------------------------------------------------------

    @abc.abstractmethod
    def ensure_indexes(self, indexes: Sequence[IndexSpec]) -> None: ...

    @abc.abstractmethod
    def pending_outboxes(self, limit: int) -> list[Document]:
        """Documents whose outbox holds events (`_id` and outbox only). For the relay."""

    @abc.abstractmethod
    def outboxes_of(self, document_ids: Sequence[Any]) -> list[Document]:
        """The named documents' outboxes, those that hold events. For the relay."""

    @abc.abstractmethod
    def clear_outboxes(self, published: Sequence[Document]) -> None:
        """Remove exactly the published outbox entries; events appended meanwhile stay. For the relay."""


class DocumentStore(abc.ABC):
    """A database of one service, opened once per process with its strategy."""

    strategy: str = ""

    def __init__(self) -> None:
        self._listeners: list[EventsStoredListener] = []

    @abc.abstractmethod
    def collection(self, name: str) -> DocumentCollection: ...

    @abc.abstractmethod
    def key_index(self, collection: str, field: str) -> KeyIndex: ...

    @abc.abstractmethod
    def is_reachable(self) -> bool: ...

    def on_events_stored(self, listener: EventsStoredListener) -> None:
        """Be told, after each write that stored events, which documents hold them and which entries they are
        (the outbox relay publishes those without reading the documents back)."""
        self._listeners.append(listener)

    def events_stored(self, collection: str, stored: Mapping[Any, Sequence[Document]]) -> None:
        if not stored:
            return
        for listener in self._listeners:
            listener(collection, stored)


def outbox_entries(events: Sequence[Event]) -> list[Document]:
    return [event.to_document() for event in events]
