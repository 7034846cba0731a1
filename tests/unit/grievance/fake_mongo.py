"""Just enough of a pymongo collection to run the grievance repository adapter in unit tests.

Equality filters on top-level fields, inclusion or exclusion projections, `$set` updates, and unique
`_id` and idempotency key like the real indexes. Documents are deep-copied in and out, as over the wire.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.errors import DuplicateKeyError

from mrc_plumbing.idempotency import IDEMPOTENCY_FIELD


@dataclass(frozen=True)
class UpdateResult:
    matched_count: int
    modified_count: int


def _matches(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    return all(doc.get(key) == value for key, value in query.items())


def _project(doc: Mapping[str, Any], projection: Mapping[str, int] | None) -> dict[str, Any]:
    found = copy.deepcopy(dict(doc))
    if not projection:
        return found
    if all(not v for v in projection.values()):
        return {k: v for k, v in found.items() if k not in projection}
    return {k: v for k, v in found.items() if k == "_id" or projection.get(k)}


class FakeCollection:
    def __init__(self) -> None:
        self.documents: dict[Any, dict[str, Any]] = {}

    def insert_one(self, document: dict[str, Any]) -> None:
        key = document.get(IDEMPOTENCY_FIELD)
        if document["_id"] in self.documents or (
            key is not None and any(d.get(IDEMPOTENCY_FIELD) == key for d in self.documents.values())
        ):
            raise DuplicateKeyError("E11000 duplicate key")
        self.documents[document["_id"]] = copy.deepcopy(document)

    def find(self, query: Mapping[str, Any], projection: Mapping[str, int] | None = None) -> Iterator[dict[str, Any]]:
        for doc in list(self.documents.values()):
            if _matches(doc, query):
                yield _project(doc, projection)

    def find_one(self, query: Mapping[str, Any], projection: Mapping[str, int] | None = None) -> dict[str, Any] | None:
        return next(self.find(query, projection), None)

    def _update(self, query: Mapping[str, Any], update: Mapping[str, Any], limit: int | None) -> UpdateResult:
        assert set(update) == {"$set"}, "only $set is supported here"
        matched = modified = 0
        for doc in self.documents.values():
            if limit is not None and matched >= limit:
                break
            if not _matches(doc, query):
                continue
            matched += 1
            changes = copy.deepcopy(update["$set"])
            if any(doc.get(k) != v for k, v in changes.items()):
                doc.update(changes)
                modified += 1
        return UpdateResult(matched, modified)

    def update_one(self, query: Mapping[str, Any], update: Mapping[str, Any]) -> UpdateResult:
        return self._update(query, update, 1)

    def update_many(self, query: Mapping[str, Any], update: Mapping[str, Any]) -> UpdateResult:
        return self._update(query, update, None)
