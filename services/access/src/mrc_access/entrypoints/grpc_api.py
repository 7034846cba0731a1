"""gRPC API: mrc.access.v1.AccessService. Callers send `authorization: Bearer <token>` metadata."""

from __future__ import annotations

import dataclasses

import grpc

from mrc.access.v1 import access_service_pb2 as pb
from mrc.access.v1 import access_service_pb2_grpc as pb_grpc
from mrc_access.adapters.bearer_auth import BearerTokenVerifier, Caller, InvalidBearerToken
from mrc_access.adapters.protobuf_mapping import (
    PARTNER_KIND_FROM_PROTO,
    ROLE_FROM_PROTO,
    access_record_to_proto,
    client_to_proto,
    partner_to_proto,
)
from mrc_access.service_layer.administration import CreateClient, CreatePartner, PartnerAdministration
from mrc_access.service_layer.audit_trail import AccessRecordQuery, AuditTrail
from mrc_kernel.caller import check_purpose
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.grpc import grpc_client_address
from mrc_plumbing.auth.guard import CallerGuard
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.concurrency import ConcurrencyLimit
from mrc_plumbing.structured_logging import request_id_var

AUTHORIZATION_METADATA_KEY = "authorization"


class AccessServicer(pb_grpc.AccessServiceServicer):
    def __init__(
        self,
        administration: PartnerAdministration,
        audit_trail: AuditTrail,
        verifier: BearerTokenVerifier,
        *,
        guard: CallerGuard | None = None,
        listings: ConcurrencyLimit | None = None,
    ) -> None:
        """`guard`: the limits of REST's bearer calls (the same objects, so both count together); `listings`:
        REST's cap on audit listings running at once."""
        self._administration = administration
        self._audit_trail = audit_trail
        self._verifier = verifier
        self._guard = guard or CallerGuard(RateLimiter(0, 1))
        self._listings = listings or ConcurrencyLimit("audit listings", total=2, per_key=1)

    def _caller(self, context: grpc.ServicerContext, scope: Scope, *, purpose: str = "operations") -> Caller:
        address = grpc_client_address(context, self._guard.proxies)
        self._guard.before_authentication(address)
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        try:
            caller = self._verifier.verify_authorization(metadata.get(AUTHORIZATION_METADATA_KEY))
        except InvalidBearerToken:
            self._guard.authentication_failed(address)
            raise
        self._guard.authenticated(caller.client_id)
        caller.require(scope)
        return dataclasses.replace(
            caller,
            purpose=check_purpose(metadata.get("x-purpose", ""), purpose),
            remote_address=address,
            request_id=request_id_var.get(),
        )

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
            ),
            caller,
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
        caller = self._caller(context, Scope.PARTNERS_ADMIN)
        if not request.partner_id:
            raise InvalidArgument.for_field("partner_id", "must be set")
        issued = self._administration.create_client(
            CreateClient(
                partner_id=request.partner_id,
                roles=tuple(ROLE_FROM_PROTO.get(r) for r in request.roles),
                state_codes=tuple(request.state_codes),
                district_codes=tuple(request.district_codes),
                display_name=request.display_name,
            ),
            caller,
        )
        return pb.CreateClientResponse(client=client_to_proto(issued.client), client_secret=issued.client_secret)

    def RevokeClient(  # noqa: N802
        self, request: pb.RevokeClientRequest, context: grpc.ServicerContext
    ) -> pb.RevokeClientResponse:
        caller = self._caller(context, Scope.PARTNERS_ADMIN)
        if not request.client_id:
            raise InvalidArgument.for_field("client_id", "must be set")
        revoked = self._administration.revoke_client(request.client_id, caller)
        return pb.RevokeClientResponse(client=client_to_proto(revoked))

    def ListAccessRecords(  # noqa: N802
        self, request: pb.ListAccessRecordsRequest, context: grpc.ServicerContext
    ) -> pb.ListAccessRecordsResponse:
        caller = self._caller(context, Scope.AUDIT_READ, purpose="audit")
        query = AccessRecordQuery(
            resource_type=request.resource_type,
            resource_id=request.resource_id,
            partner_id=request.partner_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        with self._listings.slot(caller.client_id):
            page = self._audit_trail.list(query, caller)
        return pb.ListAccessRecordsResponse(
            records=[access_record_to_proto(r) for r in page.records], next_page_token=page.next_page_token
        )
