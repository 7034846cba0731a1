"""The employer service's use cases wired to its real store adapters on the in-memory store, the callers the
tests act as, and valid inputs to vary. Only the evidence cipher (readable tokens) is a stand-in."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from mrc.audit.v1 import audit_pb2
from mrc_employer.adapters.histories import StoredHistories
from mrc_employer.adapters.minimum_wages import StoredRates
from mrc_employer.adapters.organisations import StoredOrganisations
from mrc_employer.adapters.records import StoredRecords
from mrc_employer.adapters.wage_register_jobs import StoredWageRegisterJobs
from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.licences import LicenceInput, LicenceKind
from mrc_employer.domain.minimum_wages import WageSphere
from mrc_employer.domain.organisation import IdentifierInput, OrganisationRole
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.worksites import WorksiteKind
from mrc_employer.service_layer.compliance import ComplianceService, RecordWage
from mrc_employer.service_layer.history_updates import HistoryUpdates
from mrc_employer.service_layer.minimum_wages import MinimumWageService, MinimumWageTables
from mrc_employer.service_layer.organisations import AddWorksite, OrganisationService, RegisterOrganisation
from mrc_employer.service_layer.verification import VerificationService
from mrc_employer.service_layer.wage_registers import WageRegisterImporter
from mrc_kernel.caller import Caller
from mrc_kernel.events import Event
from mrc_kernel.idempotency import IdDeriver
from mrc_kernel.place import Place
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.store import OUTBOX_FIELD
from mrc_plumbing.store.memory import InMemoryStore
from mrc_plumbing.tabular import read_table
from tests.support.auth import RecordingAudit, caller_for

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
IDS = IdDeriver(b"unit-test-id-derivation-key-0001")

# Bihar / Araria / Araria sub-district, Bihar / Patna, New Delhi, Maharashtra / Pune: valid LGD codes.
ARARIA = Place(state_code="10", district_code="188", subdistrict_code="1116", village_name="Kusiyargaon")
PATNA = Place(state_code="10", district_code="212")
NEW_DELHI = Place(state_code="7", district_code="79", village_name="Connaught Place")
PUNE = Place(state_code="27", district_code="490")

# Real GSTINs as their holders publish them (see the domain's identifier tests).
RELIANCE_GSTIN = "27AAACR5055K1Z7"
RELIANCE_PAN = "AAACR5055K"
BRICK_CO = "brick-co"

OPERATOR = caller_for(Role.OPERATOR, partner_id="operators")
# A client of an employer partner, acting for the organisation `brick-co` (named in its tokens).
EMPLOYER = caller_for(Role.EMPLOYER, partner_id="partner-brick-co", employer_id=BRICK_CO)
OTHER_EMPLOYER = caller_for(Role.EMPLOYER, partner_id="partner-other", employer_id="other-co", client_id="other")
CASEWORKER = caller_for(Role.CASEWORKER, partner_id="cso-a", states={"10"})
HELPLINE = caller_for(Role.HELPLINE_AGENT, partner_id="cso-a", states={"10"})
PUNE_CASEWORKER = caller_for(Role.CASEWORKER, partner_id="cso-p", states={"27"}, client_id="pune")
AUDITOR = caller_for(Role.AUDITOR, partner_id="auditors", states={"10"})
PUNE_AUDITOR = caller_for(Role.AUDITOR, partner_id="auditors-27", states={"27"}, client_id="auditor-27")
PUBLIC = caller_for(Role.PUBLIC, partner_id="cso-a")
BIHAR_LABOUR = dataclasses.replace(
    caller_for(Role.CASEWORKER, partner_id="bihar-labour", states={"10"}, client_id="bihar-labour"),
    partner_kind="government",
)


class ReadableEvidence:
    """The evidence cipher, reversible and readable: `enc:<state>:<text>`."""

    def protect(self, state_code: str, text: str) -> str:
        return f"enc:{state_code}:{text}"

    def reveal(self, token: str) -> str:
        return token.split(":", 2)[2]


@dataclass
class Service:
    """Every use case of the service, sharing one in-memory store."""

    store: InMemoryStore
    audit: RecordingAudit
    organisations: OrganisationService
    compliance: ComplianceService
    importer: WageRegisterImporter
    minimum_wages: MinimumWageService
    verification: VerificationService
    updates: HistoryUpdates
    histories: StoredHistories
    records: StoredRecords
    repository: StoredOrganisations
    clock: list[datetime] = field(default_factory=lambda: [NOW])

    def outbox(self, collection: str, document_id: str) -> list[Event]:
        document = self.store.collection(collection).documents[document_id]
        return [Event.from_document(e) for e in document.get(OUTBOX_FIELD, [])]

    def events(self, collection: str, document_id: str) -> list[Message]:
        decoder = EventDecoder()
        return [decoder.decode(e) for e in self.outbox(collection, document_id)]

    def all_events(self, collection: str) -> list[tuple[Event, Message]]:
        decoder = EventDecoder()
        return [
            (event, decoder.decode(event))
            for document in self.store.collection(collection).documents.values()
            for event in (Event.from_document(e) for e in document.get(OUTBOX_FIELD, []))
        ]

    def audit_messages(self, collection: str, document_id: str) -> list[audit_pb2.DataAccessed]:
        return [m for m in self.events(collection, document_id) if isinstance(m, audit_pb2.DataAccessed)]

    def relay(self) -> None:
        """What the faust worker does with the events the API stored: fold records and batches into histories."""
        from mrc.employer.v1 import events_pb2

        for _, message in self.all_events("compliance_records"):
            if isinstance(message, events_pb2.ComplianceRecorded) and not message.batch_id:
                self.updates.record_stored(message.record_id)
        for _, message in self.all_events("wage_batches"):
            if isinstance(message, events_pb2.WageRecordsBatched):
                self.updates.batch_stored(message.batch_id)


def make_service(*, batch_size: int = 500) -> Service:
    store = InMemoryStore()
    audit = RecordingAudit(service="employer")
    clock = [NOW]
    ids = itertools.count(1)

    def now() -> datetime:
        return clock[0]

    def new_id() -> str:
        return f"id-{next(ids)}"

    organisations, records, histories = StoredOrganisations(store), StoredRecords(store), StoredHistories(store)
    rates, jobs = StoredRates(store), StoredWageRegisterJobs(store)
    for repository in (organisations, records, histories, rates, jobs):
        repository.ensure_indexes()
    tables = MinimumWageTables(rates, refresh_seconds=0)
    minimum_wages = MinimumWageService(rates, tables, audit, IDS, clock=now, new_id=new_id)
    minimum_wages.seed()
    service = Service(
        store=store,
        audit=audit,
        organisations=OrganisationService(organisations, histories, audit, IDS, clock=now, new_id=new_id),
        compliance=ComplianceService(
            organisations, records, histories, tables, ReadableEvidence(), audit, IDS, clock=now, new_id=new_id
        ),
        importer=WageRegisterImporter(
            organisations, records, jobs, tables, audit, IDS, read_table, clock=now, batch_size=batch_size
        ),
        minimum_wages=minimum_wages,
        verification=VerificationService(organisations, histories, clock=now),
        updates=HistoryUpdates(organisations, records, histories, clock=now),
        histories=histories,
        records=records,
        repository=organisations,
        clock=clock,
    )
    return service


def licence(**overrides: Any) -> LicenceInput:
    values: dict[str, Any] = {
        "kind": LicenceKind.OSH_CONTRACTOR,
        "number": "OSH/BR/2024/0042",
        "issuing_authority": "Labour Commissioner, Bihar",
        "valid_from": "2024-01-01",
        "valid_until": "2028-12-31",
        "issuing_state_code": "10",
    }
    values.update(overrides)
    return LicenceInput(**values)


def registration(**overrides: Any) -> RegisterOrganisation:
    values: dict[str, Any] = {
        "legal_name": "Kaveri Constructions Pvt Ltd",
        "sector": "construction",
        "location": ARARIA,
        "roles": frozenset({OrganisationRole.CONTRACTOR}),
        "identifiers": (
            IdentifierInput(IdentifierKind.GSTIN, RELIANCE_GSTIN),
            IdentifierInput(IdentifierKind.PAN, RELIANCE_PAN),
        ),
        "licences": (licence(),),
        "idempotency_key": "org-key-1",
    }
    values.update(overrides)
    return RegisterOrganisation(**values)


def worksite_command(organisation_id: str, **overrides: Any) -> AddWorksite:
    values: dict[str, Any] = {
        "organisation_id": organisation_id,
        "kind": WorksiteKind.CONSTRUCTION_SITE,
        "sector": "construction",
        "location": NEW_DELHI,
        "sphere": WageSphere.CENTRAL,
        "scheduled_employment": "construction",
        "area": "a",
        "name": "Metro depot block C",
        "idempotency_key": "site-key-1",
    }
    values.update(overrides)
    return AddWorksite(**values)


def wage_command(organisation_id: str, worksite_id: str, **overrides: Any) -> RecordWage:
    values: dict[str, Any] = {
        "organisation_id": organisation_id,
        "worker": WorkerRef(employer_worker_code="EMP-0001"),
        "worksite_id": worksite_id,
        "period_start": "2024-11-01",
        "period_end": "2024-11-30",
        "days_worked": "26",
        "amount_paid": "20358",  # 26 x 783, the central Area A unskilled construction rate from 1 October 2024
        "skill_category": "unskilled",
        "idempotency_key": "wage-key-1",
    }
    values.update(overrides)
    return RecordWage(**values)


def employer_with_site(service: Service, caller: Caller = OPERATOR, **overrides: Any) -> tuple[str, str]:
    """An organisation with a Delhi worksite, as `caller` registers it: (organisation id, worksite id)."""
    organisation = service.organisations.register(registration(**overrides), caller).organisation
    worksite, _ = service.organisations.add_worksite(
        worksite_command(organisation.organisation_id), dataclasses.replace(caller, states=frozenset())
    )
    return organisation.organisation_id, worksite.worksite_id


def types(messages: Sequence[Message]) -> list[str]:
    return [m.DESCRIPTOR.name for m in messages]
