"""Use cases on workers: register, read, correct, search, consent, erase.

Every use case takes the authenticated `Caller` and asks the access policy (`mrc_kernel.policy`), with
the worker's consents as grants (`domain.worker_access`), before it reads or writes anything. A worker
the caller may not use for the declared purpose is answered as "not found", so the answer never reveals
that a person is in the registry; what a permitted read shows depends on the purposes it is admitted for.
"""

from __future__ import annotations

import base64
import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.idempotency import IdDeriver, scoped_key
from mrc_kernel.policy import Decision, Purpose, decide, require_in_geography
from mrc_kernel.roles import Scope
from mrc_registry.domain.consent import Consent
from mrc_registry.domain.identity.matching import CandidateFacts, blocking_keys
from mrc_registry.domain.identity.transliteration import phonetic_keys, to_latin
from mrc_registry.domain.worker import Worker, WorkerDetails
from mrc_registry.domain.worker_access import EVERY_FIELD, RESOURCE, protected, visible_fields
from mrc_registry.service_layer.commands import (
    UPDATABLE_FIELDS,
    ConsentInput,
    RegisterWorker,
    Search,
    UpdateWorker,
    WorkerInput,
)
from mrc_registry.service_layer.deduplication import (
    Deduplicator,
    Match,
    MatchKind,
    MatchReview,
    PossibleDuplicate,
    holders,
)
from mrc_registry.service_layer.ports import AccessRecorder, Protector, SearchCriteria, WorkerRepository
from mrc_registry.service_layer.protection import WorkerProtection
from mrc_registry.service_layer.registration import consent_from, prepare_registration

PERSONAL_FIELDS = tuple(sorted(EVERY_FIELD))
MAX_PAGE_SIZE = 200
# How long one search request reads before answering with what it found (and a token to continue).
SEARCH_TIME_BUDGET_SECONDS = 2.0
# Purposes under which a worker's record may be changed.
WRITE_PURPOSES = frozenset({Purpose.REGISTRATION, Purpose.CASE_MANAGEMENT})


@dataclass(frozen=True)
class WorkerView:
    """A worker as shown to one caller: only the fields its purposes allow, the phone decrypted if among them."""

    worker: Worker
    phone: str
    fields: frozenset[str] = EVERY_FIELD


@dataclass(frozen=True)
class LinkRequest:
    """The registration matched a record the caller does not reach: nothing of it is disclosed; the caller's
    own record is kept apart until the person proves, or a supervisor confirms, that they are the same."""

    review_id: str
    can_send_code: bool  # a one-time code can go to the phone on record


@dataclass(frozen=True)
class Registration:
    view: WorkerView
    created: bool
    # The person was already registered where this partner reaches (same identity document): its consent
    # was added to that record instead of creating a duplicate.
    linked_to_existing: bool = False
    possible_duplicates: tuple[PossibleDuplicate, ...] = ()
    link_request: LinkRequest | None = None


class WorkerDataElsewhere(Protocol):
    """Records of other aggregates that name a worker (households, migration episodes): cleared on erasure."""

    def erase_worker(self, worker_id: str) -> None: ...


def _name_district_keys(name: str, district_code: str) -> tuple[str, ...]:
    if not name.strip() or not district_code:
        return ()
    keys = blocking_keys(CandidateFacts(name=to_latin(name), home_district_code=district_code))
    return tuple(sorted(k for k in keys if k.startswith("name+district:")))


