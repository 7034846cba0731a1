"""Re-evaluation jobs: after a rule version is published, every affected worker is determined again.

A job walks the workers in worker-id order in batches; after each batch it records progress and a
checkpoint cursor (the last worker id done), so a job interrupted by a crash resumes after the cursor.
Each worker is idempotent on its own: a worker whose determination already carries the job's rule
version is skipped (`WorkerEligibility.is_current`), so a batch redone after a crash changes nothing twice.
The consumers keep running meanwhile; whichever of a job and an event determines a worker last is right,
since both evaluate the published rule against the worker's latest facts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from mrc_kernel.errors import Conflict


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    # A newer rule version of the same scheme was published before this job finished: its workers are
    # re-evaluated by the newer job, so this one stops where it is.
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class ReevaluationCompleted:
    job_id: str
    scheme_code: str
    rule_version: int
    processed: int
    changed: int
    at: datetime


DomainEvent = ReevaluationCompleted


@dataclass
class ReevaluationJob:
    job_id: str
    scheme_code: str
    rule_version: int
    status: JobStatus
    total: int  # workers to re-evaluate, as counted when the job started (consenting workers)
    processed: int
    changed: int  # workers whose determination changed (an event was published)
    cursor: str  # the last worker id processed; "" before the first batch
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    version: int = 1
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def start(cls, *, job_id: str, scheme_code: str, rule_version: int, total: int, now: datetime) -> ReevaluationJob:
        return cls(
            job_id=job_id,
            scheme_code=scheme_code,
            rule_version=rule_version,
            status=JobStatus.PENDING,
            total=max(total, 0),
            processed=0,
            changed=0,
            cursor="",
            created_at=now,
            updated_at=now,
        )

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.COMPLETED, JobStatus.SUPERSEDED)

    @property
    def progress(self) -> float:
        """Share of the workers processed, 0 to 1 (1 once completed, even if workers joined meanwhile)."""
        if self.status is JobStatus.COMPLETED:
            return 1.0
        return min(self.processed / self.total, 1.0) if self.total else 0.0

    def advance(self, *, last_worker_id: str, processed: int, changed: int, now: datetime) -> None:
        """Record a finished batch. The cursor only moves forward: a batch redone after a crash is ignored."""
        if self.finished:
            raise Conflict(f"re-evaluation job {self.job_id!r} is {self.status.value}; it cannot advance")
        if processed < 0 or changed < 0 or changed > processed:
            raise ValueError("a batch processes at least as many workers as it changes, none negative")
        if self.cursor and last_worker_id <= self.cursor:
            return
        self.status = JobStatus.RUNNING
        self.cursor = last_worker_id
        self.processed += processed
        self.changed += changed
        self.updated_at = now
        self.version += 1

    def complete(self, now: datetime) -> None:
        if self.status is JobStatus.COMPLETED:
            return
        if self.status is JobStatus.SUPERSEDED:
            raise Conflict(f"re-evaluation job {self.job_id!r} is superseded; it cannot complete")
        self.status = JobStatus.COMPLETED
        self.completed_at = now
        self.updated_at = now
        self.version += 1
        self.pending_events.append(
            ReevaluationCompleted(self.job_id, self.scheme_code, self.rule_version, self.processed, self.changed, now)
        )

    def supersede(self, now: datetime) -> None:
        if self.finished:
            return
        self.status = JobStatus.SUPERSEDED
        self.updated_at = now
        self.version += 1
