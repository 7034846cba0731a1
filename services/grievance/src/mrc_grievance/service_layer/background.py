"""Work that happens without a request: SLA milestones falling due, and the registry's erasures, merges and
consent changes.

Two processes share it. The SLA and registry worker (faust) keeps the clocks' schedule in a table and
follows the registry's events; when something must change on a case it hands a `WorkItem` over (an
insert, atomic in every store) and never writes the case itself. The API process, the one writer of cases
(FerretDB makes a conditional write atomic only within a process), applies the items (`CaseWork`). Both
sides are idempotent: an item is keyed by what it does, and the domain remembers which SLA milestones have
fired (`SlaClocks.fired`), so a timer that fires twice, late or after a restart changes nothing twice.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from mrc_grievance.domain.consent import ConsentChange
from mrc_grievance.service_layer import protection as sealed_fields
from mrc_grievance.service_layer.ports import (
    CaseRepository,
    ErasedWorkers,
    TraceRepository,
    WorkItem,
    WorkKind,
    WorkQueue,
)
from mrc_grievance.service_layer.protection import Protection
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict

log = logging.getLogger(__name__)

# What an erased worker's cases say instead of their account (sealed like any summary).
ERASED_TEXT = "[erased at the worker's request]"


# --- the API side: applying the work ---------------------------------------------------------------------


class CaseWork:
    def __init__(
        self,
        cases: CaseRepository,
        traces: TraceRepository,
        work: WorkQueue,
        erased: ErasedWorkers,
        protection: Protection,
        *,
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = 200,
    ) -> None:
        self._cases = cases
        self._traces = traces
        self._work = work
        self._erased = erased
        self._protection = protection
        self._clock = clock
        self._batch_size = batch_size

    def run_once(self) -> int:
        """Apply what is waiting; returns how many items were done. An item that fails stays for the next pass."""
        done = 0
        for item in self._work.waiting(self._batch_size):
            try:
                self.apply(item)
            except Conflict:
                continue  # the case changed meanwhile: the next pass reads it again
            except Exception:
                log.exception("work item failed; it stays for the next pass", extra={"item": item.item_id})
                continue
            self._work.done(item.item_id)
            done += 1
        return done

    def apply(self, item: WorkItem) -> None:
        if item.kind is WorkKind.SLA:
            self._sla(item.grievance_id)
        elif item.kind is WorkKind.FORGET_WORKER:
            self._forget(item, item.worker_id)
        elif item.kind is WorkKind.MOVE_WORKER:
            if self._erased.is_erased(item.surviving_worker_id):
                # Merged into someone erased meanwhile: their data goes as the survivor's did.
                self._forget(item, item.worker_id)
            else:
                self._move(item)
        elif item.kind is WorkKind.UNLINK_WORKER and item.consent is not None:
            self._unlink(item.grievance_id, item.trace_id, item.consent)

    def _sla(self, grievance_id: str) -> None:
        case = self._cases.get(grievance_id)
        if case is None:
            return
        loaded = case.version
        if case.record_sla_milestones(self._clock()):
            self._cases.save(case, loaded_version=loaded)

    def _forget(self, item: WorkItem, worker_id: str) -> None:
        now = self._clock()
        if item.grievance_id and (case := self._cases.get(item.grievance_id)) is not None:
            loaded = case.version
            state = case.location.state_code
            erased = self._protection.seal(state, sealed_fields.SUMMARY, ERASED_TEXT)
            erased_note = self._protection.seal(state, sealed_fields.NOTE, ERASED_TEXT)
            assert erased is not None
            assert erased_note is not None
            if case.forget_worker(worker_id, erased, erased_note, now):
                self._cases.save(case, loaded_version=loaded)
        if item.trace_id and (trace := self._traces.get(item.trace_id)) is not None:
            loaded = trace.version
            if trace.forget_worker(worker_id, now):
                self._traces.save(trace, loaded_version=loaded)

    def _unlink(self, grievance_id: str, trace_id: str, change: ConsentChange) -> None:
        # Judged again against the record as it is now: a link made (or already ended) since the item was
        # handed over is left alone, so a redelivered or older change has no second effect.
        now = self._clock()
        if grievance_id and (case := self._cases.get(grievance_id)) is not None:
            loaded = case.version
            if case.unlink_worker(change, now):
                self._cases.save(case, loaded_version=loaded)
        if trace_id and (trace := self._traces.get(trace_id)) is not None:
            loaded = trace.version
            if trace.unlink_worker(change, now):
                self._traces.save(trace, loaded_version=loaded)

    def _move(self, item: WorkItem) -> None:
        now = self._clock()
        if item.grievance_id and (case := self._cases.get(item.grievance_id)) is not None:
            loaded = case.version
            if case.move_to_worker(item.worker_id, item.surviving_worker_id, now):
                self._cases.save(case, loaded_version=loaded)
        if item.trace_id and (trace := self._traces.get(item.trace_id)) is not None:
            loaded = trace.version
            if trace.move_to_worker(item.worker_id, item.surviving_worker_id, now):
                self._traces.save(trace, loaded_version=loaded)


# --- the worker side: the registry's events ------------------------------------------------------------


class RegistryEvents:
    """Turns the registry's erasures, merges and consent changes into work on every case and trace naming the
    worker.

    The erased worker is remembered first (a tombstone), so a merge into them that arrives later (keyed by
    another worker, on another partition) erases instead of moving, and a move applied after the erasure
    looked for cases sees the tombstone when it is applied."""

    def __init__(
        self,
        cases: CaseRepository,
        traces: TraceRepository,
        work: WorkQueue,
        erased: ErasedWorkers,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._cases = cases
        self._traces = traces
        self._work = work
        self._erased = erased
        self._clock = clock

    def worker_erased(self, worker_id: str) -> int:
        if not worker_id:
            return 0
        self._erased.remember(worker_id, self._clock())
        return self._hand_over(WorkKind.FORGET_WORKER, worker_id, "")

    def workers_merged(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        if not merged_worker_id or not surviving_worker_id or merged_worker_id == surviving_worker_id:
            return 0
        if self._erased.is_erased(surviving_worker_id):
            self._erased.remember(merged_worker_id, self._clock())
            return self._hand_over(WorkKind.FORGET_WORKER, merged_worker_id, "")
        return self._hand_over(WorkKind.MOVE_WORKER, merged_worker_id, surviving_worker_id)

    def consent_changed(self, event_id: str, change: ConsentChange) -> int:
        """Hands over every case and trace whose link to the worker this change ends (the partner holding
        the link has no active consent covering grievance follow-up any more). One item per record and
        event id: a redelivered event hands nothing over twice, and the writer judges each record again."""
        if not change.worker_id or not event_id:
            return 0
        handed = 0
        now = self._clock()
        for grievance_id in self._cases.about_worker(change.worker_id):
            case = self._cases.get(grievance_id)
            if case is None or not case.consent_ends_link(change):
                continue
            handed += self._work.enqueue(
                WorkItem(
                    f"{WorkKind.UNLINK_WORKER.value}:grievance:{grievance_id}:{event_id}",
                    WorkKind.UNLINK_WORKER,
                    grievance_id=grievance_id,
                    worker_id=change.worker_id,
                    enqueued_at=now,
                    consent=change,
                )
            )
        for trace_id in self._traces.about_worker(change.worker_id):
            trace = self._traces.get(trace_id)
            if trace is None or not trace.consent_ends_link(change):
                continue
            handed += self._work.enqueue(
                WorkItem(
                    f"{WorkKind.UNLINK_WORKER.value}:trace:{trace_id}:{event_id}",
                    WorkKind.UNLINK_WORKER,
                    trace_id=trace_id,
                    worker_id=change.worker_id,
                    enqueued_at=now,
                    consent=change,
                )
            )
        return handed

    def _hand_over(self, kind: WorkKind, worker_id: str, surviving: str) -> int:
        handed = 0
        now = self._clock()
        for grievance_id in self._cases.about_worker(worker_id):
            item_id = f"{kind.value}:grievance:{grievance_id}:{worker_id}:{surviving}"
            handed += self._work.enqueue(
                WorkItem(
                    item_id,
                    kind,
                    grievance_id=grievance_id,
                    worker_id=worker_id,
                    surviving_worker_id=surviving,
                    enqueued_at=now,
                )
            )
        for trace_id in self._traces.about_worker(worker_id):
            item_id = f"{kind.value}:trace:{trace_id}:{worker_id}:{surviving}"
            handed += self._work.enqueue(
                WorkItem(
                    item_id,
                    kind,
                    trace_id=trace_id,
                    worker_id=worker_id,
                    surviving_worker_id=surviving,
                    enqueued_at=now,
                )
            )
        return handed


# --- the worker side: the SLA schedule -------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleEntry:
    """When the SLA worker next looks at a case (epoch seconds), as of which case version, and whether the
    milestone due then was handed over already (then `at` is when to check that it was applied)."""

    at: float
    version: int
    handed_over: bool = False

    def to_json(self) -> dict[str, float | int | bool]:
        return {"at": self.at, "version": self.version, "handed_over": self.handed_over}

    @classmethod
    def from_json(cls, value: object) -> ScheduleEntry | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(float(value["at"]), int(value["version"]), bool(value.get("handed_over", False)))
        except (KeyError, TypeError, ValueError):
            return None


class Keep:
    """The schedule stays as it is (an event older than what the schedule knows)."""


KEEP = Keep()


def entry_for_event(
    existing: ScheduleEntry | None, version: int, next_deadline: datetime | None
) -> ScheduleEntry | Keep | None:
    """A case's event says when its clocks next need looking at: the new entry (None: nothing left)."""
    if existing is not None and existing.version > version:
        return KEEP
    if next_deadline is None:
        return None
    return ScheduleEntry(next_deadline.timestamp(), version)