class WorkerAccess:
    """Reads a worker for a caller through the access policy, auditing refused attempts on real records."""

    def __init__(self, workers: WorkerRepository, audit: AccessRecorder, clock: Callable[[], datetime]) -> None:
        self._workers = workers
        self._audit = audit
        self._clock = clock

    def decision(self, worker: Worker, caller: Caller, purpose: str) -> Decision:
        return decide(caller, protected(worker, self._clock()), purpose)

    def load(self, worker_id: str, caller: Caller, purpose: str) -> tuple[Worker, Decision]:
        worker = self._workers.get(worker_id) if worker_id else None
        if worker is None:
            raise NotFound("no such worker")
        decision = self.decision(worker, caller, purpose)
        if not decision:
            # An attempt on a real record is worth an auditor's attention; the answer is "not found" whatever
            # the trail says.
            with contextlib.suppress(Exception):
                self._audit.record(caller, Action.READ, RESOURCE, worker_id, allowed=False, state_code=_state(worker))
            raise NotFound("no such worker")
        return worker, decision

    def load_for_write(self, worker_id: str, caller: Caller, purpose: str) -> tuple[Worker, Decision]:
        if Purpose(purpose) not in WRITE_PURPOSES:
            raise InvalidArgument.for_field(
                "purpose", "changes to a worker's record need 'registration' or 'case_management'"
            )
        return self.load(worker_id, caller, purpose)


def _state(worker: Worker) -> str:
    return worker.details.home.state_code


