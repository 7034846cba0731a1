"""The employer compliance service end to end: the running API and worker, real Kafka and the store.

Covers the issue's tests: a wage record below the minimum wage raises a shortfall; grievances against an
agency move its score and, after repeats, raise the risk flag exactly once, also when the broker delivers
every event again; an employer reads neither another employer's records nor any grievance detail; a wage
register with bad rows reports them and keeps the good ones; the public verification shows nothing
personal. Grievance events are published here as the grievance service publishes them (its contract,
mrc.grievance.v1, on mrc.grievance.grievances.v1), so their ids can be delivered twice on purpose.
"""

from __future__ import annotations

import csv
import io
import random
import string
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from kafka import KafkaProducer

from mrc.employer.v1 import employer_details_service_pb2 as details_pb
from mrc.employer.v1 import employer_details_service_pb2_grpc as details_grpc
from mrc.employer.v1 import employer_service_pb2 as employer_pb
from mrc.employer.v1 import employer_service_pb2_grpc as employer_grpc
from mrc.employer.v1 import events_pb2 as employer_events
from mrc.grievance.v1 import events_pb2 as grievance_events
from mrc.grievance.v1 import grievance_pb2
from mrc_devstack.stack import Stack
from mrc_employer.domain.identifiers import gstin_check_character
from mrc_kernel.events import Event
from mrc_plumbing.protobuf import timestamp
from tests.e2e.conftest import SENSITIVE_READS, SensitiveRead
from tests.e2e.payloads import grievance_body, new_key
from tests.support.access import AccessClient, Actor
from tests.support.kafka import read_topic, records_with_subject
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e

EMPLOYERS_TOPIC = "mrc.employer.employers.v1"
GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"


def gstin(state: str = "27") -> str:
    """A GSTIN with a valid check character on a random company PAN (not a real registration)."""
    letters = string.ascii_uppercase
    pan = "".join(random.choice(letters) for _ in range(3)) + "C" + random.choice(letters)
    pan += f"{random.randint(1, 9999):04d}" + random.choice(letters)
    first = f"{state}{pan}1Z"
    return first + gstin_check_character(first)


def organisation_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "legal_name": "Kaveri Constructions Pvt Ltd",
        "roles": ["contractor"],
        "sector": "construction",
        "location": {"state_code": "10", "district_code": "188"},
        "identifiers": [{"kind": "gstin", "value": gstin()}],
        "licences": [
            {
                "kind": "osh_contractor",
                "number": f"OSH/BR/2024/{uuid.uuid4().hex[:6].upper()}",
                "issuing_authority": "Labour Commissioner, Bihar",
                "valid_from": "2024-01-01",
                "valid_until": "2030-12-31",
                "issuing_state_code": "10",
            }
        ],
    }
    body.update(overrides)
    return body


SITE = {
    "kind": "construction_site",
    "sector": "construction",
    "location": {"state_code": "10", "district_code": "212"},
    "wage_basis": {"sphere": "central", "scheduled_employment": "construction", "area": "a"},
    "name": "Metro depot block C",
}


def wage_body(site: str, amount: str) -> dict[str, Any]:
    return {
        "worker": {"employer_worker_code": "EMP-0001"},
        "worksite_id": site,
        "period_start": "2024-11-01",
        "period_end": "2024-11-30",
        "days_worked": "26",
        "amount_paid": amount,
        "skill_category": "unskilled",
    }


