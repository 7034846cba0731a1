"""The `Sealer` port on the shared field encryption and blind indexes."""

from __future__ import annotations

from mrc_plumbing.crypto import Crypto


class CryptoSealer:
    def __init__(self, crypto: Crypto) -> None:
        self._crypto = crypto

    def seal(self, state_code: str, field: str, plaintext: str) -> str:
        return self._crypto.cipher.encrypt(state_code, field, plaintext) or ""

    def open(self, field: str, token: str) -> str:
        return self._crypto.cipher.decrypt(field, token) or ""

    def blind_index(self, kind: str, value: str) -> str:
        return self._crypto.blind_indexer.index(kind, value)
