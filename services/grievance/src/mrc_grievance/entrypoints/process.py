"""Wires the grievance API process together: store, broker, crypto, the registry and employer clients, use
cases, REST, gRPC, the outbox relay, and the case work runner (SLA milestones and the registry's erasures
handed over by the worker, applied here: this process is the one writer of cases)."""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Callable

from mrc.grievance.v1 import grievance_service_pb2_grpc
from mrc_grievance.adapters.aggregates import CategoryAggregates
from mrc_grievance.adapters.crypto_sealer import CryptoSealer
from mrc_grievance.adapters.federation import (
    GRIEVANCES,
    CaseForwarder,
    StoredFederatedWorkers,
    StoredForwardedCases,
    StoredForwardedTraces,
    TraceForwarder,
    description_opener,
    forwarded_handler,
    open_account,
    open_description,
    summary_opener,
)
from mrc_grievance.adapters.mongo_repository import (
    CaseDocument,
    StoredCases,
    StoredErasedWorkers,
    StoredReferences,
    StoredReplays,
    StoredTraces,
    StoredWork,
    TraceDocument,
)
from mrc_grievance.adapters.peers import GrpcEmployerDirectory, GrpcWorkerDirectory
from mrc_grievance.entrypoints.grpc_api import GrievanceServicer
from mrc_grievance.entrypoints.http_api import (
    INTAKE_MAX_BODY_BYTES,
    INTAKE_PATH,
    grievances_router,
    intake_router,
    reports_router,
    statistics_router,
    traces_router,
)
from mrc_grievance.entrypoints.http_federation import forwarded_router
from mrc_grievance.service_layer.background import CaseWork
from mrc_grievance.service_layer.cases import CaseService
from mrc_grievance.service_layer.federation import ForwardedCaseReads, ForwardedTraceReads
from mrc_grievance.service_layer.intake import IntakeLine, IntakeService
from mrc_grievance.service_layer.parties import Parties
from mrc_grievance.service_layer.protection import Protection
from mrc_grievance.service_layer.reports import ReportService
from mrc_grievance.service_layer.statistics import StatisticsService
from mrc_grievance.service_layer.traces import TraceService
from mrc_grievance.settings import (
    FEDERATION_CONSUMER_GROUP,
    FEDERATION_DEAD_LETTER_TOPIC,
    GRIEVANCES_TOPIC,
    TRACES_TOPIC,
    GrievanceSettings,
)
from mrc_kernel.clock import utc_now
from mrc_kernel.place import Place
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.federation import AGGREGATES_COLLECTION, AGGREGATES_TOPIC, MirroredTopicsConsumer, mirrored_topics
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service
from mrc_plumbing.store.schema import collection_of

log = logging.getLogger(__name__)


class Periodic:
    """Runs `step` every `interval` seconds in a thread until stopped; a failing step is logged and retried."""

    def __init__(self, name: str, step: Callable[[], object], interval: float) -> None:
        self._step = step
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._step()
            except Exception:
                log.exception("background step failed; trying again", extra={"thread": self._thread.name})

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


def intake_line(settings: GrievanceSettings) -> IntakeLine:
    secrets: list[bytes] = []
    for text in settings.intake_secrets.get_secret_value().split(","):
        if text.strip():
            try:
                secrets.append(base64.b64decode(text.strip(), validate=True))
            except (binascii.Error, ValueError):
                log.error("an intake secret is not valid base64; the intake line stays closed")
                return IntakeLine()
    if any(len(secret) < 24 for secret in secrets):
        log.error("an intake secret is shorter than 24 bytes; the intake line stays closed")
        return IntakeLine()
    place = (
        Place(settings.intake_state_code, settings.intake_district_code)
        if settings.intake_state_code and settings.intake_district_code
        else None
    )
    return IntakeLine(tuple(secrets), settings.intake_partner_id, place)


