from __future__ import annotations

import os
import threading
from dataclasses import replace

import pytest

from mrc_plumbing.crypto import (
    DataKeyRecord,
    DecryptionError,
    FieldCipher,
    InMemoryDataKeyStore,
    KeyRing,
    MasterKeys,
    UnknownMasterKey,
    token_info,
)

PHONE = "+919812345678"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def master(*ids: str, active: str | None = None, keys: dict[str, bytes] | None = None) -> MasterKeys:
    material = keys if keys is not None else {key_id: os.urandom(32) for key_id in ids}
    return MasterKeys(material, active or next(iter(material)))


def test_data_key_created_lazily_once_per_state_and_stored_wrapped() -> None:
    store = InMemoryDataKeyStore()
    ring = KeyRing(store, master("m1"))
    assert list(store.all()) == []
    cipher = FieldCipher(ring)
    cipher.encrypt("09", "phone", PHONE)
    cipher.encrypt("09", "phone", PHONE)
    cipher.encrypt("27", "phone", PHONE)
    records = list(store.all())
    assert [(r.id, r.version, r.master_key_id, r.active) for r in records] == [
        ("09:1", 1, "m1", True),
        ("27:1", 1, "m1", True),
    ]
    assert all(len(r.wrapped) == 12 + 32 + 16 for r in records)
    assert records[0].created_at.tzinfo is not None


def test_rotation_keeps_old_values_readable_and_new_values_use_new_version() -> None:
    store = InMemoryDataKeyStore()
    cipher = FieldCipher(KeyRing(store, master("m1")))
    old = cipher.encrypt("09", "phone", PHONE)
    other_state = cipher.encrypt("27", "phone", PHONE)

    assert cipher.keyring.rotate_data_key("09") == 2
    new = cipher.encrypt("09", "phone", PHONE)

    assert token_info(old).key_version == 1
    assert token_info(new).key_version == 2
    assert cipher.decrypt("phone", old) == PHONE
    assert cipher.decrypt("phone", new) == PHONE
    assert token_info(cipher.encrypt("27", "phone", PHONE)).key_version == 1  # other states untouched
    assert cipher.decrypt("phone", other_state) == PHONE
    assert [(r.id, r.active) for r in store.all()] == [("09:1", False), ("09:2", True), ("27:1", True)]


def test_reencrypt_moves_values_to_the_active_version() -> None:
    cipher = FieldCipher(KeyRing(InMemoryDataKeyStore(), master("m1")))
    old = cipher.encrypt("09", "case_note", "note")
    assert cipher.reencrypt("case_note", old) == old  # already current: unchanged
    assert not cipher.needs_reencrypt(old)

    cipher.keyring.rotate_data_key("09")
    assert cipher.needs_reencrypt(old)
    moved = cipher.reencrypt("case_note", old)
    assert token_info(moved).key_version == 2
    assert cipher.decrypt("case_note", moved) == "note"
    assert not cipher.needs_reencrypt(moved)
    with pytest.raises(DecryptionError):
        cipher.reencrypt("phone", moved)  # still bound to its field


def test_replicas_converge_on_the_active_version_after_refresh() -> None:
    store = InMemoryDataKeyStore()
    clock = FakeClock()
    keys = {"m1": os.urandom(32)}
    replica_a = FieldCipher(KeyRing(store, master(keys=keys), refresh_seconds=30, clock=clock))
    replica_b = FieldCipher(KeyRing(store, master(keys=keys), refresh_seconds=30, clock=clock))
    token_b = replica_b.encrypt("09", "phone", PHONE)

    replica_a.keyring.rotate_data_key("09")
    token_a = replica_a.encrypt("09", "phone", PHONE)
    # Replica B still uses version 1 until its refresh, and reads version 2 values meanwhile.
    assert token_info(replica_b.encrypt("09", "phone", PHONE)).key_version == 1
    assert replica_b.decrypt("phone", token_a) == PHONE
    clock.now += 31
    assert token_info(replica_b.encrypt("09", "phone", PHONE)).key_version == 2
    assert replica_a.decrypt("phone", token_b) == PHONE


