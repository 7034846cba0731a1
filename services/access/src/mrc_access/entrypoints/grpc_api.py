"""gRPC API: mrc.access.v1.AccessService. Callers send `authorization: Bearer <token>` metadata."""

from __future__ import annotations

import grpc

from mrc.access.v1 import access_service_pb2 as pb
from mrc.access.v1 import access_service_pb2_grpc as pb_grpc
from mrc_access.adapters.bearer_auth import BearerTokenVerifier, Caller
from mrc_access.adapters.protobuf_mapping import (
    PARTNER_KIND_FROM_PROTO,
    ROLE_FROM_PROTO,
    access_record_to_proto,
    client_to_proto,
    partner_to_proto,
)
from mrc_access.service_layer.administration import CreateClient, CreatePartner, PartnerAdministration
from mrc_access.service_layer.audit_trail import AccessRecordQuery, AuditTrail
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.roles import Scope

AUTHORIZATION_METADATA_KEY = "authorization"


class AccessServicer(pb_grpc.AccessServiceServicer):
    def __init__(
        self, administration: PartnerAdministration, audit_trail: AuditTrail, verifier: BearerTokenVerifier
    ) -> None:
        self._administration = administration
        self._audit_trail = audit_trail
        self._verifier = verifier

    def _caller(self, context: grpc.ServicerContext, scope: Scope) -> Caller:
        metadata = dict(context.invocation_metadata() or ())
        authorization = metadata.get(AUTHORIZATION_METADATA_KEY)
        caller = self._verifier.verify_authorization(authorization if isinstance(authorization, str) else None)
        caller.require(scope)
        return caller

    def CreatePartner(  # noqa: N802 - the name is the RPC's
        self, request: pb.CreatePartnerRequest, context: grpc.ServicerContext
    ) -> pb.CreatePartnerResponse:
        caller = self._caller(context, Scope.PARTNERS_ADMIN)
        result = self._administration.create_partner(
            CreatePartner(
                name=request.name,
                kind=PARTNER_KIND_FROM_PROTO.get(request.kind),
                state_codes=tuple(request.state_codes),
                district_codes=tuple(request.district_codes),
                employer_id=request.employer_id,
                caller_partner_id=caller.partner_id,
                idempotency_key=request.idempotency_key,
            )
        )
        return pb.CreatePartnerResponse(partner=partner_to_proto(result.partner))

    def GetPartner(  # noqa: N802
        self, request: pb.GetPartnerRequest, context: grpc.ServicerContext
    ) -> pb.GetPartnerResponse:
        self._caller(context, Scope.PARTNERS_ADMIN)
        if not request.partner_id:
            raise InvalidArgument.for_field("partner_id", "must be set")
        return pb.GetPartnerResponse(partner=partner_to_proto(self._administration.get_partner(request.partner_id)))

    def CreateClient(  # noqa: N802
        self, request: pb.CreateClientRequest, context: grpc.ServicerContext
    ) -> pb.CreateClientResponse:
        self._caller(context, Scope.PARTNERS_ADMIN)
        if not request.partner_id:
            raise InvalidArgument.for_field("partner_id", "must be set")
        issued = self._administration.create_client(
            CreateClient(
                partner_id=request.partner_id,
                roles=tuple(ROLE_FROM_PROTO.get(r) for r in request.roles),
                state_codes=tuple(request.state_codes),
                district_codes=tuple(request.district_codes),
                display_name=request.display_name,
            )
        )
        return pb.CreateClientResponse(client=client_to_proto(issued.client), client_secret=issued.client_secret)

    def RevokeClient(  # noqa: N802
        self, request: pb.RevokeClientRequest, context: grpc.ServicerContext
    ) -> pb.RevokeClientResponse:
        self._caller(context, Scope.PARTNERS_ADMIN)
        if not request.client_id:
            raise InvalidArgument.for_field("client_id", "must be set")
        return pb.RevokeClientResponse(client=client_to_proto(self._administration.revoke_client(request.client_id)))

    def ListAccessRecords(  # noqa: N802
        self, request: pb.ListAccessRecordsRequest, context: grpc.ServicerContext
    ) -> pb.ListAccessRecordsResponse:
        self._caller(context, Scope.AUDIT_READ)
        page = self._audit_trail.list(
            AccessRecordQuery(
                resource_type=request.resource_type,
                resource_id=request.resource_id,
                partner_id=request.partner_id,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        )
        return pb.ListAccessRecordsResponse(
            records=[access_record_to_proto(r) for r in page.records], next_page_token=page.next_page_token
        )
