"""Where wrapped data keys live: the `data_keys` collection, or memory in unit tests.

One document per (state, version), `_id` = "<state>:<version>". The unique `_id` is the only
coordination between replicas: creating a key is an insert that at most one of them wins.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

DATA_KEYS_COLLECTION = "data_keys"


@dataclass(frozen=True)
class DataKeyRecord:
    """A data key as stored: wrapped by master key `master_key_id`, never in clear."""

    state_code: str
    version: int
    master_key_id: str
    wrapped: bytes
    created_at: datetime
    active: bool

    @property
    def id(self) -> str:
        return data_key_id(self.state_code, self.version)

    def __repr__(self) -> str:
        return f"DataKeyRecord({self.id}, master_key_id={self.master_key_id!r}, active={self.active})"


def data_key_id(state_code: str, version: int) -> str:
    return f"{state_code}:{version}"


class DataKeyExists(Exception):
    """Another writer already stored this (state, version)."""


class DataKeyStore(Protocol):
    def get(self, state_code: str, version: int) -> DataKeyRecord | None: ...

    def active(self, state_code: str) -> DataKeyRecord | None:
        """The highest version flagged active (during a rotation two may be flagged for an instant)."""
        ...

    def insert(self, record: DataKeyRecord) -> None:
        """Store a new version; raises `DataKeyExists` if that (state, version) is already stored."""
        ...

    def deactivate_older(self, state_code: str, version: int) -> None:
        """Clear the active flag of every version of the state below `version`."""
        ...

    def replace_wrapping(
        self, state_code: str, version: int, expected_master_key_id: str, master_key_id: str, wrapped: bytes
    ) -> bool:
        """Compare-and-set the wrapping; False if it is no longer wrapped by `expected_master_key_id`."""
        ...

    def all(self) -> Iterator[DataKeyRecord]: ...


class InMemoryDataKeyStore:
    """A `DataKeyStore` for unit tests and tools; thread-safe, gone with the process."""

    def __init__(self) -> None:
        self._records: dict[str, DataKeyRecord] = {}
        self._lock = threading.Lock()

    def get(self, state_code: str, version: int) -> DataKeyRecord | None:
        with self._lock:
            return self._records.get(data_key_id(state_code, version))

    def active(self, state_code: str) -> DataKeyRecord | None:
        with self._lock:
            candidates = [r for r in self._records.values() if r.state_code == state_code and r.active]
        return max(candidates, key=lambda r: r.version, default=None)

    def insert(self, record: DataKeyRecord) -> None:
        with self._lock:
            if record.id in self._records:
                raise DataKeyExists(record.id)
            self._records[record.id] = record

    def deactivate_older(self, state_code: str, version: int) -> None:
        with self._lock:
            for key, record in list(self._records.items()):
                if record.state_code == state_code and record.version < version and record.active:
                    self._records[key] = replace(record, active=False)

    def replace_wrapping(
        self, state_code: str, version: int, expected_master_key_id: str, master_key_id: str, wrapped: bytes
    ) -> bool:
        with self._lock:
            key = data_key_id(state_code, version)
            record = self._records.get(key)
            if record is None or record.master_key_id != expected_master_key_id:
                return False
            self._records[key] = replace(record, master_key_id=master_key_id, wrapped=wrapped)
            return True

    def all(self) -> Iterator[DataKeyRecord]:
        with self._lock:
            records = sorted(self._records.values(), key=lambda r: (r.state_code, r.version))
        return iter(records)


class MongoDataKeyStore:
    """The `data_keys` collection of the service's database (FerretDB or MongoDB)."""

    def __init__(self, db: Database[Any], collection: str = DATA_KEYS_COLLECTION) -> None:
        self._collection = db[collection]

    def get(self, state_code: str, version: int) -> DataKeyRecord | None:
        document = self._collection.find_one({"_id": data_key_id(state_code, version)})
        return None if document is None else _from_document(document)

    def active(self, state_code: str) -> DataKeyRecord | None:
        # A handful of documents per state: no index needed beyond `_id`.
        for document in self._collection.find({"state_code": state_code, "active": True}).sort("version", -1).limit(1):
            return _from_document(document)
        return None

    def insert(self, record: DataKeyRecord) -> None:
        try:
            self._collection.insert_one(
                {
                    "_id": record.id,
                    "state_code": record.state_code,
                    "version": record.version,
                    "master_key_id": record.master_key_id,
                    "wrapped": record.wrapped,
                    "created_at": record.created_at,
                    "active": record.active,
                }
            )
        except DuplicateKeyError:
            raise DataKeyExists(record.id) from None

    def deactivate_older(self, state_code: str, version: int) -> None:
        self._collection.update_many(
            {"state_code": state_code, "version": {"$lt": version}, "active": True}, {"$set": {"active": False}}
        )

    def replace_wrapping(
        self, state_code: str, version: int, expected_master_key_id: str, master_key_id: str, wrapped: bytes
    ) -> bool:
        result = self._collection.update_one(
            {"_id": data_key_id(state_code, version), "master_key_id": expected_master_key_id},
            {"$set": {"master_key_id": master_key_id, "wrapped": wrapped}},
        )
        return result.modified_count == 1

    def all(self) -> Iterator[DataKeyRecord]:
        for document in self._collection.find({}).sort("_id", 1):
            yield _from_document(document)


def _from_document(document: Any) -> DataKeyRecord:
    created_at: datetime = document["created_at"]
    if created_at.tzinfo is None:  # a client opened without tz_aware
        created_at = created_at.replace(tzinfo=UTC)
    return DataKeyRecord(
        state_code=str(document["state_code"]),
        version=int(document["version"]),
        master_key_id=str(document["master_key_id"]),
        wrapped=bytes(document["wrapped"]),
        created_at=created_at,
        active=bool(document["active"]),
    )
