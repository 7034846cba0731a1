"""Use cases: react to a registered worker (the consumer), read a worker's eligibility (the API).

Reading is on behalf of an authenticated caller and audited; recording is the consumer's own work on
events, on nobody's behalf, so it needs no caller and no audit trail.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

from mrc_entitlements.domain.eligibility import Eligibility
from mrc_entitlements.service_layer.ports import EligibilityRepository, EventNotifier, ReadAudit
from mrc_plumbing.audit import Action
from mrc_plumbing.auth.caller import Caller, check_purpose
from mrc_plumbing.auth.roles import Scope
from mrc_plumbing.clock import utc_now
from mrc_plumbing.errors import NotFound

log = logging.getLogger(__name__)

RESOURCE_TYPE = "eligibility"
DEFAULT_PURPOSE = "entitlement_linkage"
# The personal fields a read returns (names for the audit trail, never values).
READ_FIELDS = ("status", "eligible_scheme_codes", "recorded_at")


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


class EligibilityLookup:
    def __init__(self, records: EligibilityRepository, audit: ReadAudit) -> None:
        self._records = records
        self._audit = audit

    def get(self, worker_id: str, caller: Caller) -> Eligibility:
        caller.require(Scope.ELIGIBILITY_READ)
        caller = dataclasses.replace(caller, purpose=check_purpose(caller.purpose, DEFAULT_PURPOSE))
        eligibility = self._records.get(worker_id)
        if eligibility is None:
            self._record_denied(caller, worker_id)
            raise NotFound(f"no eligibility record for worker {worker_id!r}")
        # Fails closed: if the read cannot be recorded, it is not served.
        self._audit.record(caller, Action.READ, RESOURCE_TYPE, worker_id, fields=READ_FIELDS)
        return eligibility

    def _record_denied(self, caller: Caller, worker_id: str) -> None:
        # Best effort: the answer is 404 either way.
        try:
            self._audit.record(caller, Action.READ, RESOURCE_TYPE, worker_id, allowed=False)
        except Exception:
            log.warning("denied eligibility read could not be recorded")
