"""Entitlements end to end: registry events through real Kafka to explained determinations, migrations, rule
versions with re-evaluation jobs, redelivery without duplicates, applications, and the access policy."""

from __future__ import annotations

import grpc
import httpx
import pytest
from kafka import KafkaProducer

from mrc.entitlements.v1 import entitlements_service_pb2 as ent_pb
from mrc.entitlements.v1 import entitlements_service_pb2_grpc as ent_grpc
from mrc.entitlements.v1 import events_pb2 as ent_events
from mrc_devstack.stack import Stack
from tests.e2e.payloads import new_key, worker_body
from tests.support.access import Actor
from tests.support.kafka import read_topic, records_with_subject
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e

WORKERS_TOPIC = "mrc.registry.workers.v1"
ELIGIBILITY_TOPIC = "mrc.entitlements.eligibility.v1"
APPLICATIONS_TOPIC = "mrc.entitlements.applications.v1"
KERALA, ERNAKULAM = "32", "555"


def _register_construction_worker(http: dict[str, httpx.Client], registrar: Actor, **extra: object) -> str:
    body = worker_body(
        "Ramesh Kumar", gender="male", birth_year=1996, sector="construction", occupation="mason", **extra
    )
    created = http["registry"].post(
        "/v1/workers", json=body, headers=registrar.headers(**{"Idempotency-Key": new_key()})
    )
    assert created.status_code == 201, created.text
    return str(created.json()["worker_id"])


def _eligibility(
    http: dict[str, httpx.Client], actor: Actor, worker_id: str, until: object = None
) -> dict[str, object]:
    def probe() -> dict[str, object] | None:
        reply = http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=actor.headers())
        if reply.status_code != 200:
            return None
        body = reply.json()
        return body if until is None or until(body) else None  # type: ignore[operator]

    return eventually(probe, timeout=30.0)


def _scheme(body: dict[str, object], code: str) -> dict[str, object]:
    return next(s for s in body["schemes"] if s["scheme_code"] == code)  # type: ignore[attr-defined, index]


def _conditions(scheme: dict[str, object]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in scheme["conditions"]}  # type: ignore[attr-defined, index]


def test_a_construction_worker_aged_30_gets_explained_determinations(
    running_services: Stack, http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], actors: dict[str, Actor]
) -> None:
    caseworker = actors["caseworker"]
    worker_id = _register_construction_worker(http, actors["registrar"])
    body = _eligibility(http, caseworker, worker_id)
    assert body["status"] == "assessed"
    bocw = _scheme(body, "bocw-welfare-board")
    assert _conditions(bocw) == {
        "aged_18_to_59": "passed",
        "building_or_construction_worker": "passed",
        "ninety_days_in_last_twelve_months": "unknown",
    }
    assert bocw["outcome"] == "undetermined" and bocw["missing_facts"] == ["construction_days_last_12_months"]
    eshram = _scheme(body, "e-shram")
    assert _conditions(eshram)["aged_16_to_59"] == "passed" and eshram["rule_version"] >= 1

    # The determinations went out as events keyed by the worker.
    records = read_topic(
        running_services.kafka_bootstrap,
        ELIGIBILITY_TOPIC,
        until=lambda rs: len(records_with_subject(rs, worker_id)) >= len(body["schemes"]),  # type: ignore[arg-type]
    )
    mine = records_with_subject(records, worker_id)
    assert {r.headers["ce_type"] for r in mine} == {b"mrc.entitlements.v1.EligibilityDetermined"}
    assert all(r.key == worker_id.encode() for r in mine)

    # A caseworker records what the worker declared: the board determination is decided.
    declared = http["entitlements"].post(
        f"/v1/workers/{worker_id}/facts",
        json={"facts": {"construction_days_last_12_months": 150}},
        headers=caseworker.headers(),
    )
    assert declared.status_code == 200, declared.text
    assert _scheme(declared.json(), "bocw-welfare-board")["outcome"] == "eligible"

    # gRPC answers the same.
    reply = ent_grpc.EntitlementsServiceStub(channels["entitlements"]).GetEligibility(
        ent_pb.GetEligibilityRequest(worker_id=worker_id), metadata=caseworker.metadata()
    )
    assert "bocw-welfare-board" in reply.eligibility.eligible_scheme_codes


