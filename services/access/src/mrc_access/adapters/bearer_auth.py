"""Checks the access service's own bearer tokens for its operator and audit APIs.

We are the issuer, so the public keys come straight from our key ring rather than over JWKS. Other
services use the shared verifier in `mrc_plumbing.auth`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from mrc_kernel import claims
from mrc_kernel.caller import Caller as KernelCaller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import PermissionDenied, Unauthenticated
from mrc_kernel.roles import Role, Scope

AUDIENCE = claims.audience_of("access")
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ("iss", "sub", "aud", "iat", "nbf", "exp", "jti", claims.PARTNER, claims.SCOPE)


class InvalidBearerToken(Unauthenticated):
    """No token, or one we do not accept; HTTP answers with `WWW-Authenticate: Bearer`."""

    def __init__(self, detail: str, *, token_sent: bool = True) -> None:
        super().__init__(detail)
        self.token_sent = token_sent


class InsufficientScope(PermissionDenied):
    def __init__(self, scope: Scope) -> None:
        super().__init__(f"this call needs the {scope.value!r} scope")
        self.scope = scope


@dataclass(frozen=True)
class Caller(KernelCaller):
    """The platform's caller; a missing scope answers with the RFC 6750 `insufficient_scope` challenge."""

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise InsufficientScope(scope)


class BearerTokenVerifier:
    def __init__(
        self,
        public_key: Callable[[str], ec.EllipticCurvePublicKey | None],
        client_is_active: Callable[[str], bool],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._public_key = public_key
        self._client_is_active = client_is_active
        self._clock = clock

    def verify_authorization(self, authorization: str | None) -> Caller:
        """From an `Authorization` header (HTTP) or `authorization` metadata (gRPC) value."""
        if not authorization:
            raise InvalidBearerToken("a bearer token is required", token_sent=False)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidBearerToken("the Authorization header must be 'Bearer <token>'", token_sent=False)
        return self.verify(token.strip())

    def verify(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidBearerToken("the token is not a JWT") from None
        key = self._public_key(str(header.get("kid", "")))
        if key is None or header.get("alg") != claims.ALGORITHM:
            raise InvalidBearerToken("the token is not signed by a current key of this issuer")
        try:
            # Expiry is checked below against our clock (testable); signature, issuer and audience here.
            payload: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[claims.ALGORITHM],
                audience=AUDIENCE,
                issuer=claims.ISSUER,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as error:
            raise InvalidBearerToken(f"invalid token: {error}") from None
        now = self._clock().timestamp()
        try:
            expires, not_before = float(payload["exp"]), float(payload["nbf"])
        except (TypeError, ValueError):
            raise InvalidBearerToken("invalid token: exp and nbf must be numbers") from None
        if now >= expires + LEEWAY_SECONDS:
            raise InvalidBearerToken("the token has expired")
        if now < not_before - LEEWAY_SECONDS:
            raise InvalidBearerToken("the token is not valid yet")
        client_id = str(payload["sub"])
        if not self._client_is_active(client_id):
            raise InvalidBearerToken("the token's client is revoked")
        try:
            roles = frozenset(Role(r) for r in payload.get(claims.ROLES) or ())
        except (TypeError, ValueError):
            raise InvalidBearerToken("invalid token: unknown role") from None
        return Caller(
            client_id=client_id,
            partner_id=str(payload[claims.PARTNER]),
            partner_kind=str(payload.get(claims.PARTNER_KIND, "")),
            roles=roles,
            scopes=frozenset(Scope(s) for s in str(payload[claims.SCOPE]).split() if s in Scope._value2member_map_),
            states=frozenset(str(s) for s in payload.get(claims.STATES) or ()),
            districts=frozenset(str(d) for d in payload.get(claims.DISTRICTS) or ()),
            employer_id=str(payload.get(claims.EMPLOYER, "")),
            token_id=str(payload["jti"]),
        )
