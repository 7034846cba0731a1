"""Missing-person traces: opened by a family's partner, helped by partners at the destination, closed as
found, reunited or deceased.

A registered worker is checked with the registry (as for cases), and the trace is linked to the worker's
current migration episode when the registry shows the caller one (or to the episode the caller names, which
must be the worker's). Access follows `domain.access.protected_trace`: any civil-society or government
partner whose geography covers one of the trace's places reads it and records sightings; the family's
contacts stay with the opening partner.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from mrc_grievance.domain.access import TRACE_RESOURCE, protected_trace, sees_contacts
from mrc_grievance.domain.parties import Actor, RegisteredWorker, UnregisteredPerson
from mrc_grievance.domain.trace import Contact, Trace
from mrc_grievance.domain.vocabulary import ReporterRelation, TraceStatus
from mrc_grievance.service_layer import protection as sealed_fields
from mrc_grievance.service_layer.cases import CaseAccess, authorize
from mrc_grievance.service_layer.parties import Parties, PersonInput, RespondentInput, SubjectInput
from mrc_grievance.service_layer.ports import AccessRecorder, Forwarded, TraceRepository, WorkerDirectory
from mrc_grievance.service_layer.protection import Protection
from mrc_grievance.service_layer.views import ContactView, TraceView, person_view, respondent_name
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.idempotency import IdDeriver, request_fingerprint, scoped_key
from mrc_kernel.place import Place
from mrc_kernel.policy import decide
from mrc_kernel.roles import Scope

NOT_FOUND = "no such trace"
MAX_DESCRIPTION_LENGTH = 4000


@dataclass(frozen=True)
class ContactInput:
    relation: ReporterRelation | None = None
    name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class OpenTrace:
    missing: SubjectInput
    last_known_place: Place
    last_known_on: date | None
    minor: bool = False
    destination: Place | None = None
    respondent: RespondentInput | None = None
    contacts: tuple[ContactInput, ...] = ()
    description: str = ""
    grievance_id: str = ""
    migration_episode_id: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class OpenedTrace:
    view: TraceView
    created: bool


class TraceService:
    def __init__(
        self,
        traces: TraceRepository,
        cases: CaseAccess,
        audit: AccessRecorder,
        protection: Protection,
        parties: Parties,
        workers: WorkerDirectory,
        ids: IdDeriver,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._traces = traces
        self._cases = cases
        self._audit = audit
        self._protection = protection
        self._parties = parties
        self._workers = workers
        self._ids = ids
        self._clock = clock
        self._new_id = new_id

    def _view(self, trace: Trace, caller: Caller) -> TraceView:
        p = self._protection
        contacts = (
            tuple(
                ContactView(
                    c.relation.value,
                    p.open(sealed_fields.CONTACT_NAME, c.name),
                    p.open_phone(sealed_fields.CONTACT_PHONE, c.phone),
                )
                for c in trace.contacts
            )
            if sees_contacts(trace, caller.partner_id)
            else ()
        )
        return TraceView(
            trace=trace,
            person=person_view(p, trace.missing) if isinstance(trace.missing, UnregisteredPerson) else None,
            respondent_name=respondent_name(p, trace.respondent),
            description=p.open(sealed_fields.DESCRIPTION, trace.description),
            contacts=contacts,
            sighting_details=tuple(p.open(sealed_fields.SIGHTING_DETAILS, s.details) for s in trace.sightings),
        )

    def _fields(self, view: TraceView) -> list[str]:
        shown = ["missing", "places", "sightings", "description"]
        return [*shown, "contacts"] if view.contacts else shown

    def _load(self, trace_id: str, caller: Caller) -> Trace:
        trace = self._traces.get(trace_id) if trace_id and len(trace_id) <= 64 else None
        if trace is None:
            raise NotFound(NOT_FOUND)
        if not decide(caller, protected_trace(trace), caller.purpose):
            with contextlib.suppress(Exception):
                self._audit.record(
                    caller,
                    Action.READ,
                    TRACE_RESOURCE,
                    trace_id,
                    allowed=False,
                    state_code=trace.last_known_place.state_code,
                )
            raise NotFound(NOT_FOUND)
        return trace

    # -- opening ---------------------------------------------------------------------------------------

    def open(self, command: OpenTrace, caller: Caller, forwarded: Forwarded | None) -> OpenedTrace:
        caller = authorize(caller, Scope.GRIEVANCES_WRITE)
        if not caller.partner_id:
            raise PermissionDenied("this client acts for no partner, so it cannot open traces")
        if place_violations := command.last_known_place.violations("last_known_place"):
            raise InvalidArgument(place_violations)
        places = [command.last_known_place, *([command.destination] if command.destination else [])]
        if not caller.covers_any_place(p.scope for p in places):
            raise InvalidArgument(
                FieldViolation(
                    "last_known_place.state_code", "neither this place nor the destination is in your geography"
                )
            )
        state = command.last_known_place.state_code
        violations: list[FieldViolation] = []
        missing = self._parties.subject(state, command.missing, caller, forwarded, violations, path="missing")
        respondent = self._parties.respondent(state, command.respondent, caller, forwarded, violations)
        contacts = tuple(self._contact(state, c, f"contacts[{i}]", violations) for i, c in enumerate(command.contacts))
        if len(command.description.strip()) > MAX_DESCRIPTION_LENGTH:
            violations.append(FieldViolation("description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters"))
        if command.grievance_id:
            try:
                self._cases.load(command.grievance_id, caller)
            except NotFound:
                violations.append(FieldViolation("grievance_id", "no such grievance"))
        episode = command.migration_episode_id
        if isinstance(missing, RegisteredWorker) and forwarded is not None and not violations:
            episode = self._episode(missing.worker_id, episode, caller, forwarded, violations)
        if violations:
            raise InvalidArgument(violations)
        key = scoped_key(caller.partner_id, command.idempotency_key or self._new_id())
        trace = Trace.open(
            trace_id=self._ids.derive("trace", key),
            missing=missing,
            minor=command.minor,
            last_known_place=command.last_known_place,
            last_known_on=command.last_known_on,
            destination=command.destination,
            respondent=respondent,
            contacts=contacts,
            description=self._protection.seal(state, sealed_fields.DESCRIPTION, command.description),
            grievance_id=command.grievance_id,
            migration_episode_id=episode,
            opened_by=Actor(caller.client_id, caller.partner_id),
            now=self._clock(),
        )
        payload = asdict(dataclasses.replace(command, idempotency_key=""))
        audit = self._audit.event(
            caller,
            Action.CREATE,
            TRACE_RESOURCE,
            trace.trace_id,
            ["missing", "contacts", "description"],
            state_code=state,
        )
        stored, created = self._traces.add(
            trace, idempotency_key=key, fingerprint=request_fingerprint(payload), also_publish=[audit]
        )
        return OpenedTrace(self._view(stored, caller), created)

    def _contact(self, state: str, contact: ContactInput, path: str, violations: list[FieldViolation]) -> Contact:
        return Contact(
            relation=contact.relation or ReporterRelation.FAMILY,
            name=self._protection.seal(state, sealed_fields.CONTACT_NAME, contact.name),
            phone=self._protection.phone(
                state, sealed_fields.CONTACT_PHONE, contact.phone, f"{path}.phone", violations
            ),
        )

    def _episode(
        self, worker_id: str, named: str, caller: Caller, forwarded: Forwarded, violations: list[FieldViolation]
    ) -> str:
        episodes = self._workers.migration_episodes(worker_id, caller, forwarded)
        if named:
            if not any(e.episode_id == named for e in episodes):
                violations.append(FieldViolation("migration_episode_id", "not a migration episode of this worker"))
            return named
        ongoing = sorted((e for e in episodes if e.ongoing), key=lambda e: e.start_date)
        return ongoing[-1].episode_id if ongoing else ""

    # -- reading and working on a trace ------------------------------------------------------------------

    def get(self, trace_id: str, caller: Caller) -> TraceView:
        caller = authorize(caller, Scope.GRIEVANCES_READ)
        trace = self._load(trace_id, caller)
        view = self._view(trace, caller)
        self._audit.record(
            caller,
            Action.READ,
            TRACE_RESOURCE,
            trace.trace_id,
            self._fields(view),
            state_code=trace.last_known_place.state_code,
        )
        return view

    def record_sighting(
        self,
        trace_id: str,
        seen_at: datetime | None,
        place: Place,
        details: str,
        caller: Caller,
        *,
        idempotency_key: str = "",
    ) -> TraceView:
        caller = authorize(caller, Scope.GRIEVANCES_WRITE)
        trace = self._load(trace_id, caller)
        if seen_at is None:
            raise InvalidArgument.for_field("seen_at", "must be set")
        if len(details.strip()) > MAX_DESCRIPTION_LENGTH:
            raise InvalidArgument.for_field("details", f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
        sighting_id = (
            self._ids.derive("sighting", scoped_key(caller.partner_id, idempotency_key))
            if idempotency_key
            else self._new_id()
        )
        if not any(s.sighting_id == sighting_id for s in trace.sightings):
            loaded = trace.version
            state = trace.last_known_place.state_code
            sealed = self._protection.seal(state, sealed_fields.SIGHTING_DETAILS, details)
            trace.record_sighting(
                sighting_id, seen_at, place, sealed, Actor(caller.client_id, caller.partner_id), self._clock()
            )
            audit = self._audit.event(caller, Action.UPDATE, TRACE_RESOURCE, trace_id, ["sightings"], state_code=state)
            self._traces.save(trace, loaded_version=loaded, also_publish=[audit])
        return self._view(trace, caller)

    def close(
        self, trace_id: str, outcome: TraceStatus | None, caller: Caller, *, expected_version: int = 0
    ) -> TraceView:
        caller = authorize(caller, Scope.GRIEVANCES_WRITE)
        trace = self._load(trace_id, caller)
        if expected_version and expected_version != trace.version:
            from mrc_kernel.errors import Conflict

            raise Conflict(f"trace {trace_id} is at version {trace.version}, not {expected_version}")
        loaded = trace.version
        trace.close(outcome, Actor(caller.client_id, caller.partner_id), self._clock())
        state = trace.last_known_place.state_code
        audit = self._audit.event(caller, Action.UPDATE, TRACE_RESOURCE, trace_id, ["status"], state_code=state)
        self._traces.save(trace, loaded_version=loaded, also_publish=[audit])
        return self._view(trace, caller)


__all__ = ["ContactInput", "OpenTrace", "OpenedTrace", "PersonInput", "TraceService", "field"]
