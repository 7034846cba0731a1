import pytest

from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE
from tests.unit.access.fakes import Platform, access_record
from tests.unit.access.http_client import basic, bearer, http_client

PARTNER = {"name": "Aajeevika Bureau", "kind": "cso", "state_codes": ["10"], "district_codes": ["212"]}


def operator_headers(platform: Platform) -> dict[str, str]:
    return bearer(platform.operator_token())


def test_operator_registers_a_partner_and_reads_it_back() -> None:
    platform = Platform()
    http = http_client(platform)
    created = http.post("/v1/partners", json=PARTNER, headers=operator_headers(platform))
    assert created.status_code == 201, created.json()
    partner = created.json()
    assert created.headers["location"] == f"/v1/partners/{partner['partner_id']}"
    assert partner["kind"] == "cso" and partner["state_codes"] == ["10"] and partner["employer_id"] == ""
    got = http.get(f"/v1/partners/{partner['partner_id']}", headers=operator_headers(platform))
    assert got.json() == partner
    assert http.get("/v1/partners/nope", headers=operator_headers(platform)).status_code == 404


def test_partner_creation_replays_for_the_same_idempotency_key() -> None:
    platform = Platform()
    http = http_client(platform)
    headers = {**operator_headers(platform), "Idempotency-Key": "k-1"}
    first = http.post("/v1/partners", json=PARTNER, headers=headers)
    again = http.post("/v1/partners", json=PARTNER, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    reused = http.post("/v1/partners", json={**PARTNER, "name": "Other"}, headers=headers)
    assert reused.status_code == 422 and reused.json()["type"].endswith("/idempotency-key-reused")


def test_invalid_partner_names_the_fields() -> None:
    platform = Platform()
    body = {**PARTNER, "kind": "employer", "district_codes": ["466"]}
    response = http_client(platform).post("/v1/partners", json=body, headers=operator_headers(platform))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"district_codes", "state_codes", "employer_id"}


def test_a_new_client_gets_its_secret_once_and_can_get_tokens_until_revoked() -> None:
    platform = Platform()
    http = http_client(platform)
    partner_id = http.post("/v1/partners", json=PARTNER, headers=operator_headers(platform)).json()["partner_id"]
    created = http.post(
        f"/v1/partners/{partner_id}/clients",
        json={"roles": ["caseworker"], "display_name": "Patna field app"},
        headers=operator_headers(platform),
    )
    assert created.status_code == 201, created.json()
    assert created.headers["cache-control"] == "no-store"
    client = created.json()
    secret = client.pop("client_secret")
    assert client["roles"] == ["caseworker"] and client["district_codes"] == ["212"] and not client["revoked"]
    shown_again = http.get(f"/v1/clients/{client['client_id']}", headers=operator_headers(platform)).json()
    assert "client_secret" not in shown_again
    token = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, headers=basic(client["client_id"], secret)
    )
    assert token.status_code == 200

    revoked = http.post(f"/v1/clients/{client['client_id']}:revoke", headers=operator_headers(platform))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    refused = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, headers=basic(client["client_id"], secret)
    )
    assert refused.status_code == 401


def test_missing_or_bad_token_is_401_with_a_bearer_challenge() -> None:
    platform = Platform()
    http = http_client(platform)
    missing = http.get("/v1/partners/operators")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert missing.headers["www-authenticate"] == 'Bearer realm="mrc-access"'
    bad = http.get("/v1/partners/operators", headers=bearer("garbage"))
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'Bearer realm="mrc-access", error="invalid_token"'
    token = platform.operator_token()
    assert http.get("/v1/partners/operators", headers=bearer(token)).status_code == 200
    platform.clock.advance(600 + 31)
    expired = http.get("/v1/partners/operators", headers=bearer(token))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_missing_scope_is_403() -> None:
    platform = Platform()
    http = http_client(platform)
    narrowed = platform.operator_token(scope="aggregates:read")
    response = http.post("/v1/partners", json=PARTNER, headers=bearer(narrowed))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert http.get("/v1/audit-records", headers=bearer(narrowed)).status_code == 403
    assert http.get("/v1/audit-records", headers=operator_headers(platform)).status_code == 200


def test_rotation_through_the_api_keeps_both_keys_published() -> None:
    platform = Platform()
    http = http_client(platform)
    old_kid = platform.key_ring.signing_key().kid
    rotated = http.post("/v1/signing-keys:rotate", headers=operator_headers(platform))
    assert rotated.status_code == 201
    new_kid = rotated.json()["kid"]
    assert [k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]] == [new_kid, old_kid]
    assert http.post("/v1/signing-keys:rotate").status_code == 401


def auditor_token(platform: Platform) -> str:
    http = http_client(platform)
    partner = {"name": "State audit cell", "kind": "auditor"}
    partner_id = http.post("/v1/partners", json=partner, headers=operator_headers(platform)).json()["partner_id"]
    issued = http.post(
        f"/v1/partners/{partner_id}/clients", json={"roles": ["auditor"]}, headers=operator_headers(platform)
    ).json()
    return platform.tokens.issue(issued["client_id"], issued["client_secret"]).access_token


def test_auditor_pages_through_a_workers_trail_newest_first() -> None:
    platform = Platform()
    for n in range(7):
        platform.audit_trail.record(access_record(n))
    platform.audit_trail.record(access_record(99, resource_id="w-2"))
    http = http_client(platform)
    headers = bearer(auditor_token(platform))
    seen: list[str] = []
    params = {"resource_type": "worker", "resource_id": "w-1", "page_size": "3"}
    page = http.get("/v1/audit-records", params=params, headers=headers).json()
    while True:
        seen.extend(r["record_id"] for r in page["records"])
        if not page["next_page_token"]:
            break
        page = http.get(
            "/v1/audit-records", params={**params, "page_token": page["next_page_token"]}, headers=headers
        ).json()
    # Newest first; records of the same instant by their event id.
    assert seen == [f"ev-{n:03d}" for n in sorted(range(7), key=lambda n: (-(n // 2), n))]
    first = http.get("/v1/audit-records", params={"partner_id": "cso-1"}, headers=headers).json()["records"][0]
    assert first["actor"] == {"client_id": "c-1", "partner_id": "cso-1", "roles": ["caseworker"]}
    assert (first["action"], first["outcome"]) == ("read", "allowed")


@pytest.mark.parametrize("params", [{"page_token": "not-a-token"}, {"page_size": "-1"}, {"resource_type": "x" * 129}])
def test_bad_audit_queries_are_422(params: dict[str, str]) -> None:
    platform = Platform()
    response = http_client(platform).get("/v1/audit-records", params=params, headers=bearer(auditor_token(platform)))
    assert response.status_code == 422