class SlaTimer:
    """What the worker does when an entry falls due: hand the milestone over, then check it was applied."""

    def __init__(self, cases: CaseRepository, work: WorkQueue, *, recheck_seconds: float) -> None:
        self._cases = cases
        self._work = work
        self._recheck = recheck_seconds

    def due(self, grievance_id: str, entry: ScheduleEntry, now: datetime) -> ScheduleEntry | None:
        if not entry.handed_over:
            self._hand_over(grievance_id, now)
            return replace(entry, at=now.timestamp() + self._recheck, handed_over=True)
        # Handed over a while ago and no event moved the schedule since: look at the case itself (a breach
        # at the state authority publishes nothing, a milestone may have been applied early or not yet).
        case = self._cases.get(grievance_id)
        if case is None:
            return None
        next_deadline = case.sla.next_deadline(grievance_id)
        if next_deadline is None:
            return None
        if next_deadline <= now:
            self._hand_over(grievance_id, now)
            return ScheduleEntry(now.timestamp() + self._recheck, case.version, handed_over=True)
        return ScheduleEntry(next_deadline.timestamp(), case.version)

    def _hand_over(self, grievance_id: str, now: datetime) -> None:
        self._work.enqueue(WorkItem(f"sla:{grievance_id}", WorkKind.SLA, grievance_id=grievance_id, enqueued_at=now))


class ScheduleIndex:
    """The schedule in deadline order, so a tick reads only what is due (not every open case).

    A cache of the table: entries are set and removed as the table changes, and `rebuild` reloads it all
    (after a restart the table is recovered from its changelog without passing through here)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._at: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._at)

    def set(self, key: str, at: float) -> None:
        if self._at.get(key) == at:
            return
        self._at[key] = at
        heapq.heappush(self._heap, (at, key))

    def remove(self, key: str) -> None:
        self._at.pop(key, None)

    def rebuild(self, entries: Iterable[tuple[str, float]]) -> None:
        self._at = dict(entries)
        self._heap = [(at, key) for key, at in self._at.items()]
        heapq.heapify(self._heap)

    def due(self, now: float, limit: int = 1000) -> list[str]:
        """Keys whose time has come (each once: the caller sets their next time)."""
        found: list[str] = []
        while self._heap and self._heap[0][0] <= now and len(found) < limit:
            at, key = heapq.heappop(self._heap)
            if self._at.get(key) == at:
                del self._at[key]
                found.append(key)
        return found
