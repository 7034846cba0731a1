"""gRPC API: mrc.grievance.v1.GrievanceService."""

from __future__ import annotations

import grpc

from mrc.grievance.v1 import grievance_service_pb2 as pb
from mrc.grievance.v1 import grievance_service_pb2_grpc as pb_grpc
from mrc_grievance.adapters.protobuf_mapping import (
    CATEGORY_FROM_PROTO,
    CHANNEL_FROM_PROTO,
    grievance_to_proto,
    place_from_proto,
)
from mrc_grievance.service_layer.filing import FileGrievance, FilingService
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.grpc import GrpcAuth


class GrievanceServicer(pb_grpc.GrievanceServiceServicer):
    """Every RPC needs `authorization: Bearer <token>` metadata with the RPC's scope."""

    def __init__(self, filing: FilingService, auth: GrpcAuth) -> None:
        self._filing = filing
        self._auth = auth

    def FileGrievance(  # noqa: N802 - the name is the RPC's
        self, request: pb.FileGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.FileGrievanceResponse:
        caller = self._auth.require(context, Scope.GRIEVANCES_WRITE)
        result = self._filing.file(
            FileGrievance(
                worker_id=request.worker_id,
                category=CATEGORY_FROM_PROTO.get(request.category),
                channel=CHANNEL_FROM_PROTO.get(request.channel),
                summary=request.summary,
                location=place_from_proto(request.location),
                employer_id=request.employer_id,
                anonymous=request.anonymous,
                idempotency_key=request.idempotency_key,
            ),
            caller,
        )
        return pb.FileGrievanceResponse(grievance=grievance_to_proto(result.grievance))

    def GetGrievance(  # noqa: N802
        self, request: pb.GetGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.GetGrievanceResponse:
        caller = self._auth.require(context, Scope.GRIEVANCES_READ)
        if not request.grievance_id:
            raise InvalidArgument.for_field("grievance_id", "must be set")
        return pb.GetGrievanceResponse(grievance=grievance_to_proto(self._filing.get(request.grievance_id, caller)))
