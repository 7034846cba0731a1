"""Token signing keys: which one signs, which ones verifiers must still know.

The newest key signs. An older key stopped signing when its successor was created; tokens it signed
live at most a token TTL longer, so it stays published for a grace period (TTL + a margin) and then
drops out. Deriving everything from creation times keeps concurrent rotations on several replicas
harmless: the newest key simply wins.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec

from mrc_kernel import claims

COORDINATE_BYTES = 32  # P-256


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _public_members(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(COORDINATE_BYTES, "big")),
        "y": _b64url(numbers.y.to_bytes(COORDINATE_BYTES, "big")),
    }


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The RFC 7638 JWK thumbprint: the same key always gets the same id, on every replica."""
    canonical = json.dumps(_public_members(public_key), sort_keys=True, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True, eq=False)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    created_at: datetime

    @classmethod
    def generate(cls, now: datetime) -> SigningKey:
        private_key = ec.generate_private_key(ec.SECP256R1())
        return cls(kid=key_id(private_key.public_key()), private_key=private_key, created_at=now)

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        return {**_public_members(self.public_key), "kid": self.kid, "use": "sig", "alg": claims.ALGORITHM}


def published_keys(newest_first: Iterable[SigningKey], *, now: datetime, grace: timedelta) -> list[SigningKey]:
    """The signing key, then each older key whose successor began signing less than `grace` ago."""
    published: list[SigningKey] = []
    for key in newest_first:
        if published and published[-1].created_at + grace <= now:
            break  # its successor retired it long enough ago; every older key is older still
        published.append(key)
    return published