def test_a_migration_to_another_state_brings_ration_portability(
    http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    registrar = actors["registrar"]
    worker_id = _register_construction_worker(http, registrar)
    household = http["registry"].post(
        "/v1/households",
        json={"members": [{"worker_id": worker_id, "relationship": "head"}], "ration_card_number": "BR-1234-5678"},
        headers=registrar.headers(**{"Idempotency-Key": new_key()}),
    )
    assert household.status_code == 201, household.text
    before = _eligibility(
        http,
        registrar,
        worker_id,
        lambda b: _conditions(_scheme(b, "onorc-ration-portability"))["household_holds_ration_card"] == "passed",
    )
    assert _scheme(before, "onorc-ration-portability")["outcome"] == "not_eligible"
    migration = http["registry"].post(
        f"/v1/workers/{worker_id}/migrations",
        json={
            "origin": {"state_code": "10", "district_code": "212"},
            "destination": {"state_code": KERALA, "district_code": ERNAKULAM},
            "sector": "construction",
            "recruitment_channel": "contractor",
            "start_date": "2026-03-01",
            "status": "ongoing",
        },
        headers=registrar.headers(**{"Idempotency-Key": new_key()}),
    )
    assert migration.status_code == 201, migration.text
    after = _eligibility(
        http, registrar, worker_id, lambda b: _scheme(b, "onorc-ration-portability")["outcome"] != "not_eligible"
    )
    onorc = _scheme(after, "onorc-ration-portability")
    assert _conditions(onorc)["working_away_from_card_state"] == "passed"
    assert onorc["outcome"] == "undetermined" and onorc["missing_facts"] == ["nfsa_ration_card"]


def test_publishing_a_rule_version_re_evaluates_and_the_job_completes(
    http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    operator, caseworker = actors["operator"], actors["caseworker"]
    worker_id = _register_construction_worker(http, actors["registrar"])
    _eligibility(http, caseworker, worker_id)
    drafted = http["entitlements"].post(
        "/v1/schemes/bocw-welfare-board/versions",
        json={
            "note": "end-to-end test: the days condition dropped",
            "conditions": [
                {
                    "name": "aged_18_to_59",
                    "expression": "age >= 18 && age < 60",
                    "description": "Aged 18 to 59",
                    "reads": ["age"],
                },
                {
                    "name": "building_or_construction_worker",
                    "expression": "sector == 'construction'",
                    "description": "Works in building or other construction work",
                    "reads": ["sector"],
                },
            ],
        },
        headers=operator.headers(),
    )
    assert drafted.status_code == 201, drafted.text
    version = drafted.json()["rule_version"]["version"]
    published = http["entitlements"].post(
        f"/v1/schemes/bocw-welfare-board/versions/{version}:publish", headers=operator.headers()
    )
    assert published.status_code == 202, published.text
    job_id = published.json()["job"]["job_id"]

    def completed() -> dict[str, object] | None:
        found = http["entitlements"].get(f"/v1/reevaluations/{job_id}", headers=operator.headers()).json()
        return found if found.get("status") == "completed" else None

    job = eventually(completed, timeout=60.0)
    assert job["processed"] >= 1 and job["progress"] == 1.0
    body = _eligibility(
        http, caseworker, worker_id, lambda b: _scheme(b, "bocw-welfare-board")["rule_version"] == version
    )
    assert _scheme(body, "bocw-welfare-board")["outcome"] == "eligible"


def test_a_redelivered_registration_has_no_duplicate_effect(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    registrar = actors["registrar"]
    worker_id = _register_construction_worker(http, registrar)
    body = _eligibility(http, registrar, worker_id)
    first = read_topic(
        running_services.kafka_bootstrap,
        ELIGIBILITY_TOPIC,
        until=lambda rs: len(records_with_subject(rs, worker_id)) >= len(body["schemes"]),  # type: ignore[arg-type]
    )
    published = len(records_with_subject(first, worker_id))
    [registration] = records_with_subject(
        read_topic(
            running_services.kafka_bootstrap, WORKERS_TOPIC, until=lambda rs: bool(records_with_subject(rs, worker_id))
        ),
        worker_id,
    )
    producer = KafkaProducer(bootstrap_servers=running_services.kafka_bootstrap)
    try:
        producer.send(
            WORKERS_TOPIC, key=registration.key, value=registration.value, headers=list(registration.headers.items())
        )
        producer.flush()
    finally:
        producer.close()
    # A later event of the same worker, after the redelivered one on the same partition, shows it was consumed.
    patched = http["registry"].patch(
        f"/v1/workers/{worker_id}", json={"occupation": "bar bender"}, headers=registrar.headers()
    )
    assert patched.status_code == 200, patched.text
    _eligibility(http, registrar, worker_id, lambda b: b["source_event_id"] != body["source_event_id"])
    again = records_with_subject(
        read_topic(running_services.kafka_bootstrap, ELIGIBILITY_TOPIC, timeout=3.0), worker_id
    )
    # Determined once per scheme: the redelivered registration determined nothing again. (The update may
    # change a determination, e.g. under a rule version published meanwhile: that is EligibilityChanged.)
    determined = [
        ent_events.EligibilityDetermined.FromString(r.value).scheme_code
        for r in again
        if r.headers["ce_type"] == b"mrc.entitlements.v1.EligibilityDetermined"
    ]
    assert sorted(determined) == sorted(set(determined)) and len(determined) == published


def test_applications_and_deliveries(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    caseworker = actors["caseworker"]
    worker_id = _register_construction_worker(http, actors["registrar"])
    _eligibility(http, caseworker, worker_id)
    key = new_key()
    created = http["entitlements"].post(
        "/v1/applications",
        json={"worker_id": worker_id, "scheme_code": "pmsby"},
        headers=caseworker.headers(**{"Idempotency-Key": key}),
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["application_id"]
    retried = http["entitlements"].post(
        "/v1/applications",
        json={"worker_id": worker_id, "scheme_code": "pmsby"},
        headers=caseworker.headers(**{"Idempotency-Key": key}),
    )
    assert retried.status_code == 200 and retried.json()["application_id"] == application_id
    illegal = http["entitlements"].post(
        f"/v1/applications/{application_id}:transition", json={"to_status": "approved"}, headers=caseworker.headers()
    )
    assert illegal.status_code == 409 and "from identified to approved" in illegal.json()["detail"]
    for status in ("applied", "submitted", "approved"):
        moved = http["entitlements"].post(
            f"/v1/applications/{application_id}:transition", json={"to_status": status}, headers=caseworker.headers()
        )
        assert moved.status_code == 200, moved.text
    delivery = {"external_reference": f"PMSBY-{key[:8]}", "kind": "enrolment", "delivered_on": "2026-06-01"}
    for expected in (201, 200):
        recorded = http["entitlements"].post(
            f"/v1/applications/{application_id}/deliveries", json=delivery, headers=caseworker.headers()
        )
        assert recorded.status_code == expected, recorded.text
    assert len(recorded.json()["deliveries"]) == 1


def test_another_partner_without_consent_is_refused_like_a_missing_worker(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], actors: dict[str, Actor]
) -> None:
    worker_id = _register_construction_worker(http, actors["registrar"])
    _eligibility(http, actors["caseworker"], worker_id)
    other = actors["other_registrar"]
    refused = http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=other.headers())
    missing = http["entitlements"].get(f"/v1/eligibility/{new_key()}", headers=other.headers())
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["detail"] == missing.json()["detail"]
    created = http["entitlements"].post(
        "/v1/applications", json={"worker_id": worker_id, "scheme_code": "pmsby"}, headers=other.headers()
    )
    assert created.status_code == 404
    stub = ent_grpc.EntitlementsServiceStub(channels["entitlements"])
    with pytest.raises(grpc.RpcError) as denied:
        stub.GetEligibility(ent_pb.GetEligibilityRequest(worker_id=worker_id), metadata=other.metadata())
    assert denied.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as refusals:
        stub.ListRefusalsOfEligible(
            ent_pb.ListRefusalsOfEligibleRequest(worker_id=worker_id), metadata=other.metadata()
        )
    assert refusals.value.code() == grpc.StatusCode.NOT_FOUND
