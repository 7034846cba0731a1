from fastapi.testclient import TestClient

from mrc_plumbing.http_app import create_http_app
from mrc_registry.entrypoints.http_api import workers_router
from mrc_registry.service_layer.registration import RegistrationService
from tests.unit.registry.fakes import CountingNotifier, FakeWorkerRepository

BODY = {
    "full_name": "Lakshmi",
    "gender": "female",
    "birth_year": 1988,
    "home": {"state_code": "10", "district_code": "212", "village_name": "Danapur"},
    "occupation": "brick kiln",
}


def client() -> tuple[TestClient, FakeWorkerRepository]:
    repo = FakeWorkerRepository()
    app = create_http_app(service="registry", title="t")
    app.include_router(workers_router(RegistrationService(repo, CountingNotifier())))
    return TestClient(app), repo


def test_register_then_read() -> None:
    http, _ = client()
    created = http.post("/v1/workers", json=BODY, headers={"X-Partner-Id": "cso-1"})
    assert created.status_code == 201
    worker = created.json()
    assert created.headers["location"] == f"/v1/workers/{worker['worker_id']}"
    assert worker["registering_partner_id"] == "cso-1"
    assert http.get(f"/v1/workers/{worker['worker_id']}").json() == worker


def test_idempotent_replay_is_marked() -> None:
    http, repo = client()
    headers = {"Idempotency-Key": "k-9"}
    first = http.post("/v1/workers", json=BODY, headers=headers)
    again = http.post("/v1/workers", json=BODY, headers=headers)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(repo.workers) == 1
    changed = http.post("/v1/workers", json={**BODY, "full_name": "Other"}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["type"].endswith("/idempotency-key-reused")


def test_bad_input_names_the_field_and_stores_nothing() -> None:
    http, repo = client()
    cases = {
        "home.district_code": {**BODY, "home": {"state_code": "10", "district_code": "1"}},
        "birth_year": {**BODY, "birth_year": "nineteen"},
        "gender": {**BODY, "gender": "robot"},
        "nickname": {**BODY, "nickname": "x"},
        "full_name": {**BODY, "full_name": ""},
    }
    for field, body in cases.items():
        response = http.post("/v1/workers", json=body)
        assert response.status_code == 422, field
        assert response.headers["content-type"] == "application/problem+json"
        assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    assert repo.workers == {} and repo.outbox == []


def test_unknown_worker_is_a_404_problem() -> None:
    http, _ = client()
    response = http.get("/v1/workers/nope")
    assert response.status_code == 404
    assert response.json()["status"] == 404
