"""The re-evaluation runner: after a rule version is published, every consenting worker is determined again.

It runs in the consumer's process beside the consumers (which keep running): it walks the records in
worker-id order, a batch at a time, and after each batch stores the job's progress and cursor, so a job
interrupted by a crash resumes after the last batch done. A worker already determined by the job's rule
version is skipped, so a batch redone after a crash changes nothing twice. A job whose rule version is no
longer the published one (a newer version came, or it was retired) is superseded and stops.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
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

    def run_pending(self, *, time_budget_seconds: float = 5.0) -> int:
        """Work on unfinished jobs, oldest first, for about the time budget; how many batches were done."""
        self._catalogue.ensure_jobs()
        deadline = time.monotonic() + time_budget_seconds
        batches = 0
        for job in self._jobs.unfinished():
            while not job.finished and time.monotonic() < deadline:
                job = self.run_batch(job)
                batches += 1
        return batches

    def run_to_completion(self, job_id: str) -> ReevaluationJob:
        job = self._jobs.get(job_id)
        assert job is not None
        while not job.finished:
            job = self.run_batch(job)
        return job

    def run_batch(self, job: ReevaluationJob) -> ReevaluationJob:
        scheme = self._schemes.get(job.scheme_code)
        rule = scheme.published_rule if scheme is not None else None
        if rule is None or rule.version != job.rule_version:
            started_from = job.version
            job.supersede(self._clock())
            self._jobs.save(job, started_from=started_from)
            return job
        records, cursor = self._records.page(after=job.cursor, limit=self._batch_size)
        changed = sum(self._reevaluate(record, rule) for record in records)
        started_from = job.version
        now = self._clock()
        if records:
            job.advance(last_worker_id=records[-1].worker_id, processed=len(records), changed=changed, now=now)
        if not cursor:
            job.complete(now)
        elif job.status is JobStatus.PENDING:
            job.advance(last_worker_id=cursor, processed=0, changed=0, now=now)
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
