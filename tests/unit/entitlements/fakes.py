"""The entitlements use cases wired to their real store adapters on the in-memory store, registry events as
the registry publishes them (through the consumer's real handler), and the callers tests act as."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from mrc.common.v1 import common_pb2
from mrc.entitlements.v1 import events_pb2 as ent_events
from mrc.registry.v1 import events_pb2, migration_pb2, worker_pb2
from mrc_entitlements.adapters.store import OUTBOX_COLLECTIONS
from mrc_entitlements.entrypoints.consumer import build_handler
from mrc_entitlements.entrypoints.wiring import Entitlements, build
from mrc_kernel.caller import Caller
from mrc_kernel.events import Event
from mrc_kernel.idempotency import IdDeriver
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.store import OUTBOX_FIELD
from mrc_plumbing.store.memory import InMemoryStore
from tests.support.auth import RecordingAudit, caller_for

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
BIHAR, PATNA, KERALA, ERNAKULAM, UP, LUCKNOW = "10", "212", "32", "555", "9", "162"
PARTNER_A, PARTNER_B = "partner-a", "partner-b"
WORKERS_TOPIC = "mrc.registry.workers.v1"
HOUSEHOLDS_TOPIC = "mrc.registry.households.v1"
ELIGIBILITY_EVENTS = (ent_events.EligibilityDetermined, ent_events.EligibilityChanged, ent_events.EligibilityRemoved)

LINKAGE = worker_pb2.CONSENT_PURPOSE_ENTITLEMENT_LINKAGE
REGISTRATION = worker_pb2.CONSENT_PURPOSE_REGISTRATION


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def caseworker(partner_id: str = PARTNER_A, **kwargs: Any) -> Caller:
    return caller_for(Role.CASEWORKER, partner_id=partner_id, **kwargs)


def operator() -> Caller:
    return caller_for(Role.OPERATOR, partner_id="mrc-operations")


def worker_facts(
    worker_id: str = "w-1",
    *,
    birth_year: int = 1996,
    sector: str = "construction",
    home: tuple[str, str] = (BIHAR, PATNA),
    purposes: Iterable[int] = (REGISTRATION, LINKAGE),
    partner_id: str = PARTNER_A,
    version: int = 1,
    shared_with: Iterable[str] = (),
) -> events_pb2.WorkerFacts:
    listed = sorted(set(purposes))
    grant_purposes = []
    if REGISTRATION in listed:
        grant_purposes += ["registration", "case_management"]
    if LINKAGE in listed:
        grant_purposes.append("entitlement_linkage")
    grants = [events_pb2.PartnerGrant(partner_id=partner_id, purposes=sorted(grant_purposes))] if grant_purposes else []
    grants += [
        events_pb2.PartnerGrant(partner_id=p, purposes=sorted({*grant_purposes, "sharing"})) for p in shared_with
    ]
    return events_pb2.WorkerFacts(
        worker_id=worker_id,
        birth_year=birth_year,
        gender=worker_pb2.GENDER_MALE,
        sector=sector,
        occupation="mason",
        home=common_pb2.LgdLocation(state_code=home[0], district_code=home[1]),
        document_kinds=[worker_pb2.IDENTITY_DOCUMENT_KIND_AADHAAR],
        active_purposes=listed,
        registering_partner_id=partner_id,
        status=worker_pb2.WORKER_STATUS_ACTIVE,
        version=version,
        consenting_partner_ids=[partner_id] if listed else [],
        grants=grants,
    )


_ids = itertools.count(1)


def envelope(message: Message, subject: str, topic: str = WORKERS_TOPIC) -> Event:
    event = Event.from_message(message, source="/mrc/registry", subject=subject, topic=topic)
    return event


def registered(facts: events_pb2.WorkerFacts | None = None, **kwargs: Any) -> Event:
    facts = facts or worker_facts(**kwargs)
    return envelope(events_pb2.WorkerRegistered(facts=facts), facts.worker_id)


def updated(facts: events_pb2.WorkerFacts) -> Event:
    return envelope(events_pb2.WorkerUpdated(facts=facts), facts.worker_id)


def consent_changed(facts: events_pb2.WorkerFacts) -> Event:
    return envelope(
        events_pb2.ConsentChanged(worker_id=facts.worker_id, active_purposes=facts.active_purposes, facts=facts),
        facts.worker_id,
    )


def migrated(
    worker_id: str = "w-1", *, to: tuple[str, str] = (KERALA, ERNAKULAM), status: int = 2, episode_id: str = "e-1"
) -> Event:
    episode = migration_pb2.MigrationEpisode(
        episode_id=episode_id,
        worker_id=worker_id,
        origin=common_pb2.LgdLocation(state_code=BIHAR, district_code=PATNA),
        destination=common_pb2.LgdLocation(state_code=to[0], district_code=to[1]),
        sector="construction",
        start_date="2026-03-01",
        status=status,
    )
    return envelope(events_pb2.MigrationRecorded(episode=episode), worker_id)


def household_changed(
    members: Iterable[str] = ("w-1",), *, household_id: str = "h-1", ration_card: bool = True, version: int = 1
) -> Event:
    facts = events_pb2.HouseholdFacts(
        household_id=household_id,
        member_worker_ids=sorted(members),
        size=4,
        holds_ration_card=ration_card,
        ration_card_state_code=BIHAR if ration_card else "",
        home=common_pb2.LgdLocation(state_code=BIHAR, district_code=PATNA),
        version=version,
    )
    return envelope(events_pb2.HouseholdChanged(facts=facts), household_id, HOUSEHOLDS_TOPIC)


def erased(worker_id: str = "w-1") -> Event:
    return envelope(events_pb2.WorkerErased(worker_id=worker_id), worker_id)


def merged(merged_id: str, survivor_id: str) -> Event:
    return envelope(events_pb2.WorkersMerged(merged_worker_id=merged_id, surviving_worker_id=survivor_id), merged_id)


@dataclass
class World:
    store: InMemoryStore = field(default_factory=InMemoryStore)
    audit: RecordingAudit = field(default_factory=RecordingAudit)
    clock: Clock = field(default_factory=Clock)
    service: Entitlements = field(init=False)

    def __post_init__(self) -> None:
        self.service = build(
            self.store,
            self.audit,
            IdDeriver(b"a-test-secret-of-32-bytes-long!!"),
            catalogue_cache_seconds=0,
            clock=self.clock,
        )
        self._handler = build_handler(self.service.intake, EventDecoder())
        self._decoder = EventDecoder()

    def deliver(self, *events: Event) -> None:
        for event in events:
            self._handler(event)

    def outbox(self, collection: str = "eligibility") -> list[Event]:
        found = []
        for doc in self.store.collection(collection).documents.values():
            found += [Event.from_document(entry) for entry in doc.get(OUTBOX_FIELD, [])]
        return found

    def messages(self, collection: str = "eligibility", kinds: tuple[type, ...] = ELIGIBILITY_EVENTS) -> list[Any]:
        decoded = [self._decoder.decode(e) for e in self.outbox(collection)]
        return [m for m in decoded if isinstance(m, kinds)]

    def clear_outboxes(self) -> None:
        for name in OUTBOX_COLLECTIONS:
            for doc in self.store.collection(name).documents.values():
                doc[OUTBOX_FIELD] = []

    def outcomes(self, worker_id: str = "w-1") -> dict[str, str]:
        record = self.service.records.get(worker_id)
        assert record is not None
        return {code: d.outcome.value for code, d in record.eligibility.determinations.items()}
