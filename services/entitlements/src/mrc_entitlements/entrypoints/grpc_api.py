"""gRPC API: mrc.entitlements.v1.EntitlementsService."""

from __future__ import annotations

import grpc

from mrc.entitlements.v1 import entitlements_service_pb2 as pb
from mrc.entitlements.v1 import entitlements_service_pb2_grpc as pb_grpc
from mrc_entitlements.adapters.protobuf_mapping import eligibility_to_proto
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_plumbing.errors import InvalidArgument


class EntitlementsServicer(pb_grpc.EntitlementsServiceServicer):
    def __init__(self, service: EligibilityService) -> None:
        self._service = service

    def GetEligibility(  # noqa: N802 - the name is the RPC's
        self, request: pb.GetEligibilityRequest, context: grpc.ServicerContext
    ) -> pb.GetEligibilityResponse:
        if not request.worker_id:
            raise InvalidArgument.for_field("worker_id", "must be set")
        return pb.GetEligibilityResponse(eligibility=eligibility_to_proto(self._service.get(request.worker_id)))
