"""Builds the service's repositories and use cases on one document store: the same for both processes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mrc_entitlements.adapters.federation_mapping import ENTITLEMENTS, federation_topic
from mrc_entitlements.adapters.federation_publisher import FederationScope, StatusPublisher
from mrc_entitlements.adapters.store import (
    StoredApplications,
    StoredHouseholds,
    StoredJobs,
    StoredSchemes,
    StoredWorkerRecords,
)
from mrc_entitlements.catalogue import starter_catalogue
from mrc_entitlements.service_layer.applications import ApplicationService
from mrc_entitlements.service_layer.catalogue import CatalogueService, PublishedRules
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_entitlements.service_layer.funnel import FunnelService
from mrc_entitlements.service_layer.intake import FactsIntake
from mrc_entitlements.service_layer.ports import AuditRecorder
from mrc_entitlements.service_layer.reevaluation import ReevaluationRunner
from mrc_entitlements.settings import FEDERATION_DEAD_LETTER_TOPIC, EntitlementsSettings
from mrc_kernel.clock import utc_now
from mrc_kernel.idempotency import IdDeriver
from mrc_plumbing.store import DocumentStore


@dataclass
class Entitlements:
    records: StoredWorkerRecords
    schemes: StoredSchemes
    applications_store: StoredApplications
    jobs: StoredJobs
    households: StoredHouseholds
    rules: PublishedRules
    catalogue: CatalogueService
    eligibility: EligibilityService
    applications: ApplicationService
    funnel: FunnelService
    intake: FactsIntake
    runner: ReevaluationRunner


def build(
    store: DocumentStore,
    audit: AuditRecorder,
    ids: IdDeriver,
    *,
    catalogue_cache_seconds: float = 2.0,
    batch_size: int = 200,
    clock: Callable[[], datetime] = utc_now,
    seed: bool = True,
    federation: FederationScope | None = None,
) -> Entitlements:
    records = StoredWorkerRecords(store)
    schemes = StoredSchemes(store)
    applications = StoredApplications(store)
    scope = federation or FederationScope()
    if scope.enabled:
        # Every write of a worker's determinations or applications tells the states its record is shared with.
        publisher = StatusPublisher(scope, applications.of_worker, records.get, clock=clock)
        records.set_federation(publisher)
        applications.set_federation(publisher)
    jobs = StoredJobs(store)
    households = StoredHouseholds(store)
    records.ensure_indexes()
    applications.ensure_indexes()
    rules = PublishedRules(schemes, ttl_seconds=catalogue_cache_seconds)
    catalogue = CatalogueService(schemes, jobs, records, audit, clock=clock)
    if seed:
        catalogue.seed(starter_catalogue(clock()))
    return Entitlements(
        records=records,
        schemes=schemes,
        applications_store=applications,
        jobs=jobs,
        households=households,
        rules=rules,
        catalogue=catalogue,
        eligibility=EligibilityService(records, applications, rules, audit, clock=clock),
        applications=ApplicationService(applications, records, schemes, audit, ids, clock=clock),
        funnel=FunnelService(records, applications),
        intake=FactsIntake(records, households, applications, rules, clock=clock, own_state_code=scope.own_state_code),
        runner=ReevaluationRunner(records, schemes, jobs, catalogue, batch_size=batch_size, clock=clock),
    )


def federation_scope(settings: EntitlementsSettings) -> tuple[FederationScope, dict[str, str]]:
    """This state and its peers (alias -> LGD code); disabled without a state code or peers."""
    peers = settings.federation.peer_codes()
    own = settings.infra.state_code
    if not own:
        return FederationScope(), {}
    return FederationScope(own, frozenset(peers.values())), peers


def federation_topics(scope: FederationScope) -> list[str]:
    """The topics this service publishes for the federation (one per peer) and its dead-letter topic."""
    if not scope.enabled:
        return []
    return [
        *(federation_topic(ENTITLEMENTS, code) for code in sorted(scope.peer_state_codes)),
        FEDERATION_DEAD_LETTER_TOPIC,
    ]
