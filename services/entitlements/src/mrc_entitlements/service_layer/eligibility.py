"""Use cases: react to a registered worker, read a worker's eligibility."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mrc_entitlements.domain.eligibility import Eligibility
from mrc_entitlements.service_layer.ports import EligibilityRepository, EventNotifier
from mrc_plumbing.clock import utc_now
from mrc_plumbing.errors import NotFound


class EligibilityService:
    def __init__(
        self,
        records: EligibilityRepository,
        notifier: EventNotifier,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._records = records
        self._notifier = notifier
        self._clock = clock

    def worker_registered(self, worker_id: str, *, event_id: str) -> bool:
        """Idempotent: a redelivered event (same id) changes nothing. True if this call recorded it."""
        eligibility = Eligibility.pending_for_new_worker(worker_id, source_event_id=event_id, now=self._clock())
        recorded = self._records.record_once(eligibility, event_id=event_id)
        if recorded:
            self._notifier.notify()
        return recorded

    def get(self, worker_id: str) -> Eligibility:
        eligibility = self._records.get(worker_id)
        if eligibility is None:
            raise NotFound(f"no eligibility record for worker {worker_id!r}")
        return eligibility