class WorkerService:
    def __init__(
        self,
        workers: WorkerRepository,
        protector: Protector,
        audit: AccessRecorder,
        deduplicator: Deduplicator,
        ids: IdDeriver,
        *,
        elsewhere: Sequence[WorkerDataElsewhere] = (),
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._workers = workers
        self._protector = protector
        self._protection = WorkerProtection(protector)
        self._audit = audit
        self._dedup = deduplicator
        self._ids = ids
        self._elsewhere = list(elsewhere)
        self._clock = clock
        self._new_id = new_id
        self.access = WorkerAccess(workers, audit, clock)

    def also_erase_in(self, *records: WorkerDataElsewhere) -> None:
        """Records of other aggregates that name workers, cleared when a worker is erased."""
        self._elsewhere.extend(records)

    def _view(self, worker: Worker, caller: Caller, purpose: str) -> WorkerView:
        """The worker as this caller sees it for the purpose it declared (which the policy has allowed)."""
        fields = visible_fields(worker, caller.partner_id, frozenset({Purpose(purpose)}))
        phone = self._protection.reveal_phone(worker.details) if "phone" in fields else ""
        return WorkerView(worker, phone, fields)

    def _own_view(self, worker: Worker) -> WorkerView:
        """What the registering partner just sent: all of it."""
        return WorkerView(worker, self._protection.reveal_phone(worker.details), EVERY_FIELD)

    # -- registration ------------------------------------------------------------------------------

    def register(self, command: RegisterWorker, caller: Caller) -> Registration:
        caller.require(Scope.WORKERS_WRITE)
        check_purpose(caller.purpose, "registration")
        if not caller.partner_id:
            raise PermissionDenied("this client acts for no partner, so it cannot register workers")
        now = self._clock()
        if not command.idempotency_key:
            command = RegisterWorker(command.details, command.consent, self._new_id())
        prepared = prepare_registration(command, caller, self._protection, self._protector, self._ids, now)
        worker = prepared.worker
        home = worker.details.home
        require_in_geography(caller, home.state_code, home.district_code, prefix="home")

        assessment = self._dedup.assess(worker)
        reachable = [m for m in assessment.matches if self.access.decision(m.worker, caller, Purpose.REGISTRATION)]
        unreachable = [m for m in assessment.matches if m not in reachable]
        certain_reachable = next((m for m in reachable if m.kind is MatchKind.CERTAIN), None)
        if certain_reachable is not None:
            return self._link(certain_reachable.worker, prepared.consent, caller, now)

        audit = self._audit.event(
            caller, Action.CREATE, RESOURCE, worker.worker_id, PERSONAL_FIELDS, state_code=home.state_code
        )
        stored, created = self._workers.add(
            worker,
            idempotency_key=prepared.idempotency_key,
            fingerprint=prepared.fingerprint,
            match_keys=self._dedup.keys(worker),
            also_publish=[audit],
        )
        # Queued on retries too (review ids are stable): a first attempt may have stored the worker and
        # failed before queueing.
        reviews = self._dedup.queue_for_review(
            stored, [*reachable, *unreachable], now, reachable=[m.worker.worker_id for m in reachable]
        )
        shown = tuple(PossibleDuplicate(m.worker.worker_id, m.score, m.reasons) for m in reachable)
        return Registration(
            self._own_view(stored),
            created,
            possible_duplicates=shown,
            link_request=self._link_request(unreachable, reviews),
        )

    @staticmethod
    def _link_request(unreachable: list[Match], reviews: list[MatchReview]) -> LinkRequest | None:
        certain = next((m for m in unreachable if m.kind is MatchKind.CERTAIN), None)
        if certain is None:
            return None
        review = next(r for r in reviews if r.candidate_id == certain.worker.worker_id)
        return LinkRequest(review.review_id, can_send_code=certain.worker.details.phone is not None)

    def _link(self, existing: Worker, consent: Consent, caller: Caller, now: datetime) -> Registration:
        """The person is already registered where this partner reaches: record its consent on that record."""
        already = any(c.consent_id == consent.consent_id for c in existing.consents)
        if not already:
            existing.grant_consent(consent)
            audit = self._audit.event(
                caller, Action.UPDATE, RESOURCE, existing.worker_id, ["consents"], state_code=_state(existing)
            )
            self._workers.save(existing, also_publish=[audit])
        return Registration(
            self._view(existing, caller, Purpose.REGISTRATION), created=not already, linked_to_existing=True
        )

    # -- reads ---------------------------------------------------------------------------------------

    def get(self, worker_id: str, caller: Caller) -> WorkerView:
        caller.require(Scope.WORKERS_READ)
        purpose = check_purpose(caller.purpose, "case_management")
        worker, _ = self.access.load(worker_id, caller, purpose)
        view = self._view(worker, caller, purpose)
        self._audit.record(caller, Action.READ, RESOURCE, worker_id, sorted(view.fields), state_code=_state(worker))
        return view

    def search(self, query: Search, caller: Caller) -> tuple[list[WorkerView], str]:
        caller.require(Scope.WORKERS_READ)
        purpose = check_purpose(caller.purpose, "case_management")
        if not 1 <= query.page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument.for_field("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
        criteria = self._criteria(query)
        after = _decode_cursor(query.page_token)
        found: list[tuple[Worker, Decision]] = []
        # Records the caller may not use are skipped; keep reading until the page is full, the store has no
        # more, or the time budget is spent: then the page is short and its token continues where reading
        # stopped, so no request reads a whole district on its own.
        deadline = time.monotonic() + SEARCH_TIME_BUDGET_SECONDS
        while True:
            batch = self._workers.search(criteria, after=after, limit=query.page_size)
            for worker in batch.workers:
                if decision := self.access.decision(worker, caller, purpose):
                    found.append((worker, decision))
            after = batch.next_after
            if not after or len(found) >= query.page_size or time.monotonic() >= deadline:
                break
        page = found[: query.page_size]
        if len(found) > query.page_size:
            after = page[-1][0].worker_id
        next_token = _encode_cursor(after) if after else ""
        views = [self._view(worker, caller, purpose) for worker, _ in page]
        for view in views:
            worker = view.worker
            self._audit.record(
                caller, Action.SEARCH, RESOURCE, worker.worker_id, sorted(view.fields), state_code=_state(worker)
            )
        return views, next_token

    def _criteria(self, query: Search) -> SearchCriteria:
        violations: list[FieldViolation] = []
        phone_index = document_index = ""
        if query.phone:
            try:
                phone_index = self._protection.phone_index(query.phone)
            except ValueError as exc:
                violations.append(FieldViolation("phone", str(exc)))
        if query.document:
            try:
                index = self._protection.document_index(query.document)
                document_index = f"{query.document.kind.value}:{index}"
            except ValueError as exc:
                violations.append(FieldViolation("identity_document.number", str(exc)))
        if violations:
            raise InvalidArgument(violations)
        criteria = SearchCriteria(
            name_keys=tuple(f"name:{k}" for k in phonetic_keys(query.name)) if query.name.strip() else (),
            name_district_keys=_name_district_keys(query.name, query.district_code),
            phone_index=phone_index,
            document_index=document_index,
            district_code=query.district_code,
            registering_partner_id=query.registering_partner_id,
            sector=query.sector,
        )
        if criteria == SearchCriteria():
            raise InvalidArgument.for_field("query", "give at least one search criterion")
        keyed = criteria.name_keys or criteria.phone_index or criteria.document_index
        if not keyed and not criteria.district_code and not criteria.registering_partner_id:
            # Only a match key or an indexed field bounds a search; a sector on its own would read everything.
            raise InvalidArgument.for_field("sector", "narrow a search by sector with a district, a partner or a name")
        return criteria

    # -- changes -------------------------------------------------------------------------------------

    def update(self, command: UpdateWorker, caller: Caller) -> WorkerView:
        caller.require(Scope.WORKERS_WRITE)
        purpose = check_purpose(caller.purpose, "case_management")
        unknown = sorted(command.paths - UPDATABLE_FIELDS)
        if unknown:
            raise InvalidArgument([FieldViolation("update_mask", f"{p!r} cannot be changed") for p in unknown])
        worker, _ = self.access.load_for_write(command.worker_id, caller, purpose)
        fields = visible_fields(worker, caller.partner_id, frozenset({Purpose(purpose)}))
        hidden = sorted(command.paths - fields)
        if hidden:
            # A partner cannot overwrite what it may not see.
            raise InvalidArgument([FieldViolation("update_mask", f"{p!r} is not yours to change") for p in hidden])
        current = worker.details
        raw = command.changes
        merged = WorkerInput(
            **{
                name: getattr(raw if name in command.paths else _as_input(current), name)
                for name in WorkerInput.__dataclass_fields__
            }
        )
        if "home" in command.paths:
            require_in_geography(caller, raw.home.state_code, raw.home.district_code, prefix="home")
        if "phone" in command.paths and not raw.phone:
            current = _without_phone(current)
        details, violations = self._protection.details(merged, keep=current)
        if violations:
            raise InvalidArgument(violations)
        changed = worker.update(details, self._clock(), expected_version=command.expected_version)
        if changed:
            audit = self._audit.event(
                caller, Action.UPDATE, RESOURCE, worker.worker_id, changed, state_code=_state(worker)
            )
            self._workers.save(worker, match_keys=self._dedup.keys(worker), also_publish=[audit])
        return self._view(worker, caller, purpose)

    def grant_consent(self, worker_id: str, raw: ConsentInput, idempotency_key: str, caller: Caller) -> WorkerView:
        caller.require(Scope.CONSENT_WRITE)
        purpose = check_purpose(caller.purpose, "registration")
        worker, _ = self.access.load_for_write(worker_id, caller, purpose)
        now = self._clock()
        consent_id = self._ids.derive("consent", scoped_key(caller.partner_id, idempotency_key or self._new_id()))
        if not any(c.consent_id == consent_id for c in worker.consents):
            worker.grant_consent(consent_from(raw, caller, consent_id, now))
            audit = self._audit.event(
                caller, Action.UPDATE, RESOURCE, worker_id, ["consents"], state_code=_state(worker)
            )
            self._workers.save(worker, also_publish=[audit])
        return self._view(worker, caller, purpose)

    def revoke_consent(self, worker_id: str, consent_id: str, caller: Caller) -> WorkerView | None:
        """Withdraw a consent this caller's partner captured (never another partner's). The worker's view
        after it, or None when the caller no longer reaches the worker."""
        caller.require(Scope.CONSENT_WRITE)
        purpose = check_purpose(caller.purpose, "registration")
        worker, _ = self.access.load(worker_id, caller, purpose)
        consent = next((c for c in worker.consents if c.consent_id == consent_id), None)
        if consent is None or consent.captured_by_partner_id != caller.partner_id:
            raise NotFound("no such consent of this partner")
        worker.revoke_consent(consent_id, self._clock())
        audit = self._audit.event(caller, Action.UPDATE, RESOURCE, worker_id, ["consents"], state_code=_state(worker))
        self._workers.save(worker, also_publish=[audit])
        decision = self.access.decision(worker, caller, purpose)
        return self._view(worker, caller, purpose) if decision else None

    def announce_expired_consents(self, *, limit: int = 100) -> int:
        """Mark consents that reached their expiry and publish `ConsentChanged` for each, so every consumer
        stops using them; run periodically. How many workers changed."""
        now = self._clock()
        changed = 0
        for worker in self._workers.with_consents_expiring(now, limit=limit):
            if worker.announce_expired_consents(now):
                with contextlib.suppress(Exception):  # changed meanwhile: the next round sees it again
                    self._workers.save(worker)
                    changed += 1
        return changed

    # -- erasure -------------------------------------------------------------------------------------

    def erase(self, worker_id: str, reason: str, caller: Caller, *, evidence: str = "") -> None:
        """Erase at once: a supervisor of the registering partner (or, with `evidence`, a verified request)."""
        purpose = check_purpose(caller.purpose, "registration")
        if not reason.strip():
            raise InvalidArgument.for_field("reason", "say why and on whose request")
        worker, _ = self.access.load(worker_id, caller, purpose)
        if not evidence:
            caller.require(Scope.WORKERS_ERASE)
            if worker.registering_partner_id != caller.partner_id:
                raise PermissionDenied(
                    "only a supervisor of the registering partner erases at once; "
                    "request the erasure with a code sent to the worker's phone instead"
                )
            evidence = "supervisor_of_registering_partner"
        self.erase_verified(worker, caller, evidence)

    def erase_verified(self, worker: Worker, caller: Caller, evidence: str) -> None:
        state = _state(worker)
        worker.erase(self._clock())
        fields = [*PERSONAL_FIELDS, f"evidence:{evidence}"]
        audit = self._audit.event(caller, Action.ERASE, RESOURCE, worker.worker_id, fields, state_code=state)
        self._workers.save(worker, match_keys=set(), also_publish=[audit])
        for records in self._elsewhere:
            records.erase_worker(worker.worker_id)

    def reachable(self, worker: Worker, caller: Caller, purposes: Iterable[str]) -> bool:
        return any(self.access.decision(worker, caller, p) for p in purposes)

    def consent_holders(self, worker: Worker) -> set[str]:
        return holders(worker, self._clock())


def _as_input(details: WorkerDetails) -> WorkerInput:
    """Stored details in the shape of an input; phone and documents are kept by `keep=` instead."""
    return WorkerInput(
        full_name=details.full_name,
        gender=details.gender,
        birth_year=details.birth_year,
        home=details.home,
        occupation=details.occupation,
        sector=details.sector,
        skills=details.skills,
        languages=details.languages,
        vulnerabilities=details.vulnerabilities,
        father_or_spouse_name=details.father_or_spouse_name,
    )


def _without_phone(details: WorkerDetails) -> WorkerDetails:
    return WorkerDetails(**{**details.__dict__, "phone": None})


def _encode_cursor(worker_id: str) -> str:
    return base64.urlsafe_b64encode(worker_id.encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> str:
    if not token:
        return ""
    try:
        worker_id = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument.for_field("page_token", "is not a token this service issued") from exc
    if not worker_id:
        raise InvalidArgument.for_field("page_token", "is not a token this service issued")
    return worker_id
