"""The REST API over the real use cases with in-memory stores: status codes, headers and problem documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from mrc_kernel.roles import Role
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from mrc_registry.entrypoints.http_api import workers_router
from tests.support.auth import StaticVerifier, bearer, caller_for

from .fakes import AADHAAR, BAD_AADHAAR, CASEWORKER_B, REGISTRAR_B, Registry, make_registry

TOKENS = {role.value: caller_for(role) for role in Role} | {"registrar-b": REGISTRAR_B, "caseworker-b": CASEWORKER_B}
REGISTRAR = bearer("registrar")
CASEWORKER = bearer("caseworker")
SUPERVISOR = bearer("supervisor")


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "full_name": "Ravi Kumar",
        "gender": "male",
        "birth_year": 1990,
        "home": {"state_code": "10", "district_code": "212", "village_name": "Phulwari"},
        "occupation": "mason",
        "sector": "construction",
        "phone": "+91 98765 43210",
        "father_or_spouse_name": "Shyam Kumar",
        "identity_documents": [{"kind": "aadhaar", "number": AADHAAR}],
        "consent": {"purposes": ["registration"], "method": "thumbprint"},
    }
    values.update(overrides)
    return values


@dataclass
class Api:
    http: TestClient
    registry: Registry

    def register(self, headers: dict[str, str] | None = None, **overrides: Any) -> httpx.Response:
        return self.http.post("/v1/workers", json=body(**overrides), headers=headers or REGISTRAR)

    def registered_id(self, **overrides: Any) -> str:
        response = self.register(**overrides)
        assert response.status_code == 201, response.json()
        return str(response.json()["worker_id"])

    def get(self, worker_id: str, headers: dict[str, str] = CASEWORKER) -> httpx.Response:
        return self.http.get(f"/v1/workers/{worker_id}", headers=headers)


@pytest.fixture
def api() -> Api:
    registry = make_registry()
    app = create_http_app(service="registry", title="MRC Registry (test)")
    auth = HttpAuth(StaticVerifier(TOKENS), RateLimiter(0, 0))
    app.include_router(workers_router(registry.workers, registry.reviews, auth))
    return Api(TestClient(app), registry)


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    return [e["field"] for e in response.json()["errors"]]


# -- authentication and scopes -------------------------------------------------------------------


def test_a_request_without_a_valid_token_is_401_with_a_challenge(api: Api) -> None:
    for headers in ({}, bearer("forged"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = api.http.post("/v1/workers", json=body(), headers=headers)

        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.registry.repository.workers == {}


def test_a_token_without_the_scope_is_403(api: Api) -> None:
    worker_id = api.registered_id()

    assert api.register(bearer("auditor")).status_code == 403
    assert api.get(worker_id, bearer("helpline_agent")).status_code == 403
    assert api.http.get("/v1/match-reviews", headers=CASEWORKER).status_code == 403
    erase = api.http.post(f"/v1/workers/{worker_id}:erase", json={"reason": "asked"}, headers=CASEWORKER)
    assert erase.status_code == 403
    assert erase.json()["type"].endswith("/permission-denied")


# -- registration --------------------------------------------------------------------------------


def test_registration_returns_201_with_location_etag_and_the_worker(api: Api) -> None:
    response = api.register()

    assert response.status_code == 201
    created = response.json()
    assert response.headers["Location"] == f"/v1/workers/{created['worker_id']}"
    assert response.headers["ETag"] == '"1"'
    assert "Idempotent-Replayed" not in response.headers
    assert created["full_name"] == "Ravi Kumar"
    assert created["latin_name"] == "ravi kumar"
    assert created["phone"] == "+919876543210"
    assert created["identity_documents"] == [{"kind": "aadhaar", "masked_number": "XXXX XXXX 0124"}]
    assert created["consents"][0]["purposes"] == ["registration"]
    assert created["status"] == "active"
    assert created["linked_to_existing"] is False
    assert created["possible_duplicates"] == []
    assert "enc:" not in response.text and "bi:" not in response.text

    fetched = api.http.get(response.headers["Location"], headers=CASEWORKER)
    assert fetched.status_code == 200
    assert fetched.headers["ETag"] == '"1"'
    assert fetched.json() == {
        k: v for k, v in created.items() if k not in ("linked_to_existing", "possible_duplicates")
    }


def test_a_replay_with_the_same_idempotency_key_is_marked_and_a_changed_body_is_422(api: Api) -> None:
    headers = {"Idempotency-Key": "k-9", **REGISTRAR}

    first = api.register(headers)
    replay = api.register(headers)
    changed = api.register(headers, occupation="painter")

    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert changed.status_code == 422
    assert changed.json()["type"].endswith("/idempotency-key-reused")
    assert len(api.registry.repository.workers) == 1


def test_registering_a_person_another_partner_registered_links_them_with_200(api: Api) -> None:
    existing = api.registered_id()

    linked = api.register(bearer("registrar-b"), full_name="R. Kumar", phone="")

    assert linked.status_code == 200
    assert linked.json()["worker_id"] == existing
    assert linked.json()["linked_to_existing"] is True
    assert api.get(existing, bearer("caseworker-b")).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent": {"purposes": ["entitlement_linkage"], "method": "signature"}}, "consent.purposes"),
        ({"consent": {"purposes": ["registration"], "method": "verbal_with_witness"}}, "consent.witness_name"),
        ({"identity_documents": [{"kind": "aadhaar", "number": BAD_AADHAAR}]}, "identity_documents.0.number"),
        ({"phone": "12345"}, "phone"),
        ({"home": {"state_code": "10", "district_code": "490"}}, "home.district_code"),
        ({"home": {"state_code": "10", "district_code": "Patna"}}, "home.district_code"),
        ({"birth_year": "nineteen"}, "birth_year"),
        ({"gender": "robot"}, "gender"),
        ({"full_name": ""}, "full_name"),
        ({"nickname": "Ravi"}, "nickname"),
        ({"consent": None}, "consent"),
    ],
)
def test_invalid_registrations_are_422_problems_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = api.register(**overrides)

    assert response.status_code == 422
    assert field in problem_fields(response), response.json()
    assert response.json()["type"].endswith("/invalid-argument")
    assert api.registry.repository.workers == {}


# -- reading -------------------------------------------------------------------------------------


def test_another_partners_worker_is_404_like_a_missing_one(api: Api) -> None:
    worker_id = api.registered_id()

    hidden = api.get(worker_id, bearer("caseworker-b"))
    missing = api.get("no-such-worker", bearer("caseworker-b"))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]
    assert hidden.json()["detail"].replace(worker_id, "?") == missing.json()["detail"].replace("no-such-worker", "?")


def test_reads_are_503_when_the_audit_trail_is_down(api: Api) -> None:
    worker_id = api.registered_id()
    api.registry.audit.failing = True

    response = api.get(worker_id)

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert "Ravi" not in response.text


# -- partial update ------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_honours_if_match(api: Api) -> None:
    worker_id = api.registered_id()
    etag = api.get(worker_id).headers["ETag"]

    updated = api.http.patch(
        f"/v1/workers/{worker_id}", json={"occupation": "tiler"}, headers={"If-Match": etag, **CASEWORKER}
    )
    stale = api.http.patch(
        f"/v1/workers/{worker_id}", json={"occupation": "painter"}, headers={"If-Match": etag, **CASEWORKER}
    )

    assert updated.status_code == 200
    assert updated.headers["ETag"] == '"2"'
    assert updated.json()["occupation"] == "tiler"
    assert updated.json()["full_name"] == "Ravi Kumar"
    assert updated.json()["phone"] == "+919876543210"
    assert updated.json()["identity_documents"] == [{"kind": "aadhaar", "masked_number": "XXXX XXXX 0124"}]
    assert stale.status_code == 409
    assert stale.json()["type"].endswith("/conflict")
    weak = api.http.patch(
        f"/v1/workers/{worker_id}", json={"occupation": "painter"}, headers={"If-Match": 'W/"2"', **CASEWORKER}
    )
    assert weak.status_code == 200


def test_patch_with_an_empty_phone_removes_it(api: Api) -> None:
    worker_id = api.registered_id()

    response = api.http.patch(f"/v1/workers/{worker_id}", json={"phone": ""}, headers=CASEWORKER)

    assert response.status_code == 200
    assert response.json()["phone"] == ""
    stored = api.registry.repository.get(worker_id)
    assert stored is not None and stored.details.phone is None


@pytest.mark.parametrize(
    ("patch", "headers", "field"),
    [
        ({"nickname": "Ravi"}, {}, "nickname"),
        ({"worker_id": "other"}, {}, "worker_id"),
        ({"phone": "12"}, {}, "phone"),
        ({"full_name": None}, {}, "full_name"),
        ({"occupation": "tiler"}, {"If-Match": "yesterday"}, "If-Match"),
    ],
)
def test_invalid_patches_are_422_naming_the_field(
    api: Api, patch: dict[str, Any], headers: dict[str, str], field: str
) -> None:
    worker_id = api.registered_id()

    response = api.http.patch(f"/v1/workers/{worker_id}", json=patch, headers={**headers, **CASEWORKER})

    assert response.status_code == 422
    assert field in problem_fields(response)


# -- search --------------------------------------------------------------------------------------


def test_search_by_phone_body_only(api: Api) -> None:
    worker_id = api.registered_id()

    response = api.http.post("/v1/workers:search", json={"phone": "98765 43210"}, headers=CASEWORKER)

    assert response.status_code == 200
    assert [w["worker_id"] for w in response.json()["workers"]] == [worker_id]
    assert response.json()["next_page_token"] == ""
    by_document = api.http.post(
        "/v1/workers:search", json={"identity_document": {"kind": "aadhaar", "number": AADHAAR}}, headers=CASEWORKER
    )
    assert [w["worker_id"] for w in by_document.json()["workers"]] == [worker_id]
    assert (
        api.http.post("/v1/workers:search", json={"phone": "98765 43210"}, headers=bearer("caseworker-b")).json()[
            "workers"
        ]
        == []
    )


@pytest.mark.parametrize(
    ("search", "field"),
    [
        ({}, "query"),
        ({"district_code": "212", "page_token": "not a token"}, "page_token"),
        ({"district_code": "212", "page_size": 0}, "page_size"),
        ({"district_code": "Patna"}, "district_code"),
        ({"aadhaar": AADHAAR}, "aadhaar"),
    ],
)
def test_invalid_searches_are_422_naming_the_field(api: Api, search: dict[str, Any], field: str) -> None:
    response = api.http.post("/v1/workers:search", json=search, headers=CASEWORKER)

    assert response.status_code == 422
    assert field in problem_fields(response)


# -- consent and erasure -------------------------------------------------------------------------


def test_consent_is_granted_and_revoked_through_the_api(api: Api) -> None:
    worker_id = api.registered_id()
    sharing = {"purposes": ["partner_sharing"], "method": "signature", "shared_with_partner_ids": ["partner-b"]}

    granted = api.http.post(
        f"/v1/workers/{worker_id}/consents", json=sharing, headers={"Idempotency-Key": "c-1", **REGISTRAR}
    )

    assert granted.status_code == 201
    consent = granted.json()["consents"][-1]
    assert consent["shared_with_partner_ids"] == ["partner-b"]
    assert api.get(worker_id, bearer("caseworker-b")).status_code == 200

    revoked = api.http.post(f"/v1/workers/{worker_id}/consents/{consent['consent_id']}:revoke", headers=REGISTRAR)

    assert revoked.status_code == 200
    assert revoked.json()["consents"][-1]["revoked_at"] is not None
    assert api.get(worker_id, bearer("caseworker-b")).status_code == 404
    again = api.http.post(f"/v1/workers/{worker_id}/consents/{consent['consent_id']}:revoke", headers=REGISTRAR)
    assert again.status_code == 404


def test_an_invalid_consent_is_422(api: Api) -> None:
    worker_id = api.registered_id()

    response = api.http.post(
        f"/v1/workers/{worker_id}/consents",
        json={"purposes": ["partner_sharing"], "method": "digital"},
        headers=REGISTRAR,
    )

    assert response.status_code == 422
    assert problem_fields(response) == ["consent.shared_with_partner_ids"]


def test_erase_is_204_and_the_worker_is_gone(api: Api) -> None:
    worker_id = api.registered_id()

    missing_reason = api.http.post(f"/v1/workers/{worker_id}:erase", json={}, headers=SUPERVISOR)
    erased = api.http.post(
        f"/v1/workers/{worker_id}:erase", json={"reason": "asked at the helpdesk"}, headers=SUPERVISOR
    )

    assert missing_reason.status_code == 422
    assert problem_fields(missing_reason) == ["reason"]
    assert erased.status_code == 204
    assert erased.content == b""
    assert api.get(worker_id, SUPERVISOR).status_code == 404


# -- match reviews -------------------------------------------------------------------------------


def test_supervisors_list_and_resolve_match_reviews(api: Api) -> None:
    first = api.registered_id(identity_documents=[])
    second = api.registered_id(full_name="Ravi Kumaar", phone="", father_or_spouse_name="", identity_documents=[])

    listed = api.http.get("/v1/match-reviews", headers=SUPERVISOR)

    assert listed.status_code == 200
    [review] = listed.json()
    assert (review["worker_id"], review["candidate_id"], review["status"]) == (second, first, "pending")

    resolved = api.http.post(
        f"/v1/match-reviews/{review['review_id']}:resolve",
        json={"decision": "merge", "surviving_worker_id": first},
        headers=SUPERVISOR,
    )

    assert resolved.status_code == 200
    assert resolved.json()["status"] == "merged"
    merged = api.get(second, SUPERVISOR).json()
    assert (merged["status"], merged["merged_into_worker_id"]) == ("merged", first)
    assert api.http.get("/v1/match-reviews", headers=SUPERVISOR).json() == []
    again = api.http.post(
        f"/v1/match-reviews/{review['review_id']}:resolve", json={"decision": "keep_apart"}, headers=SUPERVISOR
    )
    assert again.status_code == 409


def test_match_review_requests_are_validated(api: Api) -> None:
    bad_page = api.http.get("/v1/match-reviews", params={"page_size": 0}, headers=SUPERVISOR)
    bad_decision = api.http.post("/v1/match-reviews/r-1:resolve", json={"decision": "maybe"}, headers=SUPERVISOR)
    unknown = api.http.post("/v1/match-reviews/r-1:resolve", json={"decision": "keep_apart"}, headers=SUPERVISOR)
    caseworker = api.http.post("/v1/match-reviews/r-1:resolve", json={"decision": "keep_apart"}, headers=CASEWORKER)

    assert bad_page.status_code == 422
    assert problem_fields(bad_page) == ["page_size"]
    assert bad_decision.status_code == 422
    assert problem_fields(bad_decision) == ["decision"]
    assert unknown.status_code == 404
    assert caseworker.status_code == 403
