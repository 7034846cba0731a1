from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from mrc_entitlements.domain.eligibility import Eligibility
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller


class EligibilityRepository(Protocol):
    def record_once(self, eligibility: Eligibility, *, event_id: str) -> bool:
        """Store a new record with its events unless the worker already has one; True if stored now.

        `event_id` is recorded with it, so a later change by the same event is not applied again.
        """
        ...

    def save(self, eligibility: Eligibility, *, event_id: str) -> bool:
        """Store the changed status of an existing record with its events, unless event `event_id` was applied
        to it before (the id is recorded in the same write). Never creates a record. True if applied now."""
        ...

    def delete(self, worker_id: str) -> bool:
        """Remove the record, its applied event ids and unpublished events; True if there was one."""
        ...

    def count_erasure(self, state_code: str, district_code: str, *, event_id: str) -> bool:
        """Add one to the anonymous count of erased workers of the district, unless `event_id` was counted.

        `event_id` names what is counted: the event that made the erased record.
        """
        ...

    def get(self, worker_id: str) -> Eligibility | None: ...

    def remember_erased(self, worker_id: str, *, event_id: str, at: datetime) -> bool:
        """Keep a tombstone for the erased worker (its id and when, nothing personal); True if new now.

        `event_id` is the event that erased it. Idempotent: a tombstone already there is kept as it is.
        """
        ...

    def is_erased(self, worker_id: str) -> bool:
        """Whether the worker has a tombstone."""
        ...


class EventNotifier(Protocol):
    def notify(self) -> None: ...


class ReadAudit(Protocol):
    """The part of the audit trail (`mrc_plumbing.audit.AuditTrail`) used here: records of reads."""

    def record(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
    ) -> None:
        """Publish the audit record of a read now; raises Unavailable when it cannot (fail closed)."""
        ...
