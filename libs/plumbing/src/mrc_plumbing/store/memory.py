"""The in-memory strategy: the store port in one process's memory, for unit tests.

It interprets the subset of MongoDB's filter and update language the repositories use, and the
contract suite holds it to the same behaviour as the real strategies. Documents are copied on the
way in and out, so a caller never shares state with the store.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from mrc_kernel.errors import IdempotencyKeyReused
from mrc_kernel.events import Event
from mrc_plumbing.store.port import (
    APPLIED_EVENTS_FIELD,
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
    KeyIndex,
    KeyListing,
    Page,
    RankedId,
    StoreUnavailable,
    Update,
    outbox_entries,
)

_MISSING = object()


def _path(document: Any, dotted: str) -> list[Any]:
    """The values at a dotted path; arrays fan out as in MongoDB (`a.b` reaches into each element)."""
    values = [document]
    for part in dotted.split("."):
        next_values: list[Any] = []
        for value in values:
            if isinstance(value, dict):
                if part in value:
                    next_values.append(value[part])
            elif isinstance(value, list):
                if part.isdigit():
                    if int(part) < len(value):
                        next_values.append(value[int(part)])
                else:
                    next_values.extend(item[part] for item in value if isinstance(item, dict) and part in item)
        values = next_values
    return values


def _candidates(values: list[Any]) -> list[Any]:
    """A field's values as a filter compares them: an array matches by itself and by each element."""
    found: list[Any] = []
    for value in values:
        found.append(value)
        if isinstance(value, list):
            found.extend(value)
    return found


def _comparable(a: Any, b: Any) -> bool:
    return (isinstance(a, int | float) and isinstance(b, int | float)) or type(a) is type(b)


def _compare(operator: str, value: Any, argument: Any) -> bool:
    if operator == "$lt":
        return bool(value < argument)
    if operator == "$lte":
        return bool(value <= argument)
    if operator == "$gt":
        return bool(value > argument)
    return bool(value >= argument)


def _matches_operator(values: list[Any], operator: str, argument: Any) -> bool:
    candidates = _candidates(values)
    if operator == "$eq":
        return any(c == argument for c in candidates)
    if operator == "$ne":
        return not any(c == argument for c in candidates)
    if operator == "$in":
        return any(c == a for c in candidates for a in argument)
    if operator == "$nin":
        return not any(c == a for c in candidates for a in argument)
    if operator == "$exists":
        return bool(values) == bool(argument)
    if operator in ("$lt", "$lte", "$gt", "$gte"):
        return any(_comparable(c, argument) and _compare(operator, c, argument) for c in candidates)
    if operator == "$size":
        return any(isinstance(v, list) and len(v) == argument for v in values)
    raise NotImplementedError(f"the in-memory store does not interpret {operator}")


def matches(document: Document, query: Filter) -> bool:
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(document, part) for part in condition):
                return False
            continue
        if key == "$or":
            if not any(matches(document, part) for part in condition):
                return False
            continue
        values = _path(document, key)
        if isinstance(condition, Mapping) and condition and all(str(k).startswith("$") for k in condition):
            if not all(_matches_operator(values, op, arg) for op, arg in condition.items()):
                return False
        elif not any(c == condition for c in _candidates(values)):
            return False
    return True


def _parent(document: Document, dotted: str, create: bool) -> tuple[Any, str]:
    parts = dotted.split(".")
    target: Any = document
    for part in parts[:-1]:
        if isinstance(target, list):
            target = target[int(part)]
            continue
        if part not in target:
            if not create:
                return None, parts[-1]
            target[part] = {}
        target = target[part]
    return target, parts[-1]


def apply_update(document: Document, update: Update) -> None:
    for operator, arguments in update.items():
        for dotted, argument in arguments.items():
            parent, leaf = _parent(document, dotted, create=operator not in ("$unset", "$pull", "$pullAll"))
            if parent is None:
                continue
            current: Any = parent.get(leaf, _MISSING) if isinstance(parent, dict) else _MISSING
            if operator == "$set":
                parent[leaf] = copy.deepcopy(argument)
            elif operator == "$unset":
                parent.pop(leaf, None)
            elif operator == "$inc":
                parent[leaf] = (0 if current is _MISSING else current) + argument
            elif operator in ("$push", "$addToSet"):
                items = argument["$each"] if isinstance(argument, Mapping) and "$each" in argument else [argument]
                existing = [] if current is _MISSING else current
                for item in items:
                    if operator == "$push" or item not in existing:
                        existing.append(copy.deepcopy(item))
                parent[leaf] = existing
            elif operator == "$pullAll":
                if current is not _MISSING:
                    parent[leaf] = [item for item in current if item not in argument]
            elif operator == "$pull":
                if current is not _MISSING:
                    if isinstance(argument, Mapping) and any(str(k).startswith("$") for k in argument):
                        parent[leaf] = [i for i in current if not _matches_operator([i], *next(iter(argument.items())))]
                    else:
                        parent[leaf] = [item for item in current if item != argument]
            else:
                raise NotImplementedError(f"the in-memory store does not apply {operator}")


