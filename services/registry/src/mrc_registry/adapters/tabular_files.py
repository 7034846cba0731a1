"""Adapters of the bulk import: reading a field survey (CSV or XLSX), and storing imported workers and jobs.

Reading: the first row holds the headers (trimmed, lower-cased, spaces and hyphens as `_`); blank rows
are skipped but counted, so row numbers are those a spreadsheet shows. CSV must be UTF-8 (a BOM is
fine: Excel's "CSV UTF-8" writes one). XLSX is read from its first sheet, values as last calculated.

Storing: workers go in with `insert_many(ordered=False)`, one document per worker in exactly the shape
`MongoWorkerRepository.add` writes (its own events and audit event in its outbox), so a row is stored
whole or not at all; a duplicate key means an earlier run already stored that row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import openpyxl
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from mrc_plumbing.idempotency import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD
from mrc_plumbing.outbox import with_events
from mrc_registry.adapters.mongo_repository import (
    WorkerDocument,
    WorkerMatchKeyDocument,
    _events,
    _state,
    add_to_keys,
)
from mrc_registry.service_layer.bulk_import import (
    ImportCounts,
    ImportJob,
    ImportStatus,
    NewWorker,
    RowError,
)

# An XLSX is a zip of XML: refuse archives that unpack to far more than any survey needs (zip bombs).
MAX_XLSX_UNPACKED_BYTES = 256 * 1024 * 1024
DUPLICATE_KEY = 11000
_XLSX_MAGIC = b"PK\x03\x04"
_HEADER_SEPARATORS = re.compile(r"[\s\-]+")


class TableError(ValueError):
    """The file cannot be read as a table; the message says why, never quoting a cell."""


@dataclass(frozen=True)
class Table:
    """A survey as read: normalised headers, and data rows as (spreadsheet row number, cells)."""

    headers: tuple[str, ...]
    rows: Sequence[tuple[int, tuple[str, ...]]]

    @property
    def row_count(self) -> int:
        return len(self.rows)


def normalise_header(name: str) -> str:
    return _HEADER_SEPARATORS.sub("_", name.strip().lower())


def read_table(file_name: str, content: bytes, max_rows: int) -> Table:
    """The table in a CSV or XLSX file (told apart by content, not name); TableError if unreadable
    or longer than `max_rows` data rows."""
    if file_name.lower().endswith(".xls") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError("old Excel (.xls) files are not read: save the sheet as .xlsx or as CSV UTF-8")
    rows = _xlsx_rows(content) if content.startswith(_XLSX_MAGIC) else _csv_rows(content)
    try:
        header_number, header = next(rows)
    except StopIteration:
        raise TableError("the file is empty: the first row must hold the column headers") from None
    if header_number != 1:
        raise TableError("the first row must hold the column headers")
    data: list[tuple[int, tuple[str, ...]]] = []
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(data) >= max_rows:
            raise TableError(f"the file has more than {max_rows:,} rows: split it")
        data.append((number, cells))
    return Table(tuple(normalise_header(h) for h in header), data)


def _csv_rows(content: bytes) -> Iterator[tuple[int, tuple[str, ...]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"the file is not UTF-8 text (byte {exc.start}): save it as 'CSV UTF-8' or as .xlsx") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for record in reader:
            number += 1
            yield number, tuple(record)
    except csv.Error as exc:
        raise TableError(f"row {number + 1} is not valid CSV: {exc}") from None


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, tuple[str, ...]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise TableError("the file looks like XLSX but is not a valid one") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise TableError("the workbook unpacks to too much data: save the sheet as CSV UTF-8")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise TableError("the file looks like XLSX but cannot be opened as a workbook") from None
    try:
        if not workbook.worksheets:
            raise TableError("the workbook has no sheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored dimensions may be wrong; read every row there is
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, tuple(_cell_text(value) for value in values)
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """A cell as the text a registrar typed: 9876543210 and 1988 without '.0', dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# -- storing -----------------------------------------------------------------------------------------


