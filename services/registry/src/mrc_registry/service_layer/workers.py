"""Use cases on workers: register, read, correct, search, consent, erase.

Every use case takes the authenticated `Caller`: what it may see is decided here, next to the
data, so REST and gRPC cannot disagree. A worker another partner registered is visible only under
an active consent that covers the caller; anything else is answered as "not found", so the answer
never reveals that a person is in the registry.
"""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import FieldViolation, InvalidArgument, NotFound
from mrc_kernel.events import Event
from mrc_kernel.idempotency import request_fingerprint, scoped_key
from mrc_kernel.roles import Scope
from mrc_registry.domain.consent import Consent, ConsentPurpose, shares_with, validate_consent
from mrc_registry.domain.identity.matching import CandidateFacts, blocking_keys
from mrc_registry.domain.identity.transliteration import phonetic_keys, to_latin
from mrc_registry.domain.worker import Worker, WorkerDetails, WorkerStatus
from mrc_registry.service_layer.commands import (
    UPDATABLE_FIELDS,
    ConsentInput,
    RegisterWorker,
    Search,
    UpdateWorker,
    WorkerInput,
)
from mrc_registry.service_layer.deduplication import Deduplicator, PossibleDuplicate
from mrc_registry.service_layer.ports import AccessRecorder, EventNotifier, Protector, SearchCriteria, WorkerRepository
from mrc_registry.service_layer.protection import WorkerProtection

# Ids derived from the partner's idempotency key: a retry after a lost response or a crash
# computes the same id, so it can never create a second worker or a second consent.
ID_NAMESPACE = uuid.UUID("6b1f0c52-5d0e-4f3c-9a61-2f7e0d1c9b40")
PERSONAL_FIELDS = (
    "full_name",
    "gender",
    "birth_year",
    "home",
    "phone",
    "identity_documents",
    "father_or_spouse_name",
    "vulnerabilities",
)
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class WorkerView:
    """A worker as shown to one caller: the phone decrypted only for those allowed to see the record."""

    worker: Worker
    phone: str


@dataclass(frozen=True)
class Registration:
    view: WorkerView
    created: bool
    # The same person was already registered (same identity document): the new partner was linked
    # to that record through the consent it captured, instead of creating a duplicate.
    linked_to_existing: bool = False
    possible_duplicates: tuple[PossibleDuplicate, ...] = ()


def visible_to(worker: Worker, caller: Caller, now: datetime) -> bool:
    """Whether the caller may see this worker at all: its own registration, or an active consent."""
    if worker.status is WorkerStatus.ERASED:
        return False
    if worker.registering_partner_id == caller.partner_id:
        # A partner's own client may still be limited to some states or districts.
        return caller.covers_any_place(worker.places())
    if not shares_with(worker.consents, caller.partner_id, caller.partner_kind, now):
        return False
    # Consent to share with government still stops at the department's own geography.
    return caller.partner_kind != "government" or caller.covers_any_place(worker.places())


def _name_district_keys(name: str, district_code: str) -> tuple[str, ...]:
    if not name.strip() or not district_code:
        return ()
    keys = blocking_keys(CandidateFacts(name=to_latin(name), home_district_code=district_code))
    return tuple(sorted(k for k in keys if k.startswith("name+district:")))


def _derived_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{key}"))


