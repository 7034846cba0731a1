"""Opening a service's store: the strategy is chosen here, once per process, and injected everywhere."""

from __future__ import annotations

import logging
from typing import Any

import mongoengine
from pymongo import MongoClient
from pymongo.database import Database

from mrc_plumbing.settings import InfraSettings
from mrc_plumbing.store._pymongo import translated_errors
from mrc_plumbing.store.ferretdb import FerretStore
from mrc_plumbing.store.mongodb import MongoStore
from mrc_plumbing.store.port import DocumentStore

log = logging.getLogger(__name__)

DEFAULT_ALIAS = mongoengine.DEFAULT_CONNECTION_NAME


def connect_database(infra: InfraSettings, database: str) -> Database[dict[str, Any]]:
    """Connect mongoengine (whose document classes declare collections and indexes) and return the
    pymongo database it uses."""
    mongoengine.disconnect(alias=DEFAULT_ALIAS)
    client: MongoClient[dict[str, Any]] = mongoengine.connect(
        db=database,
        host=infra.mongo_uri,
        alias=DEFAULT_ALIAS,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=5000,
    )
    return client[database]


def detect_strategy(database: Database[Any]) -> str:
    """FerretDB names its version in buildInfo; anything else is treated as MongoDB."""
    with translated_errors():
        info = database.command("buildInfo")
    return "ferretdb" if "ferretdbVersion" in info else "mongodb"


def store_for(database: Database[Any], strategy: str) -> DocumentStore:
    if strategy == "ferretdb":
        return FerretStore(database)
    if strategy == "mongodb":
        return MongoStore(database)
    raise ValueError(f"unknown store strategy {strategy!r}")


def open_store(infra: InfraSettings, database: str) -> DocumentStore:
    """The service's store, with the configured strategy (`MRC_STORE_STRATEGY`), or the one buildInfo suggests."""
    db = connect_database(infra, database)
    strategy = infra.store_strategy if infra.store_strategy != "auto" else detect_strategy(db)
    log.info("store opened", extra={"database": database, "strategy": strategy})
    return store_for(db, strategy)
