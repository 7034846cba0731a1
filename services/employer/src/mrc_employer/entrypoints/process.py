"""Wires the employer API process: store, broker, crypto, use cases, REST, gRPC and the outbox relay.

The compliance history is kept up to date by the worker process (`mrc_employer.worker`), which relays
the history's own events; this process relays those of organisations, records, batches and the table.
"""

from __future__ import annotations

import logging

from mrc.employer.v1 import (
    compliance_service_pb2_grpc,
    employer_details_service_pb2_grpc,
    employer_service_pb2_grpc,
    minimum_wages_service_pb2_grpc,
    verification_service_pb2_grpc,
)
from mrc_employer.adapters.evidence import CipherEvidence
from mrc_employer.adapters.histories import StoredHistories
from mrc_employer.adapters.minimum_wages import MinimumWageRateDocument, StoredRates
from mrc_employer.adapters.organisations import EmployerDocument, StoredOrganisations
from mrc_employer.adapters.records import ComplianceRecordDocument, StoredRecords, WageBatchDocument
from mrc_employer.adapters.wage_register_jobs import StoredWageRegisterJobs
from mrc_employer.entrypoints.grpc_api import (
    ComplianceServicer,
    EmployerDetailsServicer,
    EmployerServicer,
    MinimumWagesServicer,
    VerificationServicer,
)
from mrc_employer.entrypoints.http_employers import employers_router
from mrc_employer.entrypoints.http_tables import minimum_wages_router, verification_router
from mrc_employer.entrypoints.http_wage_registers import MAX_UPLOAD_BYTES, WAGE_REGISTERS_PATH, wage_registers_router
from mrc_employer.service_layer.compliance import ComplianceService
from mrc_employer.service_layer.minimum_wages import MinimumWageService, MinimumWageTables
from mrc_employer.service_layer.organisations import OrganisationService
from mrc_employer.service_layer.verification import VerificationService
from mrc_employer.service_layer.wage_registers import WageRegisterImporter
from mrc_employer.settings import EMPLOYERS_TOPIC, MINIMUM_WAGES_TOPIC, EmployerSettings
from mrc_plumbing.auth.rate_limit import SlidingWindowLimiter, WindowRule
from mrc_plumbing.grpc_server import GrpcServer
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.service_runtime import connect, run_service
from mrc_plumbing.store.schema import collection_of
from mrc_plumbing.tabular import read_table

log = logging.getLogger(__name__)


def main() -> None:
    settings = EmployerSettings()
    connections = connect(
        settings,
        topics=[EMPLOYERS_TOPIC, MINIMUM_WAGES_TOPIC],
        outbox_collections=[
            collection_of(EmployerDocument),
            collection_of(ComplianceRecordDocument),
            collection_of(WageBatchDocument),
            collection_of(MinimumWageRateDocument),
        ],
    )
    store, ids, audit = connections.store, connections.crypto.ids, connections.audit
    organisations, records, histories = StoredOrganisations(store), StoredRecords(store), StoredHistories(store)
    rates, jobs = StoredRates(store), StoredWageRegisterJobs(store)
    for repository in (organisations, records, histories, rates, jobs):
        repository.ensure_indexes()
    tables = MinimumWageTables(rates, refresh_seconds=settings.minimum_wage_refresh_seconds)
    minimum_wages = MinimumWageService(rates, tables, audit, ids)
    seeded = minimum_wages.seed()
    if seeded:
        log.info("minimum-wage table seeded", extra={"rows": seeded})
    organisation_service = OrganisationService(organisations, histories, audit, ids)
    compliance = ComplianceService(
        organisations,
        records,
        histories,
        tables,
        CipherEvidence(connections.crypto.cipher),
        audit,
        ids,
        min_cell_size=settings.infra.privacy_min_cell_size,
    )
    importer = WageRegisterImporter(organisations, records, jobs, tables, audit, ids, read_table)
    verification = VerificationService(organisations, histories)
    # Shared with the other replicas, like the platform's own limits (mrc_plumbing.auth.rate_limit).
    verify_rule = WindowRule.from_rate(settings.verify_rate_per_second, settings.verify_burst)
    verify_per_client = SlidingWindowLimiter("verify-client", verify_rule, counters=connections.counters)
    verify_per_address = SlidingWindowLimiter("verify-address", verify_rule, counters=connections.counters)

    http_app = create_http_app(
        service=settings.service_name,
        title="MRC Employer",
        readiness_checks=connections.readiness_checks(),
        body_limits_by_path={WAGE_REGISTERS_PATH: MAX_UPLOAD_BYTES},
    )
    auth = connections.http_auth
    http_app.include_router(employers_router(organisation_service, compliance, auth))
    http_app.include_router(wage_registers_router(importer, auth))
    http_app.include_router(minimum_wages_router(minimum_wages, auth))
    http_app.include_router(verification_router(verification, auth, verify_per_client, verify_per_address))

    grpc_auth = connections.grpc_auth
    grpc_server = GrpcServer(settings.bind_host, settings.grpc_port)
    grpc_server.add_service(
        "mrc.employer.v1.EmployerService",
        lambda server: employer_service_pb2_grpc.add_EmployerServiceServicer_to_server(
            EmployerServicer(organisation_service, grpc_auth), server
        ),
    )
    grpc_server.add_service(
        "mrc.employer.v1.EmployerDetailsService",
        lambda server: employer_details_service_pb2_grpc.add_EmployerDetailsServiceServicer_to_server(
            EmployerDetailsServicer(organisation_service, grpc_auth), server
        ),
    )
    grpc_server.add_service(
        "mrc.employer.v1.ComplianceService",
        lambda server: compliance_service_pb2_grpc.add_ComplianceServiceServicer_to_server(
            ComplianceServicer(compliance, importer, grpc_auth), server
        ),
    )
    grpc_server.add_service(
        "mrc.employer.v1.MinimumWagesService",
        lambda server: minimum_wages_service_pb2_grpc.add_MinimumWagesServiceServicer_to_server(
            MinimumWagesServicer(minimum_wages, grpc_auth), server
        ),
    )
    grpc_server.add_service(
        "mrc.employer.v1.VerificationService",
        lambda server: verification_service_pb2_grpc.add_VerificationServiceServicer_to_server(
            VerificationServicer(verification, grpc_auth, verify_per_client, verify_per_address), server
        ),
    )
    run_service(connections, http_app, grpc_server)
