from datetime import UTC, datetime

import pytest

from mrc_entitlements.domain.eligibility import Eligibility, EligibilityRecorded, EligibilityStatus
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_plumbing.errors import NotFound


class FakeEligibilityRepository:
    def __init__(self) -> None:
        self.records: dict[str, Eligibility] = {}
        self.applied: set[str] = set()
        self.outbox: list[EligibilityRecorded] = []

    def record_once(self, eligibility: Eligibility, *, event_id: str) -> bool:
        if event_id in self.applied:
            return False
        self.applied.add(event_id)
        self.records.setdefault(eligibility.worker_id, eligibility)
        self.outbox.extend(eligibility.pending_events)
        eligibility.pending_events.clear()
        return True

    def get(self, worker_id: str) -> Eligibility | None:
        return self.records.get(worker_id)


class Notifier:
    count = 0

    def notify(self) -> None:
        self.count += 1


def test_a_registered_worker_gets_a_pending_record_once() -> None:
    repo, notifier = FakeEligibilityRepository(), Notifier()
    service = EligibilityService(repo, notifier, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    assert service.worker_registered("w-1", event_id="e-1") is True
    assert service.worker_registered("w-1", event_id="e-1") is False  # redelivered
    record = service.get("w-1")
    assert record.status is EligibilityStatus.PENDING_ASSESSMENT
    assert record.source_event_id == "e-1"
    assert len(repo.outbox) == 1
    assert notifier.count == 1


def test_unknown_worker_is_not_found() -> None:
    with pytest.raises(NotFound):
        EligibilityService(FakeEligibilityRepository(), Notifier()).get("w-x")
