"""The registry's use cases wired to its real store adapters on the in-memory store, the callers tests act as,
and valid commands to vary. Only the crypto (readable tokens) and the SMS gateway are stand-ins."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mrc.audit.v1 import audit_pb2
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Unavailable
from mrc_kernel.events import Event
from mrc_kernel.idempotency import IdDeriver
from mrc_kernel.place import Place
from mrc_kernel.roles import Role
from mrc_kernel.vocabulary import Gender, Sector
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.crypto.settings import CryptoSettings
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.store import OUTBOX_FIELD, DocumentStore
from mrc_plumbing.store.memory import InMemoryStore
from mrc_registry.adapters.erasure_requests import StoredErasureRequests
from mrc_registry.adapters.federation_publisher import FederationPublisher
from mrc_registry.adapters.household_links import StoredHouseholdLinks
from mrc_registry.adapters.mongo_households import StoredHouseholds, StoredMigrations
from mrc_registry.adapters.mongo_repository import StoredWorkers
from mrc_registry.adapters.mongo_reviews import StoredReviews
from mrc_registry.domain.consent import CaptureMethod, ConsentPurpose
from mrc_registry.domain.federation import FederationScope
from mrc_registry.domain.worker import DocumentKind, Worker
from mrc_registry.service_layer.commands import ConsentInput, DocumentInput, RegisterWorker, WorkerInput
from mrc_registry.service_layer.deduplication import Deduplicator, MatchReview, ReviewRepository
from mrc_registry.service_layer.erasure import ErasureService
from mrc_registry.service_layer.federation import FederationIntake
from mrc_registry.service_layer.households import HouseholdService
from mrc_registry.service_layer.migrations import MigrationService
from mrc_registry.service_layer.ports import AccessRecorder, Protector, WorkerRepository
from mrc_registry.service_layer.reviews import ReviewService
from mrc_registry.service_layer.workers import WorkerService
from tests.support.auth import RecordingAudit, caller_for

NOW = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)

# Bihar / Patna, and Bihar / Araria / Araria sub-district: valid LGD codes. Maharashtra / Pune for elsewhere.
PATNA = Place(state_code="10", district_code="212", village_name="Phulwari")
ARARIA = Place(state_code="10", district_code="188", subdistrict_code="1116", village_name="Kusiyargaon")
PUNE = Place(state_code="27", district_code="490")

# Valid Aadhaar numbers (Verhoeff check digit last), and one with the last digit mistyped.
AADHAAR = "2345 6789 0124"
OTHER_AADHAAR = "9876 5432 1012"
BAD_AADHAAR = "2345 6789 0123"
PHONE = "+91 98765 43210"
PHONE_E164 = "+919876543210"

REGISTRAR_A = caller_for(Role.REGISTRAR, partner_id="partner-a")
CASEWORKER_A = caller_for(Role.CASEWORKER, partner_id="partner-a")
SUPERVISOR_A = caller_for(Role.SUPERVISOR, partner_id="partner-a")
REGISTRAR_B = caller_for(Role.REGISTRAR, partner_id="partner-b", client_id="registrar-b")
CASEWORKER_B = caller_for(Role.CASEWORKER, partner_id="partner-b", client_id="caseworker-b")
SUPERVISOR_B = caller_for(Role.SUPERVISOR, partner_id="partner-b", client_id="supervisor-b")
AUDITOR = caller_for(Role.AUDITOR, partner_id="partner-a")
# State labour departments: government partners, each limited to its own state.
BIHAR_LABOUR = dataclasses.replace(
    caller_for(Role.CASEWORKER, partner_id="bihar-labour", states={"10"}, client_id="bihar-labour"),
    partner_kind="government",
)
MAHARASHTRA_LABOUR = dataclasses.replace(
    caller_for(Role.CASEWORKER, partner_id="maharashtra-labour", states={"27"}, client_id="maharashtra-labour"),
    partner_kind="government",
)


class FakeProtector:
    """Reversible and readable: `enc:<field>:<value>`, blind indexes `bi:<kind>:<value>`."""

    def encrypt(self, state_code: str, field: str, plaintext: str) -> str:
        return f"enc:{field}:{plaintext}"

    def decrypt(self, field: str, token: str) -> str:
        prefix = f"enc:{field}:"
        assert token.startswith(prefix), f"{token!r} was not encrypted for {field!r}"
        return token.removeprefix(prefix)

    def blind_index(self, kind: str, value: str) -> str:
        return f"bi:{kind}:{value}"


class TextMessagesSent:
    """The SMS gateway port: remembers what would have gone to each phone."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (phone, text, reference)

    def send(self, phone_e164: str, text: str, *, reference: str) -> None:
        self.sent.append((phone_e164, text, reference))

    def last_code(self, reference: str = "") -> str:
        for _, text, ref in reversed(self.sent):
            if not reference or ref == reference:
                return text.split(" is ")[1].split(".")[0]
        raise AssertionError("no code was sent")


