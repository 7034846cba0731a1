"""Cross-state federation of grievances and missing-person traces: a case filed, or a trace opened, here about a
worker whose record here is a copy of another state's record goes to that state (the family, the registering
partner are there), and the cases and traces other states forward about this state's workers are kept here,
read-only.

Sending (`CaseForwarder`): the grievance worker keeps which workers are copies, from which state, and whether
the sharing consent allows grievance follow-up (`StoredFederatedWorkers`, from the registry's facts; a copy's
`WorkerErased` removes it). Every write of such a case that raised events stores `GrievanceForwarded` for
`mrc.federation.grievances.<home state>.v1` in the same write (the outbox): its category, severity, status,
escalation level, LGD place, filing partner and version, and the complainant's account as a federation token
(field `grievance.account/<grievance_id>`). Nothing is forwarded once the copy is gone or the consent no
longer allows grievance follow-up.

Traces (`TraceForwarder`) go the same way, on the same topic, under the same consent (the registry has no
tracing purpose, and a trace stays linked to a registered worker only while grievance follow-up is allowed):
`TraceForwarded` with each change (opened, a sighting, closed) carries the status, the places and the
latest sighting's place as LGD codes, the sighting count, the opening partner, and the description as a
federation token (field `trace.description/<trace_id>`); never the family's contacts or what a sighting said.

Receiving (`StoredForwardedCases`, `StoredForwardedTraces`): what the peers forward, applied once per event
id, a newer version replacing an older one; listed by worker for this state's partners who reach the worker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc_grievance.adapters import protobuf_mapping as mapping
from mrc_grievance.domain.case import Case
from mrc_grievance.domain.parties import RegisteredWorker, Subject, respondent_employer_id
from mrc_grievance.domain.trace import Trace
from mrc_grievance.domain.vocabulary import CaseStatus, Category, Severity, TraceStatus
from mrc_grievance.service_layer.federation import ForwardedCase, ForwardedTrace
from mrc_grievance.service_layer.protection import DESCRIPTION, SUMMARY
from mrc_grievance.settings import EVENT_SOURCE
from mrc_kernel.clock import utc_now
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.protobuf import datetime_from, timestamp
from mrc_plumbing.store import APPLIED_EVENTS_FIELD, DocumentStore, DuplicateDocument

log = logging.getLogger(__name__)

GRIEVANCES = "grievances"
FEDERATED_WORKERS = "federated_workers"
FORWARDED_CASES = "forwarded_cases"
FORWARDED_TRACES = "forwarded_traces"
WORKER_KEY_FIELD = "worker_keys"
MAX_APPLIED = 50
_STATE_CODE = re.compile(r"^[0-9]{1,3}$")


def account_field(grievance_id: str) -> str:
    return f"grievance.account/{grievance_id}"


def description_field(trace_id: str) -> str:
    return f"trace.description/{trace_id}"


class RefusedForward(ValueError):
    """A record of a peer's grievances topic that can never be applied here."""


class StoredFederatedWorkers:
    """Which workers are copies of another state's record, from which state, and whether their sharing consent
    allows grievance follow-up here."""

    def __init__(self, store: DocumentStore) -> None:
        self._workers = store.collection(FEDERATED_WORKERS)

    def record(self, worker_id: str, home_state_code: str, follow_up: bool, version: int) -> None:
        doc = self._workers.get(worker_id)
        state = {"home_state_code": home_state_code, "follow_up": follow_up, "version": version}
        if doc is None:
            try:
                self._workers.insert({"_id": worker_id, **state})
                return
            except DuplicateDocument:
                doc = self._workers.get(worker_id)
        if doc is not None and int(doc.get("version", 0)) <= version:
            self._workers.update(worker_id, {"$set": state}, where={"version": doc.get("version", 0)})

    def forget(self, worker_id: str) -> None:
        self._workers.delete(worker_id)

    def home_of(self, worker_id: str) -> tuple[str, bool] | None:
        doc = self._workers.get(worker_id) if worker_id else None
        return (str(doc["home_state_code"]), bool(doc.get("follow_up"))) if doc else None