class WorkerService:
    def __init__(
        self,
        workers: WorkerRepository,
        protector: Protector,
        audit: AccessRecorder,
        notifier: EventNotifier,
        deduplicator: Deduplicator,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._workers = workers
        self._protector = protector
        self._protection = WorkerProtection(protector)
        self._audit = audit
        self._notifier = notifier
        self._dedup = deduplicator
        self._clock = clock
        self._new_id = new_id

    # -- consent -----------------------------------------------------------------------------------

    def _consent(self, raw: ConsentInput, caller: Caller, consent_id: str, now: datetime) -> Consent:
        violations = validate_consent(
            raw.purposes, raw.method, raw.witness_name, raw.shared_with_partner_ids, raw.expires_at, now
        )
        if violations or raw.method is None:
            raise InvalidArgument(violations)
        return Consent(
            consent_id=consent_id,
            purposes=raw.purposes,
            method=raw.method,
            captured_by_partner_id=caller.partner_id,
            captured_at=now,
            shared_with_partner_ids=raw.shared_with_partner_ids,
            witness_name=raw.witness_name.strip(),
            expires_at=raw.expires_at,
        )

    # -- visibility --------------------------------------------------------------------------------

    def _visible(self, worker: Worker, caller: Caller, now: datetime) -> bool:
        return visible_to(worker, caller, now)

    def _load_visible(self, worker_id: str, caller: Caller, purpose: str) -> Worker:
        worker = self._workers.get(worker_id)
        now = self._clock()
        if worker is None or not self._visible(worker, caller, now):
            if worker is not None:  # an attempt on a real record is worth an auditor's attention
                # The answer is "not found" whatever the trail says.
                with contextlib.suppress(Exception):
                    self._audit.record(caller, Action.READ, "worker", worker_id, allowed=False)
            raise NotFound(f"no worker {worker_id!r}")
        return worker

    def _view(self, worker: Worker) -> WorkerView:
        return WorkerView(worker, self._protection.reveal_phone(worker.details))

    # -- use cases ---------------------------------------------------------------------------------

    def register(self, command: RegisterWorker, caller: Caller) -> Registration:
        caller.require(Scope.WORKERS_WRITE)
        check_purpose(caller.purpose, "registration")
        now = self._clock()
        key = scoped_key(caller.partner_id, command.idempotency_key or self._new_id())
        if ConsentPurpose.REGISTRATION not in command.consent.purposes:
            raise InvalidArgument.for_field("consent.purposes", "registration needs consent for 'registration'")
        consent = self._consent(command.consent, caller, _derived_id("consent", key), now)
        details, violations = self._protection.details(command.details)
        worker = Worker.register(
            worker_id=_derived_id("worker", key),
            details=details,
            consent=consent,
            registering_partner_id=caller.partner_id,
            now=now,
            extra_violations=violations,
        )
        # Keyed, so the stored fingerprint cannot be used to guess the phone or Aadhaar number in the request.
        fingerprint = self._protector.blind_index(
            "request", request_fingerprint({"details": asdict(command.details), "consent": asdict(command.consent)})
        )

        certain, possible, candidates = self._dedup.assess_with_candidates(worker)
        if certain is not None:
            return self._link(certain, consent, caller, now)

        audit = self._audit.event(caller, Action.CREATE, "worker", worker.worker_id, PERSONAL_FIELDS)
        stored, created = self._workers.add(
            worker,
            idempotency_key=key,
            fingerprint=fingerprint,
            match_keys=self._dedup.keys(worker),
            also_publish=[audit],
        )
        # Queued on retries too: a first attempt may have stored the worker and failed before queueing.
        self._dedup.queue_for_review(stored, possible, now)
        if created:
            self._notifier.notify(stored.worker_id)
        # The caller learns only of records it may see; the rest wait for a supervisor who can.
        shown = tuple(p for p in possible if visible_to(candidates[p.worker_id], caller, now))
        return Registration(self._view(stored), created, possible_duplicates=shown)

    def _link(self, existing: Worker, consent: Consent, caller: Caller, now: datetime) -> Registration:
        """The person is already registered: record this partner's consent on that record."""
        already = any(c.consent_id == consent.consent_id for c in existing.consents)
        if not already:
            existing.grant_consent(consent)
            audit = self._audit.event(caller, Action.UPDATE, "worker", existing.worker_id, ["consents"])
            self._workers.save(existing, also_publish=[audit])
            self._notifier.notify(existing.worker_id)
        return Registration(self._view(existing), created=not already, linked_to_existing=True)

    def get(self, worker_id: str, caller: Caller) -> WorkerView:
        caller.require(Scope.WORKERS_READ)
        purpose = check_purpose(caller.purpose, "case_management")
        worker = self._load_visible(worker_id, caller, purpose)
        self._audit.record(caller, Action.READ, "worker", worker_id, PERSONAL_FIELDS)
        return self._view(worker)

    def update(self, command: UpdateWorker, caller: Caller) -> WorkerView:
        caller.require(Scope.WORKERS_WRITE)
        purpose = check_purpose(caller.purpose, "case_management")
        unknown = sorted(command.paths - UPDATABLE_FIELDS)
        if unknown:
            raise InvalidArgument([FieldViolation("update_mask", f"{p!r} cannot be changed") for p in unknown])
        worker = self._load_visible(command.worker_id, caller, purpose)
        current = worker.details
        raw = command.changes
        merged = WorkerInput(
            **{
                name: getattr(raw if name in command.paths else _as_input(current), name)
                for name in WorkerInput.__dataclass_fields__
            }
        )
        if "phone" in command.paths and not raw.phone:
            current = _without_phone(current)
        details, violations = self._protection.details(merged, keep=current)
        if violations:
            raise InvalidArgument(violations)
        changed = worker.update(details, self._clock(), expected_version=command.expected_version)
        if changed:
            audit = self._audit.event(caller, Action.UPDATE, "worker", worker.worker_id, changed)
            self._workers.save(worker, match_keys=self._dedup.keys(worker), also_publish=[audit])
            self._notifier.notify(worker.worker_id)
        return self._view(worker)

    def search(self, query: Search, caller: Caller) -> tuple[list[WorkerView], str]:
        caller.require(Scope.WORKERS_READ)
        check_purpose(caller.purpose, "case_management")
        if not 1 <= query.page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument.for_field("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
        criteria = self._criteria(query)
        after = _decode_cursor(query.page_token)
        now = self._clock()
        found: list[Worker] = []
        # Records the caller may not see are skipped; keep reading until the page is full.
        while len(found) < query.page_size:
            batch = self._workers.search(criteria, after=after, limit=query.page_size)
            found.extend(w for w in batch if self._visible(w, caller, now))
            if len(batch) < query.page_size:
                after = ""
                break
            after = batch[-1].worker_id
        page = found[: query.page_size]
        next_token = _encode_cursor(page[-1].worker_id) if after and page else ""
        for worker in page:
            self._audit.record(caller, Action.SEARCH, "worker", worker.worker_id, PERSONAL_FIELDS)
        return [self._view(w) for w in page], next_token

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
        return criteria

    def grant_consent(self, worker_id: str, raw: ConsentInput, idempotency_key: str, caller: Caller) -> WorkerView:
        caller.require(Scope.CONSENT_WRITE)
        purpose = check_purpose(caller.purpose, "registration")
        worker = self._load_visible(worker_id, caller, purpose)
        now = self._clock()
        consent_id = _derived_id("consent", scoped_key(caller.partner_id, idempotency_key or self._new_id()))
        if not any(c.consent_id == consent_id for c in worker.consents):
            worker.grant_consent(self._consent(raw, caller, consent_id, now))
            audit = self._audit.event(caller, Action.UPDATE, "worker", worker_id, ["consents"])
            self._workers.save(worker, also_publish=[audit])
            self._notifier.notify(worker.worker_id)
        return self._view(worker)

    def revoke_consent(self, worker_id: str, consent_id: str, caller: Caller) -> WorkerView:
        caller.require(Scope.CONSENT_WRITE)
        purpose = check_purpose(caller.purpose, "registration")
        worker = self._load_visible(worker_id, caller, purpose)
        worker.revoke_consent(consent_id, self._clock())
        audit = self._audit.event(caller, Action.UPDATE, "worker", worker_id, ["consents"])
        self._workers.save(worker, also_publish=[audit])
        self._notifier.notify(worker.worker_id)
        return self._view(worker)

    def erase(self, worker_id: str, reason: str, caller: Caller) -> None:
        caller.require(Scope.WORKERS_ERASE)
        purpose = check_purpose(caller.purpose, "operations")
        if not reason.strip():
            raise InvalidArgument.for_field("reason", "say why and on whose request")
        worker = self._load_visible(worker_id, caller, purpose)
        worker.erase(self._clock())
        audit = self._audit.event(caller, Action.ERASE, "worker", worker_id, PERSONAL_FIELDS)
        self._workers.save(worker, match_keys=set(), also_publish=[audit])
        self._notifier.notify(worker.worker_id)


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


__all__ = ["Event", "Registration", "WorkerService", "WorkerView"]
