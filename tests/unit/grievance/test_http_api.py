from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrc_grievance.entrypoints.http_api import grievances_router
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from tests.support.auth import bearer, http_auth, role_tokens

from .fakes import make_service


@pytest.fixture
def client() -> TestClient:
    service, _, _ = make_service()
    app = create_http_app(service="grievance", title="MRC Grievance (test)")
    app.include_router(grievances_router(service, http_auth(role_tokens())))
    return TestClient(app)


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "worker_id": "worker-1",
        "category": "wage_theft",
        "channel": "helpline",
        "summary": "Contractor has not paid wages for six weeks.",
        "location": {"state_code": "10", "district_code": "188", "subdistrict_code": "1116"},
        "employer_id": "employer-7",
    }
    values.update(overrides)
    return values


AUTH = bearer("helpline_agent")
HEADERS = {"Idempotency-Key": "key-1", **AUTH}


def fields_of(response: Any) -> list[str]:
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    return [e["field"] for e in response.json()["errors"]]


def test_filing_returns_201_with_location_and_the_grievance(client: TestClient) -> None:
    response = client.post("/v1/grievances", json=body(), headers=HEADERS)

    assert response.status_code == 201
    created = response.json()
    assert response.headers["Location"] == f"/v1/grievances/{created['grievance_id']}"
    assert "Idempotent-Replayed" not in response.headers
    assert created["status"] == "open"
    assert created["category"] == "wage_theft"
    assert created["channel"] == "helpline"
    assert created["anonymous"] is False
    assert created["location"]["district_code"] == "188"
    assert "filed_by_partner_id" not in created

    fetched = client.get(response.headers["Location"], headers=bearer("caseworker"))
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_an_anonymous_report_needs_no_worker(client: TestClient) -> None:
    response = client.post(
        "/v1/grievances", json=body(worker_id="", anonymous=True, category="trafficking"), headers=AUTH
    )

    assert response.status_code == 201
    assert response.json()["worker_id"] == ""


def test_a_replay_returns_the_first_grievance(client: TestClient) -> None:
    first = client.post("/v1/grievances", json=body(), headers=HEADERS)
    replay = client.post("/v1/grievances", json=body(), headers=HEADERS)

    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()


def test_a_reused_key_with_another_body_is_a_problem(client: TestClient) -> None:
    client.post("/v1/grievances", json=body(), headers=HEADERS)
    response = client.post("/v1/grievances", json=body(summary="Different."), headers=HEADERS)

    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"summary": ""}, "summary"),
        ({"summary": "x" * 4001}, "summary"),
        ({"category": "bogus"}, "category"),
        ({"channel": "unspecified"}, "channel"),
        ({"location": {"state_code": "10", "district_code": "603"}}, "location.district_code"),
        ({"location": {"state_code": "10"}}, "location.district_code"),
        ({"anonymous": True}, "worker_id"),
        ({"worker_id": ""}, "worker_id"),
        ({"nickname": "x"}, "nickname"),
        ({"location": {"state_code": "10", "district_code": "188", "pin": "854311"}}, "location.pin"),
    ],
)
def test_invalid_bodies_are_422_problems_naming_the_field(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/grievances", json=body(**changes), headers=HEADERS)

    assert response.status_code == 422
    assert response.json()["status"] == 422
    assert field in fields_of(response)


def test_a_missing_field_is_named(client: TestClient) -> None:
    incomplete = body()
    del incomplete["summary"]

    response = client.post("/v1/grievances", json=incomplete, headers=AUTH)

    assert response.status_code == 422
    assert fields_of(response) == ["summary"]


def test_an_unknown_grievance_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/v1/grievances/does-not-exist", headers=bearer("caseworker"))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["type"].endswith("/not-found")
