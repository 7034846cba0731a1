"""gRPC API: mrc.registry.v1.RegistryService."""

from __future__ import annotations

import grpc

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import registry_service_pb2 as pb
from mrc.registry.v1 import registry_service_pb2_grpc as pb_grpc
from mrc.registry.v1 import worker_pb2
from mrc_kernel.caller import Caller
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.roles import Scope
from mrc_kernel.vocabulary import Sector
from mrc_plumbing.auth.grpc import GrpcAuth
from mrc_plumbing.protobuf import datetime_from, place_from_proto
from mrc_registry.adapters.protobuf_mapping import (
    DOCUMENT_FROM_PROTO,
    GENDER_FROM_PROTO,
    METHOD_FROM_PROTO,
    PURPOSE_FROM_PROTO,
    VULNERABILITY_FROM_PROTO,
    worker_to_proto,
)
from mrc_registry.service_layer.commands import (
    UPDATABLE_FIELDS,
    ConsentInput,
    DocumentInput,
    RegisterWorker,
    Search,
    UpdateWorker,
    WorkerInput,
)
from mrc_registry.service_layer.workers import WorkerService, WorkerView


def _sector(value: str, field: str) -> Sector | None:
    if not value:
        return None
    try:
        return Sector(value)
    except ValueError:
        raise InvalidArgument.for_field(field, f"unknown sector {value!r}") from None


def _documents(documents: list[worker_pb2.IdentityDocumentInput], field: str) -> tuple[DocumentInput, ...]:
    converted = []
    for position, document in enumerate(documents):
        kind = DOCUMENT_FROM_PROTO.get(document.kind)
        if kind is None:
            raise InvalidArgument.for_field(f"{field}.{position}.kind", "must be set")
        converted.append(DocumentInput(kind, document.number))
    return tuple(converted)


def _consent(consent: worker_pb2.ConsentInput) -> ConsentInput:
    return ConsentInput(
        purposes=frozenset(PURPOSE_FROM_PROTO[p] for p in consent.purposes if p in PURPOSE_FROM_PROTO),
        method=METHOD_FROM_PROTO.get(consent.method),
        witness_name=consent.witness_name,
        shared_with_partner_ids=frozenset(consent.shared_with_partner_ids),
        expires_at=datetime_from(consent.expires_at) if consent.HasField("expires_at") else None,
        shared_with_state_codes=frozenset(code.strip() for code in consent.shared_with_state_codes),
    )


def _worker_input(
    worker: worker_pb2.Worker | pb.RegisterWorkerRequest, documents: tuple[DocumentInput, ...]
) -> WorkerInput:
    return WorkerInput(
        full_name=worker.full_name,
        gender=GENDER_FROM_PROTO.get(worker.gender),
        birth_year=worker.birth_year or None,
        home=place_from_proto(worker.home),
        occupation=worker.occupation,
        sector=_sector(worker.sector, "sector"),
        skills=tuple(worker.skills),
        languages=tuple(worker.languages),
        vulnerabilities=frozenset(VULNERABILITY_FROM_PROTO[v] for v in worker.vulnerabilities if v),
        father_or_spouse_name=worker.father_or_spouse_name,
        phone=worker.phone,
        identity_documents=documents,
    )


