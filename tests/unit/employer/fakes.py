"""In-memory stand-ins for the employer ports, callers, and a valid command to vary."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime

from mrc.audit.v1 import audit_pb2
from mrc_employer.domain.employer import DomainEvent, Employer, EmployerKind, Place
from mrc_employer.service_layer.ports import AuditEvents, EmployerRepository, EventNotifier
from mrc_employer.service_layer.registration import EmployerRegistrationService, RegisterEmployer
from mrc_kernel.errors import AlreadyExists, IdempotencyKeyReused
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from tests.support.auth import RecordingAudit, caller_for

NOW = datetime(2025, 3, 14, 9, 30, 0, 123000, tzinfo=UTC)
# Bihar / Araria / Araria sub-district: a valid LGD triple.
ARARIA = Place(state_code="10", district_code="188", subdistrict_code="1116", village_name="Kusiyargaon")

OPERATOR = caller_for(Role.OPERATOR, partner_id="partner-a")
CASEWORKER = caller_for(Role.CASEWORKER, partner_id="cso-b")
# A client of an employer partner, acting for the employer `brick-co` (named in its tokens).
BRICK_CO = caller_for(Role.EMPLOYER, partner_id="partner-brick-co", employer_id="brick-co")
IN_MAHARASHTRA = caller_for(Role.CASEWORKER, partner_id="cso-c", states={"27"})


class FakeEmployerRepository:
    def __init__(self) -> None:
        self.employers: dict[str, Employer] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # idempotency key -> (fingerprint, employer id)
        self.events: list[DomainEvent] = []  # what would have gone into the outbox
        self.envelopes: list[Event] = []  # the extra envelopes (audit) stored with the writes
        self.lookups = 0

    def add(
        self,
        employer: Employer,
        *,
        idempotency_key: str,
        fingerprint: str,
        extra_events: Sequence[Event] = (),
    ) -> tuple[Employer, bool]:
        if idempotency_key in self.keys:
            first_fingerprint, employer_id = self.keys[idempotency_key]
            if first_fingerprint != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
            employer.pending_events.clear()
            return self.employers[employer_id], False
        if employer.employer_id in self.employers:
            raise AlreadyExists(f"employer {employer.employer_id!r} is already registered")
        self.events.extend(employer.pending_events)
        self.envelopes.extend(extra_events)
        employer.pending_events.clear()
        self.employers[employer.employer_id] = employer
        self.keys[idempotency_key] = (fingerprint, employer.employer_id)
        return employer, True

    def get(self, employer_id: str) -> Employer | None:
        self.lookups += 1
        return self.employers.get(employer_id)

    def audit_messages(self) -> list[audit_pb2.DataAccessed]:
        decoder = EventDecoder()
        messages = [decoder.decode(e) for e in self.envelopes]
        assert all(isinstance(m, audit_pb2.DataAccessed) for m in messages)
        return messages  # type: ignore[return-value]


class CountingNotifier:
    def __init__(self) -> None:
        self.calls = 0

    def notify(self, document_id: object = None) -> None:
        self.calls += 1


def make_service() -> tuple[EmployerRegistrationService, FakeEmployerRepository, CountingNotifier, RecordingAudit]:
    repository = FakeEmployerRepository()
    notifier = CountingNotifier()
    audit = RecordingAudit(service="employer")
    ids = itertools.count(1)
    port: EmployerRepository = repository
    relay: EventNotifier = notifier
    trail: AuditEvents = audit
    service = EmployerRegistrationService(port, relay, trail, clock=lambda: NOW, new_id=lambda: f"id-{next(ids)}")
    return service, repository, notifier, audit


def command(**overrides: object) -> RegisterEmployer:
    values: dict[str, object] = {
        "legal_name": "Shree Ganesh Bricks Pvt Ltd",
        "kind": EmployerKind.PRINCIPAL_EMPLOYER,
        "sector": "brick_kiln",
        "location": ARARIA,
        "registration_number": "10AABCS1429B1Z5",
        "idempotency_key": "key-1",
    }
    values.update(overrides)
    return RegisterEmployer(**values)  # type: ignore[arg-type]
