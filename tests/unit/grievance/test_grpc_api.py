"""The servicer called directly; the shared interceptor that maps errors to status codes is tested in plumbing."""

from __future__ import annotations

from typing import Any

import pytest

from mrc.common.v1 import common_pb2
from mrc.grievance.v1 import grievance_pb2
from mrc.grievance.v1 import grievance_service_pb2 as pb
from mrc_grievance.entrypoints.grpc_api import GrievanceServicer
from mrc_grievance.service_layer.filing import FilingService
from mrc_kernel.errors import InvalidArgument, NotFound
from mrc_kernel.roles import Role
from tests.support.auth import caller_for, grpc_auth, grpc_metadata, role_tokens

from .fakes import make_service

VERIFIER = role_tokens()
VERIFIER.add("helpline-b", caller_for(Role.HELPLINE_AGENT, partner_id="partner-b"))


class FakeContext:
    def __init__(self, token: str = "helpline_agent") -> None:
        self._metadata = grpc_metadata(token)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return "ipv4:127.0.0.1:50000"


def servicer_for(service: FilingService) -> GrievanceServicer:
    return GrievanceServicer(service, grpc_auth(VERIFIER))


def request(**overrides: Any) -> pb.FileGrievanceRequest:
    values: dict[str, Any] = {
        "idempotency_key": "key-1",
        "worker_id": "worker-1",
        "category": grievance_pb2.GRIEVANCE_CATEGORY_UNSAFE_WORK,
        "channel": grievance_pb2.INTAKE_CHANNEL_FIELD,
        "summary": "No harness on the scaffolding.",
        "location": common_pb2.LgdLocation(state_code="10", district_code="188"),
    }
    values.update(overrides)
    return pb.FileGrievanceRequest(**values)


def test_file_then_get() -> None:
    service, _, _, _ = make_service()
    servicer = servicer_for(service)

    filed = servicer.FileGrievance(request(), FakeContext()).grievance  # type: ignore[arg-type]
    fetched = servicer.GetGrievance(
        pb.GetGrievanceRequest(grievance_id=filed.grievance_id),
        FakeContext("caseworker"),  # type: ignore[arg-type]
    ).grievance

    assert filed.status == grievance_pb2.GRIEVANCE_STATUS_OPEN
    assert filed.category == grievance_pb2.GRIEVANCE_CATEGORY_UNSAFE_WORK
    assert fetched == filed


def test_a_retry_from_the_same_partner_returns_the_first_grievance() -> None:
    service, repository, _, _ = make_service()
    servicer = servicer_for(service)

    first = servicer.FileGrievance(request(), FakeContext()).grievance  # type: ignore[arg-type]
    again = servicer.FileGrievance(request(), FakeContext()).grievance  # type: ignore[arg-type]
    other = servicer.FileGrievance(request(), FakeContext("helpline-b")).grievance  # type: ignore[arg-type]

    assert again == first
    assert other.grievance_id != first.grievance_id
    assert len(repository.events) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": grievance_pb2.GRIEVANCE_CATEGORY_UNSPECIFIED}, "category"),
        ({"channel": grievance_pb2.INTAKE_CHANNEL_UNSPECIFIED}, "channel"),
        ({"location": None}, "location.state_code"),
    ],
)
def test_unspecified_values_are_invalid(overrides: dict[str, Any], field: str) -> None:
    servicer = servicer_for(make_service()[0])

    with pytest.raises(InvalidArgument) as caught:
        servicer.FileGrievance(request(**overrides), FakeContext())  # type: ignore[arg-type]

    assert field in [v.field for v in caught.value.violations]


def test_get_needs_an_id_and_an_existing_grievance() -> None:
    servicer = servicer_for(make_service()[0])
    context = FakeContext("caseworker")

    with pytest.raises(InvalidArgument):
        servicer.GetGrievance(pb.GetGrievanceRequest(), context)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        servicer.GetGrievance(pb.GetGrievanceRequest(grievance_id="nope"), context)  # type: ignore[arg-type]
