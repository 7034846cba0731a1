"""Encryption of single fields (phone numbers, case notes, reporter identity) by repositories.

A value becomes a self-describing token, safe in a document, a Kafka event or a log line:

    enc:v1:<state>:<key version>:<base64url(nonce | ciphertext | tag)>

AES-256-GCM with the state's data key, and the field name as associated data, so a token copied
into another field (`phone` into `notes`) fails to decrypt. Nothing binds a token to its record:
it could be copied into the same field of another record of the same state; a repository that
must prevent that passes a field name that includes the record id.

Aadhaar numbers are never stored, not even encrypted: the registry keeps only their blind index
(`BlindIndexer.index("aadhaar", ...)`) and `last4(...)`. `encrypt` refuses any field named like aadhaar.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import overload

from cryptography.exceptions import InvalidTag

from mrc_plumbing.crypto._b64 import b64url_decode, b64url_encode
from mrc_plumbing.crypto.errors import DecryptionError
from mrc_plumbing.crypto.keyring import KeyRing, check_state_code

TOKEN_PREFIX = "enc:v1:"  # noqa: S105 - a format marker, not a secret
NONCE_BYTES = 12
TAG_BYTES = 16
_VERSION = re.compile(r"^[1-9][0-9]{0,9}$")


@dataclass(frozen=True)
class TokenInfo:
    """What a token says about itself, readable without any key."""

    state_code: str
    key_version: int


def is_token(value: str) -> bool:
    """True if `value` looks like a token of this module (cheap check, no decryption)."""
    return value.startswith(TOKEN_PREFIX)


def token_info(token: str) -> TokenInfo:
    """The state and key version of a token; raises `DecryptionError` if it is not a well-formed token."""
    return _parse(token)[0]


def _parse(token: str) -> tuple[TokenInfo, bytes]:
    if not is_token(token):
        # Never echo the value: it might be plaintext stored by mistake.
        raise DecryptionError("value is not an encrypted token")
    parts = token[len(TOKEN_PREFIX) :].split(":")
    if len(parts) != 3:
        raise DecryptionError("malformed token")
    state_code, version, payload = parts
    try:
        check_state_code(state_code)
    except ValueError:
        raise DecryptionError("malformed token: bad state code") from None
    if not _VERSION.match(version):
        raise DecryptionError("malformed token: bad key version")
    try:
        blob = b64url_decode(payload)
    except ValueError:
        raise DecryptionError("malformed token: payload is not base64url") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("malformed token: payload too short")
    return TokenInfo(state_code, int(version)), blob


def _aad(field: str) -> bytes:
    if not field:
        raise ValueError("field name must not be empty")
    return field.encode()


class FieldCipher:
    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring

    @property
    def keyring(self) -> KeyRing:
        return self._keyring

    @overload
    def encrypt(self, state_code: str, field: str, plaintext: str) -> str: ...
    @overload
    def encrypt(self, state_code: str, field: str, plaintext: None) -> None: ...
    @overload
    def encrypt(self, state_code: str, field: str, plaintext: str | None) -> str | None: ...
    def encrypt(self, state_code: str, field: str, plaintext: str | None) -> str | None:
        """Encrypt with the state's active data key. `None` and `""` come back unchanged (absent stays absent)."""
        if "aadhaar" in field.lower():
            raise ValueError("Aadhaar numbers are never stored, not even encrypted; keep a blind index and last4")
        aad = _aad(field)
        if not plaintext:
            return plaintext
        version, key = self._keyring.active_key(state_code)
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.encrypt(nonce, plaintext.encode(), aad)
        return f"{TOKEN_PREFIX}{state_code}:{version}:{b64url_encode(nonce + sealed)}"

    @overload
    def decrypt(self, field: str, token: str) -> str: ...
    @overload
    def decrypt(self, field: str, token: None) -> None: ...
    @overload
    def decrypt(self, field: str, token: str | None) -> str | None: ...
    def decrypt(self, field: str, token: str | None) -> str | None:
        """The plaintext of a token written to `field`; raises `DecryptionError` if it does not decrypt."""
        aad = _aad(field)
        if not token:
            return token
        info, blob = _parse(token)
        key = self._keyring.key(info.state_code, info.key_version)
        try:
            plaintext = key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionError(
                f"token for field {field!r} (data key {info.state_code}:{info.key_version}) does not decrypt: "
                "tampered, written to another field, or encrypted with another key"
            ) from None
        try:
            return plaintext.decode()
        except UnicodeDecodeError:
            raise DecryptionError(f"token for field {field!r} does not hold UTF-8 text") from None

    def needs_reencrypt(self, token: str | None) -> bool:
        """True if the token is not under its state's active data key (after a rotation)."""
        if not token:
            return False
        info = token_info(token)
        return info.key_version != self._keyring.active_version(info.state_code)

    @overload
    def reencrypt(self, field: str, token: str) -> str: ...
    @overload
    def reencrypt(self, field: str, token: None) -> None: ...
    @overload
    def reencrypt(self, field: str, token: str | None) -> str | None: ...
    def reencrypt(self, field: str, token: str | None) -> str | None:
        """The same value under the state's active data key; the token itself if it already is.

        Use lazily (on read, write back if it changed) or in a batch job after `rotate_data_key`.
        """
        if not token:
            return token
        # Decrypt first even when nothing moves, so a batch job notices tampered or misplaced values.
        plaintext = self.decrypt(field, token)
        if not self.needs_reencrypt(token):
            return token
        return self.encrypt(token_info(token).state_code, field, plaintext)
