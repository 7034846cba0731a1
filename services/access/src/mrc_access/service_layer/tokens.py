"""Issuing access tokens for the OAuth2 client credentials grant (RFC 6749 §4.4)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mrc_access.domain.access_token import access_token_claims, scope_string, sign
from mrc_access.domain.client_secret import client_secret_matches, spend_equal_time
from mrc_access.service_layer.ports import ClientRepository, PartnerRepository
from mrc_access.service_layer.signing_keys import SigningKeyRing
from mrc_kernel import claims
from mrc_kernel.clock import utc_now
from mrc_kernel.roles import Scope, scopes_for

log = logging.getLogger(__name__)


class TokenRequestError(Exception):
    """An RFC 6749 §5.2 error: `error` is the registered code, the description is for humans."""

    error = "invalid_request"
    status = 400

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.error)
        self.description = description


class InvalidTokenRequest(TokenRequestError):
    error = "invalid_request"


class InvalidClient(TokenRequestError):
    error = "invalid_client"
    status = 401


class UnsupportedGrantType(TokenRequestError):
    error = "unsupported_grant_type"


class InvalidScope(TokenRequestError):
    error = "invalid_scope"


class InvalidTarget(TokenRequestError):
    """RFC 8707: the requested audience is not one of ours."""

    error = "invalid_target"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


def requested_audiences(audience: str) -> tuple[str, ...]:
    """Space-separated audiences, each one of the platform's services; none asked for means all."""
    wanted = audience.split()
    if not wanted:
        return claims.SERVICE_AUDIENCES
    unknown = [a for a in wanted if a not in claims.SERVICE_AUDIENCES]
    if unknown:
        raise InvalidTarget(f"unknown audience {unknown[0]!r}; known: {' '.join(claims.SERVICE_AUDIENCES)}")
    return tuple(dict.fromkeys(wanted))


def requested_scopes(scope: str, granted: frozenset[Scope]) -> frozenset[Scope]:
    """A client may ask for fewer scopes than its roles grant (least privilege), never more."""
    wanted = scope.split()
    if not wanted:
        return granted
    allowed = {s.value: s for s in granted}
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise InvalidScope(f"scope {refused[0]!r} is not granted to this client")
    return frozenset(allowed[s] for s in wanted)


class TokenService:
    def __init__(
        self,
        partners: PartnerRepository,
        clients: ClientRepository,
        keys: SigningKeyRing,
        *,
        ttl_seconds: int = claims.DEFAULT_TOKEN_TTL_SECONDS,
        clock: Callable[[], datetime] = utc_now,
        new_token_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._partners = partners
        self._clients = clients
        self._keys = keys
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._new_token_id = new_token_id

    def issue(self, client_id: str, client_secret: str, *, audience: str = "", scope: str = "") -> IssuedToken:
        client = self._clients.get(client_id)
        if client is None:
            spend_equal_time()
            raise InvalidClient("client authentication failed")
        # The same answer for a wrong secret and a revoked client: neither tells an attacker more.
        if not client_secret_matches(client_secret, client.secret_hash) or client.revoked:
            raise InvalidClient("client authentication failed")
        partner = self._partners.get(client.partner_id)
        if partner is None:
            raise InvalidClient("client authentication failed")
        audiences = requested_audiences(audience)
        scopes = requested_scopes(scope, scopes_for(set(client.roles)))
        token_id = self._new_token_id()
        token_claims = access_token_claims(
            client=client,
            partner=partner,
            audiences=audiences,
            scopes=scopes,
            issued_at=self._clock(),
            ttl_seconds=self._ttl_seconds,
            token_id=token_id,
        )
        key = self._keys.signing_key()
        log.info(
            "token issued",
            extra={"client_id": client_id, "partner_id": partner.partner_id, "jti": token_id, "kid": key.kid},
        )
        return IssuedToken(sign(token_claims, key), self._ttl_seconds, scope_string(scopes))