def _project(document: Document, fields: Sequence[str] | None, exclude: Sequence[str]) -> Document:
    if fields is not None:
        kept = {"_id": document["_id"]}
        for name in fields:
            parent, leaf = _parent(document, name, create=False)
            if isinstance(parent, dict) and leaf in parent:
                top = name.split(".")[0]
                kept[top] = copy.deepcopy(document[top])
        return kept
    projected = copy.deepcopy(document)
    for name in exclude:
        projected.pop(name, None)
    return projected


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)


def _sort_by(name: str) -> Any:
    def key(document: Document) -> tuple[int, Any]:
        return _sort_key((_path(document, name) or [None])[0])

    return key


class InMemoryCollection(DocumentCollection):
    def __init__(self, store: InMemoryStore, name: str) -> None:
        super().__init__(name)
        self._store = store
        self.documents: dict[Any, Document] = {}
        self._unique: list[IndexSpec] = []

    def _check(self) -> None:
        if self._store.unavailable:
            raise StoreUnavailable()

    # -- reads -------------------------------------------------------------------------------------

    def get(
        self, document_id: Any, *, fields: Sequence[str] | None = None, exclude: Sequence[str] = ()
    ) -> Document | None:
        with self._store.lock:
            self._check()
            document = self.documents.get(document_id)
            return None if document is None else _project(document, fields, exclude)

    def get_many(
        self, document_ids: Sequence[Any], *, fields: Sequence[str] | None = None, exclude: Sequence[str] = ()
    ) -> list[Document]:
        found = [self.get(document_id, fields=fields, exclude=exclude) for document_id in document_ids]
        return [document for document in found if document is not None]

    def _matching(self, query: Filter) -> list[Document]:
        self._check()
        return [d for _, d in sorted(self.documents.items(), key=lambda item: str(item[0])) if matches(d, query)]

    def find(
        self,
        filter: Filter,
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int | None = None,
        fields: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
    ) -> list[Document]:
        with self._store.lock:
            found = self._matching(filter)
            for name, direction in reversed(list(sort)):
                found.sort(key=_sort_by(name), reverse=direction < 0)
            if limit is not None:
                found = found[:limit]
            return [_project(d, fields, exclude) for d in found]

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
        deadline = time.monotonic() + time_budget_seconds
        with self._store.lock:
            found = [d for d in self._matching(filter) if str(d["_id"]) > after]
        page = found[:limit]
        exhausted = time.monotonic() > deadline and len(page) < limit
        more = len(found) > limit
        next_after = str(page[-1]["_id"]) if more and page else ""
        return Page([_project(d, fields, exclude) for d in page], next_after, exhausted)

    def scan(
        self, filter: Filter | None = None, *, fields: Sequence[str] | None = None, batch_size: int = 500
    ) -> Iterator[Document]:
        with self._store.lock:
            found = [_project(d, fields, ()) for d in self._matching(filter or {})]
        yield from found

    def count(self, filter: Filter | None = None) -> int:
        with self._store.lock:
            return len(self._matching(filter or {}))

    # -- writes ------------------------------------------------------------------------------------

    def _clashes(self, document: Document) -> bool:
        if document["_id"] in self.documents:
            return True
        for index in self._unique:
            key = tuple((_path(document, f) or [None])[0] for f in index.fields)
            if index.sparse and all(k is None for k in key):
                continue
            for other in self.documents.values():
                if tuple((_path(other, f) or [None])[0] for f in index.fields) == key:
                    return True
        return False

    def _insert_locked(self, document: Document, entries: Sequence[Document]) -> bool:
        stored = copy.deepcopy(document)
        stored[OUTBOX_FIELD] = copy.deepcopy(list(entries))
        if entries:
            stored[PENDING_FLAG] = True
        if self._clashes(stored):
            return False
        self.documents[stored["_id"]] = stored
        return True

    def insert(self, document: Document, *, events: Sequence[Event] = ()) -> None:
        entries = outbox_entries(events)
        with self._store.lock:
            self._check()
            if not self._insert_locked(document, entries):
                raise DuplicateDocument([document["_id"]])
        self._store.events_stored(self.name, {document["_id"]: entries} if entries else {})

    def insert_many(self, documents: Sequence[tuple[Document, Sequence[Event]]]) -> InsertReport:
        report = InsertReport()
        entries = {document["_id"]: outbox_entries(events) for document, events in documents}
        with self._store.lock:
            self._check()
            for document, _ in documents:
                inserted = self._insert_locked(document, entries[document["_id"]])
                (report.inserted if inserted else report.duplicates).append(document["_id"])
        self._store.events_stored(self.name, {i: entries[i] for i in report.inserted if entries[i]})
        return report

    def insert_once(self, document: Document, *, events: Sequence[Event] = ()) -> tuple[Document, bool]:
        try:
            self.insert(document, events=events)
            return copy.deepcopy(document), True
        except DuplicateDocument:
            pass
        with self._store.lock:
            existing = next(
                (d for d in self.documents.values() if d.get(IDEMPOTENCY_FIELD) == document[IDEMPOTENCY_FIELD]), None
            )
            if existing is None:
                raise DuplicateDocument([document["_id"]])
            if existing.get(FINGERPRINT_FIELD) != document.get(FINGERPRINT_FIELD):
                raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
            return copy.deepcopy(existing), False

    def _update_locked(
        self, document_id: Any, update: Update, where: Filter | None, entries: Sequence[Document]
    ) -> bool:
        document = self.documents.get(document_id)
        if document is None or (where and not matches(document, where)):
            return False
        changed = copy.deepcopy(document)
        apply_update(changed, update)
        if entries:
            changed.setdefault(OUTBOX_FIELD, []).extend(copy.deepcopy(list(entries)))
            changed[PENDING_FLAG] = True
        self.documents[document_id] = changed
        return True

    def update(
        self, document_id: Any, update: Update, *, where: Filter | None = None, events: Sequence[Event] = ()
    ) -> bool:
        entries = outbox_entries(events)
        with self._store.lock:
            self._check()
            done = self._update_locked(document_id, update, where, entries)
        if done and entries:
            self._store.events_stored(self.name, {document_id: entries})
        return done

    def update_each(self, updates: Sequence[tuple[Any, Update]]) -> int:
        with self._store.lock:
            self._check()
            return sum(self._update_locked(document_id, update, None, ()) for document_id, update in updates)

    def apply_once(self, document_id: Any, update: Update, event_id: str, *, events: Sequence[Event] = ()) -> bool:
        combined = {operator: dict(arguments) for operator, arguments in update.items()}
        combined.setdefault("$addToSet", {})[APPLIED_EVENTS_FIELD] = event_id
        entries = outbox_entries(events)
        with self._store.lock:
            self._check()
            done = self._update_locked(document_id, combined, {APPLIED_EVENTS_FIELD: {"$ne": event_id}}, entries)
        if done and entries:
            self._store.events_stored(self.name, {document_id: entries})
        return done

    def delete(self, document_id: Any, *, where: Filter | None = None) -> bool:
        with self._store.lock:
            self._check()
            document = self.documents.get(document_id)
            if document is None or (where and not matches(document, where)):
                return False
            del self.documents[document_id]
            return True

    # -- schema and outbox -------------------------------------------------------------------------

    def ensure_indexes(self, indexes: Sequence[IndexSpec]) -> None:
        with self._store.lock:
            self._unique = [*self._unique, *(i for i in indexes if i.unique and i not in self._unique)]

    def pending_outboxes(self, limit: int) -> list[Document]:
        return self.find({f"{OUTBOX_FIELD}.0": {"$exists": True}}, fields=[OUTBOX_FIELD], limit=limit)

    def outboxes_of(self, document_ids: Sequence[Any]) -> list[Document]:
        return [d for d in self.get_many(document_ids, fields=[OUTBOX_FIELD]) if d.get(OUTBOX_FIELD)]

    def clear_outboxes(self, published: Sequence[Document]) -> None:
        with self._store.lock:
            for document in published:
                stored = self.documents.get(document["_id"])
                if stored is None:
                    continue
                sent = document.get(OUTBOX_FIELD, [])
                stored[OUTBOX_FIELD] = [entry for entry in stored.get(OUTBOX_FIELD, []) if entry not in sent]
                if not stored[OUTBOX_FIELD]:
                    stored.pop(PENDING_FLAG, None)