@pytest.fixture(scope="module")
def own(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> tuple[str, str]:
    """The e2e employer's own organisation (the id in its token) with a worksite: (id, worksite id)."""
    employer = actors["employer"]
    created = http["employer"].post(
        "/v1/employers", json=organisation_body(), headers=employer.headers(**{"Idempotency-Key": "own-record"})
    )
    assert created.status_code in (200, 201), created.text
    site = http["employer"].post(
        f"/v1/employers/{employer.employer_id}/worksites",
        json=SITE,
        headers=employer.headers(**{"Idempotency-Key": "own-site"}),
    )
    assert site.status_code in (200, 201), site.text
    return employer.employer_id, site.json()["worksite_id"]


def compliance(http: dict[str, httpx.Client], employer_id: str, actor: Actor) -> dict[str, Any]:
    response = http["employer"].get(f"/v1/employers/{employer_id}/compliance", headers=actor.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_wage_record_below_the_minimum_wage_raises_a_shortfall_on_kafka_and_moves_the_score(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor], own: tuple[str, str]
) -> None:
    employer_id, site = own
    employer = actors["employer"]
    recorded = http["employer"].post(
        f"/v1/employers/{employer_id}/wage-records",
        json=wage_body(site, "13000"),
        headers=employer.headers(**{"Idempotency-Key": new_key()}),
    )
    assert recorded.status_code == 201, recorded.text
    assessment = recorded.json()["assessment"]
    assert (assessment["outcome"], assessment["due"], assessment["shortfall"]) == (
        "below_minimum",
        "20358.00",
        "7358.00",
    )
    record_id = recorded.json()["record_id"]

    def shortfalls() -> list[employer_events.WageShortfallFound]:
        records = records_with_subject(
            read_topic(running_services.kafka_bootstrap, EMPLOYERS_TOPIC, timeout=5), employer_id
        )
        found = [
            employer_events.WageShortfallFound.FromString(r.value)
            for r in records
            if r.headers["ce_type"] == b"mrc.employer.v1.WageShortfallFound"
        ]
        return [f for f in found if f.record_id == record_id]

    (shortfall,) = eventually(shortfalls, timeout=30)
    assert shortfall.assessment.shortfall_inr == "7358.00"
    assert b"EMP-0001" not in shortfall.SerializeToString()
    # The worker folds the record into the history: the score drops below 100.
    eventually(lambda: float(compliance(http, employer_id, employer)["score"]["value"]) < 100, timeout=30)


def _publish(bootstrap: str, messages: list[tuple[str, object]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for event_id, message in messages:
            event = replace(
                Event.from_message(
                    message, source="/mrc/grievance", subject=message.grievance_id, topic=GRIEVANCES_TOPIC
                ),  # type: ignore[arg-type, attr-defined]
                id=event_id,
            )
            producer.send(GRIEVANCES_TOPIC, key=event.key, value=event.data, headers=event.kafka_headers())
        producer.flush()
    finally:
        producer.close()


def _grievance_events(agency_id: str, grievance_id: str, days_ago: int) -> list[tuple[str, object]]:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    common: dict[str, Any] = {
        "grievance_id": grievance_id,
        "category": grievance_pb2.GRIEVANCE_CATEGORY_RECRUITMENT_FEE,
        "severity": grievance_pb2.SEVERITY_HIGH,
        "employer_id": agency_id,
        "respondent_kind": grievance_pb2.RESPONDENT_KIND_REGISTERED_EMPLOYER,
    }
    return [
        (
            f"{grievance_id}-filed",
            grievance_events.GrievanceFiled(
                **common, status=grievance_pb2.GRIEVANCE_STATUS_NEW, occurred_at=timestamp(when - timedelta(days=5))
            ),
        ),
        (
            f"{grievance_id}-resolved",
            grievance_events.GrievanceResolved(
                **common,
                status=grievance_pb2.GRIEVANCE_STATUS_RESOLVED,
                occurred_at=timestamp(when),
                outcome=grievance_pb2.OUTCOME_WAGES_RECOVERED,
                substantiated=True,
            ),
        ),
    ]


def test_grievances_against_an_agency_move_its_score_and_raise_the_flag_exactly_once(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    operator = actors["operator"]
    agency = http["employer"].post(
        "/v1/employers",
        json=organisation_body(roles=["recruitment_agency"], legal_name="Sunrise Manpower Services Pvt Ltd"),
        headers=operator.headers(**{"Idempotency-Key": new_key()}),
    )
    assert agency.status_code == 201, agency.text
    agency_id = agency.json()["employer_id"]
    bootstrap = running_services.kafka_bootstrap

    first = _grievance_events(agency_id, f"g-{uuid.uuid4().hex[:8]}", days_ago=200)
    _publish(bootstrap, first[:1])  # an allegation
    eventually(lambda: float(compliance(http, agency_id, operator)["score"]["value"]) < 100, timeout=30)

    repeats = first + [
        e for days_ago in (100, 3) for e in _grievance_events(agency_id, f"g-{uuid.uuid4().hex[:8]}", days_ago)
    ]
    _publish(bootstrap, repeats)

    def flag() -> dict[str, Any] | None:
        body = compliance(http, agency_id, operator)
        return body["risk_flag"] if body["risk_flag"]["raised"] else None

    raised = eventually(flag, timeout=30)
    assert raised["crossings"] == 1
    assert "repeated_established_findings" in raised["reasons"]
    assert [e["kind"] for e in compliance(http, agency_id, operator)["history"]] == ["grievance_substantiated"] * 3

    _publish(bootstrap, repeats)  # the broker delivers every event again
    time.sleep(3)

    def raised_events() -> list[employer_events.RiskFlagRaised]:
        records = records_with_subject(read_topic(bootstrap, EMPLOYERS_TOPIC, timeout=5), agency_id)
        return [
            employer_events.RiskFlagRaised.FromString(r.value)
            for r in records
            if r.headers["ce_type"] == b"mrc.employer.v1.RiskFlagRaised"
        ]

    (event,) = eventually(raised_events, timeout=30)
    assert event.crossing == 1
    assert compliance(http, agency_id, operator)["risk_flag"]["crossings"] == 1
    # The public verification now shows the agency out of good standing.
    gstin_of_agency = agency.json()["identifiers"][0]["value"]
    answer = http["employer"].get(f"/v1/verify/{gstin_of_agency}", headers=actors["public"].headers())
    assert answer.status_code == 200 and answer.json()["risk_flag_raised"] and not answer.json()["in_good_standing"]


def test_a_grievance_filed_through_the_grievance_service_moves_the_named_organisations_score(
    http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    operator, helpline = actors["operator"], actors["helpline_agent"]
    agency = http["employer"].post(
        "/v1/employers",
        json=organisation_body(roles=["recruitment_agency"], legal_name="Eastern Placement Agency Pvt Ltd"),
        headers=operator.headers(**{"Idempotency-Key": new_key()}),
    )
    assert agency.status_code == 201, agency.text
    agency_id = agency.json()["employer_id"]
    # The grievance service checks the respondent with EmployerDetailsService.CheckEmployerReference, on
    # the helpline agent's behalf, then publishes GrievanceFiled naming it.
    filed = http["grievance"].post(
        "/v1/grievances",
        json={**grievance_body(), "category": "recruitment_fee", "respondent": {"employer_id": agency_id}},
        headers=helpline.headers(**{"Idempotency-Key": new_key()}),
    )
    assert filed.status_code == 201, filed.text
    eventually(lambda: float(compliance(http, agency_id, operator)["score"]["value"]) < 100, timeout=30)
    counts = compliance(http, agency_id, operator)["grievances_alleged"]
    assert counts == [{"category": "recruitment_fee", "count": 1}]
    unknown = http["grievance"].post(
        "/v1/grievances",
        json={**grievance_body(), "respondent": {"employer_id": "emp-missing"}},
        headers=helpline.headers(**{"Idempotency-Key": new_key()}),
    )
    assert unknown.status_code in (404, 422), unknown.text


def test_an_employer_reads_neither_another_employers_records_nor_any_grievance_detail(
    running_services: Stack,
    http: dict[str, httpx.Client],
    channels: dict[str, grpc.Channel],
    access: AccessClient,
    actors: dict[str, Actor],
    own: tuple[str, str],
) -> None:
    employer_id, _ = own
    other_id = f"emp-{uuid.uuid4().hex[:8]}"
    other = access.actor("employer", access.partner("employer", employer_id=other_id), employer_id=other_id)
    created = http["employer"].post(
        "/v1/employers", json=organisation_body(), headers=other.headers(**{"Idempotency-Key": new_key()})
    )
    assert created.status_code == 201, created.text

    employer = actors["employer"]
    for path in (f"/v1/employers/{other_id}", f"/v1/employers/{other_id}/compliance"):
        refused = http["employer"].get(path, headers=employer.headers())
        missing = http["employer"].get(path.replace(other_id, "emp-missing"), headers=employer.headers())
        assert refused.status_code == missing.status_code == 404
        assert refused.json()["detail"] == missing.json()["detail"] == "no such employer"
    with pytest.raises(grpc.RpcError) as caught:
        employer_grpc.EmployerServiceStub(channels["employer"]).GetEmployer(
            employer_pb.GetEmployerRequest(employer_id=other_id), metadata=employer.metadata()
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as check:
        details_grpc.EmployerDetailsServiceStub(channels["employer"]).CheckEmployerReference(
            details_pb.CheckEmployerReferenceRequest(employer_id=other_id), metadata=employer.metadata()
        )
    assert check.value.code() == grpc.StatusCode.NOT_FOUND
    wage = http["employer"].post(
        f"/v1/employers/{other_id}/wage-records", json=wage_body("x", "1"), headers=employer.headers()
    )
    assert wage.status_code == 404

    # A grievance about its own organisation reaches it only as a delayed, suppressed count.
    _publish(running_services.kafka_bootstrap, _grievance_events(employer_id, f"g-{uuid.uuid4().hex[:8]}", 1)[:1])
    eventually(
        lambda: (
            float(compliance(http, employer_id, actors["auditor"])["score"]["value"])
            < float(compliance(http, employer_id, employer)["score"]["value"])
        ),
        timeout=30,
    )
    own_view = compliance(http, employer_id, employer)
    assert own_view["grievances_delayed_days"] == 30 and own_view["min_cell_size"] == 5
    assert all(line["kind"] != "grievance_substantiated" for line in own_view["history"])
    assert own_view["grievances_alleged"] == []
    read = http["employer"].get(f"/v1/employers/{employer_id}", headers=employer.headers())
    assert read.status_code == 200
    SENSITIVE_READS.append(SensitiveRead("employer", "employer", employer_id, employer.client_id))


def register_csv(site: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "row_key",
            "worker_code",
            "worksite_id",
            "period_start",
            "period_end",
            "days_worked",
            "amount_paid",
            "skill_category",
        ]
    )
    writer.writerow([f"r-{new_key()}", "EMP-1", site, "2024-11-01", "2024-11-30", "26", "20358", "Unskilled"])
    writer.writerow([f"r-{new_key()}", "EMP-2", site, "2024-11-01", "2024-11-30", "26", "13000", "Unskilled"])
    writer.writerow([f"r-{new_key()}", "9876543210", site, "2024-11-01", "2024-11-30", "26", "20358", "Unskilled"])
    writer.writerow([f"r-{new_key()}", "EMP-4", "elsewhere", "2024-11-01", "2024-13-30", "26", "20,358", "Unskilled"])
    return out.getvalue().encode()


def test_a_wage_register_with_bad_rows_reports_them_and_keeps_the_good_ones(
    http: dict[str, httpx.Client], actors: dict[str, Actor], own: tuple[str, str]
) -> None:
    employer_id, site = own
    employer = actors["employer"]
    started = http["employer"].post(
        "/v1/wage-registers",
        files={"file": ("register.csv", register_csv(site), "text/csv")},
        headers=employer.headers(),
    )
    assert started.status_code == 202, started.text
    location = started.headers["Location"]

    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = http["employer"].get(location, headers=employer.headers()).json()
        return job if job["status"] != "running" else None

    job = eventually(finished, timeout=60)
    assert job["status"] == "completed" and job["employer_id"] == employer_id
    assert (job["counts"]["stored"], job["counts"]["refused"], job["counts"]["below_minimum"]) == (2, 2, 1)
    report = http["employer"].get(job["report_url"], headers=employer.headers())
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert [(r["row"], r["column"]) for r in rows] == [
        ("4", "worker_code"),
        ("5", "worksite_id"),
        ("5", "period_end"),
        ("5", "amount_paid"),
    ]
    assert "9876543210" not in report.text


def test_the_public_verification_shows_no_personal_data(
    http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    operator = actors["operator"]
    lin = f"{uuid.uuid4().int % 10**10:010d}"
    proprietor = http["employer"].post(
        "/v1/employers",
        json=organisation_body(
            legal_name="Ramesh Kumar",
            roles=["labour_agent"],
            identifiers=[{"kind": "lin", "value": lin}, {"kind": "pan", "value": "ABCPK1234D"}],
            licences=[],
        ),
        headers=operator.headers(**{"Idempotency-Key": new_key()}),
    )
    assert proprietor.status_code == 201, proprietor.text
    answer = http["employer"].get(f"/v1/verify/{lin}", headers=actors["public"].headers())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["found"] and body["holder_name"] == "" and not body["in_good_standing"]
    text = answer.text
    for personal in ("Ramesh", "Kumar", "ABCPK1234D"):
        assert personal not in text
    by_pan = http["employer"].get("/v1/verify/ABCPK1234D", headers=actors["public"].headers())
    assert by_pan.status_code == 200 and not by_pan.json()["found"]
    assert http["employer"].get(f"/v1/verify/{lin}").status_code == 401
