"""Data keys per state: created lazily, cached unwrapped, rotated without downtime.

A state is the unit of ownership (one cluster per state), so each state has its own data keys:
version 1 is created on first use, `rotate_data_key` adds version n+1 and makes it active, and every
older version stays in the store so values encrypted with it still decrypt. Each replica re-reads
the active version every `refresh_seconds`; until then it may keep encrypting with the previous
version, which is harmless (still readable, moved later by `FieldCipher.reencrypt`).

Master key rotation, with no downtime:
1. add the new master key to `MRC_MASTER_KEYS` of every replica, keeping the old one, and make it
   `MRC_MASTER_KEY_ACTIVE` (new data keys are wrapped with it from now on);
2. run `KeyRing.rewrap_all(new_id)` once: it re-wraps every data key, data stays untouched;
3. once `rewrap_all` returns and every replica runs with step 1, remove the old master key.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mrc_kernel.clock import utc_now
from mrc_plumbing.crypto.errors import CryptoError, UnknownDataKey
from mrc_plumbing.crypto.key_store import DataKeyExists, DataKeyRecord, DataKeyStore
from mrc_plumbing.crypto.master_keys import KEY_BYTES, MasterKeys

_STATE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def check_state_code(state_code: str) -> str:
    if not _STATE_CODE.match(state_code):
        raise ValueError(f"state code must match {_STATE_CODE.pattern}, got {state_code!r}")
    return state_code


class KeyRing:
    """Unwrapped data keys of this process, read from a `DataKeyStore` and cached."""

    def __init__(
        self,
        store: DataKeyStore,
        master_keys: MasterKeys,
        *,
        refresh_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._master_keys = master_keys
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        # Data keys never change once created (re-wrapping changes only their wrapping), so cache forever.
        self._keys: dict[tuple[str, int], AESGCM] = {}
        # state -> (active version, clock reading when it was read from the store)
        self._active: dict[str, tuple[int, float]] = {}

    @property
    def master_keys(self) -> MasterKeys:
        return self._master_keys

    def active_key(self, state_code: str) -> tuple[int, AESGCM]:
        """The version and key that new values of the state are encrypted with; creates version 1 on first use."""
        check_state_code(state_code)
        now = self._clock()
        with self._lock:
            cached = self._active.get(state_code)
        if cached is not None and now - cached[1] < self._refresh_seconds:
            return cached[0], self.key(state_code, cached[0])
        record = self._store.active(state_code)
        if record is None:
            record = self._insert_or_adopt(state_code, 1)
        key = self._cache_key(record)
        with self._lock:
            self._active[state_code] = (record.version, now)
        return record.version, key

    def active_version(self, state_code: str) -> int:
        return self.active_key(state_code)[0]

    def key(self, state_code: str, version: int) -> AESGCM:
        """The data key of one version, active or not; raises `UnknownDataKey` if the store has none."""
        with self._lock:
            cached = self._keys.get((state_code, version))
        if cached is not None:
            return cached
        record = self._store.get(state_code, version)
        if record is None:
            raise UnknownDataKey(f"no data key {state_code}:{version}")
        return self._cache_key(record)

    def rotate_data_key(self, state_code: str) -> int:
        """Create and activate the next version for the state; older versions stay for decryption.

        Two replicas rotating at once produce one new version, not two: the loser adopts the winner's.
        """
        check_state_code(state_code)
        current = self._store.active(state_code)
        record = self._insert_or_adopt(state_code, 1 if current is None else current.version + 1)
        self._store.deactivate_older(state_code, record.version)
        self._cache_key(record)
        with self._lock:
            self._active[state_code] = (record.version, self._clock())
        return record.version

    def rewrap_all(self, new_master_key_id: str) -> int:
        """Re-wrap every stored data key with `new_master_key_id`; data is not touched. Returns how many changed.

        Safe to run twice or on several replicas at once: each update is a compare-and-set on the old wrapping.
        """
        self._master_keys.require(new_master_key_id)
        changed = 0
        for record in list(self._store.all()):
            if record.master_key_id == new_master_key_id:
                continue
            data_key = self._master_keys.unwrap(record.master_key_id, record.state_code, record.version, record.wrapped)
            _, wrapped = self._master_keys.wrap(record.state_code, record.version, data_key, new_master_key_id)
            if self._store.replace_wrapping(
                record.state_code, record.version, record.master_key_id, new_master_key_id, wrapped
            ):
                changed += 1
        return changed

    def _insert_or_adopt(self, state_code: str, version: int) -> DataKeyRecord:
        data_key = os.urandom(KEY_BYTES)
        master_key_id, wrapped = self._master_keys.wrap(state_code, version, data_key)
        record = DataKeyRecord(
            state_code=state_code,
            version=version,
            master_key_id=master_key_id,
            wrapped=wrapped,
            created_at=utc_now(),
            active=True,
        )
        try:
            self._store.insert(record)
            return record
        except DataKeyExists:
            # Another replica created this version first: everyone uses the winner's key.
            winner = self._store.get(state_code, version)
            if winner is None:
                raise CryptoError(f"data key {state_code}:{version} vanished after a conflicting insert") from None
            return winner

    def _cache_key(self, record: DataKeyRecord) -> AESGCM:
        key = (record.state_code, record.version)
        with self._lock:
            cached = self._keys.get(key)
        if cached is not None:
            return cached
        aead = AESGCM(self._master_keys.unwrap(record.master_key_id, record.state_code, record.version, record.wrapped))
        with self._lock:
            return self._keys.setdefault(key, aead)
