"""Use cases of the consumer: follow the registry's erasures and merges of workers (DPDP Act).

They act on events, on nobody's behalf, so they need no caller. Both are naturally idempotent (a second
run finds nothing left to change) and safe out of order: an event about a worker with no grievances does
nothing, and creates nothing.
"""

from __future__ import annotations

import logging

from mrc_grievance.service_layer.ports import WorkerGrievances

log = logging.getLogger(__name__)

# What an erased worker's grievances say instead of their account (stored encrypted like any summary).
ERASED_SUMMARY = "[erased at the worker's request]"


class WorkerEventsService:
    def __init__(self, grievances: WorkerGrievances) -> None:
        self._grievances = grievances

    def worker_erased(self, worker_id: str) -> int:
        """Anonymise every grievance filed about the worker; returns how many this call changed."""
        if not worker_id:
            return 0
        return self._grievances.anonymise_worker(worker_id, ERASED_SUMMARY)

    def workers_merged(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        """Re-key the merged worker's grievances to the survivor; returns how many this call moved."""
        if not merged_worker_id or not surviving_worker_id or merged_worker_id == surviving_worker_id:
            return 0
        return self._grievances.rekey_worker(merged_worker_id, surviving_worker_id)
