"""The grievance service end to end, through the running services and real Kafka.

The grievance API and worker are restarted for this module with SLA clocks compressed 10,000 times (a
day's acknowledgement runs in 8.6 s), the IVR/SMS intake line open for the CSO of the suite's actors, and
then restarted as they were. Covered: a case's deadline passes and it is escalated exactly once; the worker
is killed mid-clock and the escalation still happens once; an anonymous report followed up by its code
(and refused with a wrong one); a signed IVR message opens a case and a bad signature does not; another
partner's caseworker and an employer are refused the notes; a registry worker is checked over gRPC; a
worker's consent revoked in the registry unlinks their case (still the partner's); staff find a case by its
reference, and another partner's reference answers like an unknown one.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import httpx
import pytest

from mrc.grievance.v1 import events_pb2
from mrc.grievance.v1 import grievance_service_pb2 as pb
from mrc.grievance.v1 import grievance_service_pb2_grpc as pb_grpc
from mrc_devstack.stack import Stack
from mrc_grievance.domain.intake_webhook import sign
from tests.e2e.payloads import new_key, worker_body
from tests.support.access import AccessClient, Actor
from tests.support.kafka import Record, read_topic, records_with_subject
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e

GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"
TRACES_TOPIC = "mrc.grievance.traces.v1"
SCALE = 0.0001  # medium wage theft: acknowledge within 8.64 s, a second breach at 17.28 s
ACK_SECONDS = 86400 * SCALE
INTAKE_SECRET = b"e2e-intake-secret-of-32-bytes!!!"


@pytest.fixture(scope="module")
def grievance_line(running_services: Stack, actors: dict[str, Actor]) -> Iterator[Stack]:
    """The grievance processes with compressed clocks and the intake line open for the suite's CSO."""
    env = {
        "MRC_GRIEVANCE_SLA_TIME_SCALE": str(SCALE),
        "MRC_GRIEVANCE_INTAKE_SECRETS": base64.b64encode(INTAKE_SECRET).decode(),
        "MRC_GRIEVANCE_INTAKE_PARTNER_ID": actors["helpline_agent"].partner_id,
        "MRC_GRIEVANCE_INTAKE_STATE_CODE": "10",
        "MRC_GRIEVANCE_INTAKE_DISTRICT_CODE": "212",
    }
    for name in ("grievance-worker", "grievance"):
        running_services.stop_service(name)
    running_services.start_service("grievance", extra_env=env)
    running_services.start_service("grievance-worker", extra_env=env)
    running_services.grievance_env = env  # type: ignore[attr-defined]
    wait_until_the_clocks_run(running_services, actors["caseworker"])
    yield running_services
    for name in ("grievance-worker", "grievance"):
        running_services.stop_service(name)
    running_services.start_services(["grievance", "grievance-worker"])


def wait_until_the_clocks_run(stack: Stack, caseworker: Actor) -> None:
    """A trafficking case (acknowledge within 0.09 s here) escalates once the worker follows the topic."""
    with httpx.Client(base_url=stack.http_url("grievance"), timeout=10) as client:
        response = client.post("/v1/grievances", json=case_body(category="trafficking"), headers=caseworker.headers())
    assert response.status_code == 201, response.text
    events_of(stack, response.json()["grievance_id"], ESCALATED, at_least=1, timeout=90)


def case_body(**extra: object) -> dict[str, object]:
    return {
        "category": "wage_theft",
        "channel": "helpline",
        "summary": "Contractor has not paid wages for six weeks at the Danapur site",
        "location": {"state_code": "10", "district_code": "212"},
        "subject": {"person": {"name": "Kamla Devi", "phone": "9876501234"}},
        **extra,
    }


