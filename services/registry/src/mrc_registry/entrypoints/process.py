"""Wires the registry process together: store, broker, crypto, use cases, REST, gRPC, the outbox relay,
the consent-expiry sweep and, in a state cluster with federation peers, the cross-state federation (the
publisher in the repositories, the consumer of the peers' shared records, the national aggregates job)."""

from __future__ import annotations

import logging
import threading

from mrc.registry.v1 import households_service_pb2_grpc, registry_service_pb2_grpc
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.federation import AGGREGATES_COLLECTION
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service
from mrc_plumbing.store.schema import collection_of
from mrc_plumbing.tabular import read_table
from mrc_registry.adapters.aggregates import StoredAggregatesOutbox, StoredRegistryCounts
from mrc_registry.adapters.crypto_protector import CryptoProtector
from mrc_registry.adapters.erasure_requests import StoredErasureRequests
from mrc_registry.adapters.federation_mapping import (
    AGGREGATES_TOPIC,
    HOUSEHOLDS,
    WORKERS,
    federation_topic,
    mirrored_topics,
)
from mrc_registry.adapters.federation_publisher import FederationPublisher
from mrc_registry.adapters.household_links import StoredHouseholdLinks
from mrc_registry.adapters.households_mapping import HOUSEHOLDS_TOPIC
from mrc_registry.adapters.import_jobs import StoredImportJobs
from mrc_registry.adapters.mongo_households import (
    HouseholdDocument,
    MigrationEpisodeDocument,
    StoredHouseholds,
    StoredMigrations,
)
from mrc_registry.adapters.mongo_repository import StoredWorkerCounts, StoredWorkers, WorkerDocument
from mrc_registry.adapters.mongo_reviews import StoredReviews
from mrc_registry.adapters.text_messages import HttpTextMessages, LocalTextMessages
from mrc_registry.domain.federation import FederationScope
from mrc_registry.entrypoints.federation_consumer import DEAD_LETTER_TOPIC, FederationConsumer
from mrc_registry.entrypoints.grpc_api import RegistryServicer
from mrc_registry.entrypoints.grpc_households import HouseholdsServicer
from mrc_registry.entrypoints.http_api import workers_router
from mrc_registry.entrypoints.http_federation import federation_router
from mrc_registry.entrypoints.http_households import households_router
from mrc_registry.entrypoints.http_import import IMPORTS_PATH, MAX_UPLOAD_BYTES, imports_router
from mrc_registry.entrypoints.http_statistics import statistics_router
from mrc_registry.service_layer.aggregates import AggregatesService
from mrc_registry.service_layer.bulk_import import BulkImporter
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.erasure import ErasureService
from mrc_registry.service_layer.federation import FederationIntake, SharedHouseholdReads
from mrc_registry.service_layer.households import HouseholdService
from mrc_registry.service_layer.migrations import MigrationService
from mrc_registry.service_layer.ports import TextMessages
from mrc_registry.service_layer.rekeying import BackgroundRekeying, Rekeying
from mrc_registry.service_layer.reviews import ReviewService
from mrc_registry.service_layer.statistics import StatisticsService
from mrc_registry.service_layer.workers import WorkerService
from mrc_registry.settings import WORKERS_TOPIC, RegistrySettings

log = logging.getLogger(__name__)


class ConsentExpirySweep:
    """Announces consents that reached their expiry (`ConsentChanged`), so every consumer stops using them."""

    def __init__(self, workers: WorkerService, interval_seconds: float) -> None:
        self._workers = workers
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consent-expiry", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                while self._workers.announce_expired_consents() and not self._stop.is_set():
                    pass
            except Exception:
                log.exception("consent expiry sweep failed; trying again at the next interval")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


class AggregatesJob:
    """Publishes this state's k-anonymous counts for the national cluster now and then (the first soon after
    the start, so a fresh cluster shows up there)."""

    FIRST_AFTER_SECONDS = 30.0

    def __init__(self, aggregates: AggregatesService, interval_seconds: float) -> None:
        self._aggregates = aggregates
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="federation-aggregates", daemon=True)

    def _run(self) -> None:
        wait = min(self.FIRST_AFTER_SECONDS, self._interval)
        while not self._stop.wait(wait):
            wait = self._interval
            try:
                snapshot = self._aggregates.publish()
                log.info("aggregates published", extra={"aggregates_id": snapshot.aggregates_id})
            except Exception:
                log.exception("aggregates could not be published; trying again at the next interval")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


def federation_scope(settings: RegistrySettings) -> tuple[FederationScope, dict[str, str]]:
    """This state and its peers (alias -> LGD code); disabled without a state code or peers."""
    peers = settings.federation.peer_codes()
    own = settings.infra.state_code
    if peers and not own:
        log.warning("MRC_FEDERATION_PEERS is set but MRC_STATE_CODE is not: the federation stays off")
    return FederationScope(own, frozenset(peers.values())), peers


