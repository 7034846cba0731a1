"""mrc.registry.v1.RegistryService on a real in-process gRPC server behind the shared interceptor,
so the status codes are those clients see."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import registry_service_pb2 as pb
from mrc.registry.v1 import registry_service_pb2_grpc as pb_grpc
from mrc.registry.v1 import worker_pb2
from mrc_kernel.roles import Role
from mrc_plumbing.auth.grpc import GrpcAuth
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_registry.entrypoints.grpc_api import RegistryServicer
from tests.support.auth import StaticVerifier, caller_for, grpc_metadata, serve_grpc

from .fakes import AADHAAR, BAD_AADHAAR, CASEWORKER_B, REGISTRAR_B, Registry, make_registry

TOKENS = {role.value: caller_for(role) for role in Role} | {"registrar-b": REGISTRAR_B, "caseworker-b": CASEWORKER_B}


@dataclass
class Rpc:
    stub: pb_grpc.RegistryServiceStub
    registry: Registry

    def register(self, token: str = "registrar", **overrides: Any) -> pb.RegisterWorkerResponse:
        return self.stub.RegisterWorker(register_request(**overrides), metadata=grpc_metadata(token))

    def registered_id(self, **overrides: Any) -> str:
        return str(self.register(**overrides).worker.worker_id)

    def get(self, worker_id: str, token: str = "caseworker") -> pb.GetWorkerResponse:
        return self.stub.GetWorker(pb.GetWorkerRequest(worker_id=worker_id), metadata=grpc_metadata(token))


@pytest.fixture
def rpc() -> Iterator[Rpc]:
    registry = make_registry()
    servicer = RegistryServicer(registry.workers, GrpcAuth(StaticVerifier(TOKENS), RateLimiter(0, 0)))
    with serve_grpc(lambda server: pb_grpc.add_RegistryServiceServicer_to_server(servicer, server)) as channel:
        yield Rpc(pb_grpc.RegistryServiceStub(channel), registry)


def register_request(**overrides: Any) -> pb.RegisterWorkerRequest:
    values: dict[str, Any] = {
        "idempotency_key": "key-1",
        "full_name": "Ravi Kumar",
        "gender": worker_pb2.GENDER_MALE,
        "birth_year": 1990,
        "home": common_pb2.LgdLocation(state_code="10", district_code="212", village_name="Phulwari"),
        "occupation": "mason",
        "sector": "construction",
        "phone": "+91 98765 43210",
        "father_or_spouse_name": "Shyam Kumar",
        "identity_documents": [
            worker_pb2.IdentityDocumentInput(kind=worker_pb2.IDENTITY_DOCUMENT_KIND_AADHAAR, number=AADHAAR)
        ],
        "consent": worker_pb2.ConsentInput(
            purposes=[worker_pb2.CONSENT_PURPOSE_REGISTRATION],
            method=worker_pb2.CONSENT_CAPTURE_METHOD_THUMBPRINT,
        ),
    }
    values.update(overrides)
    return pb.RegisterWorkerRequest(**values)


def rpc_error(call: Callable[[], object]) -> grpc.Call:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return cast(grpc.Call, caught.value)


# -- authentication and scopes -------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "forged"])
def test_a_call_without_a_valid_token_is_unauthenticated(rpc: Rpc, token: str) -> None:
    error = rpc_error(lambda: rpc.register(token))

    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert rpc.registry.repository.workers == {}


def test_a_token_without_the_scope_is_permission_denied(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()

    assert rpc_error(lambda: rpc.register("auditor")).code() is grpc.StatusCode.PERMISSION_DENIED
    assert rpc_error(lambda: rpc.get(worker_id, "helpline_agent")).code() is grpc.StatusCode.PERMISSION_DENIED
    erase = pb.EraseWorkerRequest(worker_id=worker_id, reason="asked")
    error = rpc_error(lambda: rpc.stub.EraseWorker(erase, metadata=grpc_metadata("caseworker")))
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED


# -- every RPC -----------------------------------------------------------------------------------


def test_register_then_get(rpc: Rpc) -> None:
    registered = rpc.register().worker
    fetched = rpc.get(registered.worker_id).worker

    assert registered.full_name == "Ravi Kumar"
    assert registered.latin_name == "ravi kumar"
    assert registered.phone == "+919876543210"
    assert [d.masked_number for d in registered.identity_documents] == ["XXXX XXXX 0124"]
    assert registered.status == worker_pb2.WORKER_STATUS_ACTIVE
    assert registered.version == 1
    assert fetched == registered


def test_a_retry_returns_the_first_worker(rpc: Rpc) -> None:
    first = rpc.register().worker
    again = rpc.register().worker

    assert again == first
    assert len(rpc.registry.repository.workers) == 1


def test_register_reports_possible_duplicates(rpc: Rpc) -> None:
    first = rpc.registered_id(identity_documents=[])

    second = rpc.register(idempotency_key="key-2", full_name="Ravi Kumaar", phone="", father_or_spouse_name="")

    assert [c.worker_id for c in second.possible_duplicates] == [first]
    assert second.possible_duplicates[0].score >= 0.75


def test_update_changes_only_the_masked_fields(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()
    request = pb.UpdateWorkerRequest(
        worker_id=worker_id,
        worker=worker_pb2.Worker(occupation="tiler", full_name="ignored"),
        update_mask=FieldMask(paths=["occupation"]),
        expected_version=1,
    )

    updated = rpc.stub.UpdateWorker(request, metadata=grpc_metadata("caseworker")).worker
    stale = rpc_error(lambda: rpc.stub.UpdateWorker(request, metadata=grpc_metadata("caseworker")))

    assert (updated.occupation, updated.full_name, updated.version) == ("tiler", "Ravi Kumar", 2)
    assert updated.phone == "+919876543210"
    assert stale.code() is grpc.StatusCode.ABORTED


def test_update_removes_the_phone_and_adds_documents(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()
    voter_id = worker_pb2.IdentityDocumentInput(kind=worker_pb2.IDENTITY_DOCUMENT_KIND_VOTER_ID, number="ABC1234567")
    request = pb.UpdateWorkerRequest(
        worker_id=worker_id, update_mask=FieldMask(paths=["phone"]), identity_documents=[voter_id]
    )

    updated = rpc.stub.UpdateWorker(request, metadata=grpc_metadata("caseworker")).worker

    assert updated.phone == ""
    assert [d.kind for d in updated.identity_documents] == [
        worker_pb2.IDENTITY_DOCUMENT_KIND_AADHAAR,
        worker_pb2.IDENTITY_DOCUMENT_KIND_VOTER_ID,
    ]


def test_search_finds_by_phone_and_pages(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()

    found = rpc.stub.SearchWorkers(
        pb.SearchWorkersRequest(phone="98765 43210", page=common_pb2.PageRequest(page_size=10)),
        metadata=grpc_metadata("caseworker"),
    )

    assert [w.worker_id for w in found.workers] == [worker_id]
    assert found.workers[0].phone == "+919876543210"
    assert found.page.next_page_token == ""
    by_document = rpc.stub.SearchWorkers(
        pb.SearchWorkersRequest(
            identity_document=worker_pb2.IdentityDocumentInput(
                kind=worker_pb2.IDENTITY_DOCUMENT_KIND_AADHAAR, number=AADHAAR
            )
        ),
        metadata=grpc_metadata("caseworker"),
    )
    assert [w.worker_id for w in by_document.workers] == [worker_id]


def test_consent_is_granted_and_revoked(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()
    sharing = worker_pb2.ConsentInput(
        purposes=[worker_pb2.CONSENT_PURPOSE_PARTNER_SHARING],
        method=worker_pb2.CONSENT_CAPTURE_METHOD_SIGNATURE,
        shared_with_partner_ids=["partner-b"],
    )

    granted = rpc.stub.GrantConsent(
        pb.GrantConsentRequest(worker_id=worker_id, consent=sharing, idempotency_key="c-1"),
        metadata=grpc_metadata("registrar"),
    ).worker
    request = pb.GetWorkerRequest(worker_id=worker_id)
    as_sharing = grpc_metadata("caseworker-b", x_purpose="sharing")
    shared = rpc.stub.GetWorker(request, metadata=as_sharing).worker
    assert shared.worker_id == worker_id
    assert (shared.full_name, shared.phone, list(shared.identity_documents)) == ("Ravi Kumar", "", [])
    assert rpc_error(lambda: rpc.get(worker_id, "caseworker-b")).code() is grpc.StatusCode.NOT_FOUND

    consent_id = granted.consents[-1].consent_id
    revoked = rpc.stub.RevokeConsent(
        pb.RevokeConsentRequest(worker_id=worker_id, consent_id=consent_id), metadata=grpc_metadata("registrar")
    ).worker

    assert revoked.consents[-1].HasField("revoked_at")
    error = rpc_error(lambda: rpc.stub.GetWorker(request, metadata=as_sharing))
    assert error.code() is grpc.StatusCode.NOT_FOUND


def test_registering_another_partners_worker_returns_a_link_request_and_none_of_their_data(rpc: Rpc) -> None:
    existing = rpc.registered_id()

    response = rpc.register("registrar-b", full_name="R. Kumar", phone="", father_or_spouse_name="")

    assert response.HasField("link_request") and response.link_request.can_send_code
    assert not response.linked_to_existing and list(response.possible_duplicates) == []
    own = response.worker
    assert own.worker_id != existing
    assert (own.full_name, own.registering_partner_id, own.phone) == ("R. Kumar", REGISTRAR_B.partner_id, "")
    assert existing.encode() not in response.SerializeToString()
    assert rpc_error(lambda: rpc.get(existing, "caseworker-b")).code() is grpc.StatusCode.NOT_FOUND


def test_erase_then_the_worker_is_not_found(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()

    response = rpc.stub.EraseWorker(
        pb.EraseWorkerRequest(worker_id=worker_id, reason="asked at the helpdesk"), metadata=grpc_metadata("supervisor")
    )

    assert response.worker_id == worker_id
    assert rpc_error(lambda: rpc.get(worker_id, "supervisor")).code() is grpc.StatusCode.NOT_FOUND


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"gender": worker_pb2.GENDER_UNSPECIFIED}, "gender"),
        ({"sector": "space"}, "sector"),
        (
            {
                "identity_documents": [
                    worker_pb2.IdentityDocumentInput(kind=worker_pb2.IDENTITY_DOCUMENT_KIND_AADHAAR, number=BAD_AADHAAR)
                ]
            },
            "identity_documents.0.number",
        ),
        ({"identity_documents": [worker_pb2.IdentityDocumentInput(number="x")]}, "identity_documents.0.kind"),
        ({"consent": worker_pb2.ConsentInput(purposes=[worker_pb2.CONSENT_PURPOSE_REGISTRATION])}, "consent.method"),
        (
            {
                "consent": worker_pb2.ConsentInput(
                    purposes=[worker_pb2.CONSENT_PURPOSE_ENTITLEMENT_LINKAGE],
                    method=worker_pb2.CONSENT_CAPTURE_METHOD_DIGITAL,
                )
            },
            "consent.purposes",
        ),
        ({"home": common_pb2.LgdLocation(state_code="10", district_code="490")}, "home.district_code"),
    ],
)
def test_invalid_registrations_are_invalid_argument_naming_the_field(
    rpc: Rpc, overrides: dict[str, Any], field: str
) -> None:
    error = rpc_error(lambda: rpc.register(**overrides))

    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field in (error.details() or "")
    assert rpc.registry.repository.workers == {}


def test_invalid_requests_to_other_rpcs_are_invalid_argument(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()
    metadata = grpc_metadata("caseworker")

    calls: dict[str, Callable[[], object]] = {
        "worker_id": lambda: rpc.get(""),
        "update_mask": lambda: rpc.stub.UpdateWorker(pb.UpdateWorkerRequest(worker_id=worker_id), metadata=metadata),
        "registering_partner_id": lambda: rpc.stub.UpdateWorker(
            pb.UpdateWorkerRequest(worker_id=worker_id, update_mask=FieldMask(paths=["registering_partner_id"])),
            metadata=metadata,
        ),
        "query": lambda: rpc.stub.SearchWorkers(pb.SearchWorkersRequest(), metadata=metadata),
        "page_token": lambda: rpc.stub.SearchWorkers(
            pb.SearchWorkersRequest(district_code="212", page=common_pb2.PageRequest(page_token="not a token")),
            metadata=metadata,
        ),
        "reason": lambda: rpc.stub.EraseWorker(
            pb.EraseWorkerRequest(worker_id=worker_id), metadata=grpc_metadata("supervisor")
        ),
    }
    for field, call in calls.items():
        error = rpc_error(call)

        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in (error.details() or ""), field


def test_a_worker_the_caller_may_not_see_is_not_found_like_a_missing_one(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()

    hidden = rpc_error(lambda: rpc.get(worker_id, "caseworker-b"))
    missing = rpc_error(lambda: rpc.get("no-such-worker", "caseworker-b"))

    assert hidden.code() is missing.code() is grpc.StatusCode.NOT_FOUND
    assert (hidden.details() or "").replace(worker_id, "?") == (missing.details() or "").replace("no-such-worker", "?")


def test_reads_are_unavailable_when_the_audit_trail_is_down(rpc: Rpc) -> None:
    worker_id = rpc.registered_id()
    rpc.registry.audit.failing = True

    assert rpc_error(lambda: rpc.get(worker_id)).code() is grpc.StatusCode.UNAVAILABLE


def test_reusing_a_key_for_another_request_is_failed_precondition(rpc: Rpc) -> None:
    rpc.register()

    error = rpc_error(lambda: rpc.register(occupation="painter"))

    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
