from collections.abc import Sequence

import pytest

from mrc.access.v1 import access_pb2
from mrc.access.v1 import access_service_pb2 as pb
from mrc_access.adapters.bearer_auth import InsufficientScope, InvalidBearerToken
from mrc_access.domain.partner import PartnerKind
from mrc_access.entrypoints.grpc_api import AccessServicer
from mrc_access.entrypoints.http_api import audit_listings
from mrc_access.service_layer.administration import CreateClient, CreatePartner
from mrc_kernel.errors import InvalidArgument, NotFound, RateLimited, Unavailable
from mrc_kernel.roles import Role
from mrc_plumbing.auth.guard import CallerGuard
from mrc_plumbing.auth.rate_limit import SlidingWindowLimiter, WindowRule
from mrc_plumbing.events import EventDecoder
from tests.unit.access.fakes import OPERATOR, Platform, access_record


class FakeContext:
    """Only what the servicer reads; status codes are the interceptor's job (DomainError -> code)."""

    def __init__(self, metadata: Sequence[tuple[str, str]] = ()) -> None:
        self.metadata = tuple(metadata)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    def peer(self) -> str:
        return "ipv4:198.51.100.7:50123"


def servicer(platform: Platform) -> AccessServicer:
    return AccessServicer(platform.administration, platform.audit_trail, platform.verifier)


def as_operator(platform: Platform, **token_options: str) -> FakeContext:
    return FakeContext([("authorization", f"Bearer {platform.operator_token(**token_options)}")])


def test_partner_and_client_lifecycle_over_grpc() -> None:
    platform = Platform()
    api = servicer(platform)
    request = pb.CreatePartnerRequest(
        idempotency_key="k-1",
        name="Kiln Co",
        kind=access_pb2.PARTNER_KIND_EMPLOYER,
        state_codes=["10"],
        employer_id="emp-42",
    )
    partner = api.CreatePartner(request, as_operator(platform)).partner  # type: ignore[arg-type]
    assert api.CreatePartner(request, as_operator(platform)).partner == partner  # type: ignore[arg-type]
    got = api.GetPartner(pb.GetPartnerRequest(partner_id=partner.partner_id), as_operator(platform))  # type: ignore[arg-type]
    assert got.partner == partner and partner.employer_id == "emp-42"
    created = api.CreateClient(
        pb.CreateClientRequest(partner_id=partner.partner_id, roles=[access_pb2.ROLE_EMPLOYER]),
        as_operator(platform),  # type: ignore[arg-type]
    )
    assert created.client_secret and list(created.client.roles) == [access_pb2.ROLE_EMPLOYER]
    assert platform.tokens.issue(created.client.client_id, created.client_secret).access_token
    revoked = api.RevokeClient(
        pb.RevokeClientRequest(client_id=created.client.client_id),
        as_operator(platform),  # type: ignore[arg-type]
    )
    assert revoked.client.revoked


def test_unspecified_enums_are_invalid_arguments() -> None:
    platform = Platform()
    api = servicer(platform)
    with pytest.raises(InvalidArgument, match="kind"):
        api.CreatePartner(pb.CreatePartnerRequest(name="X"), as_operator(platform))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="roles"):
        api.CreateClient(
            pb.CreateClientRequest(partner_id="operators", roles=[access_pb2.ROLE_UNSPECIFIED]),
            as_operator(platform),  # type: ignore[arg-type]
        )


def test_calls_need_a_token_with_the_right_scope() -> None:
    platform = Platform()
    api = servicer(platform)
    with pytest.raises(InvalidBearerToken):
        api.GetPartner(pb.GetPartnerRequest(partner_id="operators"), FakeContext())  # type: ignore[arg-type]
    with pytest.raises(InvalidBearerToken):
        api.GetPartner(
            pb.GetPartnerRequest(partner_id="operators"),
            FakeContext([("authorization", "Bearer nope")]),  # type: ignore[arg-type]
        )
    with pytest.raises(InsufficientScope):
        api.ListAccessRecords(
            pb.ListAccessRecordsRequest(),
            as_operator(platform, scope="partners:admin"),  # type: ignore[arg-type]
        )
    with pytest.raises(InsufficientScope):
        api.GetPartner(
            pb.GetPartnerRequest(partner_id="operators"),
            as_operator(platform, scope="aggregates:read"),  # type: ignore[arg-type]
        )


