"""In-memory stand-ins for the entitlements ports."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from mrc_entitlements.domain.eligibility import Eligibility, EligibilityRecorded
from mrc_entitlements.service_layer.eligibility import EligibilityLookup, EligibilityService
from mrc_entitlements.service_layer.ports import EligibilityRepository, ReadAudit
from tests.support.auth import RecordingAudit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeEligibilityRepository:
    """Behaves like the Mongo adapter: records are copied in and out, event ids live in each record."""

    def __init__(self) -> None:
        self.records: dict[str, Eligibility] = {}
        self.applied: dict[str, set[str]] = {}  # worker id -> event ids applied to its record
        self.outbox: list[EligibilityRecorded] = []
        self.erasure_counts: Counter[tuple[str, str]] = Counter()
        self.counted_erasures: set[str] = set()
        self.erased: dict[str, tuple[datetime, str]] = {}  # tombstones: worker id -> (when, event id)
        self.lookups = 0
        self.fail_on_delete = False  # a crash between two writes
        # Runs just before a record is stored: another consumer's work landing in between (a race).
        self.before_record: Callable[[], None] | None = None

    def record_once(self, eligibility: Eligibility, *, event_id: str) -> bool:
        if self.before_record is not None:
            run, self.before_record = self.before_record, None
            run()
        events = list(eligibility.pending_events)
        eligibility.pending_events.clear()
        if eligibility.worker_id in self.records:
            return False
        self.records[eligibility.worker_id] = copy.copy(eligibility)
        self.applied[eligibility.worker_id] = {event_id}
        self.outbox.extend(events)
        return True

    def save(self, eligibility: Eligibility, *, event_id: str) -> bool:
        events = list(eligibility.pending_events)
        eligibility.pending_events.clear()
        applied = self.applied.get(eligibility.worker_id)
        if applied is None or event_id in applied:
            return False
        applied.add(event_id)
        self.records[eligibility.worker_id] = copy.copy(eligibility)
        self.outbox.extend(events)
        return True

    def delete(self, worker_id: str) -> bool:
        if self.fail_on_delete:
            raise ConnectionError("store went away")
        self.applied.pop(worker_id, None)
        return self.records.pop(worker_id, None) is not None

    def count_erasure(self, state_code: str, district_code: str, *, event_id: str) -> bool:
        if event_id in self.counted_erasures:
            return False
        self.counted_erasures.add(event_id)
        self.erasure_counts[(state_code or "unknown", district_code or "unknown")] += 1
        return True

    def get(self, worker_id: str) -> Eligibility | None:
        self.lookups += 1
        record = self.records.get(worker_id)
        if record is None:
            return None
        found = copy.copy(record)
        found.eligible_scheme_codes = list(record.eligible_scheme_codes)
        found.pending_events = []
        return found

    def remember_erased(self, worker_id: str, *, event_id: str, at: datetime) -> bool:
        if worker_id in self.erased:
            return False
        self.erased[worker_id] = (at, event_id)
        return True

    def is_erased(self, worker_id: str) -> bool:
        return worker_id in self.erased


def make_services() -> tuple[EligibilityService, EligibilityLookup, FakeEligibilityRepository, RecordingAudit]:
    """The consumer's use case and the API's, over one store."""
    repository, audit = FakeEligibilityRepository(), RecordingAudit(service="entitlements")
    port: EligibilityRepository = repository
    trail: ReadAudit = audit
    return EligibilityService(port, clock=lambda: NOW), EligibilityLookup(port, trail), repository, audit
