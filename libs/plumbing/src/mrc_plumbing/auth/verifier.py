"""Verifies access tokens locally, against the issuer's published keys (JWKS)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import jwt
from jwt import PyJWKClient

from mrc_kernel import claims
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Unauthenticated
from mrc_kernel.roles import Role, Scope

log = logging.getLogger(__name__)

REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]


class RevokedClients:
    """Clients revoked by operators, with when; tokens they were issued before that moment are refused."""

    def __init__(self) -> None:
        self._revoked_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def revoke(self, client_id: str, at: float) -> None:
        with self._lock:
            self._revoked_at[client_id] = at

    def revoked_since(self, client_id: str) -> float | None:
        with self._lock:
            return self._revoked_at.get(client_id)


class TokenVerifier:
    def __init__(
        self,
        jwks_url: str,
        audience: str,
        *,
        issuer: str = claims.ISSUER,
        leeway_seconds: int = 30,
        revoked: RevokedClients | None = None,
    ) -> None:
        # Keys are cached; an unknown key id (after a rotation) makes the client fetch the set again.
        self._jwks = PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._audience = audience
        self._issuer = issuer
        self._leeway = leeway_seconds
        self.revoked = revoked or RevokedClients()

    def verify(self, token: str) -> Caller:
        if not token:
            raise Unauthenticated("a bearer token is required")
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
            payload: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=[claims.ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("cannot fetch signing keys", extra={"error": str(exc)})
            raise Unauthenticated("the token cannot be verified now") from exc
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        revoked_at = self.revoked.revoked_since(payload["sub"])
        if revoked_at is not None and payload["iat"] <= revoked_at:
            raise Unauthenticated("invalid token: the client was revoked")
        return caller_from_claims(payload)


def caller_from_claims(payload: dict[str, Any]) -> Caller:
    try:
        roles = frozenset(Role(r) for r in payload.get(claims.ROLES, []))
        scopes = frozenset(
            Scope(s) for s in str(payload.get(claims.SCOPE, "")).split() if s in Scope._value2member_map_
        )
    except ValueError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    return Caller(
        client_id=str(payload["sub"]),
        partner_id=str(payload.get(claims.PARTNER, "")),
        partner_kind=str(payload.get(claims.PARTNER_KIND, "")),
        roles=roles,
        scopes=scopes,
        states=frozenset(payload.get(claims.STATES) or ()),
        districts=frozenset(payload.get(claims.DISTRICTS) or ()),
        employer_id=str(payload.get(claims.EMPLOYER, "")),
        token_id=str(payload["jti"]),
    )
