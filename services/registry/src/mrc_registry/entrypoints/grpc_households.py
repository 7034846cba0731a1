"""gRPC API: mrc.registry.v1.HouseholdsService."""

from __future__ import annotations

import grpc

from mrc.registry.v1 import households_service_pb2 as pb
from mrc.registry.v1 import households_service_pb2_grpc as pb_grpc
from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.grpc import GrpcAuth
from mrc_registry.adapters.households_mapping import (
    CHANNEL_FROM_PROTO,
    STATUS_FROM_PROTO,
    episode_to_proto,
    household_to_proto,
    location_from_proto,
    member_from_proto,
)
from mrc_registry.service_layer.households import CreateHousehold, HouseholdService, ReplaceMembers
from mrc_registry.service_layer.migrations import MigrationService, RecordMigration


def _required(name: str, value: str) -> str:
    if not value.strip():
        raise InvalidArgument.for_field(name, "must be set")
    return value


def _within_episode(error: InvalidArgument) -> InvalidArgument:
    """Field paths as the gRPC caller sent them: the episode's fields sit under `episode`."""
    return InvalidArgument(
        [v if v.field == "purpose" else FieldViolation(f"episode.{v.field}", v.description) for v in error.violations]
    )


class HouseholdsServicer(pb_grpc.HouseholdsServiceServicer):
    def __init__(self, households: HouseholdService, migrations: MigrationService, auth: GrpcAuth) -> None:
        self._households = households
        self._migrations = migrations
        self._auth = auth

    def CreateHousehold(  # noqa: N802 - the name is the RPC's
        self, request: pb.CreateHouseholdRequest, context: grpc.ServicerContext
    ) -> pb.CreateHouseholdResponse:
        caller = self._auth.require(context, Scope.WORKERS_WRITE)
        result = self._households.create(
            caller,
            CreateHousehold(
                members=tuple(member_from_proto(m) for m in request.members),
                ration_card_number=request.ration_card_number,
                idempotency_key=request.idempotency_key,
            ),
        )
        return pb.CreateHouseholdResponse(household=household_to_proto(result.household))

    def GetHousehold(  # noqa: N802
        self, request: pb.GetHouseholdRequest, context: grpc.ServicerContext
    ) -> pb.GetHouseholdResponse:
        caller = self._auth.require(context, Scope.WORKERS_READ)
        household = self._households.get(caller, _required("household_id", request.household_id))
        return pb.GetHouseholdResponse(household=household_to_proto(household))

    def UpdateHouseholdMembers(  # noqa: N802
        self, request: pb.UpdateHouseholdMembersRequest, context: grpc.ServicerContext
    ) -> pb.UpdateHouseholdMembersResponse:
        caller = self._auth.require(context, Scope.WORKERS_WRITE)
        if request.expected_version < 1:
            raise InvalidArgument.for_field("expected_version", "must be the version you read (1 or more)")
        household = self._households.replace_members(
            caller,
            ReplaceMembers(
                household_id=_required("household_id", request.household_id),
                members=tuple(member_from_proto(m) for m in request.members),
                expected_version=request.expected_version,
            ),
        )
        return pb.UpdateHouseholdMembersResponse(household=household_to_proto(household))

    def RecordMigration(  # noqa: N802
        self, request: pb.RecordMigrationRequest, context: grpc.ServicerContext
    ) -> pb.RecordMigrationResponse:
        caller = self._auth.require(context, Scope.WORKERS_WRITE)
        episode = request.episode
        command = RecordMigration(
            worker_id=episode.worker_id,
            origin=location_from_proto(episode.origin),
            destination=location_from_proto(episode.destination) if episode.HasField("destination") else None,
            destination_country=episode.destination_country,
            sector=episode.sector,
            employer_id=episode.employer_id,
            recruitment_channel=CHANNEL_FROM_PROTO.get(episode.recruitment_channel),
            start_date=episode.start_date,
            end_date=episode.end_date,
            status=STATUS_FROM_PROTO.get(episode.status),
            idempotency_key=request.idempotency_key,
        )
        try:
            result = self._migrations.record(caller, command)
        except InvalidArgument as error:
            raise _within_episode(error) from None
        return pb.RecordMigrationResponse(episode=episode_to_proto(result.episode))

    def ListMigrations(  # noqa: N802
        self, request: pb.ListMigrationsRequest, context: grpc.ServicerContext
    ) -> pb.ListMigrationsResponse:
        caller = self._auth.require(context, Scope.WORKERS_READ)
        episodes = self._migrations.list_for_worker(caller, _required("worker_id", request.worker_id))
        return pb.ListMigrationsResponse(episodes=[episode_to_proto(e) for e in episodes])
