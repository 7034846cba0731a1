"""In-memory stand-ins for the registry's worker ports, the callers tests act as, and valid commands to vary.

The fakes behave like the Mongo adapters where it matters to the use cases: copies in and out (a loaded
worker is never the stored one), idempotency keys with request fingerprints as `insert_once` treats them,
optimistic concurrency on `save`, and pending events turned into envelopes at write time.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from mrc.audit.v1 import audit_pb2
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Conflict, IdempotencyKeyReused, Unavailable
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_registry.adapters.protobuf_mapping import to_envelope
from mrc_registry.domain.consent import CaptureMethod, ConsentPurpose
from mrc_registry.domain.worker import DocumentKind, DomainEvent, Gender, Place, Sector, Worker, WorkerStatus
from mrc_registry.service_layer.commands import ConsentInput, DocumentInput, RegisterWorker, WorkerInput
from mrc_registry.service_layer.deduplication import Deduplicator, MatchReview, ReviewRepository, ReviewStatus
from mrc_registry.service_layer.ports import (
    AccessRecorder,
    EventNotifier,
    Protector,
    SearchCriteria,
    WorkerRepository,
)
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


def _document_indexes(worker: Worker) -> set[str]:
    return {f"{d.kind.value}:{d.blind_index}" for d in worker.details.identity_documents}


class FakeWorkerRepository:
    """Workers in a dict; `outbox` holds every envelope a write stored (domain events and audit events)."""

    def __init__(self) -> None:
        self.workers: dict[str, Worker] = {}
        self.match_keys: dict[str, set[str]] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # idempotency key -> (fingerprint, worker id)
        self.events: list[DomainEvent] = []  # domain events as stored, snapshots taken at write time
        self.outbox: list[Event] = []
        self.saves = 0

    def _take_events(self, worker: Worker, also_publish: Sequence[Event]) -> tuple[list[DomainEvent], list[Event]]:
        # Like the Mongo adapter: envelopes are built at write time, and the worker's events are cleared.
        domain = copy.deepcopy(worker.pending_events)
        envelopes = [to_envelope(e) for e in worker.pending_events] + list(also_publish)
        worker.pending_events.clear()
        return domain, envelopes

    def add(
        self,
        worker: Worker,
        *,
        idempotency_key: str,
        fingerprint: str,
        match_keys: set[str],
        also_publish: Sequence[Event] = (),
    ) -> tuple[Worker, bool]:
        domain, envelopes = self._take_events(worker, also_publish)
        if idempotency_key in self.keys:
            first_fingerprint, worker_id = self.keys[idempotency_key]
            if first_fingerprint != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
            return copy.deepcopy(self.workers[worker_id]), False
        assert worker.worker_id not in self.workers, "another unique index (the id) clashed"
        self.keys[idempotency_key] = (fingerprint, worker.worker_id)
        self.workers[worker.worker_id] = copy.deepcopy(worker)
        self.match_keys[worker.worker_id] = set(match_keys)
        self.events += domain
        self.outbox += envelopes
        return worker, True

    def get(self, worker_id: str) -> Worker | None:
        stored = self.workers.get(worker_id)
        return copy.deepcopy(stored) if stored else None

    def save(self, worker: Worker, *, match_keys: set[str] | None = None, also_publish: Sequence[Event] = ()) -> None:
        domain, envelopes = self._take_events(worker, also_publish)
        stored = self.workers.get(worker.worker_id)
        if stored is None or stored.version >= worker.version:
            raise Conflict(f"worker {worker.worker_id} changed meanwhile; read it again")
        self.workers[worker.worker_id] = copy.deepcopy(worker)
        if match_keys is not None:
            self.match_keys[worker.worker_id] = set(match_keys)
        self.events += domain
        self.outbox += envelopes
        self.saves += 1

    def _active(self) -> list[Worker]:
        return [w for _, w in sorted(self.workers.items()) if w.status is WorkerStatus.ACTIVE]

    def find_candidates(self, match_keys: set[str], *, exclude: str = "", limit: int = 50) -> list[Worker]:
        found = [w for w in self._active() if w.worker_id != exclude and self.match_keys[w.worker_id] & match_keys]
        return [copy.deepcopy(w) for w in found[:limit]]

    def search(self, criteria: SearchCriteria, *, after: str, limit: int) -> list[Worker]:
        def matches(w: Worker) -> bool:
            d = w.details
            return (
                (not criteria.name_keys or bool(self.match_keys[w.worker_id] & set(criteria.name_keys)))
                and (not criteria.phone_index or (d.phone is not None and d.phone.blind_index == criteria.phone_index))
                and (not criteria.document_index or criteria.document_index in _document_indexes(w))
                and (not criteria.district_code or d.home.district_code == criteria.district_code)
                and (not criteria.registering_partner_id or w.registering_partner_id == criteria.registering_partner_id)
                and (not criteria.sector or d.sector is criteria.sector)
                and w.worker_id > after
            )

        return [copy.deepcopy(w) for w in self._active() if matches(w)][:limit]

    # -- for assertions ----------------------------------------------------------------------------

    def envelopes(self, type_name: str) -> list[Event]:
        """Stored envelopes of one type, e.g. `mrc.registry.v1.WorkerRegistered`."""
        return [e for e in self.outbox if e.type == type_name]

    def audit_messages(self) -> list[audit_pb2.DataAccessed]:
        decoder = EventDecoder()
        return [m for e in self.outbox if isinstance(m := decoder.decode(e), audit_pb2.DataAccessed)]


class FakeReviewRepository:
    def __init__(self) -> None:
        self.reviews: dict[str, MatchReview] = {}
        self.fail_next_add = False  # the store is down for the next `add_pending`

    def add_pending(self, reviews: list[MatchReview]) -> None:
        if self.fail_next_add:
            self.fail_next_add = False
            raise Unavailable("the review store is unavailable")
        for review in reviews:
            self.reviews.setdefault(review.review_id, review)

    def get(self, review_id: str) -> MatchReview | None:
        return self.reviews.get(review_id)

    def pending(self, *, after: str, limit: int) -> list[MatchReview]:
        found = [r for i, r in sorted(self.reviews.items()) if r.status is ReviewStatus.PENDING and i > after]
        return found[:limit]

    def resolve(self, review_id: str, status: ReviewStatus, by: str, at: datetime) -> bool:
        review = self.reviews.get(review_id)
        if review is None or review.status is not ReviewStatus.PENDING:
            return False
        self.reviews[review_id] = dataclasses.replace(review, status=status, resolved_by=by, resolved_at=at)
        return True


class CountingNotifier:
    def __init__(self) -> None:
        self.count = 0

    def notify(self, document_id: object = None) -> None:
        self.count += 1


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Registry:
    """The use cases wired to fakes, and the fakes to look into."""

    workers: WorkerService
    reviews: ReviewService
    repository: FakeWorkerRepository
    review_repository: FakeReviewRepository
    audit: RecordingAudit
    notifier: CountingNotifier
    clock: Clock


def make_registry() -> Registry:
    repository, review_repository = FakeWorkerRepository(), FakeReviewRepository()
    audit, notifier, clock = RecordingAudit(service="registry"), CountingNotifier(), Clock()
    ids = itertools.count(1)
    # Typed as the ports, so a fake drifting from its Protocol shows up in mypy and review.
    workers_port: WorkerRepository = repository
    reviews_port: ReviewRepository = review_repository
    protector: Protector = FakeProtector()
    recorder: AccessRecorder = audit
    relay: EventNotifier = notifier
    workers = WorkerService(
        workers_port,
        protector,
        recorder,
        relay,
        Deduplicator(workers_port, reviews_port),
        clock=clock,
        new_id=lambda: f"generated-{next(ids)}",
    )
    reviews = ReviewService(workers_port, reviews_port, recorder, relay, clock=clock)
    return Registry(workers, reviews, repository, review_repository, audit, notifier, clock)


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
    return consent_input(
        purposes=frozenset({ConsentPurpose.PARTNER_SHARING}),
        shared_with_partner_ids=frozenset(partner_ids),
        **overrides,
    )


def registered(registry: Registry, caller: Caller = REGISTRAR_A, key: str = "key-1", **details: object) -> Worker:
    """Registers a worker (Ravi Kumar unless overridden) and returns it as stored."""
    registration = registry.workers.register(register_command(key, **details), caller)
    assert registration.created
    stored = registry.repository.get(registration.view.worker.worker_id)
    assert stored is not None
    return stored
