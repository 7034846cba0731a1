"""Blind indexes: match equal values (dedup, lookup by phone) without decrypting anything.

`index(kind, value)` is a keyed hash: HMAC-SHA256 under a subkey derived per kind (HKDF, info =
kind), base64url, first 32 characters (192 bits). Equal values of one kind give equal indexes;
the same value under another kind gives an unrelated one, so a phone index cannot be matched
against an Aadhaar index.

The secret (`MRC_BLIND_INDEX_KEY`) is the SAME in every state cluster, on purpose: migrants move
between states, and deduplication must recognise the same person registered in two states. The
price is that indexes from two states' dumps can be joined; the values themselves stay hidden.

Phone and identity numbers have few possible values (10^10 phones, 10^12 Aadhaar numbers), so
anyone holding the secret can recover them by trying every value: keep the secret as guarded as
the master keys, and never in the store.

Callers pass values already normalised (E.164 phones from the registry's own validation, digits
only for identity numbers): this module hashes exactly what it is given.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mrc_plumbing.crypto._b64 import b64_decode_secret, b64url_encode
from mrc_plumbing.crypto.errors import CryptoConfigError
from mrc_plumbing.crypto.settings import CryptoSettings

log = logging.getLogger(__name__)

INDEX_CHARS = 32
MIN_SECRET_BYTES = 32


class BlindIndexer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise CryptoConfigError(f"blind index key must be at least {MIN_SECRET_BYTES} bytes, got {len(secret)}")
        self._secret = secret
        self._subkeys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: CryptoSettings) -> BlindIndexer:
        if settings.uses_dev_blind_index_key():
            if settings.crypto_require_configured_keys:
                raise CryptoConfigError("MRC_BLIND_INDEX_KEY is not set and configured keys are required")
            log.warning("INSECURE: using the public development blind index key; set MRC_BLIND_INDEX_KEY")
        try:
            secret = b64_decode_secret(settings.blind_index_key.get_secret_value())
        except ValueError:
            raise CryptoConfigError("MRC_BLIND_INDEX_KEY is not valid base64") from None
        return cls(secret)

    def __repr__(self) -> str:
        return "BlindIndexer(<secret>)"

    def index(self, kind: str, normalised_value: str) -> str:
        """Blind index of a normalised value (e.g. kind "phone", value "+919812345678")."""
        if not kind:
            raise ValueError("blind index kind must not be empty")
        if not normalised_value:
            # An index of "" would match every record that lacks the value.
            raise ValueError("cannot index an empty value")
        digest = hmac.new(self._subkey(kind), normalised_value.encode(), hashlib.sha256).digest()
        return b64url_encode(digest)[:INDEX_CHARS]

    def _subkey(self, kind: str) -> bytes:
        with self._lock:
            subkey = self._subkeys.get(kind)
            if subkey is None:
                hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=kind.encode())
                subkey = self._subkeys[kind] = hkdf.derive(self._secret)
            return subkey


def last4(value: str) -> str:
    """The last four digits of an identity number (Aadhaar), the only part of it the platform keeps."""
    digits = "".join(ch for ch in value if ch.isascii() and ch.isdigit())
    if len(digits) < 4:
        raise ValueError("value has fewer than four digits")
    return digits[-4:]
