"""REST and gRPC together, over the real routers and servicer: tokens, scopes, the policy, problems and codes.

gRPC runs on an in-process server with the shared interceptor, so the codes are those clients see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient

from mrc.common.v1 import common_pb2
from mrc.grievance.v1 import grievance_pb2
from mrc.grievance.v1 import grievance_service_pb2 as pb
from mrc.grievance.v1 import grievance_service_pb2_grpc as pb_grpc
from mrc_grievance.domain.intake_webhook import sign
from mrc_grievance.entrypoints.grpc_api import GrievanceServicer
from mrc_grievance.entrypoints.http_api import (
    grievances_router,
    intake_router,
    reports_router,
    statistics_router,
    traces_router,
)
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.roles import Role
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from tests.support.auth import bearer, caller_for, grpc_auth, grpc_metadata, http_auth, role_tokens, serve_grpc

from .fakes import INTAKE_SECRET, NOW, OTHER_CSO, Grievances

# Role -> (file, read, list notes) over REST, written out so a change to a role shows up here.
EXPECTED = {
    Role.REGISTRAR: (403, 403, 403),
    Role.CASEWORKER: (201, 200, 200),
    Role.SUPERVISOR: (201, 200, 200),
    Role.HELPLINE_AGENT: (201, 200, 200),
    Role.EMPLOYER: (403, 403, 403),
    Role.AUDITOR: (403, 403, 403),
    Role.OPERATOR: (403, 403, 403),
    Role.PUBLIC: (403, 403, 403),
}
GRPC = {200: grpc.StatusCode.OK, 201: grpc.StatusCode.OK, 403: grpc.StatusCode.PERMISSION_DENIED}


@dataclass
class Api:
    g: Grievances
    http: TestClient
    stub: pb_grpc.GrievanceServiceStub

    def file(self, token: str = "helpline_agent", **extra: Any) -> Any:
        body = {
            "category": "wage_theft",
            "channel": "helpline",
            "summary": "Contractor has not paid wages for six weeks.",
            "location": {"state_code": "10", "district_code": "212"},
            "subject": {"person": {"name": "Sunita Devi", "phone": "9876543210"}},
            **extra,
        }
        return self.http.post("/v1/grievances", json=body, headers=bearer(token))

    def filed(self) -> str:
        response = self.file()
        assert response.status_code == 201, response.text
        return str(response.json()["grievance_id"])


@pytest.fixture
def api() -> Iterator[Api]:
    g = Grievances()
    g.clock.now = NOW
    tokens = role_tokens(
        **{role.value: caller_for(role, partner_id="partner-a", client_id=f"{role.value}-a") for role in Role}
    )
    tokens.add("other-cso", OTHER_CSO)
    app = create_http_app(service="grievance", title="MRC Grievance (test)")
    auth = http_auth(tokens)
    app.include_router(grievances_router(g.case_service, g.intake, auth))
    app.include_router(reports_router(g.intake, g.reports, auth))
    app.include_router(intake_router(g.intake))
    app.include_router(traces_router(g.trace_service, auth))
    app.include_router(statistics_router(g.statistics, auth))
    servicer = GrievanceServicer(g.case_service, g.intake, g.reports, g.trace_service, g.statistics, grpc_auth(tokens))
    with serve_grpc(lambda server: pb_grpc.add_GrievanceServiceServicer_to_server(servicer, server)) as channel:
        yield Api(g, TestClient(app), pb_grpc.GrievanceServiceStub(channel))


def code(call: Any) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


@pytest.mark.parametrize(("role", "expected"), EXPECTED.items(), ids=[r.value for r in EXPECTED])
def test_access_by_role_over_rest_and_grpc(api: Api, role: Role, expected: tuple[int, int, int]) -> None:
    existing = api.filed()
    token = role.value

    rest = (
        api.file(token).status_code,
        api.http.get(f"/v1/grievances/{existing}", headers=bearer(token)).status_code,
        api.http.get(f"/v1/grievances/{existing}/notes", headers=bearer(token)).status_code,
    )
    md = grpc_metadata(token)
    request = pb.FileGrievanceRequest(
        category=grievance_pb2.GRIEVANCE_CATEGORY_WAGE_THEFT,
        channel=grievance_pb2.INTAKE_CHANNEL_HELPLINE,
        summary="Unpaid for six weeks",
        location=common_pb2.LgdLocation(state_code="10", district_code="212"),
    )
    over_grpc = (
        code(lambda: api.stub.FileGrievance(request, metadata=md)),
        code(lambda: api.stub.GetGrievance(pb.GetGrievanceRequest(grievance_id=existing), metadata=md)),
        code(lambda: api.stub.ListNotes(pb.ListNotesRequest(grievance_id=existing), metadata=md)),
    )

    assert rest == expected
    assert over_grpc == tuple(GRPC[s] for s in expected)


def test_another_partners_caseworker_gets_not_found_like_a_missing_case(api: Api) -> None:
    existing = api.filed()
    missing = "00000000-0000-4000-8000-000000000000"

    for path in ("", "/notes", "/timeline"):
        outside = api.http.get(f"/v1/grievances/{existing}{path}", headers=bearer("other-cso"))
        absent = api.http.get(f"/v1/grievances/{missing}{path}", headers=bearer("other-cso"))
        assert outside.status_code == absent.status_code == 404
        assert outside.headers["content-type"] == PROBLEM_CONTENT_TYPE
        assert outside.json()["detail"] == absent.json()["detail"]
    error = code(
        lambda: api.stub.ListNotes(pb.ListNotesRequest(grievance_id=existing), metadata=grpc_metadata("other-cso"))
    )
    assert error == grpc.StatusCode.NOT_FOUND


def test_a_case_moves_over_rest_and_an_illegal_move_is_a_409_problem(api: Api) -> None:
    grievance_id = api.filed()
    h = bearer("supervisor")

    illegal = api.http.post(f"/v1/grievances/{grievance_id}:start-work", headers=h)
    assert illegal.status_code == 409 and illegal.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert "new" in illegal.json()["detail"]
    steps = [
        (":triage", {"facts": {"days_unpaid": 45}}),
        (":assign", {"assignee_id": "caseworker-a"}),
        (":start-work", None),
        (":refer", {"target": "labour_department", "target_partner_id": "partner-labour"}),
        (":resolve", {"outcome": "wages_recovered", "substantiated": True, "amount_recovered_paise": 500000}),
        (":reopen", {"reason": "Paid only half"}),
    ]
    for suffix, body in steps:
        response = api.http.post(f"/v1/grievances/{grievance_id}{suffix}", json=body, headers=h)
        assert response.status_code == 200, (suffix, response.text)
    assert response.json()["status"] == "reopened"
    note = api.http.post(f"/v1/grievances/{grievance_id}/notes", json={"text": "Called the contractor"}, headers=h)
    assert note.status_code == 201
    timeline = api.http.get(f"/v1/grievances/{grievance_id}/timeline", headers=h).json()["entries"]
    assert [e["action"] for e in timeline][-1] == "note_added"
    queue = api.http.get("/v1/grievances", params={"status": ["reopened"]}, headers=h).json()["grievances"]
    assert [c["grievance_id"] for c in queue] == [grievance_id]


def test_a_retried_change_says_so(api: Api) -> None:
    grievance_id = api.filed()
    h = {**bearer("caseworker"), "Idempotency-Key": "t-1"}

    first = api.http.post(f"/v1/grievances/{grievance_id}:triage", json={}, headers=h)
    again = api.http.post(f"/v1/grievances/{grievance_id}:triage", json={}, headers=h)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["version"] == again.json()["version"]


def test_a_public_report_and_its_follow_up(api: Api) -> None:
    filed = api.http.post(
        "/v1/reports",
        json={"summary": "A girl is kept locked at the kiln", "location": {"state_code": "10", "district_code": "212"}},
        headers=bearer("public"),
    )
    assert filed.status_code == 201, filed.text
    reference, secret = filed.json()["reference"], filed.json()["follow_up_code"]

    seen = api.http.get(f"/v1/reports/{reference}", headers={**bearer("public"), "X-Follow-Up-Code": secret})
    refused = api.http.get(
        f"/v1/reports/{reference}", headers={**bearer("public"), "X-Follow-Up-Code": "0000-0000-0000-0000"}
    )

    assert seen.status_code == 200 and seen.json() == {
        "reference": reference,
        "status": "received",
        "updated_at": seen.json()["updated_at"],
        "messages": [],
    }
    assert refused.status_code == 404
    assert api.http.post("/v1/reports", json={}, headers=bearer("employer")).status_code in (403, 422)
    reply = api.stub.GetReport(
        pb.GetReportRequest(reference=reference, follow_up_code=secret), metadata=grpc_metadata("public")
    )
    assert reply.report.reference == reference


def test_the_intake_webhook_opens_a_case_from_a_signed_delivery_only(api: Api) -> None:
    body = json.dumps(
        {
            "message_id": "msg_42",
            "kind": "sms",
            "caller_number": "9812345678",
            "language": "hi",
            "text": "Seth ne paise nahi diye",
            "received_at": "2026-01-05T08:59:00Z",
        }
    ).encode()
    timestamp = int(NOW.timestamp())
    headers = {"webhook-id": "msg_42", "webhook-timestamp": str(timestamp), "content-type": "application/json"}

    forged = api.http.post("/v1/intake/messages", content=body, headers={**headers, "webhook-signature": "v1,AAAA"})
    good = api.http.post(
        "/v1/intake/messages",
        content=body,
        headers={**headers, "webhook-signature": sign(body, "msg_42", timestamp, INTAKE_SECRET)},
    )
    replay = api.http.post(
        "/v1/intake/messages",
        content=body,
        headers={**headers, "webhook-signature": sign(body, "msg_42", timestamp, INTAKE_SECRET)},
    )

    assert forged.status_code == 401 and forged.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert good.status_code == 201 and good.json()["reference"].startswith("GR-")
    assert replay.status_code == 409
    assert len(api.g.store.collection("grievances").documents) == 1


def test_an_unreachable_registry_is_503_and_unavailable(api: Api) -> None:
    api.g.workers.down = True

    response = api.file("caseworker", subject={"worker_id": "worker-1"})

    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    request = pb.FileGrievanceRequest(
        category=grievance_pb2.GRIEVANCE_CATEGORY_WAGE_THEFT,
        channel=grievance_pb2.INTAKE_CHANNEL_HELPLINE,
        summary="x",
        location=common_pb2.LgdLocation(state_code="10", district_code="212"),
        subject=grievance_pb2.Subject(worker_id="worker-1"),
    )
    assert (
        code(lambda: api.stub.FileGrievance(request, metadata=grpc_metadata("caseworker")))
        == grpc.StatusCode.UNAVAILABLE
    )


def test_an_unknown_worker_is_a_422_naming_the_field_the_caller_used(api: Api) -> None:
    legacy = api.file("caseworker", worker_id="worker-404", subject=None)
    current = api.file("caseworker", subject={"worker_id": "worker-404"})

    assert [e["field"] for e in legacy.json()["errors"]] == ["worker_id"]
    assert [e["field"] for e in current.json()["errors"]] == ["subject.worker_id"]


def test_grpc_changes_and_reads_mirror_rest(api: Api) -> None:
    md = grpc_metadata("supervisor")
    grievance_id = api.filed()

    triaged = api.stub.TriageGrievance(
        pb.TriageGrievanceRequest(grievance_id=grievance_id, facts=grievance_pb2.TriageFacts(injury=True)), metadata=md
    ).grievance
    queue = api.stub.ListGrievances(pb.ListGrievancesRequest(), metadata=md).grievances
    timeline = api.stub.GetTimeline(pb.GetTimelineRequest(grievance_id=grievance_id), metadata=md).entries
    illegal = code(lambda: api.stub.StartWork(pb.StartWorkRequest(grievance_id=grievance_id), metadata=md))

    assert triaged.severity == grievance_pb2.SEVERITY_CRITICAL
    assert [g.grievance_id for g in queue] == [grievance_id]
    assert [e.action for e in timeline] == [grievance_pb2.TIMELINE_ACTION_FILED, grievance_pb2.TIMELINE_ACTION_TRIAGED]
    assert illegal == grpc.StatusCode.ABORTED


def test_statistics_suppress_small_cells_and_stay_in_the_callers_geography(api: Api) -> None:
    for i in range(6):
        api.file(category="trafficking" if i < 5 else "violence")

    stats = api.http.get("/v1/statistics/grievances", headers=bearer("public")).json()
    outside = api.http.get("/v1/statistics/grievances", params={"state_code": "27"}, headers=bearer("caseworker"))

    assert {c["key"]: c["count"] for c in stats["by_category"]["cells"]} == {"trafficking": 5, "violence": None}
    assert stats["by_category"]["total"] is None and stats["sla_breach_rate"] == 0.0
    assert outside.status_code == 200  # no state limit on this caseworker
    limited = caller_for(Role.CASEWORKER, states={"10"})
    with pytest.raises(InvalidArgument):
        api.g.statistics.grievances(limited, state_code="27")


def test_staff_find_a_case_by_its_reference_as_quoted_and_only_within_reach(api: Api) -> None:
    filed = api.file()
    grievance_id, reference = filed.json()["grievance_id"], filed.json()["reference"]
    as_quoted = reference.lower().replace("-", " ").replace("1", "l").replace("0", "o")
    api.g.audit.records.clear()

    found = api.http.get(f"/v1/grievances:by-reference/{as_quoted}", headers=bearer("caseworker"))
    over_grpc = api.stub.GetGrievanceByReference(
        pb.GetGrievanceByReferenceRequest(reference=reference), metadata=grpc_metadata("caseworker")
    ).grievance

    assert found.status_code == 200, found.text
    assert found.json()["grievance_id"] == over_grpc.grievance_id == grievance_id
    reads = [(r.action.value, r.resource_id, r.allowed) for r in api.g.audit.records]
    assert reads == [("read", grievance_id, True), ("read", grievance_id, True)]

    unknown = "GR-AAAAA-AAAAA" if reference != "GR-AAAAA-AAAAA" else "GR-BBBBB-BBBBB"
    outside = api.http.get(f"/v1/grievances:by-reference/{reference}", headers=bearer("other-cso"))
    absent = api.http.get(f"/v1/grievances:by-reference/{unknown}", headers=bearer("other-cso"))
    assert outside.status_code == absent.status_code == 404
    assert outside.json()["detail"] == absent.json()["detail"]
    assert api.g.audit.records[-1].allowed is False  # the attempt on a real case, refused, is on the trail
    assert api.http.get("/v1/grievances:by-reference/not-a-ref", headers=bearer("caseworker")).status_code == 422
    assert api.http.get(f"/v1/grievances:by-reference/{reference}", headers=bearer("employer")).status_code == 403
    denied = code(
        lambda: api.stub.GetGrievanceByReference(
            pb.GetGrievanceByReferenceRequest(reference=reference), metadata=grpc_metadata("other-cso")
        )
    )
    assert denied == grpc.StatusCode.NOT_FOUND
