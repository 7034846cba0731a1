"""MongoDB connections. The same code runs on FerretDB (embedded default) and on MongoDB 7.

Only features both support are used: single-document atomic writes, unique indexes, no
multi-document transactions, no change streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mongoengine
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.operations import DeleteOne, InsertOne, UpdateMany, UpdateOne

from mrc_plumbing.settings import InfraSettings

DEFAULT_ALIAS = mongoengine.DEFAULT_CONNECTION_NAME


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
) -> None:
    for start in range(0, len(operations), MAX_UPDATES_PER_COMMAND):
        collection.bulk_write(list(operations[start : start + MAX_UPDATES_PER_COMMAND]), ordered=ordered)
