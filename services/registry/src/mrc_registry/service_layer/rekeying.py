"""Re-keying stored workers after the matching rules changed (`MATCH_KEYS_VERSION`).

A registration is compared with the workers that share a key with it, and a search by name looks workers up by
their name keys: keys computed by older rules would no longer meet the keys a new registration or a search
computes. Every registry process walks the workers keyed by older rules once when it starts, in the
background. Replicas doing it together do the same work twice, never a wrong one: a worker's keys follow from
its details, and a worker changed meanwhile is skipped, since the change stored keys of the current rules.

Copies of other states' records (cross-state federation) are never re-keyed here: what their home state shares
(its blind indexes of documents and phone, the names it sends) decides their keys, and only the next summary
from the home state replaces them, with the rules current when it arrives.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from mrc_registry.domain.worker import WorkerStatus
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.ports import RekeyableWorkers

log = logging.getLogger(__name__)


@dataclass
class RekeyingReport:
    rekeyed: int = 0
    skipped: int = 0  # changed while the walk ran: their change stored current keys
    copies: int = 0  # copies of other states' records, left as their home state keyed them


class Rekeying:
    def __init__(self, workers: RekeyableWorkers, deduplicator: Deduplicator) -> None:
        self._workers = workers
        self._dedup = deduplicator

    def run(self, stop: threading.Event | None = None) -> RekeyingReport:
        report = RekeyingReport()
        for worker in self._workers.keyed_by_older_rules():
            if stop is not None and stop.is_set():
                break
            if worker.is_copy:
                report.copies += 1
                continue
            # Merged and erased workers keep no keys: nothing may match or find them.
            keys = self._dedup.keys(worker) if worker.status is WorkerStatus.ACTIVE else set()
            if self._workers.rekey(worker, keys):
                report.rekeyed += 1
            else:
                report.skipped += 1
        return report


class BackgroundRekeying:
    """Runs `Rekeying` once in a thread of the registry process; a failure is logged and retried later."""

    def __init__(self, rekeying: Rekeying, retry_seconds: float = 60.0) -> None:
        self._rekeying = rekeying
        self._retry = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rekeying", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self._rekeying.run(self._stop)
            except Exception:
                log.exception("re-keying workers failed; trying again in %.0f s", self._retry)
                self._stop.wait(self._retry)
                continue
            if report.rekeyed or report.skipped:
                log.info(
                    "re-keyed %d workers to the current matching rules (%d changed meanwhile)",
                    report.rekeyed,
                    report.skipped,
                )
            return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
