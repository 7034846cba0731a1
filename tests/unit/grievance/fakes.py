"""In-memory stand-ins for the grievance ports, callers, and a valid command to vary."""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from mrc.audit.v1 import audit_pb2
from mrc_grievance.domain.grievance import DomainEvent, Grievance, GrievanceCategory, IntakeChannel, Place
from mrc_grievance.service_layer.filing import FileGrievance, FilingService
from mrc_grievance.service_layer.ports import Audit, EventNotifier, GrievanceRepository, WorkerGrievances
from mrc_grievance.service_layer.worker_events import WorkerEventsService
from mrc_kernel.errors import IdempotencyKeyReused
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.crypto import FieldCipher, InMemoryDataKeyStore, KeyRing, MasterKeys
from mrc_plumbing.events import EventDecoder
from tests.support.auth import RecordingAudit, caller_for

NOW = datetime(2025, 3, 14, 9, 30, 0, 123000, tzinfo=UTC)
# Bihar / Araria / Araria sub-district: a valid LGD triple.
ARARIA = Place(state_code="10", district_code="188", subdistrict_code="1116", village_name="Kusiyargaon")

HELPLINE = caller_for(Role.HELPLINE_AGENT, partner_id="partner-a")
CASEWORKER = caller_for(Role.CASEWORKER, partner_id="partner-a")
# Caseworkers limited to Bihar, to Araria district, and to Maharashtra (state 27).
IN_BIHAR = caller_for(Role.CASEWORKER, partner_id="partner-b", states={"10"})
IN_ARARIA = caller_for(Role.CASEWORKER, partner_id="partner-b", states={"10"}, districts={"188"})
IN_MAHARASHTRA = caller_for(Role.CASEWORKER, partner_id="partner-c", states={"27"})


class FakeGrievanceRepository:
    def __init__(self) -> None:
        self.grievances: dict[str, Grievance] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # idempotency key -> (fingerprint, grievance id)
        self.events: list[DomainEvent] = []  # what would have gone into the outbox
        self.envelopes: list[Event] = []  # the extra envelopes (audit) stored with the writes
        self.erased: dict[str, datetime] = {}  # tombstones: worker id -> when
        self.lookups = 0
        # Runs just before grievances are re-keyed: another consumer's work landing in between (a race).
        self.before_rekey: Callable[[], None] | None = None
        self.fail_on_anonymise = False  # a crash between two writes

    def add(
        self,
        grievance: Grievance,
        *,
        idempotency_key: str,
        fingerprint: str,
        extra_events: Sequence[Event] = (),
    ) -> tuple[Grievance, bool]:
        if idempotency_key in self.keys:
            first_fingerprint, grievance_id = self.keys[idempotency_key]
            if first_fingerprint != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
            grievance.pending_events.clear()
            return self.grievances[grievance_id], False
        self.events.extend(grievance.pending_events)
        self.envelopes.extend(extra_events)
        grievance.pending_events.clear()
        self.grievances[grievance.grievance_id] = grievance
        self.keys[idempotency_key] = (fingerprint, grievance.grievance_id)
        return grievance, True

    def get(self, grievance_id: str) -> Grievance | None:
        self.lookups += 1
        return self.grievances.get(grievance_id)

    def anonymise_worker(self, worker_id: str, summary: str) -> int:
        if self.fail_on_anonymise:
            raise ConnectionError("store went away")
        about = [g for g in self.grievances.values() if worker_id and g.worker_id == worker_id]
        for g in about:
            self.grievances[g.grievance_id] = dataclasses.replace(g, worker_id="", summary=summary)
        return len(about)

    def rekey_worker(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        if self.before_rekey is not None:
            run, self.before_rekey = self.before_rekey, None
            run()
        about = [g for g in self.grievances.values() if merged_worker_id and g.worker_id == merged_worker_id]
        for g in about:
            self.grievances[g.grievance_id] = dataclasses.replace(g, worker_id=surviving_worker_id)
        return len(about)

    def remember_erased(self, worker_id: str, *, at: datetime) -> bool:
        if worker_id in self.erased:
            return False
        self.erased[worker_id] = at
        return True

    def is_erased(self, worker_id: str) -> bool:
        return worker_id in self.erased

    def audit_messages(self) -> list[audit_pb2.DataAccessed]:
        decoder = EventDecoder()
        messages = [decoder.decode(e) for e in self.envelopes]
        assert all(isinstance(m, audit_pb2.DataAccessed) for m in messages)
        return messages  # type: ignore[return-value]


class FakeCipher:
    """A stand-in for the field cipher: reversible, visibly not plaintext, bound to its field like the real one."""

    def __init__(self) -> None:
        self.encrypted: list[tuple[str, str]] = []  # (state code, field) of every call

    def encrypt(self, state_code: str, field: str, plaintext: str) -> str:
        self.encrypted.append((state_code, field))
        return f"fake:{state_code}:{field}:{plaintext.encode().hex()}" if plaintext else plaintext

    def decrypt(self, field: str, token: str) -> str:
        if not token:
            return token
        prefix, _state, token_field, payload = token.split(":")
        assert (prefix, token_field) == ("fake", field), "token from another field"
        return bytes.fromhex(payload).decode()


def real_cipher() -> FieldCipher:
    """The platform's own cipher, over an in-memory key store."""
    return FieldCipher(KeyRing(InMemoryDataKeyStore(), MasterKeys({"m1": os.urandom(32)}, "m1")))


class CountingNotifier:
    def __init__(self) -> None:
        self.calls = 0

    def notify(self, document_id: object = None) -> None:
        self.calls += 1


def make_service() -> tuple[FilingService, FakeGrievanceRepository, CountingNotifier, RecordingAudit]:
    repository = FakeGrievanceRepository()
    notifier = CountingNotifier()
    audit = RecordingAudit(service="grievance")
    ids = itertools.count(1)
    # Typed as the ports so a fake that drifts from the Protocol shows up in review and in mypy.
    port: GrievanceRepository = repository
    relay: EventNotifier = notifier
    trail: Audit = audit
    service = FilingService(port, relay, trail, clock=lambda: NOW, new_id=lambda: f"id-{next(ids)}")
    return service, repository, notifier, audit


def make_worker_events(repository: FakeGrievanceRepository) -> WorkerEventsService:
    """The consumer's use case over the same store as the filing service."""
    port: WorkerGrievances = repository
    return WorkerEventsService(port, clock=lambda: NOW)


def command(**overrides: object) -> FileGrievance:
    values: dict[str, object] = {
        "worker_id": "worker-1",
        "category": GrievanceCategory.WAGE_THEFT,
        "channel": IntakeChannel.HELPLINE,
        "summary": "Contractor has not paid wages for six weeks.",
        "location": ARARIA,
        "employer_id": "employer-7",
        "anonymous": False,
        "idempotency_key": "key-1",
    }
    values.update(overrides)
    return FileGrievance(**values)  # type: ignore[arg-type]