IDS = IdDeriver(b"unit-test-id-derivation-key-0001")
# The public development federation key, as every local state cluster uses it.
FEDERATION_CIPHER = FederationCipher.from_settings(CryptoSettings())


class WorkerStoreView:
    """The registry's real worker adapter over a store (in memory for unit tests), with what the tests look into."""

    def __init__(self, store: DocumentStore, federation: FederationPublisher | None = None) -> None:
        self.store = store
        self.adapter = StoredWorkers(store, federation=federation)
        self.adapter.ensure_indexes()
        self.writes_with_events = 0
        store.on_events_stored(self._counted)

    def _counted(self, collection: str, document_ids: Sequence[Any]) -> None:
        if collection == "workers":
            self.writes_with_events += len(document_ids)

    def __getattr__(self, name: str) -> Any:  # the port's methods
        return getattr(self.adapter, name)

    @property
    def _documents(self) -> dict[Any, dict[str, Any]]:
        return {doc["_id"]: doc for doc in self.store.collection("workers").scan()}

    @property
    def workers(self) -> dict[str, Worker]:
        found = {worker_id: self.adapter.get(worker_id) for worker_id in sorted(self._documents)}
        return {worker_id: worker for worker_id, worker in found.items() if worker is not None}

    @property
    def outbox(self) -> list[Event]:
        """Every envelope a write stored (domain and audit events), in the order written.

        A document's outbox keeps its entries in the order written, and the sort is stable: two events of one
        document stamped in the same millisecond stay in order (their random ids would not)."""
        entries = [entry for doc in self._documents.values() for entry in doc.get(OUTBOX_FIELD, [])]
        return [Event.from_document(entry) for entry in sorted(entries, key=lambda e: e["time"])]

    def envelopes(self, type_name: str) -> list[Event]:
        """Stored envelopes of one type, e.g. `mrc.registry.v1.WorkerRegistered`."""
        return [e for e in self.outbox if e.type == type_name]

    def messages(self, type_name: str) -> list[Any]:
        decoder = EventDecoder()
        return [decoder.decode(e) for e in self.envelopes(type_name)]

    def audit_messages(self) -> list[audit_pb2.DataAccessed]:
        decoder = EventDecoder()
        return [m for e in self.outbox if isinstance(m := decoder.decode(e), audit_pb2.DataAccessed)]

    def match_keys(self, worker_id: str) -> set[str]:
        return set(self._documents[worker_id].get("match_keys", []))

    def types(self) -> list[str]:
        """The types of the stored envelopes, in the order written (`mrc.registry.v1.WorkerRegistered`...)."""
        return [e.type for e in self.outbox]


class ReviewStoreView:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self.adapter = StoredReviews(store)
        self.fail_next_add = False  # the store is down for the next `add_pending`

    def add_pending(self, reviews: list[MatchReview]) -> None:
        if self.fail_next_add:
            self.fail_next_add = False
            raise Unavailable("the review store is unavailable")
        self.adapter.add_pending(reviews)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.adapter, name)

    @property
    def reviews(self) -> dict[str, MatchReview]:
        ids = sorted(doc["_id"] for doc in self.store.collection("match_reviews").scan(fields=["_id"]))
        found = {rid: self.adapter.get(rid) for rid in ids}
        return {rid: review for rid, review in found.items() if review is not None}


def acting_for(caller: Caller, purpose: str) -> Caller:
    """The caller declaring a purpose (`X-Purpose`), as a request would."""
    return dataclasses.replace(caller, purpose=purpose)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Registry:
    """The use cases wired to the real adapters on the in-memory store, and views to look into."""

    workers: WorkerService
    reviews: ReviewService
    erasures: ErasureService
    households: HouseholdService
    migrations: MigrationService
    repository: WorkerStoreView
    review_repository: ReviewStoreView
    audit: RecordingAudit
    messages: TextMessagesSent
    clock: Clock
    store: DocumentStore
    # With a federation scope: applies what other states share (`make_registry(federation=...)`).
    intake: FederationIntake | None = None

    @property
    def notified(self) -> int:
        """Writes of workers that stored events (the store tells the outbox relay about each)."""
        return self.repository.writes_with_events

    def outbox_of(self, collection: str) -> list[Event]:
        """Every envelope stored in the outboxes of one collection (`households`, `migration_episodes`)."""
        documents = self.store.collection(collection).scan()
        entries = [entry for doc in documents for entry in doc.get(OUTBOX_FIELD, [])]
        return [Event.from_document(entry) for entry in sorted(entries, key=lambda e: e["time"])]

    def decoded(self, collection: str, type_name: str) -> list[Any]:
        """The messages of one type stored in a collection's outboxes, decoded."""
        decoder = EventDecoder()
        return [decoder.decode(e) for e in self.outbox_of(collection) if e.type == type_name]


