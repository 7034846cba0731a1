"""MongoDB connections. The same code runs on FerretDB (embedded default) and on MongoDB 7.

Only features both support are used: single-document atomic writes, unique indexes, no
multi-document transactions, no change streams.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import mongoengine
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.operations import DeleteOne, InsertOne, UpdateMany, UpdateOne

from mrc_plumbing.settings import InfraSettings

DEFAULT_ALIAS = mongoengine.DEFAULT_CONNECTION_NAME

T = TypeVar("T")
R = TypeVar("R")
# Concurrent point reads: FerretDB 1.24 pushes down only `_id` equality (no `$in`), so reading many
# documents by id is many round trips; run side by side they overlap the store's work and ours.
POINT_READ_THREADS = 8
# Larger batches (a bulk import's lookups) get threads of their own, so they never queue ahead of
# the few reads of a single request on the shared pool.
SHARED_POOL_MAX_ITEMS = 64
_shared_point_readers = ThreadPoolExecutor(max_workers=POINT_READ_THREADS, thread_name_prefix="point-read")


def connect(infra: InfraSettings, database: str) -> Database[dict[str, object]]:
    """Connect mongoengine (for document definitions) and return the pymongo database it uses."""
    mongoengine.disconnect(alias=DEFAULT_ALIAS)
    client: MongoClient[dict[str, object]] = mongoengine.connect(
        db=database,
        host=infra.mongo_uri,
        alias=DEFAULT_ALIAS,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=5000,
    )
    return client[database]


def point_reads(read: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[read(item) for item in items]`, with the reads running concurrently."""
    if len(items) <= 2:
        return [read(item) for item in items]
    if len(items) <= SHARED_POOL_MAX_ITEMS:
        return list(_shared_point_readers.map(read, items))
    with ThreadPoolExecutor(max_workers=POINT_READ_THREADS, thread_name_prefix="point-read-batch") as own:
        return list(own.map(read, items))


def store_is_reachable(db: Database[dict[str, object]]) -> bool:
    try:
        db.client.admin.command("ping")
        return True
    except Exception:
        return False


# FerretDB 1.24 keeps one pooled SQLite connection open for every statement of an update command until
# the whole command ends; its pool holds 100, so a command of 100+ updates waits for itself forever.
MAX_UPDATES_PER_COMMAND = 50


def bulk_write_in_chunks(
    collection: Collection[Any],
    operations: Sequence[InsertOne[Any] | UpdateOne | UpdateMany | DeleteOne],
    *,
    ordered: bool = False,
) -> int:
    """Run the operations, at most MAX_UPDATES_PER_COMMAND per command; returns how many matched."""
    matched = 0
    for start in range(0, len(operations), MAX_UPDATES_PER_COMMAND):
        result = collection.bulk_write(list(operations[start : start + MAX_UPDATES_PER_COMMAND]), ordered=ordered)
        matched += result.matched_count
    return matched
