"""gRPC API: mrc.entitlements.v1.EntitlementsService."""

from __future__ import annotations

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
