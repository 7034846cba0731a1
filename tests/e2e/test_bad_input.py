"""Rejected writes store nothing and publish nothing; retried writes have no second effect."""

from __future__ import annotations

import httpx
import pytest

from mrc_devstack.stack import Stack
from tests.e2e.payloads import new_key, worker_body
from tests.support.access import Actor
from tests.support.kafka import read_topic

pytestmark = pytest.mark.e2e

WORKERS_TOPIC = "mrc.registry.workers.v1"

BAD_BODIES = {
    "home.district_code": {**worker_body(), "home": {"state_code": "10", "district_code": "9999"}},
    "birth_year": {**worker_body(), "birth_year": 1700},
    "gender": {**worker_body(), "gender": 3},
    "unexpected": {**worker_body(), "unexpected": "field"},
    "full_name": {**worker_body(), "full_name": "x" * 500},
}


def test_bad_input_is_a_problem_naming_the_field_with_no_event(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    headers = actors["registrar"].headers()
    marker = "Rejected Person"
    for field, body in BAD_BODIES.items():
        body = {**body, "occupation": marker}
        response = http["registry"].post("/v1/workers", json=body, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in {e["field"] for e in response.json()["errors"]}
    oversized = http["registry"].post(
        "/v1/workers", content=b"{" + b" " * 2_000_000 + b"}", headers={**headers, "content-type": "application/json"}
    )
    assert oversized.status_code == 413
    # A valid write afterwards is published; none of the rejected ones ever were.
    ok = http["registry"].post("/v1/workers", json=worker_body("After Rejections"), headers=headers)
    worker_id = ok.json()["worker_id"]
    records = read_topic(
        running_services.kafka_bootstrap,
        WORKERS_TOPIC,
        until=lambda rs: any(r.key == worker_id.encode() for r in rs),
    )
    assert not [r for r in records if marker.encode() in r.value]


def test_retried_request_returns_the_first_result_and_publishes_once(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    key = new_key()
    headers = actors["registrar"].headers(**{"Idempotency-Key": key})
    responses = [http["registry"].post("/v1/workers", json=worker_body(), headers=headers) for _ in range(3)]
    ids = {r.json()["worker_id"] for r in responses}
    assert len(ids) == 1
    assert [r.headers.get("idempotent-replayed") for r in responses] == [None, "true", "true"]
    [worker_id] = ids
    records = read_topic(
        running_services.kafka_bootstrap,
        WORKERS_TOPIC,
        until=lambda rs: any(r.key == worker_id.encode() for r in rs),
    )
    assert len([r for r in records if r.key == worker_id.encode()]) == 1
