"""MongoDB connections. The same code runs on FerretDB (embedded default) and on MongoDB 7.

Only features both support are used: single-document atomic writes, unique indexes, no
multi-document transactions, no change streams.
"""

from __future__ import annotations

import mongoengine
from pymongo import MongoClient
from pymongo.database import Database

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
