"""In-memory stand-ins for the entitlements ports."""

from __future__ import annotations

from datetime import UTC, datetime

from mrc_entitlements.domain.eligibility import Eligibility, EligibilityRecorded
from mrc_entitlements.service_layer.eligibility import EligibilityLookup, EligibilityService
from mrc_entitlements.service_layer.ports import EligibilityRepository, EventNotifier, ReadAudit
from tests.support.auth import RecordingAudit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeEligibilityRepository:
    def __init__(self) -> None:
        self.records: dict[str, Eligibility] = {}
        self.applied: set[str] = set()
        self.outbox: list[EligibilityRecorded] = []
        self.lookups = 0

    def record_once(self, eligibility: Eligibility, *, event_id: str) -> bool:
        if event_id in self.applied:
            return False
        self.applied.add(event_id)
        self.records.setdefault(eligibility.worker_id, eligibility)
        self.outbox.extend(eligibility.pending_events)
        eligibility.pending_events.clear()
        return True

    def get(self, worker_id: str) -> Eligibility | None:
        self.lookups += 1
        return self.records.get(worker_id)


class Notifier:
    count = 0

    def notify(self) -> None:
        self.count += 1


def make_services() -> tuple[EligibilityService, EligibilityLookup, FakeEligibilityRepository, RecordingAudit]:
    """The consumer's use case and the API's, over one store."""
    repository, audit = FakeEligibilityRepository(), RecordingAudit(service="entitlements")
    port: EligibilityRepository = repository
    notifier: EventNotifier = Notifier()
    trail: ReadAudit = audit
    return EligibilityService(port, notifier, clock=lambda: NOW), EligibilityLookup(port, trail), repository, audit
