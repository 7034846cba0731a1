"""The entitlements worker process: faust consumers of the registry's events, and the re-evaluation runner.

The consumers only decode events and call the plain, idempotent use cases (`service_layer.intake`);
failures are retried and then sent to the dead-letter topic (`mrc_plumbing.faust_app.subscribe`).
Worker events (registration, update, consent, migration, merge, erasure) come keyed by worker id, so a
worker's history arrives in order; household events come keyed by household id on their own topic.
Re-evaluation jobs run in a thread beside the consumers, which never stop for them.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

import faust

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc.registry.v1 import events_pb2 as registry_events
from mrc_entitlements.adapters import registry_mapping as registry
from mrc_entitlements.adapters.aggregates import FunnelAggregates
from mrc_entitlements.adapters.federation_mapping import ENTITLEMENTS, RefusedStatus, home_status_from
from mrc_entitlements.adapters.store import OUTBOX_COLLECTIONS
from mrc_entitlements.entrypoints.wiring import build, federation_scope, federation_topics
from mrc_entitlements.service_layer.funnel import FunnelService
from mrc_entitlements.service_layer.intake import FactsIntake, FactsUpdate
from mrc_entitlements.service_layer.reevaluation import ReevaluationRunner
from mrc_entitlements.settings import (
    CONSUMER_APP_ID,
    FEDERATION_CONSUMER_GROUP,
    FEDERATION_DEAD_LETTER_TOPIC,
    PUBLISHED_TOPICS,
    REGISTRY_HOUSEHOLDS_TOPIC,
    REGISTRY_WORKERS_TOPIC,
    EntitlementsSettings,
)
from mrc_kernel.events import Event
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.faust_app import EventHandler, create_faust_app, dead_letter_topic_name, subscribe
from mrc_plumbing.federation import AGGREGATES_COLLECTION, AGGREGATES_TOPIC, MirroredTopicsConsumer, mirrored_topics
from mrc_plumbing.service_runtime import connect

log = logging.getLogger(__name__)


def _update(facts: registry_events.WorkerFacts) -> FactsUpdate:
    return FactsUpdate(
        facts=registry.worker_facts(facts),
        grants=registry.grants(facts),
        version=facts.version,
        active=registry.facts_are_active(facts),
        shared_with_states=frozenset(facts.shared_with_state_codes),
        federated_from=facts.federated_from_state_code,
    )


def build_handler(intake: FactsIntake, decoder: EventDecoder) -> EventHandler:
    def handle(event: Event) -> None:
        message = decoder.decode(event)
        applied: object = None
        if isinstance(message, registry_events.WorkerRegistered | registry_events.WorkerUpdated):
            applied = intake.worker_facts(_update(message.facts), event_id=event.id)
        elif isinstance(message, registry_events.ConsentChanged):
            if message.HasField("facts") and message.facts.worker_id:
                applied = intake.worker_facts(_update(message.facts), event_id=event.id)
            else:
                purposes = registry.consent_purposes(message.active_purposes)
                applied = intake.consent_changed(message.worker_id, purposes, event_id=event.id)
        elif isinstance(message, registry_events.MigrationRecorded):
            episode = registry.episode(message.episode)
            if episode is not None:
                applied = intake.migration_recorded(message.episode.worker_id, episode, event_id=event.id)
        elif isinstance(message, registry_events.HouseholdChanged):
            if message.HasField("facts") and message.facts.household_id:
                applied = intake.household_changed(
                    registry.household(message.facts), message.facts.version, event_id=event.id
                )
        elif isinstance(message, registry_events.WorkerErased):
            applied = intake.worker_erased(message.worker_id, event_id=event.id)
        elif isinstance(message, registry_events.WorkersMerged):
            applied = intake.workers_merged(message.merged_worker_id, message.surviving_worker_id, event_id=event.id)
        else:
            return  # other registry events are not ours to act on
        log.info("registry event applied", extra={"event_id": event.id, "type": event.type, "applied": applied})

    return handle


def build_status_handler(intake: FactsIntake, decoder: EventDecoder) -> Callable[[Event, str], str]:
    """Applies what a peer shares of a worker whose record here is a copy of that peer's (the copy of its
    topic MirrorMaker 2 makes here); raises RefusedStatus for a record that can never be applied."""

    def handle(event: Event, source_state_code: str) -> str:
        message = decoder.decode(event)
        if not isinstance(message, federation_pb2.EntitlementStatusShared):
            raise RefusedStatus(f"{event.type} is not read from the federation's entitlements topics")
        status = home_status_from(message, source_state_code)
        applied = intake.home_status(message.worker_id, status, event_id=event.id)
        return "applied" if applied else "unchanged"

    return handle


class AggregatesThread(threading.Thread):
    """Publishes this state's entitlement funnel for the national cluster at start and then every interval."""

    def __init__(self, aggregates: FunnelAggregates, interval_seconds: float) -> None:
        super().__init__(name="federation-aggregates", daemon=True)
        self._aggregates = aggregates
        self._interval = interval_seconds
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                published = self._aggregates.publish()
                log.info("funnel aggregates stored", extra={"cells": len(published.entitlement_funnel)})
            except Exception:
                log.exception("funnel aggregates could not be published; trying again at the next interval")
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()