class CaseForwarder:
    def __init__(
        self,
        own_state_code: str,
        peer_state_codes: frozenset[str],
        workers: StoredFederatedWorkers,
        open_summary: Callable[[str], str],
        cipher: FederationCipher,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._own = own_state_code
        self._peers = peer_state_codes
        self._workers = workers
        self._open_summary = open_summary
        self._cipher = cipher
        self._clock = clock

    def destination(self, case: Case) -> str:
        """The home state a change of the case goes to, or "" (not about a copy, or no consent for it)."""
        return home_state_of(case.subject, self._own, self._peers, self._workers)

    def case_events(self, case: Case) -> list[Event]:
        """Call with the case's pending events still on it (before the write takes them)."""
        if not case.pending_events:
            return []
        home = self.destination(case)
        if not home:
            return []
        assert isinstance(case.subject, RegisteredWorker)
        account = self._open_summary(case.summary.token) if case.summary is not None else ""
        location = case.location
        message = federation_pb2.GrievanceForwarded(
            grievance_id=case.grievance_id,
            home_state_code=self._own,
            to_state_code=home,
            worker_id=case.subject.worker_id,
            worker_home_state_code=home,
            category=mapping.category(case.category),
            severity=mapping.severity(case.severity),
            status=mapping.status(case.status),
            escalation_level=mapping.level(case.escalation_level),
            filing_partner_id=case.filed_by.partner_id,
            account_token=self._cipher.seal(account_field(case.grievance_id), account) if account else "",
            version=case.version,
            occurred_at=timestamp(case.filed_at),
        )
        message.place.state_code = location.state_code
        message.place.district_code = location.district_code
        message.place.subdistrict_code = location.subdistrict_code or ""
        return [
            Event.from_message(
                message,
                source=EVENT_SOURCE,
                subject=case.grievance_id,
                topic=f"mrc.federation.{GRIEVANCES}.{home}.v1",
            )
        ]


def home_state_of(
    subject: Subject, own_state_code: str, peer_state_codes: frozenset[str], workers: StoredFederatedWorkers
) -> str:
    """The peer whose registry holds the worker a record is about, when the copy's consent allows grievance
    follow-up; "" otherwise (someone outside the registries, this state's own worker, no such consent)."""
    if not isinstance(subject, RegisteredWorker):
        return ""
    found = workers.home_of(subject.worker_id)
    if found is None:
        return ""
    home, follow_up = found
    return home if follow_up and home in peer_state_codes and home != own_state_code else ""


def _set_place(target: Any, place: Place) -> None:
    target.state_code = place.state_code
    target.district_code = place.district_code
    target.subdistrict_code = place.subdistrict_code or ""


class TraceForwarder:
    """A trace about a copy of another state's worker goes to that state with each change (the family is
    there), under the same consent as a case."""

    def __init__(
        self,
        own_state_code: str,
        peer_state_codes: frozenset[str],
        workers: StoredFederatedWorkers,
        open_description: Callable[[str], str],
        cipher: FederationCipher,
    ) -> None:
        self._own = own_state_code
        self._peers = peer_state_codes
        self._workers = workers
        self._open_description = open_description
        self._cipher = cipher

    def destination(self, trace: Trace) -> str:
        return home_state_of(trace.missing, self._own, self._peers, self._workers)

    def trace_events(self, trace: Trace) -> list[Event]:
        """Call with the trace's pending events still on it (before the write takes them)."""
        if not trace.pending_events:
            return []
        home = self.destination(trace)
        if not home:
            return []
        description = self._open_description(trace.description.token) if trace.description is not None else ""
        message = federation_pb2.TraceForwarded(
            trace_id=trace.trace_id,
            home_state_code=self._own,
            to_state_code=home,
            worker_id=trace.worker_id,
            worker_home_state_code=home,
            minor=trace.minor,
            last_known_on=trace.last_known_on.isoformat(),
            employer_id=respondent_employer_id(trace.respondent),
            status=mapping.trace_status(trace.status),
            grievance_id=trace.grievance_id,
            filing_partner_id=trace.opening_partner_id,
            description_token=(
                self._cipher.seal(description_field(trace.trace_id), description) if description else ""
            ),
            version=trace.version,
            occurred_at=timestamp(trace.opened_at),
            sighting_count=len(trace.sightings),
        )
        _set_place(message.last_known_place, trace.last_known_place)
        if trace.destination is not None:
            _set_place(message.destination, trace.destination)
        if trace.sightings:
            latest = max(trace.sightings, key=lambda s: s.seen_at)
            message.last_seen_at.CopyFrom(timestamp(latest.seen_at))
            _set_place(message.last_seen_place, latest.place)
        return [
            Event.from_message(
                message,
                source=EVENT_SOURCE,
                subject=trace.trace_id,
                topic=f"mrc.federation.{GRIEVANCES}.{home}.v1",
            )
        ]


def forwarded_case_from(message: federation_pb2.GrievanceForwarded, source_state_code: str) -> ForwardedCase:
    if not message.grievance_id or len(message.grievance_id) > 64 or len(message.worker_id) > 64:
        raise RefusedForward("no grievance id")
    if message.home_state_code != source_state_code:
        raise RefusedForward(f"a case of state {message.home_state_code[:3]!r} on state {source_state_code}'s topic")
    category, severity, status = (
        mapping.category_of(message.category),
        mapping.severity_of(message.severity),
        mapping.status_of(message.status),
    )
    if category is None or severity is None or status is None:
        raise RefusedForward("unknown category, severity or status")
    return ForwardedCase(
        grievance_id=message.grievance_id,
        handling_state_code=message.home_state_code,
        to_state_code=message.to_state_code,
        worker_id=message.worker_id,
        category=category,
        severity=severity,
        status=status,
        escalation_level=int(message.escalation_level),
        state_code=message.place.state_code[:3],
        district_code=message.place.district_code[:4],
        filing_partner_id=message.filing_partner_id[:64],
        account_token=message.account_token,
        version=message.version,
        occurred_at=datetime_from(message.occurred_at),
    )


def _place_of(message: Any) -> Place | None:
    if not message.state_code:
        return None
    return Place(message.state_code[:3], message.district_code[:4], message.subdistrict_code[:5])


def forwarded_trace_from(message: federation_pb2.TraceForwarded, source_state_code: str) -> ForwardedTrace:
    if not message.trace_id or len(message.trace_id) > 64 or len(message.worker_id) > 64:
        raise RefusedForward("no trace id")
    if message.home_state_code != source_state_code:
        raise RefusedForward(f"a trace of state {message.home_state_code[:3]!r} on state {source_state_code}'s topic")
    status = mapping.trace_status_of(message.status)
    last_known = _place_of(message.last_known_place)
    if status is None or last_known is None:
        raise RefusedForward("unknown status or no last known place")
    return ForwardedTrace(
        trace_id=message.trace_id,
        handling_state_code=message.home_state_code,
        to_state_code=message.to_state_code,
        worker_id=message.worker_id,
        minor=message.minor,
        status=status,
        last_known_place=last_known,
        last_known_on=message.last_known_on[:10],
        destination=_place_of(message.destination),
        employer_id=message.employer_id[:64],
        grievance_id=message.grievance_id[:64],
        filing_partner_id=message.filing_partner_id[:64],
        description_token=message.description_token,
        sighting_count=max(0, message.sighting_count),
        last_seen_at=datetime_from(message.last_seen_at) if message.HasField("last_seen_at") else None,
        last_seen_place=_place_of(message.last_seen_place),
        version=message.version,
        occurred_at=datetime_from(message.occurred_at),
    )


def _place_doc(place: Place | None) -> dict[str, str] | None:
    if place is None:
        return None
    return {
        "state_code": place.state_code,
        "district_code": place.district_code,
        "subdistrict_code": place.subdistrict_code,
    }


def _stored_place(doc: dict[str, Any] | None) -> Place | None:
    if not doc:
        return None
    return Place(doc.get("state_code", ""), doc.get("district_code", ""), doc.get("subdistrict_code", ""))


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=value.tzinfo or UTC) if value else None


