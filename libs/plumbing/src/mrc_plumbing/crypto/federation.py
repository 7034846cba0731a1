"""The federation key: names and case text that cross from one state's cluster to another's.

Records on the federation topics (`mrc.federation.v1`) carry a worker's name, a father's or spouse's
name and case text only as tokens sealed with a key every state cluster holds (the national cluster
does not: it receives aggregates only):

    fed:v1:<key id>:<base64url(nonce | ciphertext | tag)>

AES-256-GCM; the associated data binds the token to its key id and to the field it was sealed for, so
a token moved to another field, or whose header was edited, does not open. The contract gives each
field's name with the record id in it (`worker.full_name/<worker_id>`), so a token copied into another
record does not open either.

The state's own data keys (`FieldCipher`) cannot serve: they are wrapped by each state's master keys,
which never leave the state. The destination keeps what it needs under its own keys: it opens a token
on receipt and re-encrypts with its `FieldCipher` (or keeps the token and opens it when reading).

    MRC_FEDERATION_KEYS="fed-2026a:<base64 of 32 bytes>,fed-2026b:<base64 of 32 bytes>"
    MRC_FEDERATION_KEY_ACTIVE=fed-2026b

Rotation, with no message lost: (1) add the new key to `MRC_FEDERATION_KEYS` in EVERY state, the old one
still active, and roll out; (2) make the new key active everywhere; (3) drop the old key once nothing
sealed with it is left: the federation topics' retention has passed and stored tokens were resealed
(`reseal`) or re-encrypted under the state's own keys. A token under a key a process does not hold
raises `UnknownFederationKey`.

Left unset, the key is a public, INSECURE development key: it works on a laptop and in CI, logs a
warning, and is refused when `MRC_CRYPTO_REQUIRE_CONFIGURED_KEYS=true`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mrc_plumbing.crypto._b64 import b64_decode_secret, b64url_decode, b64url_encode
from mrc_plumbing.crypto.errors import CryptoConfigError, DecryptionError
from mrc_plumbing.crypto.settings import CryptoSettings

log = logging.getLogger(__name__)

FEDERATION_TOKEN_PREFIX = "fed:v1:"  # noqa: S105 - a format marker, not a secret
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class UnknownFederationKey(DecryptionError):
    """A token names a federation key this process does not hold (dropped too early, or not yet added)."""


def is_federation_token(value: str) -> bool:
    """True if `value` looks like a federation token (cheap check, no decryption)."""
    return value.startswith(FEDERATION_TOKEN_PREFIX)


def federation_key_id(token: str) -> str:
    """The id of the key a token was sealed with; raises `DecryptionError` if it is not a well-formed token."""
    return _parse(token)[0]


def _parse(token: str) -> tuple[str, bytes]:
    if not is_federation_token(token):
        # Never echo the value: it might be plaintext sent by mistake.
        raise DecryptionError("value is not a federation token")
    key_id, sep, payload = token[len(FEDERATION_TOKEN_PREFIX) :].partition(":")
    if not sep or not _KEY_ID.match(key_id):
        raise DecryptionError("malformed federation token")
    try:
        blob = b64url_decode(payload)
    except ValueError:
        raise DecryptionError("malformed federation token: payload is not base64url") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("malformed federation token: payload too short")
    return key_id, blob


def _aad(key_id: str, field: str) -> bytes:
    if not field:
        raise ValueError("field name must not be empty")
    return f"mrc-federation:v1|{key_id}|{field}".encode()


def parse_federation_keys(text: str) -> dict[str, bytes]:
    """`id:base64key,...` as in `MRC_FEDERATION_KEYS`; errors name the entry, never what it holds."""
    keys: dict[str, bytes] = {}
    for entry in text.split(","):
        if not entry.strip():
            continue
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep:
            raise CryptoConfigError("MRC_FEDERATION_KEYS entries must look like `id:base64key`")
        if key_id in keys:
            raise CryptoConfigError(f"federation key id {key_id!r} is listed twice")
        try:
            keys[key_id] = b64_decode_secret(encoded)
        except ValueError:
            raise CryptoConfigError(f"federation key {key_id!r} is not valid base64") from None
    return keys


class FederationCipher:
    """Seals and opens the fields of federation records with the key shared by every state cluster."""

    def __init__(self, keys: Mapping[str, bytes], active_id: str) -> None:
        if not keys:
            raise CryptoConfigError("no federation key configured")
        for key_id, key in keys.items():
            if not _KEY_ID.match(key_id):
                raise CryptoConfigError(f"federation key id {key_id!r} must match {_KEY_ID.pattern}")
            if len(key) != KEY_BYTES:
                raise CryptoConfigError(f"federation key {key_id!r} must be {KEY_BYTES} bytes, got {len(key)}")
        if active_id not in keys:
            raise CryptoConfigError(f"active federation key {active_id!r} is not among the configured keys")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._active_id = active_id

    @classmethod
    def from_settings(cls, settings: CryptoSettings | None = None) -> FederationCipher:
        settings = settings or CryptoSettings()
        if settings.uses_dev_federation_keys():
            if settings.crypto_require_configured_keys:
                raise CryptoConfigError("MRC_FEDERATION_KEYS is not set and configured keys are required")
            log.warning("INSECURE: using the public development federation key; set MRC_FEDERATION_KEYS")
        keys = parse_federation_keys(settings.federation_keys.get_secret_value())
        if not keys:
            raise CryptoConfigError("no federation key configured in MRC_FEDERATION_KEYS")
        active = settings.federation_key_active.strip()
        if not active:
            if len(keys) != 1:
                raise CryptoConfigError("MRC_FEDERATION_KEY_ACTIVE must be set when several federation keys are listed")
            active = next(iter(keys))
        return cls(keys, active)

    @property
    def active_id(self) -> str:
        return self._active_id

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def __repr__(self) -> str:
        return f"FederationCipher(ids={sorted(self._keys)}, active_id={self._active_id!r})"

    def seal(self, field: str, plaintext: str) -> str:
        """A token of `plaintext` for `field`, under the active key; `""` stays `""` (absent stays absent)."""
        if "aadhaar" in field.lower():
            raise ValueError("Aadhaar numbers never cross a border, not even sealed; send the blind index")
        aad = _aad(self._active_id, field)
        if not plaintext:
            return plaintext
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._active_id].encrypt(nonce, plaintext.encode(), aad)
        return f"{FEDERATION_TOKEN_PREFIX}{self._active_id}:{b64url_encode(nonce + sealed)}"

    def open(self, field: str, token: str) -> str:
        """The plaintext of a token sealed for `field`; raises `DecryptionError` if it does not open."""
        if not field:
            raise ValueError("field name must not be empty")
        if not token:
            return token
        key_id, blob = _parse(token)
        key = self._keys.get(key_id)
        if key is None:
            raise UnknownFederationKey(f"federation key {key_id!r} is not configured in this process")
        try:
            plaintext = key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(key_id, field))
        except InvalidTag:
            raise DecryptionError(
                f"federation token for field {field!r} (key {key_id!r}) does not open: tampered, sealed for "
                "another field or record, or with another key of the same id"
            ) from None
        try:
            return plaintext.decode()
        except UnicodeDecodeError:
            raise DecryptionError(f"federation token for field {field!r} does not hold UTF-8 text") from None

    def needs_reseal(self, token: str) -> bool:
        """True if the token is not under the active key (after a rotation)."""
        return bool(token) and federation_key_id(token) != self._active_id

    def reseal(self, field: str, token: str) -> str:
        """The same value under the active key; the token itself if it already is (after checking it opens)."""
        plaintext = self.open(field, token)
        return self.seal(field, plaintext) if self.needs_reseal(token) else token
