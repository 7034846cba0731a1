"""In-memory stand-ins for the employer ports, and a valid command to vary."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from mrc_employer.domain.employer import DomainEvent, Employer, EmployerKind, Place
from mrc_employer.service_layer.ports import EmployerRepository, EventNotifier
from mrc_employer.service_layer.registration import EmployerRegistrationService, RegisterEmployer
from mrc_plumbing.errors import IdempotencyKeyReused

NOW = datetime(2025, 3, 14, 9, 30, 0, 123000, tzinfo=UTC)
# Bihar / Araria / Araria sub-district: a valid LGD triple.
ARARIA = Place(state_code="10", district_code="188", subdistrict_code="1116", village_name="Kusiyargaon")


class FakeEmployerRepository:
    def __init__(self) -> None:
        self.employers: dict[str, Employer] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # idempotency key -> (fingerprint, employer id)
        self.events: list[DomainEvent] = []  # what would have gone into the outbox

    def add(self, employer: Employer, *, idempotency_key: str, fingerprint: str) -> tuple[Employer, bool]:
        if idempotency_key in self.keys:
            first_fingerprint, employer_id = self.keys[idempotency_key]
            if first_fingerprint != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
            employer.pending_events.clear()
            return self.employers[employer_id], False
        self.events.extend(employer.pending_events)
        employer.pending_events.clear()
        self.employers[employer.employer_id] = employer
        self.keys[idempotency_key] = (fingerprint, employer.employer_id)
        return employer, True

    def get(self, employer_id: str) -> Employer | None:
        return self.employers.get(employer_id)


class CountingNotifier:
    def __init__(self) -> None:
        self.calls = 0

    def notify(self) -> None:
        self.calls += 1


def make_service() -> tuple[EmployerRegistrationService, FakeEmployerRepository, CountingNotifier]:
    repository = FakeEmployerRepository()
    notifier = CountingNotifier()
    ids = itertools.count(1)
    port: EmployerRepository = repository
    relay: EventNotifier = notifier
    service = EmployerRegistrationService(port, relay, clock=lambda: NOW, new_id=lambda: f"id-{next(ids)}")
    return service, repository, notifier


def command(**overrides: object) -> RegisterEmployer:
    values: dict[str, object] = {
        "legal_name": "Shree Ganesh Bricks Pvt Ltd",
        "kind": EmployerKind.PRINCIPAL_EMPLOYER,
        "sector": "brick_kiln",
        "location": ARARIA,
        "registration_number": "10AABCS1429B1Z5",
        "partner_id": "partner-a",
        "idempotency_key": "key-1",
    }
    values.update(overrides)
    return RegisterEmployer(**values)  # type: ignore[arg-type]