def _message(view: WorkerView | None, caller: Caller) -> worker_pb2.Worker:
    if view is None:
        return worker_pb2.Worker()
    return worker_to_proto(view.worker, view.phone, fields=view.fields, partner_id=caller.partner_id)


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    def __init__(self, workers: WorkerService, auth: GrpcAuth) -> None:
        self._workers = workers
        self._auth = auth

    def RegisterWorker(  # noqa: N802 - the name is the RPC's
        self, request: pb.RegisterWorkerRequest, context: grpc.ServicerContext
    ) -> pb.RegisterWorkerResponse:
        caller = self._auth.require(context, Scope.WORKERS_WRITE)
        documents = _documents(list(request.identity_documents), "identity_documents")
        registration = self._workers.register(
            RegisterWorker(_worker_input(request, documents), _consent(request.consent), request.idempotency_key),
            caller,
        )
        link = registration.link_request
        return pb.RegisterWorkerResponse(
            worker=_message(registration.view, caller),
            possible_duplicates=[
                pb.MatchCandidate(worker_id=p.worker_id, score=p.score, reasons=list(p.reasons))
                for p in registration.possible_duplicates
            ],
            linked_to_existing=registration.linked_to_existing,
            link_request=pb.LinkRequest(review_id=link.review_id, can_send_code=link.can_send_code) if link else None,
        )

    def GetWorker(self, request: pb.GetWorkerRequest, context: grpc.ServicerContext) -> pb.GetWorkerResponse:  # noqa: N802
        caller = self._auth.require(context, Scope.WORKERS_READ)
        if not request.worker_id:
            raise InvalidArgument.for_field("worker_id", "must be set")
        return pb.GetWorkerResponse(worker=_message(self._workers.get(request.worker_id, caller), caller))

    def UpdateWorker(  # noqa: N802
        self, request: pb.UpdateWorkerRequest, context: grpc.ServicerContext
    ) -> pb.UpdateWorkerResponse:
        caller = self._auth.require(context, Scope.WORKERS_WRITE)
        paths = frozenset(request.update_mask.paths)
        if request.identity_documents:
            paths |= {"identity_documents"}
        if not paths:
            raise InvalidArgument.for_field("update_mask", "name the fields to change")
        unknown = sorted(paths - UPDATABLE_FIELDS)
        if unknown:
            raise InvalidArgument.for_field("update_mask", f"cannot change {', '.join(unknown)}")
        documents = _documents(list(request.identity_documents), "identity_documents")
        view = self._workers.update(
            UpdateWorker(request.worker_id, _worker_input(request.worker, documents), paths, request.expected_version),
            caller,
        )
        return pb.UpdateWorkerResponse(worker=_message(view, caller))

    def SearchWorkers(  # noqa: N802
        self, request: pb.SearchWorkersRequest, context: grpc.ServicerContext
    ) -> pb.SearchWorkersResponse:
        caller = self._auth.require(context, Scope.WORKERS_READ)
        document = None
        if request.HasField("identity_document"):
            [document] = _documents([request.identity_document], "identity_document")
        found, token = self._workers.search(
            Search(
                name=request.name,
                phone=request.phone,
                document=document,
                district_code=request.district_code,
                registering_partner_id=request.registering_partner_id,
                sector=_sector(request.sector, "sector"),
                page_size=request.page.page_size or 50,
                page_token=request.page.page_token,
            ),
            caller,
        )
        return pb.SearchWorkersResponse(
            workers=[_message(v, caller) for v in found], page=common_pb2.PageResponse(next_page_token=token)
        )

    def GrantConsent(  # noqa: N802
        self, request: pb.GrantConsentRequest, context: grpc.ServicerContext
    ) -> pb.GrantConsentResponse:
        caller = self._auth.require(context, Scope.CONSENT_WRITE)
        view = self._workers.grant_consent(
            request.worker_id, _consent(request.consent), request.idempotency_key, caller
        )
        return pb.GrantConsentResponse(worker=_message(view, caller))

    def RevokeConsent(  # noqa: N802
        self, request: pb.RevokeConsentRequest, context: grpc.ServicerContext
    ) -> pb.RevokeConsentResponse:
        caller = self._auth.require(context, Scope.CONSENT_WRITE)
        return pb.RevokeConsentResponse(
            worker=_message(self._workers.revoke_consent(request.worker_id, request.consent_id, caller), caller)
        )

    def EraseWorker(  # noqa: N802
        self, request: pb.EraseWorkerRequest, context: grpc.ServicerContext
    ) -> pb.EraseWorkerResponse:
        caller = self._auth.require(context, Scope.WORKERS_ERASE)
        self._workers.erase(request.worker_id, request.reason, caller)
        return pb.EraseWorkerResponse(worker_id=request.worker_id)