def test_master_key_rotation_rewraps_and_everything_still_decrypts() -> None:
    store = InMemoryDataKeyStore()
    old_key, new_key = os.urandom(32), os.urandom(32)
    before = FieldCipher(KeyRing(store, master(keys={"k2026a": old_key})))
    tokens = [before.encrypt(state, "phone", PHONE) for state in ("09", "27", "33")]
    before.keyring.rotate_data_key("27")
    tokens.append(before.encrypt("27", "phone", PHONE))
    wrapped_before = {r.id: r.wrapped for r in store.all()}

    # Step 1: every replica gets both keys, the new one active.
    during = FieldCipher(KeyRing(store, master(keys={"k2026a": old_key, "k2026b": new_key}, active="k2026b")))
    assert during.encrypt("10", "phone", PHONE)  # a new state's key is wrapped with the new master key
    new_state_key = store.get("10", 1)
    assert new_state_key is not None
    assert new_state_key.master_key_id == "k2026b"
    # Step 2: re-wrap; idempotent.
    assert during.keyring.rewrap_all("k2026b") == 4
    assert during.keyring.rewrap_all("k2026b") == 0
    records = list(store.all())
    assert {r.master_key_id for r in records} == {"k2026b"}
    assert all(r.wrapped != wrapped_before[r.id] for r in records if r.id in wrapped_before)

    # Step 3: the old master key is gone; a fresh process still decrypts everything.
    after = FieldCipher(KeyRing(store, master(keys={"k2026b": new_key})))
    assert [after.decrypt("phone", t) for t in tokens] == [PHONE] * 4


def test_rewrap_to_an_unconfigured_master_key_is_refused() -> None:
    ring = KeyRing(InMemoryDataKeyStore(), master("m1"))
    with pytest.raises(UnknownMasterKey):
        ring.rewrap_all("m2")


def test_data_key_wrapped_with_a_removed_master_key_fails_clearly() -> None:
    store = InMemoryDataKeyStore()
    token = FieldCipher(KeyRing(store, master("m1"))).encrypt("09", "phone", PHONE)
    with pytest.raises(UnknownMasterKey, match="'m1'"):
        FieldCipher(KeyRing(store, master("m2"))).decrypt("phone", token)


def test_swapped_wrapped_keys_do_not_unwrap() -> None:
    store = InMemoryDataKeyStore()
    keys = {"m1": os.urandom(32)}
    cipher = FieldCipher(KeyRing(store, master(keys=keys)))
    token = cipher.encrypt("09", "phone", PHONE)
    cipher.encrypt("27", "phone", PHONE)
    # Someone with write access to the store copies state 27's wrapped key over state 09's.
    donor = store.get("27", 1)
    assert donor is not None
    tampered = InMemoryDataKeyStore()
    for record in store.all():
        tampered.insert(replace(record, wrapped=donor.wrapped) if record.id == "09:1" else record)
    with pytest.raises(DecryptionError, match="does not unwrap"):
        FieldCipher(KeyRing(tampered, master(keys=keys))).decrypt("phone", token)


class RacingStore(InMemoryDataKeyStore):
    """Every caller sees 'no active key' until all have looked, then they all insert."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self._barrier = threading.Barrier(parties)

    def active(self, state_code: str) -> DataKeyRecord | None:
        found = super().active(state_code)
        self._barrier.wait(timeout=5)
        return found


def test_concurrent_lazy_creation_yields_one_key() -> None:
    racing_store = RacingStore(parties=4)
    keys = {"m1": os.urandom(32)}
    ciphers = [FieldCipher(KeyRing(racing_store, master(keys=keys))) for _ in range(4)]
    tokens: list[str] = []
    lock = threading.Lock()

    def encrypt(cipher: FieldCipher) -> None:
        token = cipher.encrypt("09", "phone", PHONE)
        with lock:
            tokens.append(token)

    threads = [threading.Thread(target=encrypt, args=(c,)) for c in ciphers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.id for r in racing_store.all()] == ["09:1"]
    # Everyone adopted the winner's key: each replica reads every other replica's value.
    assert all(c.decrypt("phone", t) == PHONE for c in ciphers for t in tokens)


def test_master_keys_repr_hides_material() -> None:
    key = os.urandom(32)
    keys = master(keys={"m1": key})
    assert key.hex() not in repr(keys)
    assert "m1" in repr(keys)
