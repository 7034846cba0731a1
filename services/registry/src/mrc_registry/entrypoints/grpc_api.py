"""gRPC API: mrc.registry.v1.RegistryService."""

from __future__ import annotations

import grpc

from mrc.registry.v1 import registry_service_pb2 as pb
from mrc.registry.v1 import registry_service_pb2_grpc as pb_grpc
from mrc_plumbing.errors import InvalidArgument
from mrc_registry.adapters.protobuf_mapping import GENDER_FROM_PROTO, place_from_proto, worker_to_proto
from mrc_registry.service_layer.registration import RegisterWorker, RegistrationService

PARTNER_METADATA_KEY = "x-partner-id"


def _partner(context: grpc.ServicerContext) -> str:
    metadata = dict(context.invocation_metadata() or ())
    return str(metadata.get(PARTNER_METADATA_KEY) or "unassigned")


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    def __init__(self, registration: RegistrationService) -> None:
        self._registration = registration

    def RegisterWorker(  # noqa: N802 - the name is the RPC's
        self, request: pb.RegisterWorkerRequest, context: grpc.ServicerContext
    ) -> pb.RegisterWorkerResponse:
        result = self._registration.register(
            RegisterWorker(
                full_name=request.full_name,
                gender=GENDER_FROM_PROTO.get(request.gender),
                birth_year=request.birth_year or None,
                home=place_from_proto(request.home),
                occupation=request.occupation,
                partner_id=_partner(context),
                idempotency_key=request.idempotency_key,
            )
        )
        return pb.RegisterWorkerResponse(worker=worker_to_proto(result.worker))

    def GetWorker(  # noqa: N802
        self, request: pb.GetWorkerRequest, context: grpc.ServicerContext
    ) -> pb.GetWorkerResponse:
        if not request.worker_id:
            raise InvalidArgument.for_field("worker_id", "must be set")
        return pb.GetWorkerResponse(worker=worker_to_proto(self._registration.get(request.worker_id)))
