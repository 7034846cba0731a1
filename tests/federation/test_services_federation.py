"""The entitlements' and grievance services' part of the cross-state federation, end to end: Bihar's and Kerala's
clusters with access, registry, entitlements (API and worker) and MirrorMaker 2 between them.

- A worker shared by Bihar: Kerala's partner sees Bihar's entitlement status beside Kerala's own
  determinations, read-only and labelled with Bihar.
- Without cross-state consent no status crosses (not on Bihar's federation topic, not in Kerala).
- Revoking the consent in Bihar removes the status in Kerala with the copy.
- A grievance filed in Kerala about the copy reaches Bihar: the family's CSO there sees it read-only, marked
  with Kerala; without a consent that allows grievance follow-up, Kerala cannot file one about the copy and
  nothing crosses. A missing-person trace opened in Kerala about the same worker reaches Bihar too, with its
  sightings (same consent, same read path: /forwarded-traces).

Runs after the registry's federation tests (file order), so those run with their own smaller footprint.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from mrc_devstack.federation import Federation
from mrc_devstack.mirror_maker import remote_topic
from tests.federation.conftest import DESTINATION, SOURCE, STATE_CODES
from tests.federation.test_registry_federation import ERNAKULAM, PATNA, new_aadhaar, registration
from tests.support.access import AccessClient, Actor
from tests.support.kafka import read_topic, records_with_subject
from tests.support.polling import eventually

pytestmark = pytest.mark.federation

SERVICES = ("access", "registry", "entitlements", "entitlements-worker", "grievance", "grievance-worker")
STATUS_TO_KERALA = f"mrc.federation.entitlements.{STATE_CODES[DESTINATION]}.v1"
GRIEVANCES_TO_BIHAR = f"mrc.federation.grievances.{STATE_CODES[SOURCE]}.v1"
ARRIVAL_TIMEOUT = 90.0


@dataclass
class Cluster:
    name: str
    registry: httpx.Client
    entitlements: httpx.Client
    grievance: httpx.Client
    registrar: Actor
    caseworker: Actor
    mongo: MongoClient[dict[str, Any]]
    bootstrap: str
    federation_access_url: str = ""

    def register(self, body: dict[str, Any]) -> str:
        response = self.registry.post(
            "/v1/workers", json=body, headers=self.registrar.headers(**{"Idempotency-Key": str(uuid.uuid4())})
        )
        assert response.status_code == 201, response.text
        return str(response.json()["worker_id"])

    def eligibility(self, worker_id: str) -> httpx.Response:
        return self.entitlements.get(f"/v1/eligibility/{worker_id}", headers=self.caseworker.headers())

    def record(self, worker_id: str) -> dict[str, Any] | None:
        return self.mongo["mrc_entitlements"]["eligibility"].find_one({"_id": worker_id})

    def live_copy(self, worker_id: str) -> dict[str, Any] | None:
        doc = self.mongo["mrc_registry"]["workers"].find_one({"_id": worker_id})
        return doc if doc and doc.get("foreign") and doc.get("status") == "active" else None


def _cluster(federation: Federation, name: str) -> Cluster:
    stack = federation.stacks[name]
    access = AccessClient(stack.http_url("access"))
    states = [STATE_CODES[name]]
    partner = access.partner("cso", states=states)
    return Cluster(
        name,
        httpx.Client(base_url=stack.http_url("registry"), timeout=30),
        httpx.Client(base_url=stack.http_url("entitlements"), timeout=30),
        httpx.Client(base_url=stack.http_url("grievance"), timeout=30),
        access.actor("registrar", partner, states=states),
        access.actor("caseworker", partner, states=states),
        MongoClient(stack.mongo_uri, serverSelectionTimeoutMS=10_000),
        federation.bootstrap(name),
        stack.http_url("access"),
    )


@pytest.fixture(scope="module")
def clusters(federation_services: Callable[[list[str]], Federation]) -> Iterator[tuple[Cluster, Cluster]]:
    federation = federation_services(list(SERVICES))
    bihar, kerala = _cluster(federation, SOURCE), _cluster(federation, DESTINATION)
    yield bihar, kerala
    for cluster in (bihar, kerala):
        cluster.registry.close()
        cluster.entitlements.close()
        cluster.grievance.close()
        cluster.mongo.close()


def home_status_in_kerala(kerala: Cluster, worker_id: str) -> dict[str, Any] | None:
    """Kerala's eligibility view of the copy once it carries Bihar's status with determinations."""
    response = kerala.eligibility(worker_id)
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    status = body.get("home_state_status")
    return body if status and status["determinations"] else None


# ---------------------------------------------------------------- entitlement status


def test_kerala_s_partner_sees_bihar_s_entitlement_status_of_a_shared_worker(clusters: tuple[Cluster, Cluster]) -> None:
    bihar, kerala = clusters
    worker_id = bihar.register(registration(PATNA, new_aadhaar(), crossing=True))
    home = eventually(
        lambda: (r := bihar.eligibility(worker_id)).status_code == 200 and r.json()["schemes"] and r.json(),
        timeout=ARRIVAL_TIMEOUT,
        interval=0.5,
    )
    shown = eventually(lambda: home_status_in_kerala(kerala, worker_id), timeout=ARRIVAL_TIMEOUT, interval=0.5)

    status = shown["home_state_status"]
    assert status["home_state_code"] == STATE_CODES[SOURCE] and status["home_state_name"] == "Bihar"
    assert status["read_only"] is True
    assert {(d["scheme_code"], d["outcome"], d["rule_version"]) for d in status["determinations"]} == {
        (d["scheme_code"], d["outcome"], d["rule_version"]) for d in home["schemes"]
    }
    # Bihar's own view of its own record carries no home-state status.
    assert home.get("home_state_status") is None

    # What crossed names no person: ids, scheme codes, outcomes, dates.
    crossed = records_with_subject(
        read_topic(kerala.bootstrap, remote_topic(SOURCE, STATUS_TO_KERALA), timeout=3), worker_id
    )
    assert crossed and crossed[0].headers["ce_type"] == b"mrc.federation.v1.EntitlementStatusShared"
    for record in crossed:
        assert b"Sunita" not in record.value and b"Ramesh" not in record.value and b"Phulwari" not in record.value


def test_no_status_crosses_without_cross_state_consent(clusters: tuple[Cluster, Cluster]) -> None:
    bihar, kerala = clusters
    private = bihar.register(registration(PATNA, new_aadhaar(), crossing=False))
    eventually(
        lambda: (r := bihar.eligibility(private)).status_code == 200 and r.json()["schemes"],
        timeout=ARRIVAL_TIMEOUT,
        interval=0.5,
    )
    # A shared worker registered after it: once its status is in Kerala, the private one's would be too.
    marker = bihar.register(registration(PATNA, new_aadhaar(), crossing=True))
    eventually(lambda: home_status_in_kerala(kerala, marker), timeout=ARRIVAL_TIMEOUT, interval=0.5)

    assert not records_with_subject(read_topic(bihar.bootstrap, STATUS_TO_KERALA, timeout=3), private)
    assert not records_with_subject(
        read_topic(kerala.bootstrap, remote_topic(SOURCE, STATUS_TO_KERALA), timeout=3), private
    )
    assert kerala.record(private) is None
    assert kerala.eligibility(private).status_code == 404


def test_revoking_the_consent_in_bihar_removes_the_status_in_kerala(clusters: tuple[Cluster, Cluster]) -> None:
    bihar, kerala = clusters
    worker_id = bihar.register(registration(PATNA, new_aadhaar(), crossing=True))
    eventually(lambda: home_status_in_kerala(kerala, worker_id), timeout=ARRIVAL_TIMEOUT, interval=0.5)
    published = len(records_with_subject(read_topic(bihar.bootstrap, STATUS_TO_KERALA, timeout=3), worker_id))

    worker = bihar.registry.get(f"/v1/workers/{worker_id}", headers=bihar.registrar.headers()).json()
    consent_id = worker["consents"][0]["consent_id"]
    revoked = bihar.registry.post(
        f"/v1/workers/{worker_id}/consents/{consent_id}:revoke", headers=bihar.registrar.headers()
    )
    assert revoked.status_code in (200, 204), revoked.text

    def status_gone() -> bool:
        doc = kerala.record(worker_id)
        return doc is not None and doc["status"] == "erased" and not doc.get("home_state_status")

    eventually(status_gone, timeout=ARRIVAL_TIMEOUT, interval=0.5)
    assert kerala.eligibility(worker_id).status_code == 404
    # Bihar's entitlements saw the consent end (its determinations withdrawn) and sent Kerala nothing more.
    eventually(
        lambda: (doc := bihar.record(worker_id)) is not None and not doc["linkage"] and not doc["status_shared_with"],
        timeout=ARRIVAL_TIMEOUT,
        interval=0.5,
    )
    after = records_with_subject(read_topic(bihar.bootstrap, STATUS_TO_KERALA, timeout=3), worker_id)
    assert len(after) == published


# ---------------------------------------------------------------- grievances forwarded to the home state


def with_follow_up(body: dict[str, Any]) -> dict[str, Any]:
    body["consent"]["purposes"] = [*body["consent"]["purposes"], "grievance_follow_up"]
    return body


def file_in_kerala(kerala: Cluster, worker_id: str) -> httpx.Response:
    body = {
        "category": "wage_theft",
        "channel": "field",
        "summary": "Kiln owner has held back six weeks of wages",
        "location": {"state_code": ERNAKULAM["state_code"], "district_code": ERNAKULAM["district_code"]},
        "subject": {"worker_id": worker_id},
    }
    headers = kerala.caseworker.headers(**{"Idempotency-Key": str(uuid.uuid4())})
    return kerala.grievance.post("/v1/grievances", json=body, headers=headers)


TRACE_DESCRIPTION = "Thin, grey shirt, speaks Bhojpuri and a little Malayalam"


def open_trace_in_kerala(kerala: Cluster, worker_id: str, grievance_id: str) -> str:
    place = {"state_code": ERNAKULAM["state_code"], "district_code": ERNAKULAM["district_code"]}
    body = {
        "missing": {"worker_id": worker_id},
        "last_known_place": place,
        "last_known_on": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "contacts": [{"relation": "co_worker", "name": "Kiln co-worker", "phone": "9847000011"}],
        "description": TRACE_DESCRIPTION,
        "grievance_id": grievance_id,
    }
    headers = kerala.caseworker.headers(**{"Idempotency-Key": str(uuid.uuid4())})
    opened = kerala.grievance.post("/v1/traces", json=body, headers=headers)
    assert opened.status_code == 201, opened.text
    return str(opened.json()["trace_id"])


def known_as_copy(kerala: Cluster, worker_id: str) -> dict[str, Any] | None:
    """Kerala's grievance service has learnt (from Kerala's registry events) that the worker is Bihar's."""
    return kerala.mongo["mrc_grievance"]["federated_workers"].find_one({"_id": worker_id})