class MongoBulkWorkerWriter:
    """`BulkWorkerWriter` on the collections of `MongoWorkerRepository`: the workers, then their match keys
    (derived data, written after the workers as the repository does, so that deduplication and search find them)."""

    def __init__(self) -> None:
        self._collection: Collection[Any] = WorkerDocument._get_collection()
        self._match_keys: Collection[Any] = WorkerMatchKeyDocument._get_collection()

    def insert_batch(self, workers: Sequence[NewWorker]) -> set[str]:
        documents = [
            with_events(
                {
                    "_id": new.worker.worker_id,
                    **_state(new.worker, new.match_keys),
                    IDEMPOTENCY_FIELD: new.idempotency_key,
                    FINGERPRINT_FIELD: new.fingerprint,
                },
                _events(new.worker, new.also_publish),
            )
            for new in workers
        ]
        if not documents:
            return set()
        ids = [d["_id"] for d in documents]
        inserted = set(ids)
        try:
            self._collection.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors) or exc.details.get("writeConcernErrors"):
                raise
            # Each duplicate is a row an earlier run of the same job stored; the others went in.
            already = {e["index"] for e in errors}
            inserted = {worker_id for index, worker_id in enumerate(ids) if index not in already}
        # Every worker of the batch, stored now or before: an earlier run may have stopped in between.
        self._index_match_keys(workers)
        return inserted

    def _index_match_keys(self, workers: Sequence[NewWorker]) -> None:
        by_key: dict[str, list[str]] = {}
        for new in workers:
            for key in new.match_keys:
                by_key.setdefault(key, []).append(new.worker.worker_id)
        add_to_keys(self._match_keys, by_key)


JOBS_COLLECTION = "import_jobs"
REPORTS_COLLECTION = "import_reports"
REPORT_CHUNK = 10_000  # errors per report document, far below the 16 MiB document limit


class MongoImportJobStore:
    """`ImportJobStore`: jobs in `import_jobs`; their reports, which can be long, in chunks in `import_reports`."""

    def __init__(self, db: Database[Any]) -> None:
        self._jobs: Collection[Any] = db[JOBS_COLLECTION]
        self._reports: Collection[Any] = db[REPORTS_COLLECTION]

    def ensure_indexes(self) -> None:
        self._jobs.create_index([("idempotency_key", ASCENDING)], name="idempotency_key", sparse=True)
        self._reports.create_index([("job_id", ASCENDING), ("chunk", ASCENDING)], name="job_chunks")

    def get(self, job_id: str) -> ImportJob | None:
        doc = self._jobs.find_one({"_id": job_id})
        return _job(doc) if doc else None

    def find_by_key(self, idempotency_key: str) -> ImportJob | None:
        doc = self._jobs.find_one({"idempotency_key": idempotency_key})
        return _job(doc) if doc else None

    def claim(self, job: ImportJob, *, stale_before: dt.datetime) -> tuple[bool, ImportJob]:
        document = _job_document(job)
        try:
            once: dict[str, Any] = {"created_at": job.created_at}
            if job.idempotency_key:
                once["idempotency_key"] = job.idempotency_key
            self._jobs.insert_one({**document, **once})
            return True, job
        except DuplicateKeyError:
            pass
        # Resume a job that failed, or whose importer stopped sending heartbeats (it died).
        resumable = {
            "_id": job.job_id,
            "$or": [
                {"status": ImportStatus.FAILED.value},
                {"status": ImportStatus.RUNNING.value, "updated_at": {"$lt": stale_before}},
            ],
        }
        if self._jobs.update_one(resumable, {"$set": document}).matched_count:
            stored = self.get(job.job_id)
            assert stored is not None
            return True, stored
        current = self.get(job.job_id)
        if current is None:
            raise RuntimeError(f"import job {job.job_id} clashed on a unique index but is not stored")
        return False, current

    def save(self, job: ImportJob, report: Sequence[RowError] | None = None) -> None:
        if report is not None:
            self._reports.delete_many({"job_id": job.job_id})
            chunks = [report[i : i + REPORT_CHUNK] for i in range(0, len(report), REPORT_CHUNK)]
            if chunks:
                self._reports.insert_many(
                    [
                        {
                            "_id": f"{job.job_id}:{n:05d}",
                            "job_id": job.job_id,
                            "chunk": n,
                            # Objects, not arrays: FerretDB stores no nested arrays.
                            "errors": [
                                {
                                    "row": e.row,
                                    "row_key": e.row_key,
                                    "code": e.code,
                                    "field": e.field,
                                    "problem": e.problem,
                                }
                                for e in chunk
                            ],
                        }
                        for n, chunk in enumerate(chunks)
                    ]
                )
        self._jobs.update_one({"_id": job.job_id}, {"$set": _job_document(job)})

    def report(self, job_id: str) -> list[RowError]:
        cursor = self._reports.find({"job_id": job_id}).sort("chunk", ASCENDING)
        return [RowError(**error) for doc in cursor for error in doc["errors"]]


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


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _job(doc: dict[str, Any]) -> ImportJob:
    completed_at = doc.get("completed_at")
    return ImportJob(
        job_id=doc["_id"],
        partner_id=doc["partner_id"],
        file_name=doc["file_name"],
        sha256=doc["sha256"],
        status=ImportStatus(doc["status"]),
        counts=ImportCounts(**doc["counts"]),
        created_at=_utc(doc["created_at"]),
        updated_at=_utc(doc["updated_at"]),
        completed_at=_utc(completed_at) if completed_at else None,
        idempotency_key=doc.get("idempotency_key", ""),
        error=doc.get("error", ""),
    )
