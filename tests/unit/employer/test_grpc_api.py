"""The servicer called directly; the shared interceptor that maps errors to status codes is tested in plumbing."""

from __future__ import annotations

from typing import Any

import pytest

from mrc.common.v1 import common_pb2
from mrc.employer.v1 import employer_pb2
from mrc.employer.v1 import employer_service_pb2 as pb
from mrc_employer.entrypoints.grpc_api import EmployerServicer
from mrc_employer.service_layer.registration import EmployerRegistrationService
from mrc_kernel.errors import InvalidArgument, NotFound
from mrc_kernel.roles import Role
from tests.support.auth import caller_for, grpc_auth, grpc_metadata, role_tokens

from .fakes import make_service

VERIFIER = role_tokens()
VERIFIER.add("operator-b", caller_for(Role.OPERATOR, partner_id="partner-b"))


class FakeContext:
    def __init__(self, token: str = "operator") -> None:
        self._metadata = grpc_metadata(token)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return "ipv4:127.0.0.1:50000"


def servicer_for(service: EmployerRegistrationService) -> EmployerServicer:
    return EmployerServicer(service, grpc_auth(VERIFIER))


def request(**overrides: Any) -> pb.RegisterEmployerRequest:
    values: dict[str, Any] = {
        "idempotency_key": "key-1",
        "legal_name": "Kaveri Constructions",
        "kind": employer_pb2.EMPLOYER_KIND_CONTRACTOR,
        "sector": "construction",
        "location": common_pb2.LgdLocation(state_code="10", district_code="188"),
    }
    values.update(overrides)
    return pb.RegisterEmployerRequest(**values)


def test_register_then_get() -> None:
    service, _, _, _ = make_service()
    servicer = servicer_for(service)

    registered = servicer.RegisterEmployer(request(), FakeContext()).employer  # type: ignore[arg-type]
    fetched = servicer.GetEmployer(
        pb.GetEmployerRequest(employer_id=registered.employer_id),
        FakeContext("caseworker"),  # type: ignore[arg-type]
    ).employer

    assert registered.kind == employer_pb2.EMPLOYER_KIND_CONTRACTOR
    assert registered.sector == "construction"
    assert fetched == registered


def test_a_retry_from_the_same_partner_returns_the_first_employer() -> None:
    service, repository, _, _ = make_service()
    servicer = servicer_for(service)

    first = servicer.RegisterEmployer(request(), FakeContext()).employer  # type: ignore[arg-type]
    again = servicer.RegisterEmployer(request(), FakeContext()).employer  # type: ignore[arg-type]
    other = servicer.RegisterEmployer(request(), FakeContext("operator-b")).employer  # type: ignore[arg-type]

    assert again == first
    assert other.employer_id != first.employer_id
    assert len(repository.events) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": employer_pb2.EMPLOYER_KIND_UNSPECIFIED}, "kind"),
        ({"sector": ""}, "sector"),
        ({"sector": "software"}, "sector"),
        ({"location": None}, "location.state_code"),
    ],
)
def test_unspecified_or_unknown_values_are_invalid(overrides: dict[str, Any], field: str) -> None:
    servicer = servicer_for(make_service()[0])

    with pytest.raises(InvalidArgument) as caught:
        servicer.RegisterEmployer(request(**overrides), FakeContext())  # type: ignore[arg-type]

    assert field in [v.field for v in caught.value.violations]


def test_get_needs_an_id_and_an_existing_employer() -> None:
    servicer = servicer_for(make_service()[0])
    context = FakeContext("caseworker")

    with pytest.raises(InvalidArgument):
        servicer.GetEmployer(pb.GetEmployerRequest(), context)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        servicer.GetEmployer(pb.GetEmployerRequest(employer_id="nope"), context)  # type: ignore[arg-type]
