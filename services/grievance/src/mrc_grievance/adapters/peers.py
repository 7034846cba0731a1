"""The registry and the employer service, asked over gRPC on the caller's behalf.

The caller's bearer token and request id are forwarded, and the purpose is `grievance_follow_up`: the
other service applies its own access policy to the caller, so a worker without a grievance follow-up
consent for the caller's partner answers NOT_FOUND exactly like a missing one. An unreachable service (or
one that does not offer the call yet) is an outage here too: 503 / UNAVAILABLE, never a guess.
"""

from __future__ import annotations

import logging

import grpc

from mrc.employer.v1 import employer_details_service_pb2 as employer_pb
from mrc.employer.v1 import employer_details_service_pb2_grpc as employer_grpc
from mrc.registry.v1 import households_service_pb2 as households_pb
from mrc.registry.v1 import households_service_pb2_grpc as households_grpc
from mrc.registry.v1 import migration_pb2
from mrc.registry.v1 import registry_service_pb2 as registry_pb
from mrc.registry.v1 import registry_service_pb2_grpc as registry_grpc
from mrc_grievance.service_layer.ports import (
    EmployerCheck,
    Forwarded,
    MigrationEpisodeRef,
    WorkerCheck,
    WorkerLookup,
)
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Unauthenticated, Unavailable

log = logging.getLogger(__name__)

PURPOSE = "grievance_follow_up"


def _metadata(forwarded: Forwarded) -> tuple[tuple[str, str], ...]:
    pairs = [("authorization", forwarded.authorization), ("x-purpose", PURPOSE)]
    if forwarded.request_id:
        pairs.append(("x-request-id", forwarded.request_id))
    return tuple(pairs)


def _code(error: grpc.RpcError) -> grpc.StatusCode | None:
    code = getattr(error, "code", None)
    return code() if callable(code) else None


def _outage(service: str, error: grpc.RpcError) -> Exception:
    code = _code(error)
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated("the token was refused by the " + service)
    log.warning("peer call failed", extra={"service": service, "code": code.name if code else "unknown"})
    return Unavailable(f"the {service} cannot be reached; retry later")


class GrpcWorkerDirectory:
    def __init__(self, target: str, *, timeout_seconds: float = 5.0) -> None:
        self._channel = grpc.insecure_channel(target)
        self._workers = registry_grpc.RegistryServiceStub(self._channel)
        self._households = households_grpc.HouseholdsServiceStub(self._channel)
        self._timeout = timeout_seconds

    def check_worker(self, worker_id: str, caller: Caller, forwarded: Forwarded) -> WorkerLookup:
        try:
            reply = self._workers.GetWorker(
                registry_pb.GetWorkerRequest(worker_id=worker_id), metadata=_metadata(forwarded), timeout=self._timeout
            )
        except grpc.RpcError as error:
            code = _code(error)
            if code is grpc.StatusCode.NOT_FOUND:
                return WorkerLookup(WorkerCheck.NOT_FOUND)
            if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INVALID_ARGUMENT):
                found = (
                    WorkerCheck.NOT_PERMITTED if code is grpc.StatusCode.PERMISSION_DENIED else WorkerCheck.NOT_FOUND
                )
                return WorkerLookup(found)
            raise _outage("registry", error) from error
        # Only the id and the version are kept: nothing else of the record reaches the case.
        return WorkerLookup(WorkerCheck.FOUND, int(reply.worker.version))

    def migration_episodes(self, worker_id: str, caller: Caller, forwarded: Forwarded) -> list[MigrationEpisodeRef]:
        try:
            reply = self._households.ListMigrations(
                households_pb.ListMigrationsRequest(worker_id=worker_id),
                metadata=_metadata(forwarded),
                timeout=self._timeout,
            )
        except grpc.RpcError as error:
            code = _code(error)
            if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INVALID_ARGUMENT):
                return []
            raise _outage("registry", error) from error
        # Ongoing, or missing at the destination (the registry's own trigger for tracing).
        current = {migration_pb2.MIGRATION_STATUS_ONGOING, migration_pb2.MIGRATION_STATUS_MISSING}
        return [MigrationEpisodeRef(e.episode_id, e.start_date, e.status in current) for e in reply.episodes]

    def close(self) -> None:
        self._channel.close()


class GrpcEmployerDirectory:
    def __init__(self, target: str, *, timeout_seconds: float = 5.0) -> None:
        self._channel = grpc.insecure_channel(target)
        self._stub = employer_grpc.EmployerDetailsServiceStub(self._channel)
        self._timeout = timeout_seconds

    def check_employer(self, employer_id: str, caller: Caller, forwarded: Forwarded) -> EmployerCheck:
        try:
            self._stub.CheckEmployerReference(
                employer_pb.CheckEmployerReferenceRequest(employer_id=employer_id),
                metadata=_metadata(forwarded),
                timeout=self._timeout,
            )
        except grpc.RpcError as error:
            code = _code(error)
            if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return EmployerCheck.NOT_FOUND
            if code is grpc.StatusCode.PERMISSION_DENIED:
                return EmployerCheck.NOT_PERMITTED
            # UNIMPLEMENTED: the employer service does not offer the check yet; an outage, not a "no".
            raise _outage("employer service", error) from error
        return EmployerCheck.FOUND

    def close(self) -> None:
        self._channel.close()
