"""Who may register and read employers, over REST and gRPC alike: tokens, scopes, own record, geography, audit.

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
from mrc.employer.v1 import employer_pb2
from mrc.employer.v1 import employer_service_pb2 as pb
from mrc.employer.v1 import employer_service_pb2_grpc as pb_grpc
from mrc_employer.entrypoints.grpc_api import EmployerServicer
from mrc_employer.entrypoints.http_api import employers_router
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

from .fakes import BRICK_CO, IN_MAHARASHTRA, FakeEmployerRepository, make_service

# Role -> (register, read the employer `brick-co`). Employers read only their own record; `brick-co` is
# the employer token's own. Written out rather than derived from the scopes.
EXPECTED_BY_ROLE = {
    Role.REGISTRAR: (403, 200),
    Role.CASEWORKER: (403, 200),
    Role.SUPERVISOR: (403, 200),
    Role.HELPLINE_AGENT: (403, 200),
    Role.EMPLOYER: (201, 200),
    Role.AUDITOR: (403, 403),
    Role.OPERATOR: (201, 200),
    Role.PUBLIC: (403, 403),
}
OWN_KEY = {"Idempotency-Key": "own-record"}


@dataclass
class Platform:
    http: TestClient
    stub: pb_grpc.EmployerServiceStub
    repository: FakeEmployerRepository
    audit: RecordingAudit

    def register(self, token: str = "operator", **headers: str) -> Any:
        return self.http.post("/v1/employers", json=body(), headers={**bearer(token), **headers})

    def registered_id(self) -> str:
        response = self.register()
        assert response.status_code == 201
        return str(response.json()["employer_id"])

    def own_record(self) -> str:
        """The employer token's own record (a replay if the test registered it already)."""
        response = self.register("employer", **OWN_KEY)
        assert response.status_code == 201
        return str(response.json()["employer_id"])

    def read(self, employer_id: str, token: str, **headers: str) -> Any:
        return self.http.get(f"/v1/employers/{employer_id}", headers={**bearer(token), **headers})

    def grpc_register(self, token: str, key: str = "", **metadata: str) -> pb.RegisterEmployerResponse:
        return self.stub.RegisterEmployer(grpc_request(key), metadata=grpc_metadata(token, **metadata))

    def grpc_read(self, employer_id: str, token: str, **metadata: str) -> pb.GetEmployerResponse:
        request = pb.GetEmployerRequest(employer_id=employer_id)
        return self.stub.GetEmployer(request, metadata=grpc_metadata(token, **metadata))


@contextmanager
def running(limiter: RateLimiter | None = None) -> Iterator[Platform]:
    service, repository, _, audit = make_service()
    verifier = role_tokens(employer=BRICK_CO)
    verifier.add("maharashtra", IN_MAHARASHTRA)
    app = create_http_app(service="employer", title="MRC Employer (test)")
    app.include_router(employers_router(service, http_auth(verifier, limiter)))
    servicer = EmployerServicer(service, grpc_auth(verifier, limiter))
    with serve_grpc(lambda server: pb_grpc.add_EmployerServiceServicer_to_server(servicer, server)) as channel:
        yield Platform(TestClient(app), pb_grpc.EmployerServiceStub(channel), repository, audit)


@pytest.fixture
def platform() -> Iterator[Platform]:
    with running() as p:
        yield p


def body() -> dict[str, Any]:
    return {
        "legal_name": "Shree Ganesh Bricks Pvt Ltd",
        "kind": "principal_employer",
        "sector": "brick_kiln",
        "location": {"state_code": "10", "district_code": "188"},
    }


def grpc_request(key: str = "") -> pb.RegisterEmployerRequest:
    return pb.RegisterEmployerRequest(
        idempotency_key=key,
        legal_name="Shree Ganesh Bricks Pvt Ltd",
        kind=employer_pb2.EMPLOYER_KIND_PRINCIPAL_EMPLOYER,
        sector="brick_kiln",
        location=common_pb2.LgdLocation(state_code="10", district_code="188"),
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
    registered = platform.register(role.value, **OWN_KEY).status_code
    own = platform.own_record()

    assert (registered, platform.read(own, role.value).status_code) == expected


@pytest.mark.parametrize(("role", "expected"), EXPECTED_BY_ROLE.items(), ids=[r.value for r in EXPECTED_BY_ROLE])
def test_grpc_access_by_role(platform: Platform, role: Role, expected: tuple[int, int]) -> None:
    registered = grpc_code(lambda: platform.grpc_register(role.value, key=OWN_KEY["Idempotency-Key"]))
    own = platform.own_record()

    read = grpc_code(lambda: platform.grpc_read(own, role.value))
    assert (registered, read) == tuple(GRPC_CODE_FOR_HTTP_STATUS[status] for status in expected)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic b3BlcmF0b3I6eA=="}],
    ids=["none", "unknown-token", "not-bearer"],
)
def test_rest_without_a_valid_token_is_401(platform: Platform, headers: dict[str, str]) -> None:
    existing = platform.registered_id()

    for response in (
        platform.http.post("/v1/employers", json=body(), headers=headers),
        platform.http.get(f"/v1/employers/{existing}", headers=headers),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["", "forged"])
