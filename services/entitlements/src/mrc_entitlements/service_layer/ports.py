from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from mrc_entitlements.domain.eligibility import Eligibility
from mrc_plumbing.audit import Action
from mrc_plumbing.auth.caller import Caller


class EligibilityRepository(Protocol):
    def record_once(self, eligibility: Eligibility, *, event_id: str) -> bool:
        """Store the record with its events unless event `event_id` was applied before; True if stored now."""
        ...

    def get(self, worker_id: str) -> Eligibility | None: ...


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
