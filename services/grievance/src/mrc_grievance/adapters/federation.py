"""Cross-state federation of grievances: a case filed here about a worker whose record here is a copy of another
state's record goes to that state (the family, the registering partner are there), and the cases other states
forward about this state's workers are kept here, read-only.

Sending (`CaseForwarder`): the grievance worker keeps which workers are copies, from which state, and whether
the sharing consent allows grievance follow-up (`StoredFederatedWorkers`, from the registry's facts; a copy's
`WorkerErased` removes it). Every write of such a case that raised events stores `GrievanceForwarded` for
`mrc.federation.grievances.<home state>.v1` in the same write (the outbox): its category, severity, status,
escalation level, LGD place, filing partner and version, and the complainant's account as a federation token
(field `grievance.account/<grievance_id>`). Nothing is forwarded once the copy is gone or the consent no
longer allows grievance follow-up.

Receiving (`StoredForwardedCases`): what the peers forward, applied once per event id, a newer version
replacing an older one; listed by worker for this state's partners who reach the worker.
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
from mrc_grievance.domain.parties import RegisteredWorker
from mrc_grievance.domain.vocabulary import CaseStatus, Category, Severity
from mrc_grievance.service_layer.federation import ForwardedCase
from mrc_grievance.service_layer.protection import SUMMARY
from mrc_grievance.settings import EVENT_SOURCE
from mrc_kernel.clock import utc_now
from mrc_kernel.events import Event
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.protobuf import datetime_from, timestamp
from mrc_plumbing.store import APPLIED_EVENTS_FIELD, DocumentStore, DuplicateDocument

log = logging.getLogger(__name__)

GRIEVANCES = "grievances"
FEDERATED_WORKERS = "federated_workers"
FORWARDED_CASES = "forwarded_cases"
WORKER_KEY_FIELD = "worker_keys"
MAX_APPLIED = 50
_STATE_CODE = re.compile(r"^[0-9]{1,3}$")


def account_field(grievance_id: str) -> str:
    return f"grievance.account/{grievance_id}"


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
        if not isinstance(case.subject, RegisteredWorker):
            return ""
        found = self._workers.home_of(case.subject.worker_id)
        if found is None:
            return ""
        home, follow_up = found
        return home if follow_up and home in self._peers and home != self._own else ""

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
    occurred = doc.get("occurred_at")
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
        occurred_at=occurred.replace(tzinfo=occurred.tzinfo or UTC) if occurred else None,
    )


class StoredForwardedCases:
    """The cases other states forward about this state's workers: read-only copies, newest version kept."""

    def __init__(self, store: DocumentStore) -> None:
        self._cases = store.collection(FORWARDED_CASES)
        self._workers = store.key_index(FORWARDED_CASES, WORKER_KEY_FIELD)

    def apply(self, case: ForwardedCase, event_id: str) -> bool:
        """Keep the case unless this event was applied or a newer version is held; True if kept now."""
        doc = self._cases.get(case.grievance_id)
        if doc is None:
            self._workers.added(case.grievance_id, [case.worker_id] if case.worker_id else [])
            try:
                self._cases.insert({"_id": case.grievance_id, **_doc(case), APPLIED_EVENTS_FIELD: [event_id]})
                return True
            except DuplicateDocument:
                doc = self._cases.get(case.grievance_id)
                if doc is None:
                    return False
        applied = list(doc.get(APPLIED_EVENTS_FIELD) or [])
        if event_id in applied or int(doc.get("version", 0)) >= case.version:
            return False
        if doc.get("handling_state_code") != case.handling_state_code:
            return False
        return self._cases.update(
            case.grievance_id,
            {"$set": {**_doc(case), APPLIED_EVENTS_FIELD: [*applied, event_id][-MAX_APPLIED:]}},
            where={"version": doc.get("version", 0)},
        )

    def about_worker(self, worker_id: str) -> list[ForwardedCase]:
        if not worker_id:
            return []
        ids = self._workers.listing(worker_id).ids
        found = [_case(d) for d in self._cases.get_many(ids) if d.get("worker_id") == worker_id]
        return sorted(found, key=lambda c: c.grievance_id)

    def forget_worker(self, worker_id: str) -> int:
        """Erasure of the worker here: the cases forwarded about them go."""
        gone = 0
        for case in self.about_worker(worker_id):
            self._cases.delete(case.grievance_id)
            self._workers.removed(case.grievance_id, [worker_id])
            gone += 1
        return gone


def open_account(cipher: FederationCipher) -> Callable[[str, str], str]:
    def opened(grievance_id: str, token: str) -> str:
        return cipher.open(account_field(grievance_id), token) if token else ""

    return opened


def summary_opener(open_field: Callable[[str, str], str]) -> Callable[[str], str]:
    return lambda token: open_field(SUMMARY, token)


def forwarded_handler(
    cases: StoredForwardedCases, own_state_code: str, decoder: EventDecoder
) -> Callable[[Event, str], str]:
    """Applies what a peer forwards about this state's workers (the copies MirrorMaker 2 makes here of its
    `mrc.federation.grievances.<own code>.v1`); raises RefusedForward for a record never to be applied."""

    def handle(event: Event, source_state_code: str) -> str:
        message = decoder.decode(event)
        if isinstance(message, federation_pb2.TraceForwarded):
            return "trace_not_kept"  # traces do not cross yet (see the README's federation section)
        if not isinstance(message, federation_pb2.GrievanceForwarded):
            raise RefusedForward(f"{event.type} is not read from the federation's grievances topics")
        if message.to_state_code != own_state_code:
            return "not_addressed_here"
        return "applied" if cases.apply(forwarded_case_from(message, source_state_code), event.id) else "unchanged"

    return handle