class RunnerThread(threading.Thread):
    """Works on re-evaluation jobs until stopped; a failure is logged and retried at the next poll."""

    def __init__(self, runner: ReevaluationRunner, poll_seconds: float) -> None:
        super().__init__(name="reevaluation", daemon=True)
        self._runner = runner
        self._poll = poll_seconds
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._runner.run_pending()
            except Exception:
                log.exception("re-evaluation failed; retrying at the next poll")
                busy = 0
            if not busy:
                self._stop.wait(self._poll)

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    settings = EntitlementsSettings()
    scope, peers = federation_scope(settings)
    connections = connect(
        settings,
        topics=[
            *PUBLISHED_TOPICS,
            *federation_topics(scope),
            *([AGGREGATES_TOPIC] if scope.enabled else []),
            REGISTRY_WORKERS_TOPIC,
            REGISTRY_HOUSEHOLDS_TOPIC,
            dead_letter_topic_name(CONSUMER_APP_ID),
        ],
        outbox_collections=[*OUTBOX_COLLECTIONS, *([AGGREGATES_COLLECTION] if scope.enabled else [])],
    )
    service = build(
        connections.store,
        connections.audit,
        connections.crypto.ids,
        catalogue_cache_seconds=settings.catalogue_cache_seconds,
        batch_size=settings.reevaluation_batch_size,
        federation=scope,
    )
    app = create_faust_app(
        CONSUMER_APP_ID, settings.infra, web_port=settings.worker_web_port, bind_host=settings.bind_host
    )
    handler = build_handler(service.intake, EventDecoder())
    # Workers are independent (one version-checked document each): handle several at once, each one's events
    # in order. A household's change reaches its members' documents under the same version checks.
    subscribe(app, REGISTRY_WORKERS_TOPIC, handler, concurrency=settings.consumer_concurrency)
    subscribe(app, REGISTRY_HOUSEHOLDS_TOPIC, handler, concurrency=settings.consumer_concurrency)
    runner = RunnerThread(service.runner, settings.reevaluation_poll_seconds)
    federated = (
        MirroredTopicsConsumer(
            settings.infra.kafka_bootstrap_servers,
            settings.infra.kafka_security,
            mirrored_topics(peers, scope.own_state_code, ENTITLEMENTS),
            build_status_handler(service.intake, EventDecoder()),
            connections.producer,
            group_id=FEDERATION_CONSUMER_GROUP,
            dead_letter_topic=FEDERATION_DEAD_LETTER_TOPIC,
            refresh_seconds=settings.federation_topic_refresh_seconds,
        )
        if scope.enabled
        else None
    )
    aggregates = (
        AggregatesThread(
            FunnelAggregates(
                FunnelService(
                    service.records, service.applications_store, min_cell_size=settings.infra.privacy_min_cell_size
                ),
                connections.store,
                own_state_code=scope.own_state_code,
                min_cell_size=settings.infra.privacy_min_cell_size,
            ),
            settings.federation_aggregates_interval_seconds,
        )
        if scope.enabled
        else None
    )
    connections.relay.start()
    runner.start()
    if federated is not None:
        federated.start()
    if aggregates is not None:
        aggregates.start()
    try:
        worker = faust.Worker(app, loglevel=settings.infra.log_level.lower(), override_logging=False)
        worker.execute_from_commandline()
    finally:
        if federated is not None:
            federated.stop()
        if aggregates is not None:
            aggregates.stop()
        runner.stop()
        connections.close()
    sys.exit(0)
