"""Where wrapped data keys live: the `data_keys` collection, or memory in unit tests.

One document per (state, version), `_id` = "<state>:<version>". The unique `_id` is the only
coordination between replicas: creating a key is an insert that at most one of them wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from mrc_plumbing.store import DocumentStore, DuplicateDocument
from mrc_plumbing.store.memory import InMemoryStore

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


class StoreDataKeyStore:
    """The `data_keys` collection of the service's store (any strategy)."""

    def __init__(self, store: DocumentStore, collection: str = DATA_KEYS_COLLECTION) -> None:
        self._collection = store.collection(collection)

    def get(self, state_code: str, version: int) -> DataKeyRecord | None:
        document = self._collection.get(data_key_id(state_code, version))
        return None if document is None else _from_document(document)

    def active(self, state_code: str) -> DataKeyRecord | None:
        # A handful of documents per state: no index needed beyond `_id`.
        found = self._collection.find({"state_code": state_code, "active": True}, sort=[("version", -1)], limit=1)
        return _from_document(found[0]) if found else None

    def insert(self, record: DataKeyRecord) -> None:
        try:
            self._collection.insert(
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
        except DuplicateDocument:
            raise DataKeyExists(record.id) from None

    def deactivate_older(self, state_code: str, version: int) -> None:
        older = self._collection.find(
            {"state_code": state_code, "version": {"$lt": version}, "active": True}, fields=[]
        )
        self._collection.update_each([(d["_id"], {"$set": {"active": False}}) for d in older])

    def replace_wrapping(
        self, state_code: str, version: int, expected_master_key_id: str, master_key_id: str, wrapped: bytes
    ) -> bool:
        return self._collection.update(
            data_key_id(state_code, version),
            {"$set": {"master_key_id": master_key_id, "wrapped": wrapped}},
            where={"master_key_id": expected_master_key_id},
        )

    def all(self) -> Iterator[DataKeyRecord]:
        for document in self._collection.scan():
            yield _from_document(document)


class InMemoryDataKeyStore(StoreDataKeyStore):
    """A `DataKeyStore` for unit tests and tools, on the in-memory store; gone with the process."""

    def __init__(self) -> None:
        super().__init__(InMemoryStore())


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
