"""No duplicate effect from a retried request: fingerprints of requests, keys scoped per partner, and ids
derived from idempotency keys that nobody without the platform's key can compute.

A retry (same partner, same Idempotency-Key) must map to the same record id, so a create that crashed
after its write is found again instead of done twice. The id is an HMAC of the key under a secret from
configuration: a partner who knows another partner's idempotency keys still cannot name its records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any


def _canonical(value: Any) -> Any:
    """Sets become sorted lists: their iteration order changes between processes (hash randomisation),
    and a retry after a restart must produce the same fingerprint."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def request_fingerprint(payload: Mapping[str, Any]) -> str:
    canonical = json.dumps(_canonical(payload), sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def scoped_key(scope: str, key: str) -> str:
    """Keys are unique per caller (partner), not globally: two partners may both send key '1'."""
    return f"{scope}:{key}"


class IdDeriver:
    """Record ids derived from idempotency keys with a keyed HMAC (an RFC 9562 version-8 UUID).

    The same secret must be configured on every replica of a service (and kept across restarts), or a
    retry would get another id.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the id derivation secret must be at least 16 bytes")
        self._secret = secret

    def derive(self, kind: str, key: str) -> str:
        digest = bytearray(hmac.new(self._secret, f"{kind}\x00{key}".encode(), hashlib.sha256).digest()[:16])
        digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: custom
        digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
        return str(uuid.UUID(bytes=bytes(digest)))
