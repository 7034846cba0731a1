"""Use cases: register an employer, look one up."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from mrc_employer.domain.employer import Employer, EmployerKind, Place
from mrc_employer.service_layer.ports import EmployerRepository, EventNotifier
from mrc_plumbing.clock import utc_now
from mrc_plumbing.errors import NotFound
from mrc_plumbing.idempotency import request_fingerprint, scoped_key


@dataclass(frozen=True)
class RegisterEmployer:
    legal_name: str
    kind: EmployerKind | None
    sector: str
    location: Place
    registration_number: str
    partner_id: str
    idempotency_key: str = ""


@dataclass(frozen=True)
class EmployerRegistration:
    employer: Employer
    created: bool


class EmployerRegistrationService:
    def __init__(
        self,
        employers: EmployerRepository,
        notifier: EventNotifier,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._employers = employers
        self._notifier = notifier
        self._clock = clock
        self._new_id = new_id

    def register(self, command: RegisterEmployer) -> EmployerRegistration:
        employer = Employer.register(
            employer_id=self._new_id(),
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
        stored, created = self._employers.add(
            employer,
            idempotency_key=scoped_key(command.partner_id, key),
            fingerprint=request_fingerprint(payload),
        )
        if created:
            self._notifier.notify()
        return EmployerRegistration(stored, created)

    def get(self, employer_id: str) -> Employer:
        employer = self._employers.get(employer_id)
        if employer is None:
            raise NotFound(f"no employer {employer_id!r}")
        return employer
