"""Use cases of the consumer: follow the registry's erasures and merges of workers (DPDP Act).

They act on events, on nobody's behalf, so they need no caller. Both are naturally idempotent (a second
run finds nothing left to change) and safe out of order: an event about a worker with no grievances does
nothing, and creates nothing. An erased worker is remembered (a tombstone), so that a merge into them
arriving after their erasure (it is keyed by the other worker, on another partition) anonymises the merged
worker's grievances instead of moving them onto the erased id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from mrc_grievance.service_layer.ports import WorkerGrievances
from mrc_kernel.clock import utc_now

log = logging.getLogger(__name__)

# What an erased worker's grievances say instead of their account (stored encrypted like any summary).
ERASED_SUMMARY = "[erased at the worker's request]"


class WorkerEventsService:
    def __init__(self, grievances: WorkerGrievances, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._grievances = grievances
        self._clock = clock

    def worker_erased(self, worker_id: str) -> int:
        """Anonymise every grievance filed about the worker; returns how many this call changed.

        The worker is remembered as erased first: if the process dies before anonymising, the redelivered
        event finds the tombstone there already and finishes.
        """
        if not worker_id:
            return 0
        self._grievances.remember_erased(worker_id, at=self._clock())
        return self._grievances.anonymise_worker(worker_id, ERASED_SUMMARY)

    def workers_merged(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        """Re-key the merged worker's grievances to the survivor; returns how many this call moved (or anonymised).

        Nothing ever moves to or from an erased worker: merged into one, the grievances are anonymised.
        """
        if not merged_worker_id or not surviving_worker_id or merged_worker_id == surviving_worker_id:
            return 0
        if self._grievances.is_erased(surviving_worker_id):
            return self._erase_with_survivor(merged_worker_id, surviving_worker_id)
        if self._grievances.is_erased(merged_worker_id):
            # Its own erasure may have stopped before anonymising everything: finish it, move nothing.
            return self._grievances.anonymise_worker(merged_worker_id, ERASED_SUMMARY)
        moved = self._grievances.rekey_worker(merged_worker_id, surviving_worker_id)
        # The survivor may have been erased meanwhile. Its erasure writes the tombstone before it looks for
        # grievances, and this looks for the tombstone after moving them, so one of the two always sees the
        # other: none stays under the erased id.
        if self._grievances.is_erased(surviving_worker_id):
            return self._erase_with_survivor(merged_worker_id, surviving_worker_id)
        return moved

    def _erase_with_survivor(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        """The survivor was erased, so the merged worker's grievances are anonymised as theirs were.

        The merged id is remembered first, like an erasure's. Any grievance under the survivor's id can only
        have been moved there by a merge racing its erasure (or be one that erasure has yet to reach).
        """
        self._grievances.remember_erased(merged_worker_id, at=self._clock())
        anonymised = self._grievances.anonymise_worker(merged_worker_id, ERASED_SUMMARY)
        return anonymised + self._grievances.anonymise_worker(surviving_worker_id, ERASED_SUMMARY)
