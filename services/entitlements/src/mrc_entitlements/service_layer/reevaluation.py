"""The re-evaluation runner: after a rule version is published, every consenting worker is determined again.

It runs in the consumer's process beside the consumers (which keep running): it walks the records in
worker-id order, a batch at a time, and after each batch stores the job's progress and cursor, so a job
interrupted by a crash resumes after the last batch done. The workers are read with one cursor of the
store per run (a range of ids per batch would cost FerretDB a scan each). A worker already determined by the job's rule
version is skipped, so a batch redone after a crash changes nothing twice. A job whose rule version is no
longer the published one (a newer version came, or it was retired) is superseded and stops.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from mrc_entitlements.domain.determinations import Change
from mrc_entitlements.domain.reevaluation import JobStatus, ReevaluationJob
from mrc_entitlements.domain.schemes import RuleVersion
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_entitlements.service_layer.catalogue import CatalogueService
from mrc_entitlements.service_layer.ports import JobRepository, SchemeRepository, WorkerRecordRepository
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class ReevaluationRunner:
    def __init__(
        self,
        records: WorkerRecordRepository,
        schemes: SchemeRepository,
        jobs: JobRepository,
        catalogue: CatalogueService,
        *,
        batch_size: int = 200,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._records = records
        self._schemes = schemes
        self._jobs = jobs
        self._catalogue = catalogue
        self._batch_size = batch_size
        self._clock = clock

    def run_pending(self) -> int:
        """Run every unfinished job to its end (or until superseded), oldest first; how many were run."""
        self._catalogue.ensure_jobs()
        jobs = self._jobs.unfinished()
        for job in jobs:
            self.run_to_completion(job.job_id)
        return len(jobs)

    def run_to_completion(
        self, job_id: str, on_batch: Callable[[ReevaluationJob], None] | None = None
    ) -> ReevaluationJob:
        """Walk the consenting workers after the job's cursor with one cursor of the store, a batch at a time
        (`on_batch` sees the job after each)."""
        job = self._jobs.get(job_id)
        assert job is not None
        workers = self._records.stream(after=job.cursor)
        while not job.finished:
            job = self._run_batch(job, workers)
            if on_batch is not None:
                on_batch(job)
        return job

    def run_batch(self, job: ReevaluationJob) -> ReevaluationJob:
        """One batch after the job's stored cursor (a job resumed after a crash starts here)."""
        return self._run_batch(job, self._records.stream(after=job.cursor))

    def _run_batch(self, job: ReevaluationJob, workers: Iterator[WorkerRecord]) -> ReevaluationJob:
        scheme = self._schemes.get(job.scheme_code)
        rule = scheme.published_rule if scheme is not None else None
        started_from = job.version
        now = self._clock()
        if rule is None or rule.version != job.rule_version:
            job.supersede(now)
            self._jobs.save(job, started_from=started_from)
            return job
        if job.status is JobStatus.PENDING and not job.total:
            job.total = self._records.count_consenting()
        batch = list(itertools.islice(workers, self._batch_size))
        changed = sum(self._reevaluate(record, rule) for record in batch)
        if batch:
            job.advance(last_worker_id=batch[-1].worker_id, processed=len(batch), changed=changed, now=now)
        if len(batch) < self._batch_size:
            job.complete(now)
        self._jobs.save(job, started_from=started_from)
        return job

    def _reevaluate(self, record: WorkerRecord, rule: RuleVersion) -> bool:
        """Determine the worker by the rule; True if the determination changed (an event went out)."""
        for _ in range(MAX_ATTEMPTS):
            if record.eligibility.is_current(rule.scheme_code, rule.version) or not record.consents_to_linkage:
                return False
            now = self._clock()
            change = record.assess_rule(rule, today=now.date(), now=now)
            try:
                self._records.save(record)
            except Conflict:
                fresh = self._records.get(record.worker_id)
                if fresh is None:
                    return False
                record = fresh
                continue
            return change in (Change.FIRST, Change.CHANGED)
        log.warning("re-evaluation gave up on a record that kept changing", extra={"job_rule": rule.version})
        return False
