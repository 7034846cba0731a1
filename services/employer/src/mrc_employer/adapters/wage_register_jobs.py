"""Wage-register import jobs and their per-row reports in the document store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from mrc_employer.adapters.organisations import utc
from mrc_employer.domain.wage_register_job import JobCounts, JobStatus, RowProblem, WageRegisterJob
from mrc_plumbing.store import DocumentStore, DuplicateDocument, IndexSpec

JOBS_COLLECTION = "wage_register_jobs"
REPORTS_COLLECTION = "wage_register_reports"
REPORT_CHUNK = 10_000  # problems per report document, far below the 16 MiB document limit


class StoredWageRegisterJobs:
    """`WageRegisterJobs`: jobs in `wage_register_jobs`; their reports, which can be long, in chunks."""

    def __init__(self, store: DocumentStore) -> None:
        self._jobs = store.collection(JOBS_COLLECTION)
        self._reports = store.collection(REPORTS_COLLECTION)

    def ensure_indexes(self) -> None:
        self._jobs.ensure_indexes([IndexSpec(("idempotency_key",), "idempotency_key", sparse=True)])
        self._reports.ensure_indexes([IndexSpec(("job_id", "chunk"), "job_chunks")])

    def get(self, job_id: str) -> WageRegisterJob | None:
        doc = self._jobs.get(job_id)
        return _job(doc) if doc else None

    def find_by_key(self, idempotency_key: str) -> WageRegisterJob | None:
        found = self._jobs.find({"idempotency_key": idempotency_key}, limit=1)
        return _job(found[0]) if found else None

    def claim(self, job: WageRegisterJob, *, stale_before: dt.datetime) -> tuple[bool, WageRegisterJob]:
        document = _job_document(job)
        try:
            once: dict[str, Any] = {"created_at": job.created_at}
            if job.idempotency_key:
                once["idempotency_key"] = job.idempotency_key
            self._jobs.insert({**document, **once})
            return True, job
        except DuplicateDocument:
            pass
        # Resume a job that failed, or whose importer stopped sending heartbeats (it died).
        resumable = {
            "$or": [
                {"status": JobStatus.FAILED.value},
                {"status": JobStatus.RUNNING.value, "updated_at": {"$lt": stale_before}},
            ],
        }
        if self._jobs.update(job.job_id, {"$set": {k: v for k, v in document.items() if k != "_id"}}, where=resumable):
            stored = self.get(job.job_id)
            assert stored is not None
            return True, stored
        current = self.get(job.job_id)
        if current is None:
            raise RuntimeError(f"wage register job {job.job_id} clashed on a unique index but is not stored")
        return False, current

    def save(self, job: WageRegisterJob, report: Sequence[RowProblem] | None = None) -> None:
        if report is not None:
            for stale in self._reports.find({"job_id": job.job_id}, fields=[]):
                self._reports.delete(stale["_id"])
            chunks = [report[i : i + REPORT_CHUNK] for i in range(0, len(report), REPORT_CHUNK)]
            if chunks:
                self._reports.insert_many(
                    [
                        (
                            {
                                "_id": f"{job.job_id}:{n:05d}",
                                "job_id": job.job_id,
                                "chunk": n,
                                # Objects, not arrays: FerretDB stores no nested arrays.
                                "problems": [
                                    {
                                        "row": p.row,
                                        "row_key": p.row_key,
                                        "code": p.code,
                                        "column": p.column,
                                        "problem": p.problem,
                                    }
                                    for p in chunk
                                ],
                            },
                            [],
                        )
                        for n, chunk in enumerate(chunks)
                    ]
                )
        self._jobs.update(job.job_id, {"$set": {k: v for k, v in _job_document(job).items() if k != "_id"}})

    def report(self, job_id: str) -> list[RowProblem]:
        found = self._reports.find({"job_id": job_id}, sort=[("chunk", 1)])
        return [RowProblem(**problem) for doc in found for problem in doc["problems"]]


def _job_document(job: WageRegisterJob) -> dict[str, Any]:
    """What every write of a job sets (not `created_at` and the idempotency key, set once)."""
    return {
        "_id": job.job_id,
        "organisation_id": job.organisation_id,
        "partner_id": job.partner_id,
        "file_name": job.file_name,
        "sha256": job.sha256,
        "status": job.status.value,
        "counts": {
            "total": job.counts.total,
            "stored": job.counts.stored,
            "refused": job.counts.refused,
            "below_minimum": job.counts.below_minimum,
            "no_applicable_rate": job.counts.no_applicable_rate,
        },
        "updated_at": job.updated_at,
        "completed_at": job.completed_at,
        "error": job.error,
    }


def _job(doc: dict[str, Any]) -> WageRegisterJob:
    completed_at = doc.get("completed_at")
    return WageRegisterJob(
        job_id=doc["_id"],
        organisation_id=doc["organisation_id"],
        partner_id=doc["partner_id"],
        file_name=doc["file_name"],
        sha256=doc["sha256"],
        status=JobStatus(doc["status"]),
        counts=JobCounts(**doc["counts"]),
        created_at=utc(doc["created_at"]),
        updated_at=utc(doc["updated_at"]),
        completed_at=utc(completed_at) if completed_at else None,
        idempotency_key=doc.get("idempotency_key", ""),
        error=doc.get("error", ""),
    )