class InMemoryKeyIndex(KeyIndex):
    """Reads the keys from the documents' list field, as MongoDB's multikey index would."""

    def __init__(self, collection: InMemoryCollection, field: str) -> None:
        self._collection = collection
        self._field = field

    def added(self, document_id: str, keys: Iterable[str]) -> None:
        return None

    def added_many(self, ids_by_key: Mapping[str, Sequence[str]]) -> None:
        return None

    def removed(self, document_id: str, keys: Iterable[str]) -> None:
        return None

    def listing(self, key: str, *, after: str = "", limit: int | None = None) -> KeyListing:
        ids = [str(d["_id"]) for d in self._collection.find({self._field: key}, fields=[]) if str(d["_id"]) > after]
        return KeyListing(ids if limit is None else ids[:limit], complete=True)

    def ranked(self, keys: Iterable[str], *, limit: int, exclude: str = "") -> list[RankedId]:
        wanted = set(keys)
        ranked = [
            RankedId(str(d["_id"]), len(wanted & set(d.get(self._field, []))))
            for d in self._collection.find({self._field: {"$in": sorted(wanted)}}, fields=[self._field])
            if str(d["_id"]) != exclude
        ]
        ranked.sort(key=lambda r: (-r.shared_keys, r.document_id))
        return ranked[:limit]


class InMemoryStore(DocumentStore):
    strategy = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.RLock()
        self.unavailable = False  # tests flip this to simulate an outage
        self._collections: dict[str, InMemoryCollection] = {}

    def collection(self, name: str) -> InMemoryCollection:
        with self.lock:
            if name not in self._collections:
                self._collections[name] = InMemoryCollection(self, name)
            return self._collections[name]

    def key_index(self, collection: str, field: str) -> KeyIndex:
        return InMemoryKeyIndex(self.collection(collection), field)

    def is_reachable(self) -> bool:
        return not self.unavailable
