"""TokenVerifier against a real JWKS endpoint served from this process: every way a token can be wrong."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from mrc_kernel import claims
from mrc_kernel.errors import Unauthenticated
from mrc_kernel.roles import Role, Scope
from mrc_plumbing.auth.verifier import TokenVerifier

KEY = ec.generate_private_key(ec.SECP256R1())
KID = "test-key-1"


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(ECAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "ES256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def token(**overrides: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": claims.ISSUER,
        "sub": "client-1",
        "aud": list(claims.SERVICE_AUDIENCES),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        claims.PARTNER: "cso-1",
        claims.PARTNER_KIND: "cso",
        claims.ROLES: ["caseworker"],
        claims.SCOPE: "workers:read grievances:read",
        claims.STATES: ["10"],
    }
    payload.update(overrides)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, KEY, algorithm="ES256", headers={"kid": KID})


def verifier(url: str) -> TokenVerifier:
    return TokenVerifier(url, "mrc-registry", leeway_seconds=5)


def test_a_good_token_gives_the_caller(jwks_url: str) -> None:
    caller = verifier(jwks_url).verify(token())
    assert caller.client_id == "client-1"
    assert caller.partner_id == "cso-1"
    assert caller.roles == {Role.CASEWORKER}
    assert caller.scopes == {Scope.WORKERS_READ, Scope.GRIEVANCES_READ}
    assert caller.states == {"10"}


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        ("expired", {"exp": int(time.time()) - 60}),
        ("not yet valid", {"nbf": int(time.time()) + 600}),
        ("wrong audience", {"aud": ["somewhere-else"]}),
        ("wrong issuer", {"iss": "someone-else"}),
        ("no expiry", {"exp": None}),
        ("no token id", {"jti": None}),
        ("unknown role", {claims.ROLES: ["superuser"]}),
    ],
)
def test_bad_claims_are_refused(jwks_url: str, case: str, overrides: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated):
        verifier(jwks_url).verify(token(**overrides))


def test_tampering_and_foreign_keys_are_refused(jwks_url: str) -> None:
    header, _, signature = token().split(".")
    forged_payload = jwt.utils.base64url_encode(json.dumps({"sub": "admin", "scope": "audit:read"}).encode()).decode()
    with pytest.raises(Unauthenticated):
        verifier(jwks_url).verify(f"{header}.{forged_payload}.{signature}")
    other_key = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(jwt.decode(token(), options={"verify_signature": False}), other_key, "ES256", {"kid": KID})
    with pytest.raises(Unauthenticated):
        verifier(jwks_url).verify(forged)
    with pytest.raises(Unauthenticated):
        verifier(jwks_url).verify(jwt.encode({"sub": "x"}, key="", algorithm="none"))
    with pytest.raises(Unauthenticated):
        verifier(jwks_url).verify("")


def test_tokens_issued_before_a_revocation_are_refused(jwks_url: str) -> None:
    v = verifier(jwks_url)
    issued = token(iat=int(time.time()) - 10)
    v.revoked.revoke("client-1", time.time())
    with pytest.raises(Unauthenticated):
        v.verify(issued)


def test_unknown_scopes_from_a_newer_issuer_are_ignored(jwks_url: str) -> None:
    caller = verifier(jwks_url).verify(token(**{claims.SCOPE: "workers:read time-travel:write"}))
    assert caller.scopes == {Scope.WORKERS_READ}
