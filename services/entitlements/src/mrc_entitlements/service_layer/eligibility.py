"""Use cases: react to the registry's worker events (the consumer), read a worker's eligibility (the API).

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
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import NotFound
from mrc_kernel.roles import Scope

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

    def worker_registered(
        self,
        worker_id: str,
        *,
        event_id: str,
        linkage_consented: bool,
        state_code: str = "",
        district_code: str = "",
    ) -> bool:
        """Idempotent: a redelivered event (same id) changes nothing. True if this call recorded it.

        Without consent to entitlement linkage the record is only a status, `awaiting_consent`, read as missing.
        An erased worker gets no record, whatever is redelivered.
        """
        if self._erased(worker_id):
            return False
        eligibility = Eligibility.for_new_worker(
            worker_id,
            linkage_consented=linkage_consented,
            source_event_id=event_id,
            now=self._clock(),
            state_code=state_code,
            district_code=district_code,
        )
        return self._store_new(eligibility, event_id)

    def consent_changed(self, worker_id: str, *, event_id: str, linkage_consented: bool) -> bool:
        """Withdraw or restore the record as the worker's consent to entitlement linkage goes; True if it changed.

        A worker never seen (or erased) gets no record. The event id is recorded even when nothing changes,
        so a redelivered older event can never undo a newer one.
        """
        if self._erased(worker_id):
            return False
        eligibility = self._records.get(worker_id)
        if eligibility is None:
            return False
        changed = eligibility.consent_changed(linkage_consented, source_event_id=event_id, now=self._clock())
        has_events = bool(eligibility.pending_events)
        applied = self._records.save(eligibility, event_id=event_id)
        if applied and has_events:
            self._notifier.notify()
        return applied and changed

    def worker_erased(self, worker_id: str, *, event_id: str) -> bool:
        """Delete the record, keeping only an anonymous count per home district; True if there was one.

        The worker is remembered as erased first (a tombstone), so that no event arriving later, redelivered
        or from another partition (a merge into this worker), brings the record back; if the process dies
        before the delete, the redelivered event, or any later one about the worker, finishes it.
        """
        if not worker_id:
            return False
        self._records.remember_erased(worker_id, event_id=event_id, at=self._clock())
        return self._erase_record(worker_id)

    def workers_merged(self, merged_worker_id: str, surviving_worker_id: str, *, event_id: str) -> bool:
        """Move the merged worker's record to the survivor if it has none, else drop it; True if anything moved.

        Nothing ever moves to or from an erased worker: merged into one, the record is erased with it.
        Safe to repeat at any point: a record already moved (or never seen) leaves nothing to do.
        """
        if not merged_worker_id or not surviving_worker_id or merged_worker_id == surviving_worker_id:
            return False
        # The survivor's erasure is keyed by its own id, so it may come before this merge (keyed by the
        # merged id, on another partition).
        if self._records.is_erased(surviving_worker_id):
            self._erase_with_survivor(merged_worker_id, surviving_worker_id, event_id)
            return False
        if self._erased(merged_worker_id):
            return False
        merged = self._records.get(merged_worker_id)
        if merged is None:
            return False
        moved = False
        if self._records.get(surviving_worker_id) is None:
            moved_record = merged.moved_to(surviving_worker_id)
            has_events = bool(moved_record.pending_events)
            moved = self._records.record_once(moved_record, event_id=event_id)
            # The survivor may have been erased meanwhile. Its erasure writes the tombstone before it looks
            # for the record, and this looks for the tombstone after the move, so one of the two always sees
            # the other: the moved record never outlives the erasure. Not announced if it is going.
            if self._records.is_erased(surviving_worker_id):
                self._erase_with_survivor(merged_worker_id, surviving_worker_id, event_id)
                return False
            if moved and has_events:
                self._notifier.notify()
        self._records.delete(merged_worker_id)
        return moved

    def _erased(self, worker_id: str) -> bool:
        """Whether the worker was erased; if so, also deletes what an interrupted erasure left behind."""
        if not self._records.is_erased(worker_id):
            return False
        self._erase_record(worker_id)
        return True

    def _erase_with_survivor(self, merged_worker_id: str, surviving_worker_id: str, event_id: str) -> None:
        """The survivor was erased, so the merged worker's record goes too, counted like any erasure.

        The merged id is remembered first, like an erasure's, so that its own redelivered events restore
        nothing. Anything under the survivor's id can only be a record moved there by a merge racing
        its erasure (or one that erasure has yet to delete): deleted too.
        """
        self._records.remember_erased(merged_worker_id, event_id=event_id, at=self._clock())
        self._erase_record(surviving_worker_id)
        self._erase_record(merged_worker_id)

    def _erase_record(self, worker_id: str) -> bool:
        """Delete the worker's record, counted anonymously in its home district first; True if there was one.

        Counted under the id of the event that made the record, which its copy moved by a merge keeps: if
        the process dies before the delete, or another event deletes the same record (or its copy), the
        count already holds it and it is deleted without a second count.
        """
        eligibility = self._records.get(worker_id)
        if eligibility is None:
            return False
        self._records.count_erasure(
            eligibility.state_code, eligibility.district_code, event_id=eligibility.source_event_id
        )
        return self._records.delete(worker_id)

    def _store_new(self, eligibility: Eligibility, event_id: str) -> bool:
        has_events = bool(eligibility.pending_events)
        recorded = self._records.record_once(eligibility, event_id=event_id)
        if recorded and has_events:
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
        if eligibility is None or not eligibility.usable:
            # Without the worker's consent to entitlement linkage the record is answered like a missing one.
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