def test_a_grievance_filed_in_kerala_about_bihar_s_worker_reaches_bihar_s_cso_read_only(
    clusters: tuple[Cluster, Cluster],
) -> None:
    bihar, kerala = clusters
    worker_id = bihar.register(with_follow_up(registration(PATNA, new_aadhaar(), crossing=True)))
    eventually(lambda: known_as_copy(kerala, worker_id), timeout=ARRIVAL_TIMEOUT, interval=0.5)

    filed = file_in_kerala(kerala, worker_id)
    assert filed.status_code == 201, filed.text
    grievance_id = filed.json()["grievance_id"]

    def shown_in_bihar() -> list[dict[str, Any]] | None:
        response = bihar.grievance.get(
            f"/v1/workers/{worker_id}/forwarded-grievances", headers=bihar.caseworker.headers()
        )
        found: list[dict[str, Any]] = response.json()["grievances"] if response.status_code == 200 else []
        return found or None

    shown = eventually(shown_in_bihar, timeout=ARRIVAL_TIMEOUT, interval=0.5)
    assert [g["grievance_id"] for g in shown] == [grievance_id]
    case = shown[0]
    assert case["handling_state_code"] == STATE_CODES[DESTINATION] and case["handling_state_name"] == "Kerala"
    assert case["read_only"] is True and case["category"] == "wage_theft"
    assert case["account"] == "Kiln owner has held back six weeks of wages"
    assert case["filing_partner_id"] == kerala.caseworker.partner_id
    # Nothing in Bihar changes it: it is no case of Bihar's.
    refused = bihar.grievance.post(f"/v1/grievances/{grievance_id}:start-work", headers=bihar.caseworker.headers())
    assert refused.status_code == 404, refused.text
    # A partner of Bihar that does not reach the worker sees nothing of it.
    stranger = AccessClient(bihar.federation_access_url)
    other = stranger.actor(
        "caseworker", stranger.partner("cso", states=[STATE_CODES[SOURCE]]), states=[STATE_CODES[SOURCE]]
    )
    hidden = bihar.grievance.get(f"/v1/workers/{worker_id}/forwarded-grievances", headers=other.headers())
    assert hidden.status_code == 404, hidden.text

    # The case text crossed only sealed.
    crossed = records_with_subject(read_topic(kerala.bootstrap, GRIEVANCES_TO_BIHAR, timeout=3), grievance_id)
    assert crossed and crossed[0].headers["ce_type"] == b"mrc.federation.v1.GrievanceForwarded"
    assert all(b"six weeks" not in r.value for r in crossed)

    # A missing-person trace opened in Kerala about the worker, and a sighting there, reach Bihar the same way.
    trace_id = open_trace_in_kerala(kerala, worker_id, grievance_id)
    sighting = {
        "seen_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "place": {"state_code": ERNAKULAM["state_code"], "district_code": ERNAKULAM["district_code"]},
        "details": "Seen boarding a bus to Aluva by the kiln's cook",
    }
    seen = kerala.grievance.post(
        f"/v1/traces/{trace_id}/sightings",
        json=sighting,
        headers=kerala.caseworker.headers(**{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert seen.status_code == 201, seen.text

    def trace_sighted_in_bihar() -> dict[str, Any] | None:
        response = bihar.grievance.get(f"/v1/workers/{worker_id}/forwarded-traces", headers=bihar.caseworker.headers())
        found = response.json()["traces"] if response.status_code == 200 else []
        return next((t for t in found if t["trace_id"] == trace_id and t["sighting_count"] == 1), None)

    trace = eventually(trace_sighted_in_bihar, timeout=ARRIVAL_TIMEOUT, interval=0.5)
    assert trace["handling_state_code"] == STATE_CODES[DESTINATION] and trace["read_only"] is True
    assert trace["status"] == "open" and trace["grievance_id"] == grievance_id
    assert trace["description"] == TRACE_DESCRIPTION
    assert trace["last_seen_place"]["district_code"] == ERNAKULAM["district_code"]
    assert trace["filing_partner_id"] == kerala.caseworker.partner_id
    hidden = bihar.grievance.get(f"/v1/workers/{worker_id}/forwarded-traces", headers=other.headers())
    assert hidden.status_code == 404, hidden.text
    assert bihar.grievance.get(f"/v1/traces/{trace_id}", headers=bihar.caseworker.headers()).status_code == 404
    traced = records_with_subject(read_topic(kerala.bootstrap, GRIEVANCES_TO_BIHAR, timeout=3), trace_id)
    assert traced and {r.headers["ce_type"] for r in traced} == {b"mrc.federation.v1.TraceForwarded"}
    for record in traced:
        assert b"Malayalam" not in record.value and b"Aluva" not in record.value and b"9847" not in record.value


def test_no_grievance_crosses_without_a_consent_to_follow_up_grievances(clusters: tuple[Cluster, Cluster]) -> None:
    bihar, kerala = clusters
    worker_id = bihar.register(registration(PATNA, new_aadhaar(), crossing=True))
    known = eventually(lambda: known_as_copy(kerala, worker_id), timeout=ARRIVAL_TIMEOUT, interval=0.5)
    assert known["follow_up"] is False

    refused = file_in_kerala(kerala, worker_id)
    assert refused.status_code == 422, refused.text
    assert not records_with_subject_worker(read_topic(kerala.bootstrap, GRIEVANCES_TO_BIHAR, timeout=3), worker_id)


def records_with_subject_worker(records: list[Any], worker_id: str) -> list[Any]:
    return [r for r in records if worker_id.encode() in r.value]
