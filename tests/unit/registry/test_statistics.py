"""Dashboard counts over REST on the real counting adapter: small cells suppressed, and only the caller's
geography counted (another state's numbers are refused naming `state_code`)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrc_kernel.place import Place
from mrc_kernel.roles import Role
from mrc_kernel.vocabulary import Gender
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from mrc_registry.adapters.mongo_repository import StoredWorkerCounts
from mrc_registry.entrypoints.http_statistics import statistics_router
from mrc_registry.service_layer.statistics import StatisticsService
from tests.support.auth import StaticVerifier, bearer, caller_for, http_auth

from .fakes import REGISTRAR_A, Registry, make_registry, register_command

PATNA = Place("10", "212")
ARARIA = Place("10", "188")
LUCKNOW = Place("9", "162")
# Patna 6, Araria 2 (in Bihar); Lucknow 5 (in Uttar Pradesh).
HOMES = [PATNA] * 6 + [ARARIA] * 2 + [LUCKNOW] * 5
NAMES = [
    "Anil Yadav",
    "Bimla Devi",
    "Chandan Manjhi",
    "Durga Paswan",
    "Ejaz Ansari",
    "Fulmati Kumari",
    "Gopal Mandal",
    "Hira Lal",
    "Indu Bala",
    "Jagdish Ram",
    "Kusum Sharma",
    "Lalit Mahto",
    "Meena Rajak",
]


@pytest.fixture
def registry() -> Registry:
    registry = make_registry()
    for n, home in enumerate(HOMES):
        gender = Gender.FEMALE if n % 2 else Gender.MALE
        command = register_command(f"k-{n}", full_name=NAMES[n], phone=f"91234560{n:02d}", home=home, gender=gender)
        registry.workers.register(command, REGISTRAR_A)
    return registry


@pytest.fixture
def client(registry: Registry) -> TestClient:
    verifier = StaticVerifier(
        {
            "public": caller_for(Role.PUBLIC),
            "registrar": caller_for(Role.REGISTRAR),
            "bihar": caller_for(Role.AUDITOR, partner_id="bihar-audit", states=["10"]),
            "up": caller_for(Role.CASEWORKER, partner_id="up-cso", states=["9"]),
            "patna": caller_for(Role.CASEWORKER, partner_id="patna-cso", states=["10"], districts=["212"]),
        }
    )
    statistics = StatisticsService(StoredWorkerCounts(registry.store), min_cell_size=5)
    app = create_http_app(service="registry", title="t")
    app.include_router(statistics_router(statistics, http_auth(verifier)))
    return TestClient(app)


def counts(client: TestClient, token: str, **params: str) -> Any:
    response = client.get("/v1/statistics/workers", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_small_cells_are_suppressed_for_dashboards(client: TestClient) -> None:
    body = counts(client, "public", group_by="home_district")

    assert body["cells"] == [
        {"key": "162", "count": 5},
        {"key": "188", "count": None},
        {"key": "212", "count": 6},
    ]
    assert body["total"] is None
    assert body["min_cell_size"] == 5


def test_totals_are_exact_when_nothing_is_suppressed(client: TestClient) -> None:
    assert counts(client, "public", group_by="home_state")["total"] == 13


def test_a_partner_counts_only_its_own_geography(client: TestClient) -> None:
    up = counts(client, "up", group_by="home_district")
    bihar = counts(client, "bihar", group_by="home_state")
    patna = counts(client, "patna", group_by="home_district")

    assert up["cells"] == [{"key": "162", "count": 5}]
    assert bihar["cells"] == [{"key": "10", "count": 8}]
    assert patna["cells"] == [{"key": "212", "count": 6}]


def test_another_states_numbers_are_refused_naming_state_code(client: TestClient) -> None:
    response = client.get(
        "/v1/statistics/workers", params={"group_by": "home_district", "state_code": "10"}, headers=bearer("up")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert [e["field"] for e in response.json()["errors"]] == ["state_code"]
    assert counts(client, "up", group_by="home_state", state_code="9")["total"] == 5


def test_aggregates_need_their_scope(client: TestClient) -> None:
    response = client.get("/v1/statistics/workers", params={"group_by": "gender"}, headers=bearer("registrar"))
    assert response.status_code == 403
