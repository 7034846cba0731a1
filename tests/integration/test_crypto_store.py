"""Data keys and encrypted fields on the real store (FerretDB here, MongoDB in clusters)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.database import Database

from mrc_plumbing.crypto import (
    DATA_KEYS_COLLECTION,
    BlindIndexer,
    DataKeyRecord,
    FieldCipher,
    KeyRing,
    MasterKeys,
    StoreDataKeyStore,
    token_info,
)
from mrc_plumbing.store import OUTBOX_FIELD
from mrc_plumbing.store.wiring import store_for

pytestmark = pytest.mark.integration

PHONE = "+919812345678"
NOTE = "Worker Ramesh says the contractor at Surat kept his papers"


def master(keys: dict[str, bytes], active: str) -> MasterKeys:
    return MasterKeys(keys, active)


class RacingMongoStore(StoreDataKeyStore):
    """Holds every caller after its read of the active key until all have read: they then all insert."""

    def __init__(self, db: Database[Any], parties: int) -> None:
        super().__init__(store_for(db, "mongodb"))
        self._barrier = threading.Barrier(parties)

    def active(self, state_code: str) -> DataKeyRecord | None:
        found = super().active(state_code)
        self._barrier.wait(timeout=10)
        return found


def run_together(actions: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def guarded(action: Callable[[], None]) -> None:
        try:
            action()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def test_mongo_key_store_round_trip_rotation_and_rewrap(db: Database[Any]) -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    store = StoreDataKeyStore(store_for(db, "ferretdb"))
    cipher = FieldCipher(KeyRing(store, master({"k2026a": old_key}, "k2026a")))
    v1 = cipher.encrypt("09", "phone", PHONE)

    document = db[DATA_KEYS_COLLECTION].find_one({"_id": "09:1"})
    assert document is not None
    # The outbox is the store's own bookkeeping, on every document it writes.
    assert set(document) - {OUTBOX_FIELD} == {
        "_id",
        "state_code",
        "version",
        "master_key_id",
        "wrapped",
        "created_at",
        "active",
    }
    assert (document["state_code"], document["version"], document["master_key_id"], document["active"]) == (
        "09",
        1,
        "k2026a",
        True,
    )
    assert isinstance(document["wrapped"], bytes)

    assert cipher.keyring.rotate_data_key("09") == 2
    v2 = cipher.encrypt("09", "phone", PHONE)
    assert token_info(v2).key_version == 2
    assert [(r.id, r.active) for r in store.all()] == [("09:1", False), ("09:2", True)]

    both = KeyRing(store, master({"k2026a": old_key, "k2026b": new_key}, "k2026b"))
    assert both.rewrap_all("k2026b") == 2
    assert {r.master_key_id for r in store.all()} == {"k2026b"}

    fresh = FieldCipher(KeyRing(StoreDataKeyStore(store_for(db, "ferretdb")), master({"k2026b": new_key}, "k2026b")))
    assert fresh.decrypt("phone", v1) == PHONE
    assert fresh.decrypt("phone", v2) == PHONE
    assert fresh.decrypt("phone", fresh.reencrypt("phone", v1)) == PHONE


def test_two_keyrings_racing_create_one_active_key(db: Database[Any]) -> None:
    keys = {"m1": os.urandom(32)}
    store = RacingMongoStore(db, parties=2)
    ciphers = [FieldCipher(KeyRing(store, master(keys, "m1"))) for _ in range(2)]
    tokens: dict[int, str] = {}

    def encrypt(i: int) -> Callable[[], None]:
        return lambda: tokens.__setitem__(i, ciphers[i].encrypt("27", "phone", PHONE))

    run_together([encrypt(0), encrypt(1)])

    stored = list(db[DATA_KEYS_COLLECTION].find({"state_code": "27"}))
    assert [(d["_id"], d["active"]) for d in stored] == [("27:1", True)]
    # Both adopted the winner's key, so each reads the other's value.
    assert ciphers[0].decrypt("phone", tokens[1]) == PHONE
    assert ciphers[1].decrypt("phone", tokens[0]) == PHONE


def test_two_keyrings_rotating_at_once_make_one_new_version(db: Database[Any]) -> None:
    keys = {"m1": os.urandom(32)}
    FieldCipher(KeyRing(StoreDataKeyStore(store_for(db, "ferretdb")), master(keys, "m1"))).encrypt("27", "phone", PHONE)
    store = RacingMongoStore(db, parties=2)
    rings = [KeyRing(store, master(keys, "m1")) for _ in range(2)]
    versions: list[int] = []

    run_together(
        [
            lambda: versions.append(rings[0].rotate_data_key("27")),
            lambda: versions.append(rings[1].rotate_data_key("27")),
        ]
    )

    assert versions == [2, 2]
    stored = list(db[DATA_KEYS_COLLECTION].find({"state_code": "27"}).sort("version", 1))
    assert [(d["_id"], d["active"]) for d in stored] == [("27:1", False), ("27:2", True)]


def test_raw_dump_reveals_no_phone_digits_or_notes(db: Database[Any]) -> None:
    cipher = FieldCipher(KeyRing(StoreDataKeyStore(store_for(db, "ferretdb")), master({"m1": os.urandom(32)}, "m1")))
    indexer = BlindIndexer(os.urandom(32))
    db.workers.insert_one(
        {
            "_id": "w-1",
            "state_code": "09",
            "phone": cipher.encrypt("09", "phone", PHONE),
            "phone_index": indexer.index("phone", PHONE),
            "case_note": cipher.encrypt("09", "case_note", NOTE),
            "aadhaar_index": indexer.index("aadhaar", "123412345678"),
            "aadhaar_last4": "5678",
        }
    )

    raw_options: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
    dump = b"".join(
        document.raw
        for name in db.list_collection_names()
        for document in db.get_collection(name, codec_options=raw_options).find({})
    )
    assert b"w-1" in dump  # the dump did read the worker
    for secret in (b"9812345678", b"919812345678", b"98123", b"Ramesh", b"Surat", b"12341234"):
        assert secret not in dump
    # And it still serves the application.
    stored = db.workers.find_one({"phone_index": indexer.index("phone", PHONE)})
    assert stored is not None
    assert cipher.decrypt("phone", stored["phone"]) == PHONE
    assert cipher.decrypt("case_note", stored["case_note"]) == NOTE
