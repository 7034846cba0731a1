"""Conditional single-document updates ("only if the version is still 4") that stay cheap on every store.

MongoDB applies `update_one({"_id": x, "version": 4}, ...)` atomically and finds the document through
its `_id` index. FerretDB 1.24 pushes a filter down to an index only when it is exactly `{"_id": x}`:
any other condition makes it read the whole collection, on every such update. So on FerretDB the
condition is checked first, on the one document found by `_id`, and the update then goes by bare
`_id`; an in-process lock per document makes the pair atomic against every other conditional writer in
this process. That is enough on the embedded default, where one process of each service owns its
collections; MongoDB clusters (several replicas) keep the native, atomic filter.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database

# Striped locks: a fixed set, so nothing grows with the number of documents. A writer holds one
# stripe; a relay may hold many, always taken in ascending order, so no two threads deadlock.
_STRIPES = [threading.Lock() for _ in range(1024)]
_ferretdb_by_client: dict[int, bool] = {}
_detect_lock = threading.Lock()


def is_ferretdb(database: Database[Any]) -> bool:
    """Whether the server is FerretDB (its buildInfo names its version), asked once per client."""
    key = id(database.client)
    with _detect_lock:
        if key not in _ferretdb_by_client:
            _ferretdb_by_client[key] = "ferretdbVersion" in database.command("buildInfo")
        return _ferretdb_by_client[key]


def _stripe(collection: Collection[Any], document_id: Any) -> int:
    return hash((collection.database.name, collection.name, str(document_id))) % len(_STRIPES)


@contextlib.contextmanager
def documents_locked(collection: Collection[Any], document_ids: Iterable[Any]) -> Iterator[None]:
    """Hold this process's locks of these documents (for a read-then-write that must not interleave)."""
    stripes = sorted({_stripe(collection, document_id) for document_id in document_ids})
    for stripe in stripes:
        _STRIPES[stripe].acquire()
    try:
        yield
    finally:
        for stripe in reversed(stripes):
            _STRIPES[stripe].release()


def holds(collection: Collection[Any], document_id: Any, condition: Mapping[str, Any]) -> bool:
    """Whether the document exists and matches `condition`, checked by the store on that one document."""
    if not condition:
        return collection.find_one({"_id": document_id}, {"_id": 1}) is not None
    # The first $match is a bare `_id`, which FerretDB answers from its index; the second then sees one
    # document at most.
    pipeline = [{"$match": {"_id": document_id}}, {"$match": dict(condition)}, {"$project": {"_id": 1}}]
    return any(True for _ in collection.aggregate(pipeline))


def update_if(
    collection: Collection[Any], document_id: Any, condition: Mapping[str, Any], update: Mapping[str, Any]
) -> bool:
    """`update_one({"_id": document_id, **condition}, update)`; True if the document matched."""
    if not is_ferretdb(collection.database):
        return collection.update_one({"_id": document_id, **condition}, dict(update)).matched_count == 1
    with documents_locked(collection, [document_id]):
        if not holds(collection, document_id, condition):
            return False
        return collection.update_one({"_id": document_id}, dict(update)).matched_count == 1
