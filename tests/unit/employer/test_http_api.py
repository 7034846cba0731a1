from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrc_employer.entrypoints.http_api import employers_router
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from tests.support.auth import bearer, http_auth, role_tokens

from .fakes import make_service


@pytest.fixture
def client() -> TestClient:
    service, _, _ = make_service()
    app = create_http_app(service="employer", title="MRC Employer (test)")
    app.include_router(employers_router(service, http_auth(role_tokens())))
    return TestClient(app)


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "legal_name": "Shree Ganesh Bricks Pvt Ltd",
        "kind": "principal_employer",
        "sector": "brick_kiln",
        "location": {"state_code": "10", "district_code": "188", "village_name": "Kusiyargaon"},
        "registration_number": "10AABCS1429B1Z5",
    }
    values.update(overrides)
    return values


AUTH = bearer("operator")
HEADERS = {"Idempotency-Key": "key-1", **AUTH}


def fields_of(response: Any) -> list[str]:
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    return [e["field"] for e in response.json()["errors"]]


def test_registering_returns_201_with_location_and_the_employer(client: TestClient) -> None:
    response = client.post("/v1/employers", json=body(), headers=HEADERS)

    assert response.status_code == 201
    created = response.json()
    assert response.headers["Location"] == f"/v1/employers/{created['employer_id']}"
    assert "Idempotent-Replayed" not in response.headers
    assert created["kind"] == "principal_employer"
    assert created["sector"] == "brick_kiln"
    assert created["location"]["village_name"] == "Kusiyargaon"

    fetched = client.get(response.headers["Location"], headers=bearer("caseworker"))
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_optional_fields_may_be_left_out(client: TestClient) -> None:
    minimal = body()
    del minimal["registration_number"]

    response = client.post("/v1/employers", json=minimal, headers=AUTH)

    assert response.status_code == 201
    assert response.json()["registration_number"] == ""


def test_a_replay_returns_the_first_employer(client: TestClient) -> None:
    first = client.post("/v1/employers", json=body(), headers=HEADERS)
    replay = client.post("/v1/employers", json=body(), headers=HEADERS)

    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()


def test_a_reused_key_with_another_body_is_a_problem(client: TestClient) -> None:
    client.post("/v1/employers", json=body(), headers=HEADERS)
    response = client.post("/v1/employers", json=body(kind="contractor"), headers=HEADERS)

    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"legal_name": ""}, "legal_name"),
        ({"legal_name": "x" * 301}, "legal_name"),
        ({"kind": "sweatshop"}, "kind"),
        ({"sector": "software"}, "sector"),
        ({"registration_number": "GST 123"}, "registration_number"),
        ({"registration_number": "X" * 65}, "registration_number"),
        ({"location": {"state_code": "99", "district_code": "188"}}, "location.state_code"),
        ({"location": {"state_code": "10", "district_code": "ab"}}, "location.district_code"),
        ({"gstin": "x"}, "gstin"),
    ],
)
def test_invalid_bodies_are_422_problems_naming_the_field(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/employers", json=body(**changes), headers=HEADERS)

    assert response.status_code == 422
    assert response.json()["status"] == 422
    assert field in fields_of(response)


def test_a_missing_field_is_named(client: TestClient) -> None:
    incomplete = body()
    del incomplete["kind"]

    response = client.post("/v1/employers", json=incomplete, headers=AUTH)

    assert response.status_code == 422
    assert fields_of(response) == ["kind"]


def test_an_unknown_employer_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/v1/employers/does-not-exist", headers=bearer("caseworker"))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["type"].endswith("/not-found")
