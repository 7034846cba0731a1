"""Use cases: register an employer, look one up; both on behalf of an authenticated caller.

Employer records describe organisations, not people: writes are audited, reads are not. A client of
an employer partner (role `employer`) acts for one employer, named in its token: it registers that
employer's record (under that id, so only once) and reads only that record.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from mrc_employer.domain.employer import Employer, EmployerKind, Place
from mrc_employer.service_layer.ports import AuditEvents, EmployerRepository, EventNotifier
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import NotFound, PermissionDenied
from mrc_kernel.idempotency import request_fingerprint, scoped_key
from mrc_kernel.roles import Role, Scope

RESOURCE_TYPE = "employer"
DEFAULT_PURPOSE = "compliance"


@dataclass(frozen=True)
class RegisterEmployer:
    legal_name: str
    kind: EmployerKind | None
    sector: str
    location: Place
    registration_number: str
    idempotency_key: str = ""


@dataclass(frozen=True)
class EmployerRegistration:
    employer: Employer
    created: bool


def written_fields(employer: Employer) -> list[str]:
    fields = ["legal_name", "kind", "sector", "location"]
    if employer.registration_number:
        fields.append("registration_number")
    return fields


def _authorize(caller: Caller, scope: Scope) -> Caller:
    """Scope and purpose, checked before anything is looked up; returns the caller with its purpose settled."""
    caller.require(scope)
    return dataclasses.replace(caller, purpose=check_purpose(caller.purpose, DEFAULT_PURPOSE))


def _acts_for_an_employer(caller: Caller) -> bool:
    return Role.EMPLOYER in caller.roles


class EmployerRegistrationService:
    def __init__(
        self,
        employers: EmployerRepository,
        notifier: EventNotifier,
        audit: AuditEvents,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._employers = employers
        self._notifier = notifier
        self._audit = audit
        self._clock = clock
        self._new_id = new_id

    def register(self, command: RegisterEmployer, caller: Caller) -> EmployerRegistration:
        caller = _authorize(caller, Scope.EMPLOYERS_WRITE)
        if _acts_for_an_employer(caller):
            if not caller.employer_id:
                raise PermissionDenied("this client does not act for an employer")
            # Its own record, under the id its tokens carry: a second one cannot be made.
            employer_id = caller.employer_id
        else:
            employer_id = self._new_id()
        employer = Employer.register(
            employer_id=employer_id,
            legal_name=command.legal_name,
            kind=command.kind,
            sector=command.sector,
            location=command.location,
            registration_number=command.registration_number,
            now=self._clock(),
        )
        # Without a client key every call is a new request; with one, a retry returns the first result.
        key = command.idempotency_key or self._new_id()
        payload = asdict(command)
        payload.pop("idempotency_key")
        audit_event = self._audit.event(
            caller, Action.CREATE, RESOURCE_TYPE, employer.employer_id, fields=written_fields(employer)
        )
        stored, created = self._employers.add(
            employer,
            idempotency_key=scoped_key(caller.partner_id, key),
            fingerprint=request_fingerprint(payload),
            extra_events=[audit_event],
        )
        if created:
            self._notifier.notify()
        return EmployerRegistration(stored, created)

    def get(self, employer_id: str, caller: Caller) -> Employer:
        caller = _authorize(caller, Scope.EMPLOYERS_READ)
        employer = self._employers.get(employer_id)
        # Another employer's record, or one outside the caller's geography, is answered like a missing one.
        if employer is None or not self._visible(employer, caller):
            raise NotFound(f"no employer {employer_id!r}")
        return employer

    @staticmethod
    def _visible(employer: Employer, caller: Caller) -> bool:
        if _acts_for_an_employer(caller) and caller.employer_id != employer.employer_id:
            return False
        return caller.covers_place(employer.location.state_code, employer.location.district_code)