def _trace_doc(trace: ForwardedTrace) -> dict[str, Any]:
    return {
        "handling_state_code": trace.handling_state_code,
        "to_state_code": trace.to_state_code,
        "worker_id": trace.worker_id,
        WORKER_KEY_FIELD: [trace.worker_id] if trace.worker_id else [],
        "minor": trace.minor,
        "status": trace.status.value,
        "last_known_place": _place_doc(trace.last_known_place),
        "last_known_on": trace.last_known_on,
        "destination": _place_doc(trace.destination),
        "employer_id": trace.employer_id,
        "grievance_id": trace.grievance_id,
        "filing_partner_id": trace.filing_partner_id,
        "description_token": trace.description_token,
        "sighting_count": trace.sighting_count,
        "last_seen_at": trace.last_seen_at,
        "last_seen_place": _place_doc(trace.last_seen_place),
        "version": trace.version,
        "occurred_at": trace.occurred_at,
    }


def _trace(doc: dict[str, Any]) -> ForwardedTrace:
    return ForwardedTrace(
        trace_id=doc["_id"],
        handling_state_code=doc["handling_state_code"],
        to_state_code=doc.get("to_state_code", ""),
        worker_id=doc.get("worker_id", ""),
        minor=bool(doc.get("minor")),
        status=TraceStatus(doc["status"]),
        last_known_place=_stored_place(doc.get("last_known_place")) or Place("", ""),
        last_known_on=doc.get("last_known_on", ""),
        destination=_stored_place(doc.get("destination")),
        employer_id=doc.get("employer_id", ""),
        grievance_id=doc.get("grievance_id", ""),
        filing_partner_id=doc.get("filing_partner_id", ""),
        description_token=doc.get("description_token", ""),
        sighting_count=int(doc.get("sighting_count", 0)),
        last_seen_at=_utc(doc.get("last_seen_at")),
        last_seen_place=_stored_place(doc.get("last_seen_place")),
        version=int(doc["version"]),
        occurred_at=_utc(doc.get("occurred_at")),
    )


