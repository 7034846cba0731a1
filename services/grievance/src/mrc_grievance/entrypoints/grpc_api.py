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
from mrc_plumbing.errors import InvalidArgument

PARTNER_METADATA_KEY = "x-partner-id"


def _partner(context: grpc.ServicerContext) -> str:
    metadata = dict(context.invocation_metadata() or ())
    return str(metadata.get(PARTNER_METADATA_KEY) or "unassigned")


class GrievanceServicer(pb_grpc.GrievanceServiceServicer):
    def __init__(self, filing: FilingService) -> None:
        self._filing = filing

    def FileGrievance(  # noqa: N802 - the name is the RPC's
        self, request: pb.FileGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.FileGrievanceResponse:
        result = self._filing.file(
            FileGrievance(
                worker_id=request.worker_id,
                category=CATEGORY_FROM_PROTO.get(request.category),
                channel=CHANNEL_FROM_PROTO.get(request.channel),
                summary=request.summary,
                location=place_from_proto(request.location),
                employer_id=request.employer_id,
                anonymous=request.anonymous,
                partner_id=_partner(context),
                idempotency_key=request.idempotency_key,
            )
        )
        return pb.FileGrievanceResponse(grievance=grievance_to_proto(result.grievance))

    def GetGrievance(  # noqa: N802
        self, request: pb.GetGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.GetGrievanceResponse:
        if not request.grievance_id:
            raise InvalidArgument.for_field("grievance_id", "must be set")
        return pb.GetGrievanceResponse(grievance=grievance_to_proto(self._filing.get(request.grievance_id)))
