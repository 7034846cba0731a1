"""Who may read eligibility, over REST and gRPC alike: tokens, scopes, audit (fail closed), rate limits.

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

from mrc.entitlements.v1 import eligibility_pb2
from mrc.entitlements.v1 import entitlements_service_pb2 as pb
from mrc.entitlements.v1 import entitlements_service_pb2_grpc as pb_grpc
from mrc_entitlements.entrypoints.grpc_api import EntitlementsServicer
from mrc_entitlements.entrypoints.http_api import eligibility_router
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_kernel.roles import Role
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from tests.support.auth import (
    GRPC_CODE_FOR_HTTP_STATUS,
    RecordingAudit,
    bearer,
    grpc_auth,
    grpc_metadata,
    http_auth,
    role_tokens,
    serve_grpc,
)

from .fakes import make_services

# Role -> status of reading a worker's eligibility. Written out rather than derived from the scopes.
EXPECTED_BY_ROLE = {
    Role.REGISTRAR: 200,
    Role.CASEWORKER: 200,
    Role.SUPERVISOR: 200,
    Role.HELPLINE_AGENT: 403,
    Role.EMPLOYER: 403,
    Role.AUDITOR: 403,
    Role.OPERATOR: 403,
    Role.PUBLIC: 403,
}
WORKER = "w-1"


@dataclass
class Platform:
    http: TestClient
    stub: pb_grpc.EntitlementsServiceStub
    audit: RecordingAudit
    consumer: EligibilityService

    def read(self, worker_id: str, token: str, **headers: str) -> Any:
        return self.http.get(f"/v1/eligibility/{worker_id}", headers={**bearer(token), **headers})

    def grpc_read(self, worker_id: str, token: str, **metadata: str) -> pb.GetEligibilityResponse:
        request = pb.GetEligibilityRequest(worker_id=worker_id)
        return self.stub.GetEligibility(request, metadata=grpc_metadata(token, **metadata))


@contextmanager
def running(limiter: RateLimiter | None = None) -> Iterator[Platform]:
    consumer, lookup, _, audit = make_services()
    consumer.worker_registered(WORKER, event_id="e-1", linkage_consented=True)
    verifier = role_tokens()
    app = create_http_app(service="entitlements", title="MRC Entitlements (test)")
    app.include_router(eligibility_router(lookup, http_auth(verifier, limiter)))
    servicer = EntitlementsServicer(lookup, grpc_auth(verifier, limiter))
    with serve_grpc(lambda server: pb_grpc.add_EntitlementsServiceServicer_to_server(servicer, server)) as channel:
        yield Platform(TestClient(app), pb_grpc.EntitlementsServiceStub(channel), audit, consumer)


@pytest.fixture
def platform() -> Iterator[Platform]:
    with running() as p:
        yield p


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
def test_rest_access_by_role(platform: Platform, role: Role, expected: int) -> None:
    assert platform.read(WORKER, role.value).status_code == expected


@pytest.mark.parametrize(("role", "expected"), EXPECTED_BY_ROLE.items(), ids=[r.value for r in EXPECTED_BY_ROLE])
def test_grpc_access_by_role(platform: Platform, role: Role, expected: int) -> None:
    assert grpc_code(lambda: platform.grpc_read(WORKER, role.value)) == GRPC_CODE_FOR_HTTP_STATUS[expected]


def test_a_read_returns_the_record_and_is_recorded(platform: Platform) -> None:
    response = platform.read(WORKER, "registrar", **{"X-Purpose": "registration"})
    message = platform.grpc_read(WORKER, "caseworker").eligibility

    assert response.status_code == 200
    assert response.json()["status"] == "pending_assessment"
    assert message.status == eligibility_pb2.ELIGIBILITY_STATUS_PENDING_ASSESSMENT
    assert [(r.resource_type, r.resource_id, r.allowed, r.caller.purpose) for r in platform.audit.records] == [
        ("eligibility", WORKER, True, "registration"),
        ("eligibility", WORKER, True, "entitlement_linkage"),
    ]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic cmVnaXN0cmFyOng="}],
    ids=["none", "unknown-token", "not-bearer"],
)
def test_rest_without_a_valid_token_is_401(platform: Platform, headers: dict[str, str]) -> None:
    response = platform.http.get(f"/v1/eligibility/{WORKER}", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert platform.audit.records == []


@pytest.mark.parametrize("token", ["", "forged"])
def test_grpc_without_a_valid_token_is_unauthenticated(platform: Platform, token: str) -> None:
    assert grpc_code(lambda: platform.grpc_read(WORKER, token)) == grpc.StatusCode.UNAUTHENTICATED


def test_without_the_scope_it_is_403_whether_or_not_the_worker_exists(platform: Platform) -> None:
    assert platform.read(WORKER, "helpline_agent").status_code == 403
    assert platform.read("w-unknown", "helpline_agent").status_code == 403
    assert grpc_code(lambda: platform.grpc_read("w-unknown", "employer")) == grpc.StatusCode.PERMISSION_DENIED


def test_an_unknown_worker_is_404(platform: Platform) -> None:
    assert platform.read("w-unknown", "caseworker").status_code == 404
    assert grpc_code(lambda: platform.grpc_read("w-unknown", "caseworker")) == grpc.StatusCode.NOT_FOUND


def test_a_record_without_linkage_consent_is_404_like_a_missing_one(platform: Platform) -> None:
    platform.consumer.consent_changed(WORKER, event_id="e-2", linkage_consented=False)

    response = platform.read(WORKER, "caseworker")

    assert response.status_code == 404
    assert "pending_assessment" not in response.text and "consent" not in response.text
    assert grpc_code(lambda: platform.grpc_read(WORKER, "caseworker")) == grpc.StatusCode.NOT_FOUND
    assert [(r.resource_id, r.allowed) for r in platform.audit.records] == [(WORKER, False), (WORKER, False)]


def test_a_read_fails_with_503_when_the_audit_path_is_down(platform: Platform) -> None:
    platform.audit.failing = True

    response = platform.read(WORKER, "caseworker")

    assert response.status_code == 503
    assert response.json()["type"].endswith("/unavailable")
    assert "pending_assessment" not in response.text
    assert rpc_error(lambda: platform.grpc_read(WORKER, "caseworker")).code() == grpc.StatusCode.UNAVAILABLE


def test_an_unknown_purpose_is_422_naming_purpose(platform: Platform) -> None:
    response = platform.read(WORKER, "caseworker", **{"X-Purpose": "marketing"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["purpose"]
    code = grpc_code(lambda: platform.grpc_read(WORKER, "caseworker", x_purpose="marketing"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_rest_rate_limit_is_429_with_retry_after() -> None:
    with running(RateLimiter(1, 1)) as platform:
        assert platform.read(WORKER, "caseworker").status_code == 200

        limited = platform.read(WORKER, "caseworker")

        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"


def test_grpc_rate_limit_is_resource_exhausted_with_retry_after() -> None:
    with running(RateLimiter(1, 1)) as platform:
        platform.grpc_read(WORKER, "caseworker")

        error = rpc_error(lambda: platform.grpc_read(WORKER, "caseworker"))

        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert ("retry-after", "1") in tuple(error.trailing_metadata() or ())