def main() -> None:
    settings = GrievanceSettings()
    peers = settings.federation.peer_codes() if settings.infra.state_code else {}
    own_state = settings.infra.state_code
    federation_topics = (
        [
            *(f"mrc.federation.{GRIEVANCES}.{code}.v1" for code in sorted(set(peers.values()))),
            FEDERATION_DEAD_LETTER_TOPIC,
            AGGREGATES_TOPIC,
        ]
        if peers
        else []
    )
    connections = connect(
        settings,
        topics=[GRIEVANCES_TOPIC, TRACES_TOPIC, *federation_topics],
        outbox_collections=[
            collection_of(CaseDocument),
            collection_of(TraceDocument),
            *([AGGREGATES_COLLECTION] if peers else []),
        ],
    )
    store, ids = connections.store, connections.crypto.ids
    cases, traces = StoredCases(store), StoredTraces(store)
    cases.ensure_indexes()
    traces.ensure_indexes()
    references, work, erased = StoredReferences(store), StoredWork(store), StoredErasedWorkers(store)
    replays = StoredReplays(store)
    protection = Protection(CryptoSealer(connections.crypto))
    workers = GrpcWorkerDirectory(settings.registry_grpc_target, timeout_seconds=settings.peer_timeout_seconds)
    employers = GrpcEmployerDirectory(settings.employer_grpc_target, timeout_seconds=settings.peer_timeout_seconds)
    parties = Parties(protection, workers, employers)
    audit = connections.audit
    case_service = CaseService(cases, audit, protection, parties, ids, references=references)
    intake = IntakeService(
        cases,
        references,
        audit,
        protection,
        parties,
        ids,
        replays,
        line=intake_line(settings),
        sla_scale=settings.sla_time_scale,
    )
    reports = ReportService(cases, references, audit, protection, ids)
    trace_service = TraceService(traces, case_service.access, audit, protection, parties, workers, ids)
    statistics = StatisticsService(cases, min_cell_size=settings.infra.privacy_min_cell_size)
    case_work = CaseWork(cases, traces, work, erased, protection)
    forwarded_cases, forwarded_traces = StoredForwardedCases(store), StoredForwardedTraces(store)
    federation_cipher = FederationCipher.from_settings(settings.crypto) if peers else None
    if federation_cipher is not None:
        sealer = CryptoSealer(connections.crypto)
        copies = StoredFederatedWorkers(store)
        peer_codes = frozenset(peers.values())
        cases.set_federation(
            CaseForwarder(own_state, peer_codes, copies, summary_opener(sealer.open), federation_cipher)
        )
        traces.set_federation(
            TraceForwarder(own_state, peer_codes, copies, description_opener(sealer.open), federation_cipher)
        )
    forwarded_reads = ForwardedCaseReads(
        forwarded_cases,
        workers,
        audit,
        open_account(federation_cipher) if federation_cipher is not None else (lambda _id, _token: ""),
        own_state_code=own_state,
    )
    forwarded_trace_reads = ForwardedTraceReads(
        forwarded_traces,
        workers,
        audit,
        open_description(federation_cipher) if federation_cipher is not None else (lambda _id, _token: ""),
        own_state_code=own_state,
    )

    http_app = create_http_app(
        service=settings.service_name,
        title="MRC Grievance",
        readiness_checks=connections.readiness_checks(),
        body_limits_by_path={INTAKE_PATH: INTAKE_MAX_BODY_BYTES},
    )
    http_app.include_router(grievances_router(case_service, intake, connections.http_auth))
    http_app.include_router(reports_router(intake, reports, connections.http_auth))
    http_app.include_router(intake_router(intake))
    http_app.include_router(traces_router(trace_service, connections.http_auth))
    http_app.include_router(statistics_router(statistics, connections.http_auth))
    http_app.include_router(forwarded_router(forwarded_reads, forwarded_trace_reads, connections.http_auth))

    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    servicer = GrievanceServicer(case_service, intake, reports, trace_service, statistics, connections.grpc_auth)
    grpc_server.add_service(
        "mrc.grievance.v1.GrievanceService",
        lambda server: grievance_service_pb2_grpc.add_GrievanceServiceServicer_to_server(servicer, server),
    )
    runner = Periodic("case-work", case_work.run_once, settings.case_work_poll_seconds)
    sweeper = Periodic("intake-replays", lambda: replays.forget_older_than(utc_now()), 60.0)
    incoming = (
        MirroredTopicsConsumer(
            settings.infra.kafka_bootstrap_servers,
            settings.infra.kafka_security,
            mirrored_topics(peers, own_state, GRIEVANCES),
            forwarded_handler(forwarded_cases, own_state, EventDecoder(), forwarded_traces),
            connections.producer,
            group_id=FEDERATION_CONSUMER_GROUP,
            dead_letter_topic=FEDERATION_DEAD_LETTER_TOPIC,
            refresh_seconds=settings.federation_topic_refresh_seconds,
        )
        if federation_cipher is not None
        else None
    )
    national = (
        Periodic(
            "federation-aggregates",
            CategoryAggregates(
                cases, store, own_state_code=own_state, min_cell_size=settings.infra.privacy_min_cell_size
            ).publish,
            settings.federation_aggregates_interval_seconds,
        )
        if peers
        else None
    )
    runner.start()
    sweeper.start()
    if incoming is not None:
        incoming.start()
    if national is not None:
        national.start()
    try:
        run_service(connections, http_app, grpc_server)
    finally:
        if incoming is not None:
            incoming.stop()
        if national is not None:
            national.stop()
        runner.stop()
        sweeper.stop()
        workers.close()
        employers.close()
