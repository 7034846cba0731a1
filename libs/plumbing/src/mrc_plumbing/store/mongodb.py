"""The MongoDB strategy: native conditional filters and secondary indexes.

Every write is one atomic single-document command, so any number of replicas of a service may write
the same collections. It issues only ordinary MongoDB commands, which FerretDB also executes (slower,
by scanning), so the contract suite runs this strategy on the embedded FerretDB too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.collection import Collection

from mrc_kernel.events import Event
from mrc_plumbing.store._pymongo import PymongoCollection, PymongoStore, translated_errors, update_with_events
from mrc_plumbing.store.port import (
    APPLIED_EVENTS_FIELD,
    OUTBOX_FIELD,
    PENDING_FLAG,
    Document,
    DocumentCollection,
    Filter,
    KeyIndex,
    KeyListing,
    RankedId,
    Update,
    outbox_entries,
)

IN_CHUNK = 1000


class MongoCollection(PymongoCollection):
    def get_many(
        self, document_ids: Sequence[Any], *, fields: Sequence[str] | None = None, exclude: Sequence[str] = ()
    ) -> list[Document]:
        by_id: dict[Any, Document] = {}
        unique = list(dict.fromkeys(document_ids))
        for start in range(0, len(unique), IN_CHUNK):
            chunk = unique[start : start + IN_CHUNK]
            for document in self.find({"_id": {"$in": chunk}}, fields=_with_id(fields), exclude=exclude):
                by_id[document["_id"]] = document
        return [by_id[i] for i in document_ids if i in by_id]

    def update(
        self, document_id: Any, update: Update, *, where: Filter | None = None, events: Sequence[Event] = ()
    ) -> bool:
        entries = outbox_entries(events)
        with translated_errors():
            result = self._collection.update_one(
                {"_id": document_id, **(where or {})}, update_with_events(update, entries)
            )
        if result.matched_count == 1:
            self._stored({document_id: entries} if entries else {})
            return True
        return False

    def apply_once(self, document_id: Any, update: Update, event_id: str, *, events: Sequence[Event] = ()) -> bool:
        entries = outbox_entries(events)
        combined = update_with_events(update, entries)
        combined.setdefault("$addToSet", {})[APPLIED_EVENTS_FIELD] = event_id
        with translated_errors():
            result = self._collection.update_one(
                {"_id": document_id, APPLIED_EVENTS_FIELD: {"$ne": event_id}}, combined
            )
        if result.modified_count:
            self._stored({document_id: entries} if entries else {})
            return True
        return False

    def delete(self, document_id: Any, *, where: Filter | None = None) -> bool:
        with translated_errors():
            return bool(self._collection.delete_one({"_id": document_id, **(where or {})}).deleted_count)

    def pending_outboxes(self, limit: int) -> list[Document]:
        # The flag is indexed: MongoDB finds pending documents without reading the others.
        return self.find({PENDING_FLAG: True}, fields=[OUTBOX_FIELD], limit=limit)

    def clear_outboxes(self, published: Sequence[Document]) -> None:
        if not published:
            return
        # The usual case in one write per document: the outbox still holds exactly what was published,
        # so empty it and drop the flag together (the filter makes that conditional).
        emptied = self._bulk_update(
            [
                UpdateOne(
                    {"_id": d["_id"], OUTBOX_FIELD: d.get(OUTBOX_FIELD, [])},
                    {"$set": {OUTBOX_FIELD: []}, "$unset": {PENDING_FLAG: ""}},
                )
                for d in published
            ]
        )
        if emptied == len(published):
            return
        # Events were appended meanwhile to some document: remove exactly the entries published
        # ($pullAll matches whole elements); those appended meanwhile stay. Harmless where emptied.
        self._bulk_update(
            [UpdateOne({"_id": d["_id"]}, {"$pullAll": {OUTBOX_FIELD: d.get(OUTBOX_FIELD, [])}}) for d in published]
        )
        # Conditional, so an event appended after the $pullAll keeps its document flagged.
        self._bulk_update(
            [UpdateOne({"_id": d["_id"], OUTBOX_FIELD: []}, {"$unset": {PENDING_FLAG: ""}}) for d in published]
        )


def _with_id(fields: Sequence[str] | None) -> Sequence[str] | None:
    return None if fields is None else ["_id", *fields]


class MongoKeyIndex(KeyIndex):
    """Keys live in a list field of the documents, under a multikey index: nothing to maintain apart."""

    def __init__(self, collection: Collection[Any], field: str) -> None:
        self._collection = collection
        self._field = field

    def ensure(self) -> None:
        with translated_errors():
            self._collection.create_index([(self._field, ASCENDING)], name=self._field)

    def added(self, document_id: str, keys: Iterable[str]) -> None:
        return None

    def added_many(self, ids_by_key: Mapping[str, Sequence[str]]) -> None:
        return None

    def removed(self, document_id: str, keys: Iterable[str]) -> None:
        return None

    def listing(self, key: str, *, after: str = "", limit: int | None = None) -> KeyListing:
        query: dict[str, Any] = {self._field: key}
        if after:
            query["_id"] = {"$gt": after}
        with translated_errors():
            cursor = self._collection.find(query, {"_id": 1}).sort("_id", ASCENDING)
            if limit is not None:
                cursor = cursor.limit(limit)
            return KeyListing([str(d["_id"]) for d in cursor], complete=True)

    def ranked(self, keys: Iterable[str], *, limit: int, exclude: str = "") -> list[RankedId]:
        wanted = sorted(set(keys))
        if not wanted:
            return []
        match: dict[str, Any] = {self._field: {"$in": wanted}}
        if exclude:
            match["_id"] = {"$ne": exclude}
        pipeline: list[dict[str, Any]] = [
            {"$match": match},
            {"$project": {self._field: 1}},
            {"$unwind": f"${self._field}"},
            {"$match": {self._field: {"$in": wanted}}},
            {"$group": {"_id": "$_id", "shared": {"$sum": 1}}},
            {"$sort": {"shared": -1, "_id": 1}},
            {"$limit": limit},
        ]
        with translated_errors():
            return [RankedId(str(d["_id"]), int(d["shared"])) for d in self._collection.aggregate(pipeline)]


class MongoStore(PymongoStore):
    strategy = "mongodb"

    def _open(self, collection: Collection[Any]) -> DocumentCollection:
        return MongoCollection(self, collection)

    def key_index(self, collection: str, field: str) -> KeyIndex:
        index = MongoKeyIndex(self.database[collection], field)
        index.ensure()
        return index
