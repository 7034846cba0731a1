"""The grievance service on the in-memory store with its real adapters and the real field cipher; fakes only for
the other services (registry, employer) and the audit trail, and a clock the tests move by hand."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mrc.audit.v1 import audit_pb2
from mrc_grievance.adapters.crypto_sealer import CryptoSealer
from mrc_grievance.adapters.mongo_repository import (
    StoredCases,
    StoredErasedWorkers,
    StoredReferences,
    StoredReplays,
    StoredTraces,
    StoredWork,
)
from mrc_grievance.domain.reports import ScryptParameters
from mrc_grievance.domain.vocabulary import Category, IntakeChannel
from mrc_grievance.service_layer.background import CaseWork, RegistryEvents, SlaTimer
from mrc_grievance.service_layer.cases import CaseService
from mrc_grievance.service_layer.intake import FileCase, IntakeLine, IntakeService
from mrc_grievance.service_layer.parties import Parties, PersonInput, RespondentInput, SubjectInput
from mrc_grievance.service_layer.ports import (
    EmployerCheck,
    Forwarded,
    MigrationEpisodeRef,
    WorkerCheck,
    WorkerLookup,
)
from mrc_grievance.service_layer.protection import Protection
from mrc_grievance.service_layer.reports import ReportService
from mrc_grievance.service_layer.statistics import StatisticsService
from mrc_grievance.service_layer.traces import TraceService
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Unavailable
from mrc_kernel.events import Event
from mrc_kernel.idempotency import IdDeriver
from mrc_kernel.place import Place
from mrc_kernel.roles import Role
from mrc_plumbing.audit import AuditTrail
from mrc_plumbing.crypto import BlindIndexer, Crypto, FieldCipher, InMemoryDataKeyStore, KeyRing, MasterKeys
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.store import OUTBOX_FIELD
from mrc_plumbing.store.memory import InMemoryStore
from tests.support.auth import RecordingAudit, caller_for

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# Bihar / Patna / Phulwari: a valid LGD triple.
PATNA = Place(state_code="10", district_code="212", subdistrict_code="1415", village_name="Phulwari")
CHENNAI = Place(state_code="33", district_code="568")
CHEAP_SCRYPT = ScryptParameters(log2_n=10, r=8, p=1)
INTAKE_SECRET = b"s" * 32

HELPLINE = caller_for(Role.HELPLINE_AGENT, partner_id="partner-a", client_id="helpline-a")
CASEWORKER = caller_for(Role.CASEWORKER, partner_id="partner-a", client_id="caseworker-a")
SUPERVISOR = caller_for(Role.SUPERVISOR, partner_id="partner-a", client_id="supervisor-a")
OTHER_CSO = caller_for(Role.CASEWORKER, partner_id="partner-b", client_id="caseworker-b")
OTHER_CSO_COLLEAGUE = caller_for(Role.CASEWORKER, partner_id="partner-b", client_id="caseworker-b2")
AHTU = caller_for(Role.CASEWORKER, partner_id="partner-ahtu", client_id="ahtu-officer")
IN_MAHARASHTRA = caller_for(Role.CASEWORKER, partner_id="partner-a", client_id="caseworker-mh", states={"27"})
EMPLOYER = caller_for(Role.EMPLOYER, partner_id="brick-co", employer_id="employer-7")
PUBLIC = caller_for(Role.PUBLIC, partner_id="partner-a", client_id="public-web")
FORWARDED = Forwarded("Bearer test-token", "req-1")


@dataclass(frozen=True)
class Listing:
    caller: Caller
    action: Action
    resource_type: str
    resource_ids: tuple[str, ...]
    fields: tuple[str, ...]
    state_code: str
    message: audit_pb2.DataAccessed  # as the real adapter builds it


class ListingAudit(RecordingAudit):
    """`RecordingAudit` plus the listing record the grievance service makes for a page of its queue."""

    def __init__(self, *, service: str = "grievance", state_code: str = "10") -> None:
        super().__init__(service=service, state_code=state_code)
        self._plain = AuditTrail(None, service=service, state_code=state_code)
        self.listings: list[Listing] = []

    def record_listing(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_ids: Sequence[str],
        fields: Iterable[str] = (),
        *,
        state_code: str = "",
    ) -> None:
        if self.failing:
            raise Unavailable("the audit trail is unavailable; personal data is not served")
        fields = tuple(sorted(fields))
        event = self._plain.event(
            caller, action, resource_type, "", fields, state_code=state_code, resource_ids=resource_ids
        )
        message = audit_pb2.DataAccessed.FromString(event.data)
        self.listings.append(Listing(caller, action, resource_type, tuple(resource_ids), fields, state_code, message))


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now


@dataclass
class FakeWorkers:
    """The registry as the grievance service sees it: which workers each partner may follow up."""

    visible: dict[str, set[str]] = field(default_factory=lambda: {"worker-1": {"partner-a"}})
    versions: dict[str, int] = field(default_factory=lambda: {"worker-1": 3})
    episodes: dict[str, list[MigrationEpisodeRef]] = field(default_factory=dict)
    down: bool = False
    calls: list[tuple[str, str, Forwarded]] = field(default_factory=list)

    def check_worker(self, worker_id: str, caller: Caller, forwarded: Forwarded) -> WorkerLookup:
        self.calls.append((worker_id, caller.client_id, forwarded))
        if self.down:
            raise Unavailable("the registry cannot be reached; retry later")
        if Role.HELPLINE_AGENT in caller.roles and len(caller.roles) == 1:
            return WorkerLookup(WorkerCheck.NOT_PERMITTED)  # no workers:read
        if caller.partner_id not in self.visible.get(worker_id, set()):
            return WorkerLookup(WorkerCheck.NOT_FOUND)
        return WorkerLookup(WorkerCheck.FOUND, self.versions.get(worker_id, 1))

    def migration_episodes(self, worker_id: str, caller: Caller, forwarded: Forwarded) -> list[MigrationEpisodeRef]:
        return list(self.episodes.get(worker_id, []))


@dataclass
class FakeEmployers:
    known: set[str] = field(default_factory=lambda: {"employer-7", "employer-8"})
    down: bool = False

    def check_employer(self, employer_id: str, caller: Caller, forwarded: Forwarded) -> EmployerCheck:
        if self.down:
            raise Unavailable("the employer service cannot be reached; retry later")
        return EmployerCheck.FOUND if employer_id in self.known else EmployerCheck.NOT_FOUND


def crypto() -> Crypto:
    keyring = KeyRing(InMemoryDataKeyStore(), MasterKeys({"m1": os.urandom(32)}, "m1"))
    return Crypto(keyring, FieldCipher(keyring), BlindIndexer(os.urandom(32)), IdDeriver(os.urandom(32)))


class Grievances:
    """Everything the API process and the worker wire together, on one in-memory store."""

    def __init__(self, *, sla_scale: float = 1.0) -> None:
        self.clock = Clock()
        self.store = InMemoryStore()
        self.crypto = crypto()
        self.cases = StoredCases(self.store)
        self.cases.ensure_indexes()
        self.traces = StoredTraces(self.store)
        self.references = StoredReferences(self.store)
        self.work = StoredWork(self.store)
        self.erased = StoredErasedWorkers(self.store)
        self.replays = StoredReplays(self.store)
        self.audit = ListingAudit(service="grievance")
        self.protection = Protection(CryptoSealer(self.crypto))
        self.workers = FakeWorkers()
        self.employers = FakeEmployers()
        parties = Parties(self.protection, self.workers, self.employers)
        ids = self.crypto.ids
        self.case_service = CaseService(
            self.cases, self.audit, self.protection, parties, ids, references=self.references, clock=self.clock
        )
        self.intake = IntakeService(
            self.cases,
            self.references,
            self.audit,
            self.protection,
            parties,
            ids,
            self.replays,
            line=IntakeLine((INTAKE_SECRET,), "partner-a", PATNA),
            sla_scale=sla_scale,
            code_parameters=CHEAP_SCRYPT,
            clock=self.clock,
        )
        self.reports = ReportService(self.cases, self.references, self.audit, self.protection, ids, clock=self.clock)
        self.trace_service = TraceService(
            self.traces,
            self.case_service.access,
            self.audit,
            self.protection,
            parties,
            self.workers,
            ids,
            clock=self.clock,
        )
        self.statistics = StatisticsService(self.cases, min_cell_size=5)
        self.case_work = CaseWork(self.cases, self.traces, self.work, self.erased, self.protection, clock=self.clock)
        self.registry_events = RegistryEvents(self.cases, self.traces, self.work, self.erased, clock=self.clock)
        self.sla_timer = SlaTimer(self.cases, self.work, recheck_seconds=3.0)

    # -- helpers ------------------------------------------------------------------------------------------

    def file(self, caller: Caller = HELPLINE, **overrides: Any) -> str:
        return self.intake.file(command(**overrides), caller, FORWARDED).view.case.grievance_id

    def raw(self, collection: str, document_id: str) -> dict[str, Any]:
        return dict(self.store.collection(collection).documents[document_id])

    def outbox(self, collection: str = "grievances") -> list[Event]:
        return [
            Event.from_document(stored)
            for doc in self.store.collection(collection).documents.values()
            for stored in doc.get(OUTBOX_FIELD, [])
        ]

    def published(self, type_suffix: str = "", collection: str = "grievances") -> list[Any]:
        decoder = EventDecoder()
        return [
            decoder.decode(e) for e in self.outbox(collection) if e.type.endswith(type_suffix) and "audit" not in e.type
        ]

    def audit_messages(self, collection: str = "grievances") -> list[audit_pb2.DataAccessed]:
        return [
            audit_pb2.DataAccessed.FromString(e.data)
            for e in self.outbox(collection)
            if e.type == "mrc.audit.v1.DataAccessed"
        ]


def command(**overrides: Any) -> FileCase:
    values: dict[str, Any] = {
        "category": Category.WAGE_THEFT,
        "channel": IntakeChannel.HELPLINE,
        "summary": "Contractor has not paid wages for six weeks.",
        "location": PATNA,
        "subject": SubjectInput(person=PersonInput(name="Sunita Devi", age=31, gender="female", phone="98765 43210")),
        "respondent": RespondentInput(employer_id="employer-7"),
        "idempotency_key": "key-1",
    }
    values.update(overrides)
    return FileCase(**values)


def purpose(caller: Caller, value: str) -> Caller:
    return dataclasses.replace(caller, purpose=value)


def contains_text(value: object, texts: Iterable[str]) -> list[str]:
    """Which of `texts` appear anywhere in a stored value (strings, bytes, nested)."""
    found: list[str] = []
    for text in texts:
        if _contains(value, text):
            found.append(text)
    return found


def _contains(value: object, text: str) -> bool:
    if isinstance(value, str):
        return text in value
    if isinstance(value, bytes):
        return text.encode() in value
    if isinstance(value, dict):
        return any(_contains(v, text) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_contains(v, text) for v in value)
    return False