def test_grpc_without_a_valid_token_is_unauthenticated(platform: Platform, token: str) -> None:
    existing = platform.registered_id()

    assert grpc_code(lambda: platform.grpc_register(token)) == grpc.StatusCode.UNAUTHENTICATED
    assert grpc_code(lambda: platform.grpc_read(existing, token)) == grpc.StatusCode.UNAUTHENTICATED


def test_an_employer_registers_once_under_its_own_id(platform: Platform) -> None:
    first = platform.register("employer", **OWN_KEY)
    again = platform.register("employer", **{"Idempotency-Key": "another"})

    assert first.json()["employer_id"] == "brick-co"
    assert again.status_code == 409
    assert grpc_code(lambda: platform.grpc_register("employer", key="third")) == grpc.StatusCode.ALREADY_EXISTS
    assert list(platform.repository.employers) == ["brick-co"]


def test_rest_another_employers_record_is_indistinguishable_from_missing(platform: Platform) -> None:
    platform.own_record()
    other = platform.registered_id()
    missing = "00000000-0000-0000-0000-000000000000"

    not_own = platform.read(other, "employer")
    absent = platform.read(missing, "employer")

    assert not_own.status_code == absent.status_code == 404
    assert not_own.headers["content-type"] == absent.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert not_own.text.replace(other, "<id>") == absent.text.replace(missing, "<id>")


def test_grpc_another_employers_record_is_indistinguishable_from_missing(platform: Platform) -> None:
    platform.own_record()
    other = platform.registered_id()
    missing = "00000000-0000-0000-0000-000000000000"

    not_own = rpc_error(lambda: platform.grpc_read(other, "employer"))
    absent = rpc_error(lambda: platform.grpc_read(missing, "employer"))

    assert not_own.code() == absent.code() == grpc.StatusCode.NOT_FOUND
    assert not_own.details().replace(other, "<id>") == absent.details().replace(missing, "<id>")
    assert platform.grpc_read("brick-co", "employer").employer.employer_id == "brick-co"


def test_outside_the_geography_is_indistinguishable_from_missing(platform: Platform) -> None:
    existing = platform.registered_id()
    missing = "00000000-0000-0000-0000-000000000000"

    outside, absent = platform.read(existing, "maharashtra"), platform.read(missing, "maharashtra")
    assert outside.status_code == absent.status_code == 404
    assert outside.text.replace(existing, "<id>") == absent.text.replace(missing, "<id>")

    grpc_outside = rpc_error(lambda: platform.grpc_read(existing, "maharashtra"))
    grpc_absent = rpc_error(lambda: platform.grpc_read(missing, "maharashtra"))
    assert grpc_outside.code() == grpc_absent.code() == grpc.StatusCode.NOT_FOUND
    assert grpc_outside.details().replace(existing, "<id>") == grpc_absent.details().replace(missing, "<id>")


def test_writes_store_their_audit_event_and_reads_are_not_audited(platform: Platform) -> None:
    existing = platform.registered_id()
    platform.grpc_register("employer")
    platform.audit.failing = True  # reads of organisations do not depend on the audit path

    assert platform.read(existing, "caseworker").status_code == 200
    assert platform.grpc_read(existing, "caseworker").employer.employer_id == existing

    messages = platform.repository.audit_messages()
    assert [(m.resource_type, m.resource_id, m.actor.client_id) for m in messages] == [
        ("employer", existing, "operator-client"),
        ("employer", "brick-co", BRICK_CO.client_id),
    ]
    assert platform.audit.records == []


def test_an_unknown_purpose_is_422_naming_purpose(platform: Platform) -> None:
    existing = platform.registered_id()

    response = platform.read(existing, "caseworker", **{"X-Purpose": "marketing"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["purpose"]
    assert platform.register(**{"X-Purpose": "marketing"}).status_code == 422
    code = grpc_code(lambda: platform.grpc_read(existing, "caseworker", x_purpose="marketing"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_rest_rate_limit_is_429_with_retry_after() -> None:
    with running(RateLimiter(1, 1)) as platform:
        assert platform.register().status_code == 201

        limited = platform.register()

        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"


def test_grpc_rate_limit_is_resource_exhausted_with_retry_after() -> None:
    with running(RateLimiter(1, 1)) as platform:
        platform.grpc_register("operator")

        error = rpc_error(lambda: platform.grpc_register("operator"))

        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert ("retry-after", "1") in tuple(error.trailing_metadata() or ())
