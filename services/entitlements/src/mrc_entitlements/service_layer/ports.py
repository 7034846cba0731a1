from __future__ import annotations

from typing import Protocol

from mrc_entitlements.domain.eligibility import Eligibility


class EligibilityRepository(Protocol):
    def record_once(self, eligibility: Eligibility, *, event_id: str) -> bool:
        """Store the record with its events unless event `event_id` was applied before; True if stored now."""
        ...

    def get(self, worker_id: str) -> Eligibility | None: ...


class EventNotifier(Protocol):
    def notify(self) -> None: ...
