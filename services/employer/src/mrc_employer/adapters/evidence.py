"""Evidence text encrypted with the platform's field cipher (envelope encryption, per-state data keys)."""

from __future__ import annotations

from mrc_plumbing.crypto import FieldCipher

EVIDENCE_FIELD = "evidence"


class CipherEvidence:
    """`EvidenceProtector` on `mrc_plumbing.crypto.FieldCipher`."""

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def protect(self, state_code: str, text: str) -> str:
        return self._cipher.encrypt(state_code, EVIDENCE_FIELD, text)

    def reveal(self, token: str) -> str:
        return self._cipher.decrypt(EVIDENCE_FIELD, token)