def main() -> None:
    settings = RegistrySettings()
    scope, peers = federation_scope(settings)
    federated = scope.enabled
    federation_topics = (
        [federation_topic(kind, code) for code in sorted(scope.peer_state_codes) for kind in (WORKERS, HOUSEHOLDS)]
        + [AGGREGATES_TOPIC, DEAD_LETTER_TOPIC]
        if federated
        else []
    )
    connections = connect(
        settings,
        topics=[WORKERS_TOPIC, HOUSEHOLDS_TOPIC, *federation_topics],
        outbox_collections=[
            collection_of(WorkerDocument),
            collection_of(HouseholdDocument),
            collection_of(MigrationEpisodeDocument),
            *([AGGREGATES_COLLECTION] if federated else []),
        ],
    )
    store, ids = connections.store, connections.crypto.ids
    households_repo, migrations_repo = StoredHouseholds(store), StoredMigrations(store)
    cipher = FederationCipher.from_settings(settings.crypto) if federated else None
    publisher = (
        FederationPublisher(
            store, scope, cipher, connections.crypto.blind_indexer.index, households_of=households_repo.with_member
        )
        if cipher is not None
        else None
    )
    if publisher is not None:
        households_repo.set_federation(publisher)
    workers_repo, reviews_repo = StoredWorkers(store, federation=publisher), StoredReviews(store)
    import_jobs = StoredImportJobs(store)
    for repository in (workers_repo, reviews_repo, households_repo, migrations_repo, import_jobs):
        repository.ensure_indexes()
    protector = CryptoProtector(connections.crypto)
    audit = connections.audit
    messages: TextMessages = (
        HttpTextMessages(settings.sms_gateway_url, settings.sms_gateway_token.get_secret_value())
        if settings.sms_gateway_url
        else LocalTextMessages(store)
    )
    deduplicator = Deduplicator(workers_repo, reviews_repo, ids)
    workers = WorkerService(workers_repo, protector, audit, deduplicator, ids, own_state_code=scope.own_state_code)
    households = HouseholdService(households_repo, audit, protector, workers.access)
    migrations = MigrationService(migrations_repo, audit, workers.access)
    workers.also_erase_in(households, migrations)
    reviews = ReviewService(workers_repo, reviews_repo, audit, protector, messages)
    erasures = ErasureService(workers, StoredErasureRequests(store), protector, messages)
    importer = BulkImporter(
        workers_repo,
        import_jobs,
        protector,
        audit,
        deduplicator,
        ids,
        read_table,
        own_state_code=scope.own_state_code,
    )
    statistics = StatisticsService(StoredWorkerCounts(store), min_cell_size=settings.infra.privacy_min_cell_size)

    http_app = create_http_app(
        service=settings.service_name,
        title="MRC Registry",
        readiness_checks=connections.readiness_checks(),
        body_limits_by_path={IMPORTS_PATH: MAX_UPLOAD_BYTES},
    )
    http_app.include_router(workers_router(workers, reviews, erasures, connections.http_auth))
    http_app.include_router(households_router(households, migrations, connections.http_auth))
    http_app.include_router(imports_router(importer, connections.http_auth))
    http_app.include_router(statistics_router(statistics, connections.http_auth))
    household_links = StoredHouseholdLinks(store)
    shared_households = SharedHouseholdReads(household_links, workers.access, audit)
    http_app.include_router(federation_router(shared_households, connections.http_auth))

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
    sweep = ConsentExpirySweep(workers, settings.consent_expiry_sweep_seconds)
    # Re-keying skips the copies of other states' records: only what their home state sends replaces them.
    rekeying = BackgroundRekeying(Rekeying(workers_repo, deduplicator))
    background: list[ConsentExpirySweep | BackgroundRekeying | AggregatesJob | FederationConsumer] = [sweep, rekeying]
    if cipher is not None:
        intake = FederationIntake(
            workers_repo,
            household_links,
            deduplicator,
            workers,
            own_state_code=scope.own_state_code,
        )
        background.append(
            FederationConsumer(
                settings.infra.kafka_bootstrap_servers,
                settings.infra.kafka_security,
                mirrored_topics(peers, scope.own_state_code, (WORKERS, HOUSEHOLDS)),
                intake,
                cipher,
                connections.producer,
                refresh_seconds=settings.federation_topic_refresh_seconds,
            )
        )
        aggregates = AggregatesService(
            StoredRegistryCounts(store),
            StoredAggregatesOutbox(store),
            own_state_code=scope.own_state_code,
            min_cell_size=settings.infra.privacy_min_cell_size,
        )
        background.append(AggregatesJob(aggregates, settings.federation_aggregates_interval_seconds))
        log.info(
            "cross-state federation on",
            extra={"state": scope.own_state_code, "peers": ",".join(f"{a}={c}" for a, c in sorted(peers.items()))},
        )
    for job in background:
        job.start()
    try:
        run_service(connections, http_app, grpc_server)
    finally:
        for job in background:
            job.stop()
