"""Wage-register import jobs and their per-row reports in the document store (the shared file-job mechanics)."""

from __future__ import annotations

from typing import Any

from mrc_employer.domain.wage_register_job import JobCounts, JobStatus, RowProblem, WageRegisterJob
from mrc_plumbing.store import DocumentStore
from mrc_plumbing.store.file_jobs import StoredFileJobs, utc

JOBS_COLLECTION = "wage_register_jobs"
REPORTS_COLLECTION = "wage_register_reports"


class StoredWageRegisterJobs(StoredFileJobs[WageRegisterJob, RowProblem]):
    """`WageRegisterJobs`: jobs in `wage_register_jobs`; their reports, which can be long, in chunks."""

    def __init__(self, store: DocumentStore) -> None:
        super().__init__(
            store,
            jobs_collection=JOBS_COLLECTION,
            reports_collection=REPORTS_COLLECTION,
            report_field="problems",
            to_document=_job_document,
            from_document=_job,
            row_type=RowProblem,
        )


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
