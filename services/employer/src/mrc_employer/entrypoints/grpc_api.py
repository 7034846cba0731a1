"""gRPC API: mrc.employer.v1.EmployerService."""

from __future__ import annotations

import grpc

from mrc.employer.v1 import employer_service_pb2 as pb
from mrc.employer.v1 import employer_service_pb2_grpc as pb_grpc
from mrc_employer.adapters.protobuf_mapping import KIND_FROM_PROTO, employer_to_proto, place_from_proto
from mrc_employer.service_layer.registration import EmployerRegistrationService, RegisterEmployer
from mrc_plumbing.errors import InvalidArgument

PARTNER_METADATA_KEY = "x-partner-id"


def _partner(context: grpc.ServicerContext) -> str:
    metadata = dict(context.invocation_metadata() or ())
    return str(metadata.get(PARTNER_METADATA_KEY) or "unassigned")


class EmployerServicer(pb_grpc.EmployerServiceServicer):
    def __init__(self, registration: EmployerRegistrationService) -> None:
        self._registration = registration

    def RegisterEmployer(  # noqa: N802 - the name is the RPC's
        self, request: pb.RegisterEmployerRequest, context: grpc.ServicerContext
    ) -> pb.RegisterEmployerResponse:
        result = self._registration.register(
            RegisterEmployer(
                legal_name=request.legal_name,
                kind=KIND_FROM_PROTO.get(request.kind),
                sector=request.sector,
                location=place_from_proto(request.location),
                registration_number=request.registration_number,
                partner_id=_partner(context),
                idempotency_key=request.idempotency_key,
            )
        )
        return pb.RegisterEmployerResponse(employer=employer_to_proto(result.employer))

    def GetEmployer(  # noqa: N802
        self, request: pb.GetEmployerRequest, context: grpc.ServicerContext
    ) -> pb.GetEmployerResponse:
        if not request.employer_id:
            raise InvalidArgument.for_field("employer_id", "must be set")
        return pb.GetEmployerResponse(employer=employer_to_proto(self._registration.get(request.employer_id)))