def _doc(case: ForwardedCase) -> dict[str, Any]:
    return {
        "handling_state_code": case.handling_state_code,
        "to_state_code": case.to_state_code,
        "worker_id": case.worker_id,
        WORKER_KEY_FIELD: [case.worker_id] if case.worker_id else [],
        "category": case.category.value,
        "severity": case.severity.value,
        "status": case.status.value,
        "escalation_level": case.escalation_level,
        "state_code": case.state_code,
        "district_code": case.district_code,
        "filing_partner_id": case.filing_partner_id,
        "account_token": case.account_token,
        "version": case.version,
        "occurred_at": case.occurred_at,
    }


def _case(doc: dict[str, Any]) -> ForwardedCase:
    return ForwardedCase(
        grievance_id=doc["_id"],
        handling_state_code=doc["handling_state_code"],
        to_state_code=doc.get("to_state_code", ""),
        worker_id=doc.get("worker_id", ""),
        category=Category(doc["category"]),
        severity=Severity(doc["severity"]),
        status=CaseStatus(doc["status"]),
        escalation_level=int(doc.get("escalation_level", 0)),
        state_code=doc.get("state_code", ""),
        district_code=doc.get("district_code", ""),
        filing_partner_id=doc.get("filing_partner_id", ""),
        account_token=doc.get("account_token", ""),
        version=int(doc["version"]),
        occurred_at=_utc(doc.get("occurred_at")),
    )


class _ReadOnlyCopies:
    """Records other states forward about this state's workers, one document each: applied once per event
    id, the newest version kept, never taken over by another handling state; listed by worker."""

    def __init__(self, store: DocumentStore, collection: str) -> None:
        self._records = store.collection(collection)
        self._workers = store.key_index(collection, WORKER_KEY_FIELD)

    def apply(self, record_id: str, doc: dict[str, Any], event_id: str) -> bool:
        """Keep the record unless this event was applied or a newer version is held; True if kept now."""
        worker_id = str(doc.get("worker_id", ""))
        held = self._records.get(record_id)
        if held is None:
            self._workers.added(record_id, [worker_id] if worker_id else [])
            try:
                self._records.insert({"_id": record_id, **doc, APPLIED_EVENTS_FIELD: [event_id]})
                return True
            except DuplicateDocument:
                held = self._records.get(record_id)
                if held is None:
                    return False
        applied = list(held.get(APPLIED_EVENTS_FIELD) or [])
        if event_id in applied or int(held.get("version", 0)) >= int(doc["version"]):
            return False
        if held.get("handling_state_code") != doc["handling_state_code"]:
            return False
        return self._records.update(
            record_id,
            {"$set": {**doc, APPLIED_EVENTS_FIELD: [*applied, event_id][-MAX_APPLIED:]}},
            where={"version": held.get("version", 0)},
        )

    def about_worker(self, worker_id: str) -> list[dict[str, Any]]:
        if not worker_id:
            return []
        ids = self._workers.listing(worker_id).ids
        found = [d for d in self._records.get_many(ids) if d.get("worker_id") == worker_id]
        return sorted(found, key=lambda d: str(d["_id"]))

    def forget_worker(self, worker_id: str) -> int:
        """Erasure of the worker here: what was forwarded about them goes."""
        gone = 0
        for doc in self.about_worker(worker_id):
            self._records.delete(doc["_id"])
            self._workers.removed(doc["_id"], [worker_id])
            gone += 1
        return gone


