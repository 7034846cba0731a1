"""gRPC API: mrc.employer.v1.EmployerService."""

from __future__ import annotations

import grpc

from mrc.employer.v1 import employer_service_pb2 as pb
from mrc.employer.v1 import employer_service_pb2_grpc as pb_grpc
from mrc_employer.adapters.protobuf_mapping import KIND_FROM_PROTO, employer_to_proto, place_from_proto
from mrc_employer.service_layer.registration import EmployerRegistrationService, RegisterEmployer
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.grpc import GrpcAuth


class EmployerServicer(pb_grpc.EmployerServiceServicer):
    """Every RPC needs `authorization: Bearer <token>` metadata with the RPC's scope."""

    def __init__(self, registration: EmployerRegistrationService, auth: GrpcAuth) -> None:
        self._registration = registration
        self._auth = auth

    def RegisterEmployer(  # noqa: N802 - the name is the RPC's
        self, request: pb.RegisterEmployerRequest, context: grpc.ServicerContext
    ) -> pb.RegisterEmployerResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        result = self._registration.register(
            RegisterEmployer(
                legal_name=request.legal_name,
                kind=KIND_FROM_PROTO.get(request.kind),
                sector=request.sector,
                location=place_from_proto(request.location),
                registration_number=request.registration_number,
                idempotency_key=request.idempotency_key,
            ),
            caller,
        )
        return pb.RegisterEmployerResponse(employer=employer_to_proto(result.employer))

    def GetEmployer(  # noqa: N802
        self, request: pb.GetEmployerRequest, context: grpc.ServicerContext
    ) -> pb.GetEmployerResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_READ)
        if not request.employer_id:
            raise InvalidArgument.for_field("employer_id", "must be set")
        return pb.GetEmployerResponse(employer=employer_to_proto(self._registration.get(request.employer_id, caller)))
