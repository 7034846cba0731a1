"""Who may file and read grievances, over REST and gRPC alike: tokens, scopes, geography, audit, rate limits.

gRPC goes through a real in-process server with the shared interceptor, so the codes are those clients see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import grpc
import pytest
from fastapi.testclient import TestClient

from mrc.common.v1 import common_pb2
from mrc.grievance.v1 import grievance_pb2
from mrc.grievance.v1 import grievance_service_pb2 as pb
from mrc.grievance.v1 import grievance_service_pb2_grpc as pb_grpc
from mrc_grievance.entrypoints.grpc_api import GrievanceServicer
from mrc_grievance.entrypoints.http_api import grievances_router
from mrc_kernel.audit import Action
from mrc_kernel.roles import Role
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from tests.support.auth import (
    GRPC_CODE_FOR_HTTP_STATUS,
    RecordingAudit,
    bearer,
    caller_for,
    grpc_auth,
    grpc_metadata,
    http_auth,
    role_tokens,
    serve_grpc,
)

from .fakes import IN_ARARIA, IN_MAHARASHTRA, FakeGrievanceRepository, make_service

# Role -> (file, read). Written out rather than derived from the scopes, so a change to a role shows up here.
EXPECTED_BY_ROLE = {
    Role.REGISTRAR: (403, 403),
    Role.CASEWORKER: (201, 200),
    Role.SUPERVISOR: (201, 200),
    Role.HELPLINE_AGENT: (201, 200),
    Role.EMPLOYER: (403, 403),
    Role.AUDITOR: (403, 403),
    Role.OPERATOR: (403, 403),
    Role.PUBLIC: (403, 403),
}


@dataclass
class Platform:
    http: TestClient
    stub: pb_grpc.GrievanceServiceStub
    repository: FakeGrievanceRepository
    audit: RecordingAudit

    def file(self, token: str = "helpline_agent", **headers: str) -> Any:
        return self.http.post("/v1/grievances", json=body(), headers={**bearer(token), **headers})

    def filed_id(self) -> str:
        response = self.file()
        assert response.status_code == 201
        return str(response.json()["grievance_id"])

    def read(self, grievance_id: str, token: str, **headers: str) -> Any:
        return self.http.get(f"/v1/grievances/{grievance_id}", headers={**bearer(token), **headers})

    def grpc_file(self, token: str, **metadata: str) -> pb.FileGrievanceResponse:
        return self.stub.FileGrievance(grpc_request(), metadata=grpc_metadata(token, **metadata))

    def grpc_read(self, grievance_id: str, token: str, **metadata: str) -> pb.GetGrievanceResponse:
        request = pb.GetGrievanceRequest(grievance_id=grievance_id)
        return self.stub.GetGrievance(request, metadata=grpc_metadata(token, **metadata))


@contextmanager
def running(limiter: RateLimiter | None = None) -> Iterator[Platform]:
    service, repository, _, audit = make_service()
    verifier = role_tokens(employer=caller_for(Role.EMPLOYER, partner_id="brick-co", employer_id="employer-7"))
    verifier.add("maharashtra", IN_MAHARASHTRA)
    verifier.add("araria", IN_ARARIA)
    app = create_http_app(service="grievance", title="MRC Grievance (test)")
    app.include_router(grievances_router(service, http_auth(verifier, limiter)))
    servicer = GrievanceServicer(service, grpc_auth(verifier, limiter))
    with serve_grpc(lambda server: pb_grpc.add_GrievanceServiceServicer_to_server(servicer, server)) as channel:
        yield Platform(TestClient(app), pb_grpc.GrievanceServiceStub(channel), repository, audit)


@pytest.fixture
def platform() -> Iterator[Platform]:
    with running() as p:
        yield p


def body() -> dict[str, Any]:
    return {
        "worker_id": "worker-1",
        "category": "wage_theft",
        "channel": "helpline",
        "summary": "Contractor has not paid wages for six weeks.",
        "location": {"state_code": "10", "district_code": "188"},
        "employer_id": "employer-7",
    }


def grpc_request() -> pb.FileGrievanceRequest:
    return pb.FileGrievanceRequest(
        worker_id="worker-1",
        category=grievance_pb2.GRIEVANCE_CATEGORY_WAGE_THEFT,
        channel=grievance_pb2.INTAKE_CHANNEL_HELPLINE,
        summary="Contractor has not paid wages for six weeks.",
        location=common_pb2.LgdLocation(state_code="10", district_code="188"),
        employer_id="employer-7",
    )


def rpc_error(call: Callable[[], object]) -> grpc.Call:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return cast(grpc.Call, caught.value)


def grpc_code(call: Callable[[], object]) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as error:
        return cast(grpc.Call, error).code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize(("role", "expected"), EXPECTED_BY_ROLE.items(), ids=[r.value for r in EXPECTED_BY_ROLE])
def test_rest_access_by_role(platform: Platform, role: Role, expected: tuple[int, int]) -> None:
    existing = platform.filed_id()

    assert (platform.file(role.value).status_code, platform.read(existing, role.value).status_code) == expected


@pytest.mark.parametrize(("role", "expected"), EXPECTED_BY_ROLE.items(), ids=[r.value for r in EXPECTED_BY_ROLE])
def test_grpc_access_by_role(platform: Platform, role: Role, expected: tuple[int, int]) -> None:
    existing = platform.filed_id()

    codes = (
        grpc_code(lambda: platform.grpc_file(role.value)),
        grpc_code(lambda: platform.grpc_read(existing, role.value)),
    )
    assert codes == tuple(GRPC_CODE_FOR_HTTP_STATUS[status] for status in expected)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic aGVscGxpbmU6eA=="}, {"Authorization": "Bearer "}],
    ids=["none", "unknown-token", "not-bearer", "empty"],
)
def test_rest_without_a_valid_token_is_401(platform: Platform, headers: dict[str, str]) -> None:
    existing = platform.filed_id()

    for response in (
        platform.http.post("/v1/grievances", json=body(), headers=headers),
        platform.http.get(f"/v1/grievances/{existing}", headers=headers),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "worker-1" not in response.text


@pytest.mark.parametrize("token", ["", "forged"])
def test_grpc_without_a_valid_token_is_unauthenticated(platform: Platform, token: str) -> None:
    existing = platform.filed_id()

    assert grpc_code(lambda: platform.grpc_file(token)) == grpc.StatusCode.UNAUTHENTICATED
    assert grpc_code(lambda: platform.grpc_read(existing, token)) == grpc.StatusCode.UNAUTHENTICATED


def test_an_employer_token_never_reaches_a_grievance(platform: Platform) -> None:
    # Even the grievance filed against this very employer.
    existing = platform.filed_id()

    assert platform.file("employer").status_code == 403
    assert platform.read(existing, "employer").status_code == 403
    assert platform.read("does-not-exist", "employer").status_code == 403
    assert grpc_code(lambda: platform.grpc_file("employer")) == grpc.StatusCode.PERMISSION_DENIED
    assert grpc_code(lambda: platform.grpc_read(existing, "employer")) == grpc.StatusCode.PERMISSION_DENIED
    assert platform.audit.records == []


def test_rest_outside_the_geography_is_indistinguishable_from_missing(platform: Platform) -> None:
    existing = platform.filed_id()
    missing = "00000000-0000-0000-0000-000000000000"

    outside = platform.read(existing, "maharashtra")
    absent = platform.read(missing, "maharashtra")

    assert outside.status_code == absent.status_code == 404
    assert outside.headers["content-type"] == absent.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert outside.text.replace(existing, "<id>") == absent.text.replace(missing, "<id>")
    assert platform.read(existing, "araria").status_code == 200


def test_grpc_outside_the_geography_is_indistinguishable_from_missing(platform: Platform) -> None:
    existing = platform.filed_id()
    missing = "00000000-0000-0000-0000-000000000000"

    outside = rpc_error(lambda: platform.grpc_read(existing, "maharashtra"))
    absent = rpc_error(lambda: platform.grpc_read(missing, "maharashtra"))

    assert outside.code() == absent.code() == grpc.StatusCode.NOT_FOUND
    assert outside.details().replace(existing, "<id>") == absent.details().replace(missing, "<id>")
    assert platform.grpc_read(existing, "araria").grievance.grievance_id == existing


def test_denied_reads_are_recorded_as_denied(platform: Platform) -> None:
    existing = platform.filed_id()

    platform.read(existing, "maharashtra")
    platform.grpc_read(existing, "araria")

    assert [(r.caller.client_id, r.allowed) for r in platform.audit.records] == [
        (IN_MAHARASHTRA.client_id, False),
        (IN_ARARIA.client_id, True),
    ]


def test_writes_store_their_audit_event_and_reads_are_recorded(platform: Platform) -> None:
    existing = platform.filed_id()
    platform.grpc_file("caseworker")

    assert [m.resource_type for m in platform.repository.audit_messages()] == ["grievance", "grievance"]
    assert platform.audit.records == []

    platform.read(existing, "caseworker", **{"X-Purpose": "case_management", "X-Request-Id": "req-7"})
    platform.grpc_read(existing, "supervisor")

    rest, rpc = platform.audit.records
    assert (rest.action, rest.resource_id, rest.allowed) == (Action.READ, existing, True)
    assert (rest.caller.purpose, rest.caller.request_id, rest.caller.remote_address) == (
        "case_management",
        "req-7",
        "testclient",
    )
    assert (rpc.caller.client_id, rpc.caller.purpose, rpc.caller.remote_address) == (
        "supervisor-client",
        "grievance_follow_up",
        "127.0.0.1",
    )


def test_a_read_fails_with_503_when_the_audit_path_is_down(platform: Platform) -> None:
    existing = platform.filed_id()
    platform.audit.failing = True

    response = platform.read(existing, "caseworker")

    assert response.status_code == 503
    assert response.json()["type"].endswith("/unavailable")
    assert "Contractor" not in response.text
    assert grpc_code(lambda: platform.grpc_read(existing, "caseworker")) == grpc.StatusCode.UNAVAILABLE
    # Writes carry their audit event in the outbox, so they do not depend on the audit path being up now.
    assert platform.file().status_code == 201


def test_an_unknown_purpose_is_422_naming_purpose(platform: Platform) -> None:
    existing = platform.filed_id()

    response = platform.read(existing, "caseworker", **{"X-Purpose": "marketing"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["purpose"]
    assert platform.file(**{"X-Purpose": "marketing"}).status_code == 422
    code = grpc_code(lambda: platform.grpc_read(existing, "caseworker", x_purpose="marketing"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_rest_rate_limit_is_429_with_retry_after() -> None:
    with running(RateLimiter(1, 1)) as platform:
        assert platform.file().status_code == 201

        limited = platform.file()

        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"
        assert limited.json()["type"].endswith("/rate-limited")
        # Limits are per client: another client is not held back.
        assert platform.file("caseworker").status_code == 201


def test_grpc_rate_limit_is_resource_exhausted_with_retry_after() -> None:
    with running(RateLimiter(1, 1)) as platform:
        platform.grpc_file("helpline_agent")

        error = rpc_error(lambda: platform.grpc_file("helpline_agent"))

        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert ("retry-after", "1") in tuple(error.trailing_metadata() or ())
