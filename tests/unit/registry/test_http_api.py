"""The REST API over the real use cases with in-memory stores: status codes, headers and problem documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from mrc_kernel.policy import Purpose
from mrc_kernel.roles import Role
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from mrc_registry.domain.worker_access import EVERY_FIELD, FIELDS_BY_PURPOSE
from mrc_registry.entrypoints.http_api import workers_router
from tests.support.auth import StaticVerifier, bearer, caller_for

from .fakes import AADHAAR, BAD_AADHAAR, CASEWORKER_B, REGISTRAR_B, SUPERVISOR_B, Registry, make_registry

TOKENS = {role.value: caller_for(role) for role in Role} | {
    "registrar-b": REGISTRAR_B,
    "caseworker-b": CASEWORKER_B,
    "supervisor-b": SUPERVISOR_B,
}
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
    app.include_router(workers_router(registry.workers, registry.reviews, registry.erasures, auth))
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
        k: v for k, v in created.items() if k not in ("linked_to_existing", "possible_duplicates", "link_request")
    }
    assert created["link_request"] is None
    assert created["visible_fields"] == sorted(EVERY_FIELD)


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


def test_registering_a_person_the_partner_already_registered_links_them_with_200(api: Api) -> None:
    existing = api.registered_id()

    linked = api.register({"Idempotency-Key": "again", **REGISTRAR}, full_name="R. Kumar", phone="")

    assert linked.status_code == 200
    assert linked.json()["worker_id"] == existing
    assert linked.json()["linked_to_existing"] is True
    assert linked.json()["full_name"] == "Ravi Kumar"  # the record as stored, not the new details


def test_registering_another_partners_worker_is_201_with_a_link_request_and_none_of_their_data(api: Api) -> None:
    existing = api.registered_id(vulnerabilities=["bonded_labour_risk"])

    response = api.register(
        bearer("registrar-b"), full_name="R. Kumar", phone="9123456789", gender="female", father_or_spouse_name=""
    )

    assert response.status_code == 201
    body = response.json()
    assert body["worker_id"] != existing
    assert body["linked_to_existing"] is False
    assert body["registering_partner_id"] == REGISTRAR_B.partner_id
    assert (body["full_name"], body["gender"], body["phone"]) == ("R. Kumar", "female", "+919123456789")
    assert body["vulnerabilities"] == [] and body["possible_duplicates"] == []
    assert set(body["link_request"]) == {"review_id", "can_send_code"}
    assert body["link_request"]["can_send_code"] is True
    for leaked in (existing, "Ravi", "Shyam", "43210", "bonded_labour_risk"):
        assert leaked not in response.text
    assert api.get(existing, bearer("caseworker-b")).status_code == 404


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
    sharing = {"X-Purpose": "sharing", **bearer("caseworker-b")}
    shared = api.get(worker_id, sharing)
    assert shared.status_code == 200
    assert shared.json()["phone"] == "" and shared.json()["identity_documents"] == []
    assert shared.json()["visible_fields"] == sorted(FIELDS_BY_PURPOSE[Purpose.SHARING])
    assert shared.json()["consents"][0]["witness_name"] == ""
    assert api.get(worker_id, bearer("caseworker-b")).status_code == 404  # not for its own case management

    revoked = api.http.post(f"/v1/workers/{worker_id}/consents/{consent['consent_id']}:revoke", headers=REGISTRAR)

    assert revoked.status_code == 200
    assert revoked.json()["consents"][-1]["revoked_at"] is not None
    assert api.get(worker_id, sharing).status_code == 404
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
    assert resolved.json()["evidence"] == "supervisor_approval"
    assert api.get(second, SUPERVISOR).status_code == 404  # merged into the first
    assert api.get(first, SUPERVISOR).status_code == 200
    assert api.http.get("/v1/match-reviews", headers=SUPERVISOR).json() == []
    again = api.http.post(
        f"/v1/match-reviews/{review['review_id']}:resolve", json={"decision": "keep_apart"}, headers=SUPERVISOR
    )
    assert again.status_code == 409


def test_match_review_requests_are_validated(api: Api) -> None:
    bad_page = api.http.get("/v1/match-reviews", params={"page_size": 0}, headers=SUPERVISOR)
    bad_decision = api.http.post("/v1/match-reviews/r-1:resolve", json={"decision": "maybe"}, headers=SUPERVISOR)
    unknown = api.http.post("/v1/match-reviews/r-1:resolve", json={"decision": "keep_apart"}, headers=SUPERVISOR)
    api.registered_id(identity_documents=[])
    api.registered_id(full_name="Ravi Kumaar", phone="", father_or_spouse_name="", identity_documents=[])
    [review] = api.http.get("/v1/match-reviews", headers=SUPERVISOR).json()
    caseworker = api.http.post(
        f"/v1/match-reviews/{review['review_id']}:resolve", json={"decision": "keep_apart"}, headers=CASEWORKER
    )
    listing = api.http.get("/v1/match-reviews", headers=CASEWORKER)

    assert bad_page.status_code == 422
    assert problem_fields(bad_page) == ["page_size"]
    assert bad_decision.status_code == 422
    assert problem_fields(bad_decision) == ["decision"]
    assert unknown.status_code == 404
    assert "r-1" not in unknown.json()["detail"]
    assert caseworker.status_code == 403
    assert listing.status_code == 403


# -- link requests and erasure requests ----------------------------------------------------------


def test_a_link_request_is_confirmed_with_the_code_sent_to_the_phone_on_record(api: Api) -> None:
    existing = api.registered_id(vulnerabilities=["bonded_labour_risk"])
    registrar_b = bearer("registrar-b")
    link = api.register(registrar_b, full_name="R. Kumar", phone="").json()["link_request"]
    review_url = f"/v1/match-reviews/{link['review_id']}"

    review = api.http.get(review_url, headers=registrar_b)
    sent = api.http.post(f"{review_url}:send-code", headers=registrar_b)
    wrong = api.http.post(f"{review_url}:confirm-code", json={"code": "000000"}, headers=registrar_b)
    assert api.get(existing, bearer("caseworker-b")).status_code == 404
    code = api.registry.messages.last_code(link["review_id"])
    confirmed = api.http.post(f"{review_url}:confirm-code", json={"code": code}, headers=registrar_b)

    assert review.status_code == 200
    assert (review.json()["side"], review.json()["candidate_id"]) == ("requester", "")
    assert sent.status_code == 202 and sent.json()["code_sent"] is True
    assert code not in sent.text
    assert wrong.status_code == 422 and problem_fields(wrong) == ["code"]
    assert confirmed.status_code == 200
    assert (confirmed.json()["status"], confirmed.json()["evidence"]) == ("merged", "one_time_code")
    seen = api.get(existing, bearer("caseworker-b"))
    assert seen.status_code == 200
    assert seen.json()["vulnerabilities"] == [] and "vulnerabilities" not in seen.json()["visible_fields"]
    assert seen.json()["full_name"] == "Ravi Kumar"


def test_another_partner_erases_only_through_a_request_confirmed_with_a_code(api: Api) -> None:
    worker_id = api.registered_id()
    sharing = {
        "purposes": ["registration", "partner_sharing"],
        "method": "signature",
        "shared_with_partner_ids": [REGISTRAR_B.partner_id],
    }
    api.http.post(f"/v1/workers/{worker_id}/consents", json=sharing, headers=REGISTRAR)
    supervisor_b = bearer("supervisor-b")

    at_once = api.http.post(f"/v1/workers/{worker_id}:erase", json={"reason": "asked"}, headers=supervisor_b)
    requested = api.http.post(
        f"/v1/workers/{worker_id}/erasure-requests", json={"reason": "asked at our office"}, headers=supervisor_b
    )
    request_id = requested.json()["request_id"]
    other = api.http.post(f"/v1/erasure-requests/{request_id}:confirm", json={"code": "135790"}, headers=REGISTRAR)
    confirmed = api.http.post(
        f"/v1/erasure-requests/{request_id}:confirm",
        json={"code": api.registry.messages.last_code(request_id)},
        headers=supervisor_b,
    )

    assert at_once.status_code == 403
    assert requested.status_code == 202
    assert (requested.json()["worker_id"], requested.json()["status"]) == (worker_id, "pending")
    assert other.status_code == 404  # the request is partner B's
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed"
    assert api.get(worker_id, CASEWORKER).status_code == 404
    assert "evidence:one_time_code" in api.registry.audit.events[-1].fields
