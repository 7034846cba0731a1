import base64

import jwt
import pytest

from mrc_kernel import claims
from tests.unit.access.fakes import OPERATOR, OPERATOR_ID, OPERATOR_SECRET, Platform
from tests.unit.access.http_client import basic, http_client

FORM = {"grant_type": "client_credentials"}


def test_client_credentials_with_basic_auth() -> None:
    platform = Platform()
    response = http_client(platform).post("/oauth2/token", data=FORM, headers=basic())
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert platform.verifier.verify(body["access_token"]).client_id == OPERATOR_ID


def test_client_credentials_in_the_form_with_an_audience() -> None:
    form = {**FORM, "client_id": OPERATOR_ID, "client_secret": OPERATOR_SECRET, "audience": "mrc-employer mrc-access"}
    response = http_client(Platform()).post("/oauth2/token", data=form)
    assert response.status_code == 200
    token = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert token["aud"] == ["mrc-employer", "mrc-access"]


def test_basic_credentials_are_form_urlencoded_before_base64() -> None:
    platform = Platform()
    platform.administration.ensure_bootstrap_operator(OPERATOR_ID, "p@ss:word+/=")
    encoded = base64.b64encode(b"mrc-operator:p%40ss%3Aword%2B%2F%3D").decode()
    response = http_client(platform).post("/oauth2/token", data=FORM, headers={"Authorization": f"Basic {encoded}"})
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(secret="wrong"),
        basic(client_id="nobody"),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    ],
)
def test_failed_client_authentication_is_invalid_client_401(headers: dict[str, str]) -> None:
    response = http_client(Platform()).post("/oauth2/token", data=FORM, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"


def test_a_revoked_client_is_invalid_client() -> None:
    platform = Platform()
    platform.administration.revoke_client(OPERATOR_ID, OPERATOR)
    response = http_client(platform).post("/oauth2/token", data=FORM, headers=basic())
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "u", "password": "p"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "c"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({**FORM, "client_secret": OPERATOR_SECRET}, "invalid_request"),  # Basic and form both
        ({**FORM, "client_id": "someone-else"}, "invalid_request"),
        ({**FORM, "audience": "mrc-registry mrc-nowhere"}, "invalid_target"),
        ({**FORM, "scope": "workers:erase"}, "invalid_scope"),
    ],
)
def test_request_errors_follow_rfc_6749(form: dict[str, str], error: str) -> None:
    response = http_client(Platform()).post("/oauth2/token", data=form, headers=basic())
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert "www-authenticate" not in response.headers


def test_only_form_bodies_without_repeated_parameters_are_accepted() -> None:
    http = http_client(Platform())
    as_json = http.post("/oauth2/token", json=FORM, headers=basic())
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    repeated = http.post(
        "/oauth2/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={**basic(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (repeated.status_code, repeated.json()["error"]) == (400, "invalid_request")
    assert http.get("/oauth2/token").status_code == 405


def test_jwks_publishes_the_public_keys_for_a_minute() -> None:
    platform = Platform()
    response = http_client(platform).get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [platform.key_ring.signing_key().kid]
    assert "d" not in keys[0]  # never the private part
    token = platform.operator_token()
    public = jwt.PyJWKSet.from_dict(response.json())[jwt.get_unverified_header(token)["kid"]]
    verified = jwt.decode(
        token,
        public.key,
        algorithms=["ES256"],
        audience="mrc-registry",
        issuer=claims.ISSUER,
        options={"verify_exp": False},  # issued on the fake clock
    )
    assert verified["sub"] == OPERATOR_ID