def file_case(http: dict[str, httpx.Client], actor: Actor, **extra: object) -> dict[str, object]:
    response = http["grievance"].post(
        "/v1/grievances", json=case_body(**extra), headers=actor.headers(**{"Idempotency-Key": new_key()})
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def events_of(stack: Stack, grievance_id: str, kind: str, *, at_least: int = 0, timeout: float = 30.0) -> list[Record]:
    def matching(records: list[Record]) -> list[Record]:
        return [r for r in records_with_subject(records, grievance_id) if r.headers["ce_type"] == kind.encode()]

    records = read_topic(
        stack.kafka_bootstrap, GRIEVANCES_TOPIC, until=lambda rs: len(matching(rs)) >= at_least, timeout=timeout
    )
    return matching(records)


def distinct(records: list[Record]) -> dict[str, Record]:
    """Escalations by idempotency key, each published once: a record relayed twice would share its ce_id;
    two ce_ids for one key would be the same breach escalated twice."""
    ids: dict[str, set[bytes]] = {}
    for record in records:
        key = events_pb2.GrievanceEscalated.FromString(record.value).idempotency_key
        ids.setdefault(key, set()).add(record.headers["ce_id"])
    assert all(len(found) == 1 for found in ids.values()), ids
    return {events_pb2.GrievanceEscalated.FromString(r.value).idempotency_key: r for r in records}


ESCALATED = "mrc.grievance.v1.GrievanceEscalated"
WARNED = "mrc.grievance.v1.GrievanceSlaWarned"


def test_a_passed_deadline_escalates_the_case_exactly_once(
    grievance_line: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    caseworker = actors["caseworker"]
    case = file_case(http, caseworker)
    grievance_id = str(case["grievance_id"])

    first = events_of(grievance_line, grievance_id, ESCALATED, at_least=1, timeout=ACK_SECONDS + 20)
    assert len(distinct(first)) == 1
    # Acknowledged now: the acknowledge clock stops, so its second breach (at 17.3 s) never comes.
    triaged = http["grievance"].post(f"/v1/grievances/{grievance_id}:triage", json={}, headers=caseworker.headers())
    assert triaged.status_code == 200, triaged.text
    time.sleep(max(0.0, 2 * ACK_SECONDS + 3 - (time.time() - _filed_at(case))))

    escalations = distinct(events_of(grievance_line, grievance_id, ESCALATED, timeout=3))
    warnings = events_of(grievance_line, grievance_id, WARNED, timeout=3)
    assert list(escalations) == [f"{grievance_id}:sla:1:acknowledge:breach:1"]
    escalated = events_pb2.GrievanceEscalated.FromString(next(iter(escalations.values())).value)
    assert escalated.employer_id == "" and escalated.place.village_name == ""
    assert len({events_pb2.GrievanceSlaWarned.FromString(r.value).idempotency_key for r in warnings}) == 2
    shown = http["grievance"].get(f"/v1/grievances/{grievance_id}", headers=caseworker.headers()).json()
    assert (shown["escalation_level"], shown["breaches"]) == ("district_coordinator", 1)


def _filed_at(case: dict[str, object]) -> float:
    return datetime.fromisoformat(str(case["filed_at"]).replace("Z", "+00:00")).astimezone(UTC).timestamp()


def test_a_killed_worker_still_escalates_once_after_its_restart(
    grievance_line: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    caseworker = actors["caseworker"]
    case = file_case(http, caseworker)
    grievance_id = str(case["grievance_id"])
    time.sleep(2)  # the worker has read the case's schedule into its table
    grievance_line.stop_service("grievance-worker", kill=True)
    time.sleep(max(0.0, ACK_SECONDS + 1 - (time.time() - _filed_at(case))))
    assert events_of(grievance_line, grievance_id, ESCALATED, timeout=2) == []  # nobody ran the clock

    grievance_line.start_service("grievance-worker", extra_env=grievance_line.grievance_env)  # type: ignore[attr-defined]
    first = events_of(grievance_line, grievance_id, ESCALATED, at_least=1, timeout=60)
    http["grievance"].post(f"/v1/grievances/{grievance_id}:triage", json={}, headers=caseworker.headers())
    time.sleep(3)

    escalations = distinct(events_of(grievance_line, grievance_id, ESCALATED, timeout=3))
    # Every breach that fell due while the worker was down is escalated once: the first, and the second
    # (17.3 s) when the restart took that long.
    breaches = [f"{grievance_id}:sla:1:acknowledge:breach:{n}" for n in (1, 2)]
    assert breaches[0] in distinct(first)
    assert breaches[0] in escalations
    assert set(escalations) <= set(breaches)


def test_an_anonymous_report_is_followed_up_by_its_code_only(
    grievance_line: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    public = actors["public"]
    filed = http["grievance"].post(
        "/v1/reports",
        json={
            "summary": "Two girls are kept locked at the kiln behind the canal",
            "location": {"state_code": "10", "district_code": "212"},
            "facts": {"child_involved": True},
        },
        headers=public.headers(**{"Idempotency-Key": new_key()}),
    )
    assert filed.status_code == 201, filed.text
    reference, secret = filed.json()["reference"], filed.json()["follow_up_code"]

    seen = http["grievance"].get(f"/v1/reports/{reference}", headers=public.headers(**{"X-Follow-Up-Code": secret}))
    wrong = http["grievance"].get(
        f"/v1/reports/{reference}", headers=public.headers(**{"X-Follow-Up-Code": "ABCD-EFGH-JKMN-PQRS"})
    )

    assert seen.status_code == 200 and seen.json()["status"] == "received"
    assert set(seen.json()) == {"reference", "status", "updated_at", "messages"}
    assert wrong.status_code == 404
    # The helpline's caseworkers have it in their queue, critical.
    queue = http["grievance"].get(
        "/v1/grievances", params={"category": "other"}, headers=actors["caseworker"].headers()
    )
    assert any(c["reference"] == reference and c["severity"] == "critical" for c in queue.json()["grievances"])


def _delivery(message_id: str, secret: bytes) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "message_id": message_id,
            "kind": "sms",
            "caller_number": "+919812300000",
            "language": "hi",
            "text": "Seth ne teen mahine se paisa nahi diya",
            "received_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    timestamp = int(time.time())
    return body, {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(body, message_id, timestamp, secret),
        "content-type": "application/json",
    }


def test_a_signed_ivr_message_opens_a_case_and_a_bad_signature_does_not(
    grievance_line: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    message_id = f"msg_{new_key().replace('-', '')[:20]}"
    forged_body, forged = _delivery(message_id, b"not-the-gateway-secret-32-bytes!")
    body, headers = _delivery(message_id, INTAKE_SECRET)

    refused = http["grievance"].post("/v1/intake/messages", content=forged_body, headers=forged)
    opened = http["grievance"].post("/v1/intake/messages", content=body, headers=headers)
    replayed = http["grievance"].post("/v1/intake/messages", content=body, headers=headers)

    assert refused.status_code == 401
    assert opened.status_code == 201, opened.text
    assert replayed.status_code == 409
    reference = opened.json()["reference"]
    queue = http["grievance"].get(
        "/v1/grievances", params={"page_size": 200}, headers=actors["helpline_agent"].headers()
    )
    (case,) = [c for c in queue.json()["grievances"] if c["reference"] == reference]
    assert case["channel"] == "sms"
    assert case["reporter"]["phone"] == "+919812300000"  # the helpline's own staff read the caller's number


def test_another_partners_caseworker_and_an_employer_are_refused_the_notes(
    grievance_line: Stack,
    http: dict[str, httpx.Client],
    channels: dict[str, grpc.Channel],
    actors: dict[str, Actor],
    access: AccessClient,
) -> None:
    caseworker = actors["caseworker"]
    grievance_id = str(file_case(http, caseworker)["grievance_id"])
    note = http["grievance"].post(
        f"/v1/grievances/{grievance_id}/notes",
        json={"text": "He fears the contractor's men"},
        headers=caseworker.headers(),
    )
    assert note.status_code == 201, note.text
    other = access.actor("caseworker", actors["other_registrar"].partner_id, states=["10"])
    path = f"/v1/grievances/{grievance_id}/notes"

    assert (
        http["grievance"].get(path, headers=caseworker.headers()).json()["notes"][0]["text"]
        == "He fears the contractor's men"
    )
    assert http["grievance"].get(path, headers=other.headers()).status_code == 404
    assert http["grievance"].get(path, headers=actors["employer"].headers()).status_code == 403
    stub = pb_grpc.GrievanceServiceStub(channels["grievance"])
    for actor, expected in (
        (other, grpc.StatusCode.NOT_FOUND),
        (actors["employer"], grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListNotes(pb.ListNotesRequest(grievance_id=grievance_id), metadata=actor.metadata())
        assert caught.value.code() == expected


def test_a_registry_worker_is_checked_for_grievance_follow_up_consent(
    grievance_line: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    registrar, caseworker = actors["registrar"], actors["caseworker"]

    def register(purposes: tuple[str, ...]) -> str:
        response = http["registry"].post(
            "/v1/workers",
            json=worker_body(purposes=purposes),
            headers=registrar.headers(**{"Idempotency-Key": new_key()}),
        )
        assert response.status_code in (200, 201), response.text
        return str(response.json()["worker_id"])

    consented = register(("registration", "grievance_follow_up"))
    not_consented = register(("registration",))

    filed = http["grievance"].post(
        "/v1/grievances", json=case_body(subject={"worker_id": consented}), headers=caseworker.headers()
    )
    refused = http["grievance"].post(
        "/v1/grievances", json=case_body(subject={"worker_id": not_consented}), headers=caseworker.headers()
    )

    assert filed.status_code == 201, filed.text
    assert filed.json()["worker_id"] == consented
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["subject.worker_id"]
    records = eventually(
        lambda: records_with_subject(
            read_topic(grievance_line.kafka_bootstrap, GRIEVANCES_TOPIC, timeout=3), filed.json()["grievance_id"]
        )
    )
    filed_event = events_pb2.GrievanceFiled.FromString(records[0].value)
    assert filed_event.worker_id == consented and b"Kamla" not in records[0].value


UNLINKED = "mrc.grievance.v1.GrievanceWorkerUnlinked"


def test_withdrawn_consent_unlinks_the_case_which_stays_with_its_partner(
    grievance_line: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    registrar, caseworker = actors["registrar"], actors["caseworker"]
    registered = http["registry"].post(
        "/v1/workers",
        json=worker_body(purposes=("registration", "grievance_follow_up")),
        headers=registrar.headers(**{"Idempotency-Key": new_key()}),
    )
    assert registered.status_code in (200, 201), registered.text
    worker_id = str(registered.json()["worker_id"])
    (consent,) = registered.json()["consents"]
    case = file_case(http, caseworker, subject={"worker_id": worker_id})
    grievance_id = str(case["grievance_id"])
    assert case["worker_id"] == worker_id

    revoked = http["registry"].post(
        f"/v1/workers/{worker_id}/consents/{consent['consent_id']}:revoke", headers=registrar.headers()
    )
    assert revoked.status_code in (200, 204), revoked.text

    def unlinked() -> dict[str, object] | None:
        response = http["grievance"].get(f"/v1/grievances/{grievance_id}", headers=caseworker.headers())
        assert response.status_code == 200, response.text  # still the partner's case throughout
        body = dict(response.json())
        return body if body["worker_id"] == "" else None

    after = eventually(unlinked, timeout=60)
    assert (after["category"], after["status"]) == (case["category"], case["status"])
    timeline = http["grievance"].get(f"/v1/grievances/{grievance_id}/timeline", headers=caseworker.headers())
    actions = [e["action"] for e in timeline.json()["entries"]]
    assert actions.count("consent_withdrawn") == 1
    assert all(worker_id not in e["summary"] for e in timeline.json()["entries"])
    (event,) = events_of(grievance_line, grievance_id, UNLINKED, at_least=1)
    message = events_pb2.GrievanceWorkerUnlinked.FromString(event.value)
    assert message.worker_id == "" and worker_id.encode() not in event.value


def test_staff_find_a_case_by_its_reference_within_their_partner_only(
    grievance_line: Stack,
    http: dict[str, httpx.Client],
    channels: dict[str, grpc.Channel],
    actors: dict[str, Actor],
    access: AccessClient,
) -> None:
    caseworker = actors["caseworker"]
    case = file_case(http, caseworker)
    reference = str(case["reference"])
    other = access.actor("caseworker", actors["other_registrar"].partner_id, states=["10"])

    found = http["grievance"].get(
        f"/v1/grievances:by-reference/{reference.lower().replace('-', ' ')}", headers=caseworker.headers()
    )
    outside = http["grievance"].get(f"/v1/grievances:by-reference/{reference}", headers=other.headers())
    unknown = http["grievance"].get("/v1/grievances:by-reference/GR-00000-00000", headers=other.headers())

    assert found.status_code == 200, found.text
    assert found.json()["grievance_id"] == case["grievance_id"]
    assert outside.status_code == unknown.status_code == 404
    assert outside.json()["detail"] == unknown.json()["detail"]
    stub = pb_grpc.GrievanceServiceStub(channels["grievance"])
    reply = stub.GetGrievanceByReference(
        pb.GetGrievanceByReferenceRequest(reference=reference), metadata=caseworker.metadata()
    )
    assert reply.grievance.grievance_id == case["grievance_id"]
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetGrievanceByReference(pb.GetGrievanceByReferenceRequest(reference=reference), metadata=other.metadata())
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
