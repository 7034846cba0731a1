"""Use cases: file a grievance, look one up; both on behalf of an authenticated caller."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from mrc_grievance.domain.grievance import Grievance, GrievanceCategory, IntakeChannel, Place
from mrc_grievance.service_layer.ports import Audit, EventNotifier, GrievanceRepository
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import NotFound, PermissionDenied
from mrc_kernel.idempotency import request_fingerprint, scoped_key
from mrc_kernel.roles import Role, Scope

log = logging.getLogger(__name__)

RESOURCE_TYPE = "grievance"
DEFAULT_PURPOSE = "grievance_follow_up"


@dataclass(frozen=True)
class FileGrievance:
    worker_id: str
    category: GrievanceCategory | None
    channel: IntakeChannel | None
    summary: str
    location: Place
    employer_id: str
    anonymous: bool
    idempotency_key: str = ""


@dataclass(frozen=True)
class Filing:
    grievance: Grievance
    created: bool


def case_fields(grievance: Grievance) -> list[str]:
    """The personal and case fields a grievance holds (names for the audit trail, never values)."""
    fields = ["category", "channel", "summary", "location", "status", "anonymous", "filed_at"]
    if grievance.worker_id:
        fields.append("worker_id")
    if grievance.employer_id:
        fields.append("employer_id")
    return fields


def _authorize(caller: Caller, scope: Scope) -> Caller:
    """Scope and purpose, checked before anything is looked up; returns the caller with its purpose settled."""
    # Employers must never see or touch complaints, whatever scopes a token might carry one day.
    if Role.EMPLOYER in caller.roles:
        raise PermissionDenied("employers have no access to grievances")
    caller.require(scope)
    return dataclasses.replace(caller, purpose=check_purpose(caller.purpose, DEFAULT_PURPOSE))


def _covers(caller: Caller, grievance: Grievance) -> bool:
    return caller.covers_place(grievance.location.state_code, grievance.location.district_code)


class FilingService:
    def __init__(
        self,
        grievances: GrievanceRepository,
        notifier: EventNotifier,
        audit: Audit,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._grievances = grievances
        self._notifier = notifier
        self._audit = audit
        self._clock = clock
        self._new_id = new_id

    def file(self, command: FileGrievance, caller: Caller) -> Filing:
        caller = _authorize(caller, Scope.GRIEVANCES_WRITE)
        grievance = Grievance.file(
            grievance_id=self._new_id(),
            worker_id=command.worker_id,
            category=command.category,
            channel=command.channel,
            summary=command.summary,
            location=command.location,
            employer_id=command.employer_id,
            anonymous=command.anonymous,
            filed_by_partner_id=caller.partner_id,
            now=self._clock(),
        )
        # Without a client key every call is a new request; with one, a retry returns the first result.
        key = command.idempotency_key or self._new_id()
        payload = asdict(command)
        payload.pop("idempotency_key")
        audit_event = self._audit.event(
            caller, Action.CREATE, RESOURCE_TYPE, grievance.grievance_id, fields=case_fields(grievance)
        )
        stored, created = self._grievances.add(
            grievance,
            idempotency_key=scoped_key(caller.partner_id, key),
            fingerprint=request_fingerprint(payload),
            extra_events=[audit_event],
        )
        if created:
            self._notifier.notify()
        return Filing(stored, created)

    def get(self, grievance_id: str, caller: Caller) -> Grievance:
        caller = _authorize(caller, Scope.GRIEVANCES_READ)
        grievance = self._grievances.get(grievance_id)
        if grievance is None or not _covers(caller, grievance):
            # Outside the caller's geography is answered exactly like a missing grievance, and both are
            # recorded as denied (so neither the answer nor its timing tells them apart).
            self._record_denied(caller, grievance_id)
            raise NotFound(f"no grievance {grievance_id!r}")
        # Fails closed: if the read cannot be recorded, it is not served.
        self._audit.record(caller, Action.READ, RESOURCE_TYPE, grievance_id, fields=case_fields(grievance))
        return grievance

    def _record_denied(self, caller: Caller, grievance_id: str) -> None:
        try:
            self._audit.record(caller, Action.READ, RESOURCE_TYPE, grievance_id, allowed=False)
        except Exception:
            log.warning("denied grievance read could not be recorded", extra={"grievance_id": grievance_id})
