"""gRPC API: mrc.entitlements.v1.EntitlementsService."""

from __future__ import annotations

from typing import NoReturn

import grpc

from mrc.entitlements.v1 import entitlements_service_pb2 as pb
from mrc.entitlements.v1 import entitlements_service_pb2_grpc as pb_grpc
from mrc_entitlements.adapters.protobuf_mapping import eligibility_to_proto
from mrc_entitlements.service_layer.eligibility import EligibilityLookup
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.grpc import GrpcAuth


class EntitlementsServicer(pb_grpc.EntitlementsServiceServicer):
    """Every RPC needs `authorization: Bearer <token>` metadata with the RPC's scope."""

    def __init__(self, lookup: EligibilityLookup, auth: GrpcAuth) -> None:
        self._lookup = lookup
        self._auth = auth

    def GetEligibility(  # noqa: N802 - the name is the RPC's
        self, request: pb.GetEligibilityRequest, context: grpc.ServicerContext
    ) -> pb.GetEligibilityResponse:
        caller = self._auth.require(context, Scope.ELIGIBILITY_READ)
        if not request.worker_id:
            raise InvalidArgument.for_field("worker_id", "must be set")
        eligibility = self._lookup.get(request.worker_id, caller)
        return pb.GetEligibilityResponse(eligibility=eligibility_to_proto(eligibility))

    def ListSchemes(  # noqa: N802 - the name is the RPC's
        self, request: pb.ListSchemesRequest, context: grpc.ServicerContext
    ) -> pb.ListSchemesResponse:
        return _not_yet(context)

    def GetScheme(  # noqa: N802 - the name is the RPC's
        self, request: pb.GetSchemeRequest, context: grpc.ServicerContext
    ) -> pb.GetSchemeResponse:
        return _not_yet(context)

    def DraftRuleVersion(  # noqa: N802 - the name is the RPC's
        self, request: pb.DraftRuleVersionRequest, context: grpc.ServicerContext
    ) -> pb.DraftRuleVersionResponse:
        return _not_yet(context)

    def PublishRuleVersion(  # noqa: N802 - the name is the RPC's
        self, request: pb.PublishRuleVersionRequest, context: grpc.ServicerContext
    ) -> pb.PublishRuleVersionResponse:
        return _not_yet(context)

    def RetireRuleVersion(  # noqa: N802 - the name is the RPC's
        self, request: pb.RetireRuleVersionRequest, context: grpc.ServicerContext
    ) -> pb.RetireRuleVersionResponse:
        return _not_yet(context)

    def GetReevaluationJob(  # noqa: N802 - the name is the RPC's
        self, request: pb.GetReevaluationJobRequest, context: grpc.ServicerContext
    ) -> pb.GetReevaluationJobResponse:
        return _not_yet(context)

    def CreateApplication(  # noqa: N802 - the name is the RPC's
        self, request: pb.CreateApplicationRequest, context: grpc.ServicerContext
    ) -> pb.CreateApplicationResponse:
        return _not_yet(context)

    def GetApplication(  # noqa: N802 - the name is the RPC's
        self, request: pb.GetApplicationRequest, context: grpc.ServicerContext
    ) -> pb.GetApplicationResponse:
        return _not_yet(context)

    def TransitionApplication(  # noqa: N802 - the name is the RPC's
        self, request: pb.TransitionApplicationRequest, context: grpc.ServicerContext
    ) -> pb.TransitionApplicationResponse:
        return _not_yet(context)

    def RecordDelivery(  # noqa: N802 - the name is the RPC's
        self, request: pb.RecordDeliveryRequest, context: grpc.ServicerContext
    ) -> pb.RecordDeliveryResponse:
        return _not_yet(context)

    def GetFunnel(  # noqa: N802 - the name is the RPC's
        self, request: pb.GetFunnelRequest, context: grpc.ServicerContext
    ) -> pb.GetFunnelResponse:
        return _not_yet(context)

    def ListRefusalsOfEligible(  # noqa: N802 - the name is the RPC's
        self, request: pb.ListRefusalsOfEligibleRequest, context: grpc.ServicerContext
    ) -> pb.ListRefusalsOfEligibleResponse:
        return _not_yet(context)

    def DeclareFacts(  # noqa: N802 - the name is the RPC's
        self, request: pb.DeclareFactsRequest, context: grpc.ServicerContext
    ) -> pb.DeclareFactsResponse:
        return _not_yet(context)


def _not_yet(context: grpc.ServicerContext) -> NoReturn:
    # The contract is published ahead of its implementation (entitlements phase 2).
    context.abort(grpc.StatusCode.UNIMPLEMENTED, "not implemented yet")
