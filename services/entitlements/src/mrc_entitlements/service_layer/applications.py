"""Use cases on applications: create one for a worker and a scheme, read it, move it, record deliveries.

An application is reachable exactly as the worker's eligibility is (the worker's places and the grants
of its consents, for the purpose `entitlement_linkage`); anything else answers "no such application".
Every write carries its audit event and its domain events in the same write. Creation and deliveries
are idempotent: a create retried with the same Idempotency-Key returns the first application (the id is
a keyed HMAC of the key, so nobody can compute another partner's ids), and a delivery is recorded once
per external reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from mrc_entitlements.domain.access import APPLICATION
from mrc_entitlements.domain.applications import Actor, Application, ApplicationStatus, Delivery, DeliveryKind
from mrc_entitlements.service_layer.access import RecordAccess, require_place_in_geography, with_purpose
from mrc_entitlements.service_layer.ports import (
    ApplicationRepository,
    AuditRecorder,
    SchemeRepository,
    WorkerRecordRepository,
)
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import InvalidArgument, NotFound
from mrc_kernel.idempotency import IdDeriver, request_fingerprint, scoped_key
from mrc_kernel.roles import Scope

FIELDS = ("worker_id", "scheme_code", "status", "history", "deliveries")


@dataclass(frozen=True)
class NewApplication:
    worker_id: str
    scheme_code: str
    state_code: str = ""  # default: where the worker is now (the destination of an ongoing migration, else home)
    district_code: str = ""
    reason: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class NewDelivery:
    external_reference: str
    kind: DeliveryKind
    delivered_on: date
    amount_paise: int = 0
    quantity: str = ""
    state_code: str = ""
    district_code: str = ""


def _no_application() -> NotFound:
    return NotFound("no such application")


class ApplicationService:
    def __init__(
        self,
        applications: ApplicationRepository,
        records: WorkerRecordRepository,
        schemes: SchemeRepository,
        audit: AuditRecorder,
        ids: IdDeriver,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._applications = applications
        self._records = records
        self._schemes = schemes
        self._audit = audit
        self._ids = ids
        self._access = RecordAccess(records, audit)
        self._clock = clock
        self._new_id = new_id

    @staticmethod
    def _writer(caller: Caller) -> Caller:
        caller.require(Scope.ELIGIBILITY_READ)
        caller.require(Scope.ELIGIBILITY_WRITE)
        return with_purpose(caller)

    def create(self, command: NewApplication, caller: Caller) -> tuple[Application, bool]:
        """The new application (or, for a retried Idempotency-Key, the first one) and whether it was created now."""
        caller = self._writer(caller)
        record = self._access.load(command.worker_id, caller, kind=APPLICATION)
        if self._schemes.get(command.scheme_code) is None:
            raise InvalidArgument.for_field("scheme_code", "is not a scheme of the catalogue")
        state_code, district_code = command.state_code, command.district_code
        if not state_code:
            state_code, district_code = record.current_place
        require_place_in_geography(caller, state_code, district_code)
        key = command.idempotency_key or self._new_id()
        scoped = scoped_key(caller.partner_id, key)
        application = Application.identify(
            application_id=self._ids.derive("application", scoped),
            worker_id=command.worker_id,
            scheme_code=command.scheme_code,
            state_code=state_code,
            district_code=district_code,
            by=Actor(caller.partner_id, caller.client_id),
            now=self._clock(),
            reason=command.reason,
            eligibility_outcome=record.eligibility.outcome(command.scheme_code),
        )
        fingerprint = request_fingerprint(
            {
                "worker_id": command.worker_id,
                "scheme_code": command.scheme_code,
                "state_code": command.state_code,
                "district_code": command.district_code,
                "reason": command.reason,
            }
        )
        audit = self._audit.event(
            caller, Action.CREATE, APPLICATION, application.application_id, FIELDS, state_code=state_code
        )
        return self._applications.add(
            application, idempotency_key=scoped, fingerprint=fingerprint, also_publish=[audit]
        )

    def _load(self, application_id: str, caller: Caller) -> Application:
        application = self._applications.get(application_id)
        if application is None:
            raise _no_application()
        self._access.load(
            application.worker_id, caller, kind=APPLICATION, resource_id=application_id, not_found=_no_application
        )
        return application

    def get(self, application_id: str, caller: Caller) -> Application:
        caller.require(Scope.ELIGIBILITY_READ)
        caller = with_purpose(caller)
        application = self._load(application_id, caller)
        self._audit.record(caller, Action.READ, APPLICATION, application_id, FIELDS, state_code=application.state_code)
        return application

    def transition(
        self,
        application_id: str,
        to_status: ApplicationStatus,
        caller: Caller,
        *,
        reason: str = "",
        expected_version: int = 0,
    ) -> tuple[Application, bool]:
        """Move the application; (application, replayed). A retry of the transition just made is answered as it was."""
        caller = self._writer(caller)
        application = self._load(application_id, caller)
        by = Actor(caller.partner_id, caller.client_id)
        last = application.history[-1]
        if last.to_status is to_status and last.by == by and last.reason == " ".join(reason.split()):
            return application, True
        record = self._records.get(application.worker_id)
        outcome = record.eligibility.outcome(application.scheme_code) if record is not None else None
        started_from = application.version
        application.transition(
            to_status,
            by=by,
            now=self._clock(),
            reason=reason,
            eligibility_outcome=outcome,
            expected_version=expected_version,
        )
        audit = self._audit.event(
            caller, Action.UPDATE, APPLICATION, application_id, ("status", "history"), state_code=application.state_code
        )
        self._applications.save(application, started_from=started_from, also_publish=[audit])
        return application, False

    def record_delivery(self, application_id: str, command: NewDelivery, caller: Caller) -> tuple[Application, bool]:
        """Record a benefit that reached the worker; (application, replayed) — replayed when the external
        reference was already recorded with the same facts."""
        caller = self._writer(caller)
        application = self._load(application_id, caller)
        state_code = command.state_code or application.state_code
        district_code = command.district_code if command.state_code else application.district_code
        delivery = Delivery(
            external_reference=command.external_reference,
            kind=command.kind,
            delivered_on=command.delivered_on,
            amount_paise=command.amount_paise,
            quantity=command.quantity,
            state_code=state_code,
            district_code=district_code,
            recorded_by=Actor(caller.partner_id, caller.client_id),
            recorded_at=self._clock(),
        )
        started_from = application.version
        if not application.record_delivery(delivery):
            return application, True
        audit = self._audit.event(
            caller,
            Action.UPDATE,
            APPLICATION,
            application_id,
            ("deliveries", "status"),
            state_code=application.state_code,
        )
        self._applications.save(application, started_from=started_from, also_publish=[audit])
        return application, False