def make_registry(store: DocumentStore | None = None, *, federation: FederationScope | None = None) -> Registry:
    """The registry's use cases on `store` (a fresh in-memory one unless given), with stand-in crypto and SMS.
    With `federation` (this state and its peers), the repositories publish what other states must be told
    (names sealed with the public development federation key) and `Registry.intake` applies what they share."""
    store = store if store is not None else InMemoryStore()
    protector: Protector = FakeProtector()
    households_repo = StoredHouseholds(store)
    publisher = (
        FederationPublisher(
            store, federation, FEDERATION_CIPHER, protector.blind_index, households_of=households_repo.with_member
        )
        if federation is not None
        else None
    )
    if publisher is not None:
        households_repo.set_federation(publisher)
    repository, review_repository = WorkerStoreView(store, publisher), ReviewStoreView(store)
    review_repository.adapter.ensure_indexes()
    audit, clock, messages = RecordingAudit(service="registry"), Clock(), TextMessagesSent()
    ids = itertools.count(1)
    # Typed as the ports, so an adapter drifting from its Protocol shows up in mypy and review.
    workers_port: WorkerRepository = repository
    reviews_port: ReviewRepository = review_repository
    recorder: AccessRecorder = audit
    own_state = federation.own_state_code if federation is not None else ""
    deduplicator = Deduplicator(workers_port, reviews_port, IDS)
    workers = WorkerService(
        workers_port,
        protector,
        recorder,
        deduplicator,
        IDS,
        clock=clock,
        new_id=lambda: f"generated-{next(ids)}",
        own_state_code=own_state,
    )
    households_repo.ensure_indexes()
    households = HouseholdService(
        households_repo, recorder, protector, workers.access, clock=clock, new_id=lambda: f"household-{next(ids)}"
    )
    migrations_repo = StoredMigrations(store)
    migrations_repo.ensure_indexes()  # its unique idempotency key makes retries find the first episode
    migrations = MigrationService(
        migrations_repo, recorder, workers.access, clock=clock, new_id=lambda: f"episode-{next(ids)}"
    )
    workers.also_erase_in(households, migrations)
    reviews = ReviewService(
        workers_port, reviews_port, recorder, protector, messages, clock=clock, code=lambda: "424242"
    )
    erasures = ErasureService(
        workers,
        StoredErasureRequests(store),
        protector,
        messages,
        clock=clock,
        code=lambda: "135790",
        new_id=lambda: f"erasure-{next(ids)}",
    )
    registry = Registry(
        workers, reviews, erasures, households, migrations, repository, review_repository, audit, messages, clock, store
    )
    if federation is not None:
        registry.intake = FederationIntake(
            repository.adapter,
            StoredHouseholdLinks(store),
            deduplicator,
            workers,
            own_state_code=federation.own_state_code,
            clock=clock,
        )
    return registry


def worker_input(**overrides: object) -> WorkerInput:
    values: dict[str, object] = {
        "full_name": "Ravi Kumar",
        "gender": Gender.MALE,
        "birth_year": 1990,
        "home": PATNA,
        "occupation": "mason",
        "sector": Sector.CONSTRUCTION,
        "skills": ("masonry",),
        "languages": ("hi", "bho"),
        "father_or_spouse_name": "Shyam Kumar",
        "phone": PHONE,
    }
    values.update(overrides)
    return WorkerInput(**values)  # type: ignore[arg-type]


def consent_input(**overrides: object) -> ConsentInput:
    values: dict[str, object] = {
        "purposes": frozenset({ConsentPurpose.REGISTRATION}),
        "method": CaptureMethod.THUMBPRINT,
    }
    values.update(overrides)
    return ConsentInput(**values)  # type: ignore[arg-type]


def aadhaar(number: str = AADHAAR) -> tuple[DocumentInput, ...]:
    return (DocumentInput(DocumentKind.AADHAAR, number),)


def register_command(key: str = "key-1", consent: ConsentInput | None = None, **details: object) -> RegisterWorker:
    return RegisterWorker(worker_input(**details), consent or consent_input(), key)


def sharing_with(*partner_ids: str, **overrides: object) -> ConsentInput:
    values: dict[str, object] = {"purposes": frozenset({ConsentPurpose.PARTNER_SHARING})}
    values.update(overrides)
    return consent_input(shared_with_partner_ids=frozenset(partner_ids), **values)


def registered(registry: Registry, caller: Caller = REGISTRAR_A, key: str = "key-1", **details: object) -> Worker:
    """Registers a worker (Ravi Kumar unless overridden) and returns it as stored."""
    registration = registry.workers.register(register_command(key, **details), caller)
    assert registration.created
    stored = registry.repository.get(registration.view.worker.worker_id)
    assert stored is not None
    return stored