def test_access_records_page_over_grpc() -> None:
    platform = Platform()
    for n in range(3):
        platform.audit_trail.record(access_record(n))
    auditors = platform.administration.create_partner(
        CreatePartner("Audit cell", PartnerKind.AUDITOR, (), (), "", caller_partner_id="operators"), OPERATOR
    ).partner
    issued = platform.administration.create_client(CreateClient(auditors.partner_id, (Role.AUDITOR,)), OPERATOR)
    token = platform.tokens.issue(issued.client.client_id, issued.client_secret).access_token
    context = FakeContext([("authorization", f"Bearer {token}")])
    api = servicer(platform)
    first = api.ListAccessRecords(pb.ListAccessRecordsRequest(resource_id="w-1", page_size=2), context)  # type: ignore[arg-type]
    assert [r.request_id for r in first.records] == ["r-2", "r-0"]  # r-0 and r-1 share an instant
    rest = api.ListAccessRecords(
        pb.ListAccessRecordsRequest(resource_id="w-1", page_size=2, page_token=first.next_page_token),
        context,  # type: ignore[arg-type]
    )
    assert [r.request_id for r in rest.records] == ["r-1"] and rest.next_page_token == ""


def test_grpc_callers_are_limited_and_their_address_recorded() -> None:
    platform = Platform()
    guard = CallerGuard(
        SlidingWindowLimiter("client", WindowRule(1000, 60)),
        failures_per_address=SlidingWindowLimiter("failures", WindowRule(2, 60)),
    )
    api = AccessServicer(platform.administration, platform.audit_trail, platform.verifier, guard=guard)
    platform.partners.audited.clear()
    request = pb.CreatePartnerRequest(name="Kiln Co", kind=access_pb2.PARTNER_KIND_CSO, state_codes=["10"])
    api.CreatePartner(request, as_operator(platform))  # type: ignore[arg-type]
    [event] = platform.partners.audited
    assert EventDecoder().decode(event).remote_address == "198.51.100.7"  # type: ignore[attr-defined]
    for _ in range(2):
        with pytest.raises(InvalidBearerToken):
            api.GetPartner(pb.GetPartnerRequest(partner_id="operators"), FakeContext([("authorization", "Bearer x")]))  # type: ignore[arg-type]
    with pytest.raises(RateLimited):
        api.GetPartner(pb.GetPartnerRequest(partner_id="operators"), as_operator(platform))  # type: ignore[arg-type]


def test_a_missing_partner_is_not_named_back() -> None:
    platform = Platform()
    with pytest.raises(NotFound) as raised:
        servicer(platform).GetPartner(pb.GetPartnerRequest(partner_id="x" * 5000), as_operator(platform))  # type: ignore[arg-type]
    assert "xxx" not in raised.value.detail


def test_grpc_audit_listings_share_the_concurrency_cap() -> None:
    platform = Platform()
    listings = audit_listings(total=1, per_caller=1)
    api = AccessServicer(platform.administration, platform.audit_trail, platform.verifier, listings=listings)
    auditors = platform.administration.create_partner(
        CreatePartner("Audit cell", PartnerKind.AUDITOR, (), (), "", caller_partner_id="operators"), OPERATOR
    ).partner
    issued = platform.administration.create_client(CreateClient(auditors.partner_id, (Role.AUDITOR,)), OPERATOR)
    token = platform.tokens.issue(issued.client.client_id, issued.client_secret).access_token
    context = FakeContext([("authorization", f"Bearer {token}")])
    with listings.slot("someone listing over REST"), pytest.raises(Unavailable):
        api.ListAccessRecords(pb.ListAccessRecordsRequest(), context)  # type: ignore[arg-type]
    assert api.ListAccessRecords(pb.ListAccessRecordsRequest(), context).next_page_token == ""  # type: ignore[arg-type]
