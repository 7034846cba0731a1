"""Privacy end to end: nothing sensitive in clear at rest or on Kafka, consent enforced at the point of
use, erasure everywhere, employers kept away from complaints, rate limits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from kafka import KafkaAdminClient

from mrc_devstack.stack import Stack
from tests.e2e.payloads import grievance_body, mobile, new_key, verhoeff_aadhaar, worker_body
from tests.support.access import AccessClient, Actor
from tests.support.kafka import read_topic
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


def _register(http: dict[str, httpx.Client], actor: Actor, **extra: object) -> dict[str, object]:
    response = http["registry"].post(
        "/v1/workers", json=worker_body(**extra), headers=actor.headers(**{"Idempotency-Key": new_key()})
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _eligibility_status(http: dict[str, httpx.Client], actor: Actor, worker_id: object) -> int:
    return http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=actor.headers()).status_code


def test_phone_identity_numbers_and_case_notes_never_rest_in_clear(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    phone, aadhaar, voter_id = mobile(), verhoeff_aadhaar(), "BRX1234567"
    case_note = "Contractor Ramesh kept our Aadhaar cards and threatened us"
    worker = _register(
        http,
        actors["registrar"],
        phone=phone,
        identity_documents=[{"kind": "aadhaar", "number": aadhaar}, {"kind": "voter_id", "number": voter_id}],
        # A grievance names a registry worker only under a grievance follow-up consent.
        purposes=("registration", "entitlement_linkage", "grievance_follow_up"),
    )
    assert worker["phone"] == f"+91{phone}"  # the registering partner sees it
    assert {d["masked_number"] for d in worker["identity_documents"]} == {f"XXXX XXXX {aadhaar[-4:]}", "XXXXXX4567"}
    filed = http["grievance"].post(
        "/v1/grievances",
        json=grievance_body(str(worker["worker_id"]), case_note),
        headers=actors["caseworker"].headers(**{"Idempotency-Key": new_key()}),
    )
    assert filed.status_code == 201, filed.text
    grievance = filed.json()
    read_back = http["grievance"].get(
        f"/v1/grievances/{grievance['grievance_id']}", headers=actors["caseworker"].headers()
    )
    assert read_back.json()["summary"] == case_note

    secrets = [phone.encode(), aadhaar.encode(), voter_id.encode(), b"threatened us"]
    # Every byte the store holds: FerretDB's SQLite files, including write-ahead logs.
    store = Path(running_services.layout.home) / "ferretdb"
    files = [p for p in store.rglob("*") if p.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, f"{secret!r} in clear in {path.name}"
    # Every record on every topic.
    admin = KafkaAdminClient(bootstrap_servers=running_services.kafka_bootstrap)
    try:
        topics = [t for t in admin.list_topics() if not t.startswith("__")]
    finally:
        admin.close()
    for topic in topics:
        for record in read_topic(running_services.kafka_bootstrap, topic, timeout=3):
            # A table changelog's tombstone (faust deletes, e.g. the grievance worker's SLA schedule) has no value.
            raw = (record.value or b"") + b"".join(record.headers.values()) + (record.key or b"")
            for secret in secrets:
                assert secret not in raw, f"{secret!r} in clear on topic {topic}"


def test_another_partner_sees_a_worker_only_under_consent(
    http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    registrar, other = actors["registrar"], actors["other_registrar"]
    worker = _register(http, registrar)
    path = f"/v1/workers/{worker['worker_id']}"
    hidden = http["registry"].get(path, headers=other.headers())
    missing = http["registry"].get("/v1/workers/00000000-0000-4000-8000-000000000000", headers=other.headers())
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]  # no hint that the person exists

    granted = http["registry"].post(
        f"{path}/consents",
        json={"purposes": ["partner_sharing"], "method": "signature", "shared_with_partner_ids": [other.partner_id]},
        headers=registrar.headers(**{"Idempotency-Key": new_key()}),
    )
    assert granted.status_code == 201, granted.text
    consent_id = next(c["consent_id"] for c in granted.json()["consents"] if "partner_sharing" in c["purposes"])
    sharing = other.headers(**{"X-Purpose": "sharing"})
    shared = http["registry"].get(path, headers=sharing)
    assert shared.status_code == 200, shared.text
    # Sharing shows who the worker is and their work, within the purpose the consent names.
    assert shared.json()["full_name"] == worker["full_name"]
    assert shared.json()["phone"] == "" and shared.json()["identity_documents"] == []
    assert "phone" not in shared.json()["visible_fields"]
    assert http["registry"].get(path, headers=other.headers()).status_code == 404  # not for its own purposes

    revoked = http["registry"].post(f"{path}/consents/{consent_id}:revoke", headers=registrar.headers())
    assert revoked.status_code == 200
    assert http["registry"].get(path, headers=sharing).status_code == 404  # at once


def test_revoking_entitlement_consent_reaches_the_entitlements_service(
    http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    registrar = actors["registrar"]
    worker = _register(http, registrar)
    worker_id = worker["worker_id"]
    eventually(
        lambda: http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=registrar.headers()).status_code == 200
    )
    consent_id = worker["consents"][0]["consent_id"]  # type: ignore[index]
    http["registry"].post(f"/v1/workers/{worker_id}/consents/{consent_id}:revoke", headers=registrar.headers())
    eventually(
        lambda: http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=registrar.headers()).status_code == 404
    )


def test_erasure_removes_the_worker_everywhere(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    registrar, supervisor, caseworker = actors["registrar"], actors["supervisor"], actors["caseworker"]
    phone = mobile()
    worker = _register(
        http, registrar, phone=phone, purposes=("registration", "entitlement_linkage", "grievance_follow_up")
    )
    worker_id = str(worker["worker_id"])
    eventually(
        lambda: http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=registrar.headers()).status_code == 200
    )
    grievance = (
        http["grievance"]
        .post(
            "/v1/grievances",
            json=grievance_body(worker_id),
            headers=caseworker.headers(**{"Idempotency-Key": new_key()}),
        )
        .json()
    )

    erased = http["registry"].post(
        f"/v1/workers/{worker_id}:erase", json={"reason": "asked at the Patna helpdesk"}, headers=supervisor.headers()
    )
    assert erased.status_code == 204, erased.text
    assert http["registry"].get(f"/v1/workers/{worker_id}", headers=registrar.headers()).status_code == 404
    found = http["registry"].post("/v1/workers:search", json={"phone": phone}, headers=registrar.headers())
    assert found.json()["workers"] == []
    eventually(
        lambda: http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=registrar.headers()).status_code == 404
    )
    eventually(
        lambda: (
            http["grievance"]
            .get(f"/v1/grievances/{grievance['grievance_id']}", headers=caseworker.headers())
            .json()
            .get("worker_id")
            == ""
        )
    )


def test_an_employer_cannot_reach_any_grievance(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    filed = http["grievance"].post(
        "/v1/grievances",
        json=grievance_body(),
        headers=actors["helpline_agent"].headers(**{"Idempotency-Key": new_key()}),
    )
    assert filed.status_code == 201, filed.text
    grievance_id = filed.json()["grievance_id"]
    employer = actors["employer"].headers()
    assert http["grievance"].get(f"/v1/grievances/{grievance_id}", headers=employer).status_code == 403
    assert http["grievance"].post("/v1/grievances", json=grievance_body(), headers=employer).status_code == 403


def test_rate_limit_answers_429_with_retry_after(
    http: dict[str, httpx.Client], access: AccessClient, actors: dict[str, Actor]
) -> None:
    noisy = access.actor("caseworker", actors["caseworker"].partner_id, states=["10"])
    path = "/v1/workers/00000000-0000-4000-8000-000000000000"

    def call(_: int) -> httpx.Response:
        return http["registry"].get(path, headers=noisy.headers())

    # The test stack allows bursts of 300, then 20 a second (tests/conftest.py): 600 quick calls exceed it.
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(call, range(600)))
    limited = [r for r in responses if r.status_code == 429]
    assert limited, sorted({r.status_code for r in responses})
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].headers["content-type"] == "application/problem+json"
    assert {r.status_code for r in responses} <= {404, 429}


def test_dashboard_counts_suppress_small_cells(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    _register(http, actors["registrar"])
    response = http["registry"].get(
        "/v1/statistics/workers", params={"group_by": "home_district"}, headers=actors["public"].headers()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["min_cell_size"] == 5
    assert all(cell["count"] is None or cell["count"] == 0 or cell["count"] >= 5 for cell in body["cells"])
    assert body["cells"]
    assert (body["total"] is None) == any(cell["count"] is None for cell in body["cells"])
