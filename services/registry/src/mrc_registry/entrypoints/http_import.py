"""REST API for bulk imports of field surveys: /v1/imports.

`POST /v1/imports` takes a multipart upload (field `file`, CSV or XLSX), checks the file as a whole and
answers 202 with the job; its rows are imported in the background and `GET /v1/imports/{id}` shows the
progress. The caller is authenticated before a byte of the file is read, and the body is cut off past
`MAX_UPLOAD_BYTES` whether or not the client sent a Content-Length. A job this process was running when
it stopped stays `running` until its lease lapses; uploading the same file again then finishes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from mrc_kernel.caller import Caller
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.http_models import IdempotencyHeader
from mrc_plumbing.http_uploads import ENVELOPE_BYTES, read_upload
from mrc_plumbing.tabular import report_csv
from mrc_registry.domain.import_job import ImportJob, ImportStatus, RowError
from mrc_registry.service_layer.bulk_import import MAX_FILE_BYTES, BulkImporter

REPORT_HEADER = ("row", "row_key", "code", "field", "problem")


def report_of(errors: list[RowError]) -> str:
    return report_csv(REPORT_HEADER, [(e.row, e.row_key, e.code, e.field, e.problem) for e in errors])


log = logging.getLogger(__name__)

IMPORTS_PATH = "/v1/imports"
# Imports running at once in this process; more wait their turn (their jobs show `running`, 0 done).
MAX_CONCURRENT_IMPORTS = 2
_background_imports = ThreadPoolExecutor(max_workers=MAX_CONCURRENT_IMPORTS, thread_name_prefix="import")


def _run_logged(work: Callable[[], object], job_id: str) -> None:
    try:
        work()
    except Exception:  # the job itself records that it failed and how to finish it
        log.exception("background import failed", extra={"job_id": job_id})


# The file plus the multipart framing around it: the body limit of IMPORTS_PATH (create_http_app's
# `body_limits_by_path`), larger than the app-wide 1 MiB for JSON requests.
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + ENVELOPE_BYTES

_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the survey, CSV UTF-8 or XLSX"}
                    },
                }
            }
        },
    }
}


class ImportCountsView(BaseModel):
    total: int
    registered: int
    linked: int
    failed: int


class ImportJobResponse(BaseModel):
    job_id: str
    status: ImportStatus
    file_name: str
    sha256: str
    counts: ImportCountsView
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    error: str
    report_url: str

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobResponse:
        return cls(
            job_id=job.job_id,
            status=job.status,
            file_name=job.file_name,
            sha256=job.sha256,
            counts=ImportCountsView(**job.counts.__dict__),
            created_at=job.created_at,
            updated_at=job.updated_at,
            completed_at=job.completed_at,
            error=job.error,
            report_url=f"/v1/imports/{job.job_id}/report.csv",
        )


def imports_router(importer: BulkImporter, auth: HttpAuth) -> APIRouter:
    router = APIRouter(tags=["imports"])

    @router.post(
        IMPORTS_PATH,
        status_code=202,
        response_model=ImportJobResponse,
        openapi_extra=_UPLOAD_SCHEMA,
        summary="Register the workers of a field survey (CSV or XLSX)",
        description=(
            "202: the file was accepted and its rows are being imported; follow `Location` until `status` is "
            "`completed` (or `failed`: upload the same file again to finish it). 200: this file was uploaded "
            "before; its job is returned. File-level problems (size, format, columns) are answered at once."
        ),
    )
    async def upload_survey(
        request: Request,
        response: Response,
        idempotency_key: IdempotencyHeader = "",
        caller: Caller = auth.requires(Scope.WORKERS_WRITE),
    ) -> ImportJobResponse:
        upload = await read_upload(request, max_file_bytes=MAX_FILE_BYTES, what="survey")
        file_name, content = upload.file_name, upload.content
        outcome, work = await run_in_threadpool(
            importer.start, file_name, content, caller, idempotency_key=idempotency_key.strip()
        )
        response.headers["Location"] = f"/v1/imports/{outcome.job.job_id}"
        if work is None:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        else:
            # A survey of 100k rows takes minutes: no client should hold a request open that long.
            _background_imports.submit(_run_logged, work, outcome.job.job_id)
        return ImportJobResponse.of(outcome.job)

    @router.get("/v1/imports/{job_id}", response_model=ImportJobResponse)
    def get_import(job_id: str, caller: Caller = auth.requires(Scope.WORKERS_WRITE)) -> ImportJobResponse:
        return ImportJobResponse.of(importer.job(job_id, caller))

    @router.get(
        "/v1/imports/{job_id}/report.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}, "description": "one line per problem found in a row"}},
    )
    def import_report(job_id: str, caller: Caller = auth.requires(Scope.WORKERS_WRITE)) -> Response:
        job = importer.job(job_id, caller)
        stem = PurePosixPath(job.file_name).stem.encode("ascii", "ignore").decode() or "import"
        safe_stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
        return Response(
            report_of(importer.report(job_id, caller)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{safe_stem}-errors.csv"'},
        )

    return router


__all__ = ["MAX_UPLOAD_BYTES", "imports_router"]
