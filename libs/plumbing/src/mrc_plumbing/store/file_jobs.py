"""Background jobs that work through an uploaded file, and their per-row reports, in the document store.

The registry's field-survey imports and the employer service's wage registers share the mechanics: a job is
claimed once (by its id, derived from the idempotency key and the file), resumed when it failed or its worker
stopped sending heartbeats, and its report (which can be long) is kept in chunks. What a job holds differs; each
service passes how its job becomes a document and back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from mrc_plumbing.store.port import DocumentStore, DuplicateDocument, IndexSpec

REPORT_CHUNK = 10_000  # rows per report document, far below the 16 MiB document limit
# The status values every file job uses for a job that may be resumed.
RUNNING, FAILED = "running", "failed"


class FileJob(Protocol):
    @property
    def job_id(self) -> str: ...

    @property
    def idempotency_key(self) -> str: ...

    @property
    def created_at(self) -> dt.datetime: ...


JobT = TypeVar("JobT", bound=FileJob)
RowT = TypeVar("RowT")


def utc(value: dt.datetime) -> dt.datetime:
    """The store hands back naive UTC datetimes."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class StoredFileJobs(Generic[JobT, RowT]):
    """Jobs in one collection; their report rows (dataclasses) in chunks in another, under `report_field`."""

    def __init__(
        self,
        store: DocumentStore,
        *,
        jobs_collection: str,
        reports_collection: str,
        report_field: str,
        to_document: Callable[[JobT], dict[str, Any]],
        from_document: Callable[[dict[str, Any]], JobT],
        row_type: Callable[..., RowT],
    ) -> None:
        self._jobs = store.collection(jobs_collection)
        self._reports = store.collection(reports_collection)
        self._report_field = report_field
        self._to_document = to_document
        self._from_document = from_document
        self._row_type = row_type

    def ensure_indexes(self) -> None:
        self._jobs.ensure_indexes([IndexSpec(("idempotency_key",), "idempotency_key", sparse=True)])
        self._reports.ensure_indexes([IndexSpec(("job_id", "chunk"), "job_chunks")])

    def get(self, job_id: str) -> JobT | None:
        doc = self._jobs.get(job_id)
        return self._from_document(doc) if doc else None

    def find_by_key(self, idempotency_key: str) -> JobT | None:
        found = self._jobs.find({"idempotency_key": idempotency_key}, limit=1)
        return self._from_document(found[0]) if found else None

    def claim(self, job: JobT, *, stale_before: dt.datetime) -> tuple[bool, JobT]:
        """(True, the job to run) for a new job or one to resume; (False, the stored one) when another runs it."""
        document = self._to_document(job)
        try:
            once: dict[str, Any] = {"created_at": job.created_at}
            if job.idempotency_key:
                once["idempotency_key"] = job.idempotency_key
            self._jobs.insert({**document, **once})
            return True, job
        except DuplicateDocument:
            pass
        # Resume a job that failed, or whose worker stopped sending heartbeats (it died).
        resumable = {"$or": [{"status": FAILED}, {"status": RUNNING, "updated_at": {"$lt": stale_before}}]}
        if self._jobs.update(job.job_id, {"$set": _settable(document)}, where=resumable):
            stored = self.get(job.job_id)
            assert stored is not None
            return True, stored
        current = self.get(job.job_id)
        if current is None:
            raise RuntimeError(f"job {job.job_id} clashed on a unique index but is not stored")
        return False, current

    def save(self, job: JobT, report: Sequence[RowT] | None = None) -> None:
        """The job's progress; with a report, the report replaces the stored one."""
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
                                self._report_field: [dataclasses.asdict(row) for row in chunk],  # type: ignore[call-overload]
                            },
                            [],
                        )
                        for n, chunk in enumerate(chunks)
                    ]
                )
        self._jobs.update(job.job_id, {"$set": _settable(self._to_document(job))})

    def report(self, job_id: str) -> list[RowT]:
        found = self._reports.find({"job_id": job_id}, sort=[("chunk", 1)])
        return [self._row_type(**row) for doc in found for row in doc[self._report_field]]


def _settable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "_id"}
