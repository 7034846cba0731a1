"""Import jobs and their problem reports in the document store (the shared file-job mechanics)."""

from __future__ import annotations

from typing import Any

from mrc_plumbing.store import DocumentStore
from mrc_plumbing.store.file_jobs import StoredFileJobs, utc
from mrc_registry.domain.import_job import ImportCounts, ImportJob, ImportStatus, RowError

JOBS_COLLECTION = "import_jobs"
REPORTS_COLLECTION = "import_reports"


class StoredImportJobs(StoredFileJobs[ImportJob, RowError]):
    """`ImportJobStore`: jobs in `import_jobs`; their reports, which can be long, in chunks in `import_reports`."""

    def __init__(self, store: DocumentStore) -> None:
        super().__init__(
            store,
            jobs_collection=JOBS_COLLECTION,
            reports_collection=REPORTS_COLLECTION,
            report_field="errors",
            to_document=_job_document,
            from_document=_job,
            row_type=RowError,
        )


def _job_document(job: ImportJob) -> dict[str, Any]:
    """What every write of a job sets (not `created_at` and the idempotency key, set once)."""
    return {
        "_id": job.job_id,
        "partner_id": job.partner_id,
        "file_name": job.file_name,
        "sha256": job.sha256,
        "status": job.status.value,
        "counts": {
            "total": job.counts.total,
            "registered": job.counts.registered,
            "linked": job.counts.linked,
            "failed": job.counts.failed,
        },
        "updated_at": job.updated_at,
        "completed_at": job.completed_at,
        "error": job.error,
    }


def _job(doc: dict[str, Any]) -> ImportJob:
    completed_at = doc.get("completed_at")
    return ImportJob(
        job_id=doc["_id"],
        partner_id=doc["partner_id"],
        file_name=doc["file_name"],
        sha256=doc["sha256"],
        status=ImportStatus(doc["status"]),
        counts=ImportCounts(**doc["counts"]),
        created_at=utc(doc["created_at"]),
        updated_at=utc(doc["updated_at"]),
        completed_at=utc(completed_at) if completed_at else None,
        idempotency_key=doc.get("idempotency_key", ""),
        error=doc.get("error", ""),
    )
