"""Use cases of the faust worker: fold what arrives into each organisation's compliance history.

They act on events, on nobody's behalf, so they take no caller. Each is idempotent: the history knows
the records, wage batches and grievance events (by event id) it has applied, and applying one again
changes nothing and raises nothing, so a redelivered event can never count twice nor raise the risk
flag a second time. The history is one document per organisation, written only if it is still at the
version read (two partitions may carry events about the same organisation); a lost race is read again
and applied once more. The history's own events (`ScoreChanged`, `RiskFlagRaised`, `RiskFlagCleared`)
are stored with it and leave through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from mrc_employer.domain.compliance_history import ComplianceHistory
from mrc_employer.domain.compliance_records import IloFinding, RecruitmentCostRecord, WorkingConditionsCheck
from mrc_employer.domain.grievance_signals import GrievanceSignal
from mrc_employer.domain.wages import WageRecord
from mrc_employer.service_layer.ports import ComplianceRecord, ComplianceRecords, Histories, Organisations
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 10

Change = Callable[[ComplianceHistory, datetime], bool]


def _apply_record(record: ComplianceRecord) -> Change:
    def change(history: ComplianceHistory, now: datetime) -> bool:
        match record:
            case WageRecord():
                # A record entered on its own is a batch of one.
                return history.apply_wage_batch(record.record_id, [record], now)
            case RecruitmentCostRecord():
                return history.apply_recruitment_cost(record, now)
            case WorkingConditionsCheck():
                return history.apply_conditions(record, now)
            case IloFinding():
                return history.apply_ilo_finding(record, now)

    return change


class HistoryUpdates:
    def __init__(
        self,
        organisations: Organisations,
        records: ComplianceRecords,
        histories: Histories,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._organisations = organisations
        self._records = records
        self._histories = histories
        self._clock = clock

    def record_stored(self, record_id: str) -> bool:
        """A compliance record was stored (`ComplianceRecorded` without a batch); True if the history changed."""
        record = self._records.get(record_id) if record_id else None
        if record is None:
            log.warning("a recorded compliance record is not stored", extra={"record_id": record_id})
            return False
        return self._apply(record.organisation_id, _apply_record(record))

    def batch_stored(self, batch_id: str) -> bool:
        """A wage-register batch was stored (`WageRecordsBatched`); True if the history changed."""
        batch = self._records.batch(batch_id) if batch_id else None
        if batch is None:
            log.warning("a recorded wage batch is not stored", extra={"batch_id": batch_id})
            return False
        summary = batch.summary
        return self._apply(batch.organisation_id, lambda h, now: h.apply_wage_summary(batch_id, summary, now))

    def grievance_signalled(self, organisation_id: str, signal: GrievanceSignal) -> bool:
        """A grievance event named (or stopped naming) the organisation; True if the history changed.

        An id that is no organisation of ours (never registered here) is ignored.
        """
        if not organisation_id:
            return False
        history = self._histories.get(organisation_id)
        if history is None and self._organisations.get(organisation_id) is None:
            log.info("grievance names an unknown organisation", extra={"event_id": signal.event_id})
            return False
        return self._apply(organisation_id, lambda h, now: h.apply_grievance(signal, now), loaded=history)

    # -- the registry's erasures and merges (DPDP Act: erasure reaches every record naming the worker) ----

    def worker_erased(self, worker_id: str) -> int:
        """Records about the worker stay (they are evidence about the employer) without the worker's id.
        Naturally idempotent: a redelivery finds nothing left to change."""
        return self._records.forget_worker(worker_id) if worker_id else 0

    def workers_merged(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        if not merged_worker_id or not surviving_worker_id or merged_worker_id == surviving_worker_id:
            return 0
        return self._records.rekey_worker(merged_worker_id, surviving_worker_id)

    def reevaluate(self, organisation_id: str) -> bool:
        """Findings age: recompute for today (a periodic sweep); True if the flag or the whole point moved."""
        return self._apply(organisation_id, lambda h, now: h.reevaluate(now), create=False)

    def reevaluate_all(self) -> int:
        changed = 0
        for organisation_id in self._histories.organisation_ids():
            try:
                changed += self.reevaluate(organisation_id)
            except Exception:
                log.exception("re-evaluation failed", extra={"organisation_id": organisation_id})
        return changed

    def _apply(
        self, organisation_id: str, change: Change, *, create: bool = True, loaded: ComplianceHistory | None = None
    ) -> bool:
        for attempt in range(SAVE_ATTEMPTS):
            # The first attempt may use the history the caller just read; a lost race reads it again.
            history = loaded if attempt == 0 and loaded is not None else self._histories.get(organisation_id)
            is_new = history is None
            if history is None:
                if not create:
                    return False
                history = ComplianceHistory(organisation_id)
            loaded_version = history.version
            if not change(history, self._clock()):
                return False
            stored = (
                self._histories.create(history)
                if is_new
                else self._histories.save(history, expected_version=loaded_version)
            )
            if stored:
                return True
        raise Conflict(f"the compliance history of {organisation_id} kept changing; the event will be retried")
