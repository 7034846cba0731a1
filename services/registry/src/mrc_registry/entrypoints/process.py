"""Wires the registry process together: store, broker, crypto, use cases, REST, gRPC and the outbox relay."""

from __future__ import annotations

from mrc.registry.v1 import households_service_pb2_grpc, registry_service_pb2_grpc
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service
from mrc_registry.adapters.crypto_protector import CryptoProtector
from mrc_registry.adapters.households_mapping import HOUSEHOLDS_TOPIC
from mrc_registry.adapters.mongo_households import (
    HouseholdDocument,
    MigrationEpisodeDocument,
    MongoHouseholdRepository,
    MongoMigrationRepository,
)
from mrc_registry.adapters.mongo_repository import MongoWorkerCounter, MongoWorkerRepository, WorkerDocument
from mrc_registry.adapters.mongo_reviews import MongoReviewRepository
from mrc_registry.adapters.tabular_files import MongoBulkWorkerWriter, MongoImportJobStore, read_table
from mrc_registry.entrypoints.grpc_api import RegistryServicer
from mrc_registry.entrypoints.grpc_households import HouseholdsServicer
from mrc_registry.entrypoints.http_api import workers_router
from mrc_registry.entrypoints.http_households import households_router
from mrc_registry.entrypoints.http_import import IMPORTS_PATH, MAX_UPLOAD_BYTES, imports_router
from mrc_registry.entrypoints.http_statistics import statistics_router
from mrc_registry.service_layer.bulk_import import BulkImporter
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.households import HouseholdService
from mrc_registry.service_layer.migrations import MigrationService
from mrc_registry.service_layer.reviews import ReviewService
from mrc_registry.service_layer.statistics import StatisticsService
from mrc_registry.service_layer.workers import WorkerService
from mrc_registry.settings import WORKERS_TOPIC, RegistrySettings


class _WorkerLookup:
    def __init__(self, workers: MongoWorkerRepository) -> None:
        self._workers = workers

    def exists(self, worker_id: str) -> bool:
        return self._workers.get(worker_id) is not None


def main() -> None:
    settings = RegistrySettings()
    connections = connect(
        settings,
        topics=[WORKERS_TOPIC, HOUSEHOLDS_TOPIC],
        outbox_collections=[
            WorkerDocument._meta["collection"],
            HouseholdDocument._meta["collection"],
            MigrationEpisodeDocument._meta["collection"],
        ],
    )
    for repository in (
        MongoWorkerRepository,
        MongoReviewRepository,
        MongoHouseholdRepository,
        MongoMigrationRepository,
    ):
        repository.ensure_indexes()
    workers_repo, reviews_repo = MongoWorkerRepository(), MongoReviewRepository()
    protector = CryptoProtector(connections.crypto)
    audit, relay = connections.audit, connections.relay
    deduplicator = Deduplicator(workers_repo, reviews_repo)
    workers = WorkerService(workers_repo, protector, audit, relay, deduplicator)
    reviews = ReviewService(workers_repo, reviews_repo, audit, relay)
    import_jobs = MongoImportJobStore(connections.db)
    import_jobs.ensure_indexes()
    importer = BulkImporter(
        workers_repo, MongoBulkWorkerWriter(), import_jobs, protector, audit, relay, deduplicator, read_table
    )
    households = HouseholdService(MongoHouseholdRepository(), relay, audit, protector)
    migrations = MigrationService(MongoMigrationRepository(), relay, audit, _WorkerLookup(workers_repo))

    http_app = create_http_app(
        service=settings.service_name,
        title="MRC Registry",
        readiness_checks=connections.readiness_checks(),
        body_limits_by_path={IMPORTS_PATH: MAX_UPLOAD_BYTES},
    )
    http_app.include_router(workers_router(workers, reviews, connections.http_auth))
    http_app.include_router(households_router(households, migrations, connections.http_auth))
    http_app.include_router(imports_router(importer, connections.http_auth))
    statistics = StatisticsService(MongoWorkerCounter(), min_cell_size=settings.infra.privacy_min_cell_size)
    http_app.include_router(statistics_router(statistics, connections.http_auth))

    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.registry.v1.RegistryService",
        lambda server: registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(
            RegistryServicer(workers, connections.grpc_auth), server
        ),
    )
    grpc_server.add_service(
        "mrc.registry.v1.HouseholdsService",
        lambda server: households_service_pb2_grpc.add_HouseholdsServiceServicer_to_server(
            HouseholdsServicer(households, migrations, connections.grpc_auth), server
        ),
    )
    run_service(connections, http_app, grpc_server)
