"""The access token: a JWT (RFC 9068 profile) signed ES256, with the claims `mrc_kernel.claims` defines."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import jwt

from mrc_access.domain.client import Client
from mrc_access.domain.partner import Partner, PartnerKind
from mrc_access.domain.signing_key import SigningKey
from mrc_kernel import claims
from mrc_kernel.roles import Scope

# RFC 9068 §2.1: a distinct type, so an ID token or another JWT cannot pass for an access token.
TOKEN_TYPE_HEADER = "at+jwt"  # noqa: S105 - a media type, not a secret


def scope_string(scopes: Collection[Scope]) -> str:
    return " ".join(sorted(s.value for s in scopes))


def access_token_claims(
    *,
    client: Client,
    partner: Partner,
    audiences: Collection[str],
    scopes: Collection[Scope],
    issued_at: datetime,
    ttl_seconds: int,
    token_id: str,
) -> dict[str, Any]:
    issued = int(issued_at.timestamp())
    token: dict[str, Any] = {
        "iss": claims.ISSUER,
        "sub": client.client_id,
        "aud": list(audiences),
        "iat": issued,
        "nbf": issued,
        "exp": int((issued_at + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": token_id,
        claims.PARTNER: partner.partner_id,
        claims.PARTNER_KIND: partner.kind.value,
        claims.ROLES: [role.value for role in client.roles],
        claims.SCOPE: scope_string(scopes),
        claims.STATES: list(client.geography.state_codes),
        claims.DISTRICTS: list(client.geography.district_codes),
    }
    if partner.kind is PartnerKind.EMPLOYER:
        token[claims.EMPLOYER] = partner.employer_id
    return token


def sign(token_claims: dict[str, Any], key: SigningKey) -> str:
    return jwt.encode(
        token_claims,
        key.private_key,
        algorithm=claims.ALGORITHM,
        headers={"kid": key.kid, "typ": TOKEN_TYPE_HEADER},
    )