class StoredForwardedCases:
    """The cases other states forward about this state's workers: read-only copies, newest version kept."""

    def __init__(self, store: DocumentStore) -> None:
        self._copies = _ReadOnlyCopies(store, FORWARDED_CASES)

    def apply(self, case: ForwardedCase, event_id: str) -> bool:
        """Keep the case unless this event was applied or a newer version is held; True if kept now."""
        return self._copies.apply(case.grievance_id, _doc(case), event_id)

    def about_worker(self, worker_id: str) -> list[ForwardedCase]:
        return [_case(d) for d in self._copies.about_worker(worker_id)]

    def forget_worker(self, worker_id: str) -> int:
        """Erasure of the worker here: the cases forwarded about them go."""
        return self._copies.forget_worker(worker_id)


class StoredForwardedTraces:
    """The missing-person traces other states forward about this state's workers: read-only copies, newest
    version kept."""

    def __init__(self, store: DocumentStore) -> None:
        self._copies = _ReadOnlyCopies(store, FORWARDED_TRACES)

    def apply(self, trace: ForwardedTrace, event_id: str) -> bool:
        """Keep the trace unless this event was applied or a newer version is held; True if kept now."""
        return self._copies.apply(trace.trace_id, _trace_doc(trace), event_id)

    def about_worker(self, worker_id: str) -> list[ForwardedTrace]:
        return [_trace(d) for d in self._copies.about_worker(worker_id)]

    def forget_worker(self, worker_id: str) -> int:
        """Erasure of the worker here: the traces forwarded about them go."""
        return self._copies.forget_worker(worker_id)


def open_account(cipher: FederationCipher) -> Callable[[str, str], str]:
    def opened(grievance_id: str, token: str) -> str:
        return cipher.open(account_field(grievance_id), token) if token else ""

    return opened


def open_description(cipher: FederationCipher) -> Callable[[str, str], str]:
    def opened(trace_id: str, token: str) -> str:
        return cipher.open(description_field(trace_id), token) if token else ""

    return opened


def summary_opener(open_field: Callable[[str, str], str]) -> Callable[[str], str]:
    return lambda token: open_field(SUMMARY, token)


def description_opener(open_field: Callable[[str, str], str]) -> Callable[[str], str]:
    return lambda token: open_field(DESCRIPTION, token)


def forwarded_handler(
    cases: StoredForwardedCases,
    own_state_code: str,
    decoder: EventDecoder,
    traces: StoredForwardedTraces | None = None,
) -> Callable[[Event, str], str]:
    """Applies what a peer forwards about this state's workers (the copies MirrorMaker 2 makes here of its
    `mrc.federation.grievances.<own code>.v1`); raises RefusedForward for a record never to be applied."""

    def handle(event: Event, source_state_code: str) -> str:
        message = decoder.decode(event)
        if isinstance(message, federation_pb2.TraceForwarded):
            if message.to_state_code != own_state_code:
                return "not_addressed_here"
            if traces is None:
                return "trace_not_kept"
            kept = traces.apply(forwarded_trace_from(message, source_state_code), event.id)
            return "applied" if kept else "unchanged"
        if not isinstance(message, federation_pb2.GrievanceForwarded):
            raise RefusedForward(f"{event.type} is not read from the federation's grievances topics")
        if message.to_state_code != own_state_code:
            return "not_addressed_here"
        return "applied" if cases.apply(forwarded_case_from(message, source_state_code), event.id) else "unchanged"

    return handle
