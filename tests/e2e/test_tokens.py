"""Tokens that must be refused by every service: tampered, badly signed, for another audience,
from a revoked client (a replay after revocation), expired, or not a token at all."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.access import AccessClient, Actor

pytestmark = pytest.mark.e2e

READS = {
    "registry": "/v1/workers/00000000-0000-4000-8000-000000000000",
    "entitlements": "/v1/eligibility/00000000-0000-4000-8000-000000000000",
    "grievance": "/v1/grievances/00000000-0000-4000-8000-000000000000",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _refused(http: dict[str, httpx.Client], token: str) -> None:
    for service, path in READS.items():
        response = http[service].get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (service, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_valid_token_is_accepted(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    for service, path in READS.items():
        assert http[service].get(path, headers=actors["caseworker"].headers()).status_code == 404


def test_tampered_claims_are_refused(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    header, _, signature = actors["public"].token.split(".")
    claims = _claims(actors["public"].token)
    claims["scope"] = "workers:read grievances:read eligibility:read"  # try to grant oneself more
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    _refused(http, forged)


def test_a_token_signed_with_another_key_is_refused(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    real = actors["caseworker"].token
    kid = jwt.get_unverified_header(real)["kid"]
    forged = jwt.encode(_claims(real), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid})
    _refused(http, forged)
    unsigned = jwt.encode(_claims(real), key="", algorithm="none")
    _refused(http, unsigned)


def test_a_token_for_another_audience_is_refused(
    http: dict[str, httpx.Client], access: AccessClient, actors: dict[str, Actor]
) -> None:
    caseworker = actors["caseworker"]
    registry_only = access.token(caseworker.client_id, caseworker.client_secret, audience="mrc-registry")
    path = READS["registry"]
    assert http["registry"].get(path, headers={"Authorization": f"Bearer {registry_only}"}).status_code == 404
    for service in ("entitlements", "grievance"):
        response = http[service].get(READS[service], headers={"Authorization": f"Bearer {registry_only}"})
        assert response.status_code == 401


def test_tokens_of_a_revoked_client_stop_working_everywhere(
    http: dict[str, httpx.Client], access: AccessClient, actors: dict[str, Actor]
) -> None:
    victim = access.actor("caseworker", actors["caseworker"].partner_id, states=["10"])
    for service, path in READS.items():
        assert http[service].get(path, headers=victim.headers()).status_code == 404
    access.revoke(victim.client_id)
    # The services learn of the revocation by event; a replayed token is refused within seconds.
    deadline = time.monotonic() + 30
    while True:
        codes = {s: http[s].get(p, headers=victim.headers()).status_code for s, p in READS.items()}
        if set(codes.values()) == {401}:
            break
        assert time.monotonic() < deadline, codes
        time.sleep(0.5)
    with pytest.raises(httpx.HTTPStatusError):
        access.token(victim.client_id, victim.client_secret)


def test_garbage_and_expired_tokens_are_refused(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    _refused(http, "not-a-token")
    claims = _claims(actors["caseworker"].token)
    claims["exp"] = int(time.time()) - 3600  # (its signature is also wrong: expiry alone is covered in unit tests)
    _refused(http, jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"))
