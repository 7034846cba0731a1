"""Master keys: they only wrap (encrypt) data keys, never data.

They come from configuration (a secret mounted into the pod, later a KMS), never from the store, so
a dump of the store alone cannot unwrap a data key.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mrc_plumbing.crypto._b64 import b64_decode_secret
from mrc_plumbing.crypto.errors import CryptoConfigError, DecryptionError, UnknownMasterKey
from mrc_plumbing.crypto.settings import CryptoSettings

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def wrap_aad(state_code: str, version: int, master_key_id: str) -> bytes:
    """Binds a wrapped data key to its state, version and master key: swapping stored fields fails."""
    return f"mrc-data-key:v1|{state_code}|{version}|{master_key_id}".encode()


class MasterKeys:
    """The configured master keys, by id, and the id of the one that wraps new data keys."""

    def __init__(self, keys: Mapping[str, bytes], active_id: str) -> None:
        if not keys:
            raise CryptoConfigError("no master key configured")
        for key_id, key in keys.items():
            if not _KEY_ID.match(key_id):
                raise CryptoConfigError(f"master key id {key_id!r} must match {_KEY_ID.pattern}")
            if len(key) != KEY_BYTES:
                raise CryptoConfigError(f"master key {key_id!r} must be {KEY_BYTES} bytes, got {len(key)}")
        if active_id not in keys:
            raise CryptoConfigError(f"active master key {active_id!r} is not among the configured keys")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._active_id = active_id

    @classmethod
    def from_settings(cls, settings: CryptoSettings) -> MasterKeys:
        if settings.uses_dev_master_keys():
            if settings.crypto_require_configured_keys:
                raise CryptoConfigError("MRC_MASTER_KEYS is not set and configured keys are required")
            log.warning("INSECURE: using the public development master key; set MRC_MASTER_KEYS outside development")
        keys: dict[str, bytes] = {}
        for entry in settings.master_keys.get_secret_value().split(","):
            if not entry.strip():
                continue
            key_id, sep, encoded = entry.strip().partition(":")
            if not sep:
                raise CryptoConfigError("MRC_MASTER_KEYS entries must look like `id:base64key`")
            if key_id in keys:
                raise CryptoConfigError(f"master key id {key_id!r} is listed twice")
            try:
                keys[key_id] = b64_decode_secret(encoded)
            except ValueError:
                # Say which entry, never what it holds.
                raise CryptoConfigError(f"master key {key_id!r} is not valid base64") from None
        active = settings.master_key_active.strip()
        if not active:
            if len(keys) != 1:
                raise CryptoConfigError("MRC_MASTER_KEY_ACTIVE must be set when several master keys are configured")
            active = next(iter(keys))
        return cls(keys, active)

    @property
    def active_id(self) -> str:
        return self._active_id

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def __repr__(self) -> str:
        return f"MasterKeys(ids={sorted(self._keys)}, active_id={self._active_id!r})"

    def require(self, master_key_id: str) -> None:
        """Raise `UnknownMasterKey` unless `master_key_id` is configured."""
        self._aead(master_key_id)

    def wrap(
        self, state_code: str, version: int, data_key: bytes, master_key_id: str | None = None
    ) -> tuple[str, bytes]:
        """Encrypt a data key with the given (default: active) master key; returns (master key id, nonce|ct|tag)."""
        key_id = master_key_id or self._active_id
        aead = self._aead(key_id)
        nonce = os.urandom(NONCE_BYTES)
        return key_id, nonce + aead.encrypt(nonce, data_key, wrap_aad(state_code, version, key_id))

    def unwrap(self, master_key_id: str, state_code: str, version: int, wrapped: bytes) -> bytes:
        aead = self._aead(master_key_id)
        if len(wrapped) < NONCE_BYTES + 16:
            raise DecryptionError(f"data key {state_code}:{version} is truncated")
        try:
            data_key = aead.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], wrap_aad(state_code, version, master_key_id)
            )
        except InvalidTag:
            raise DecryptionError(
                f"data key {state_code}:{version} does not unwrap with master key {master_key_id!r}"
            ) from None
        if len(data_key) != KEY_BYTES:
            raise DecryptionError(f"data key {state_code}:{version} has the wrong length")
        return data_key

    def _aead(self, master_key_id: str) -> AESGCM:
        try:
            return self._keys[master_key_id]
        except KeyError:
            raise UnknownMasterKey(f"master key {master_key_id!r} is not configured in this process") from None
