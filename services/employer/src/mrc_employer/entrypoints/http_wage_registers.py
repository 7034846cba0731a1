"""REST API for wage-register uploads: /v1/wage-registers.

`POST /v1/wage-registers` takes a multipart upload (field `file`, CSV or XLSX; field `employer_id`,
which an employer's own client may leave out), checks the file as a whole and answers 202 with the
job; its rows are imported in the background and `GET /v1/wage-registers/{id}` shows the progress,
`.../report.csv` the refused rows. The caller is authenticated before a byte of the file is read, and
the body is cut off past `MAX_UPLOAD_BYTES` whether or not the client sent a Content-Length.
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

from mrc_employer.domain.wage_register_job import JobStatus, RowProblem, WageRegisterJob
from mrc_employer.entrypoints.http_common import any_scope
from mrc_employer.service_layer.access import RECORD_WRITING_SCOPES
from mrc_employer.service_layer.wage_registers import MAX_FILE_BYTES, WageRegisterImporter
from mrc_kernel.caller import Caller
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.http_models import IdempotencyHeader
from mrc_plumbing.http_uploads import ENVELOPE_BYTES, read_upload
from mrc_plumbing.tabular import report_csv

log = logging.getLogger(__name__)

WAGE_REGISTERS_PATH = "/v1/wage-registers"
REPORT_HEADER = ("row", "row_key", "code", "column", "problem")
MAX_CONCURRENT_IMPORTS = 2
# The file plus the multipart framing around it (`create_http_app`'s `body_limits_by_path`).
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + ENVELOPE_BYTES
background_imports = ThreadPoolExecutor(max_workers=MAX_CONCURRENT_IMPORTS, thread_name_prefix="wage-register")

_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "CSV UTF-8 or XLSX"},
                        "employer_id": {
                            "type": "string",
                            "description": "whose register; an employer's own client may leave it out",
                        },
                    },
                }
            }
        },
    }
}


def run_logged(work: Callable[[], object], job_id: str) -> None:
    try:
        work()
    except Exception:  # the job itself records that it failed and how to finish it
        log.exception("background wage register import failed", extra={"job_id": job_id})


def report_of(problems: list[RowProblem]) -> str:
    return report_csv(REPORT_HEADER, [(p.row, p.row_key, p.code, p.column, p.problem) for p in problems])


class JobCountsView(BaseModel):
    total: int
    stored: int
    refused: int
    below_minimum: int
    no_applicable_rate: int


class WageRegisterJobResponse(BaseModel):
    job_id: str
    employer_id: str
    status: JobStatus
    file_name: str
    sha256: str
    counts: JobCountsView
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    error: str
    report_url: str

    @classmethod
    def of(cls, job: WageRegisterJob) -> WageRegisterJobResponse:
        return cls(
            job_id=job.job_id,
            employer_id=job.organisation_id,
            status=job.status,
            file_name=job.file_name,
            sha256=job.sha256,
            counts=JobCountsView(**job.counts.__dict__),
            created_at=job.created_at,
            updated_at=job.updated_at,
            completed_at=job.completed_at,
            error=job.error,
            report_url=f"{WAGE_REGISTERS_PATH}/{job.job_id}/report.csv",
        )


def wage_registers_router(importer: WageRegisterImporter, auth: HttpAuth) -> APIRouter:
    router = APIRouter(tags=["wage registers"])
    recorder = any_scope(auth, *RECORD_WRITING_SCOPES)

    @router.post(
        WAGE_REGISTERS_PATH,
        status_code=202,
        response_model=WageRegisterJobResponse,
        openapi_extra=_UPLOAD_SCHEMA,
        summary="Import a wage register (CSV or XLSX)",
        description=(
            "202: accepted, rows are being imported; follow `Location` until `status` is `completed` (or `failed`: "
            "upload the same file again to finish it). 200: this file was uploaded before; its job is returned."
        ),
    )
    async def upload_wage_register(
        request: Request, response: Response, idempotency_key: IdempotencyHeader = "", caller: Caller = recorder
    ) -> WageRegisterJobResponse:
        upload = await read_upload(request, max_file_bytes=MAX_FILE_BYTES, what="register", fields=["employer_id"])
        file_name, content, employer_id = upload.file_name, upload.content, upload.fields["employer_id"]
        outcome, work = await run_in_threadpool(
            importer.start, employer_id, file_name, content, caller, idempotency_key=idempotency_key.strip()
        )
        response.headers["Location"] = f"{WAGE_REGISTERS_PATH}/{outcome.job.job_id}"
        if work is None:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        else:
            background_imports.submit(run_logged, work, outcome.job.job_id)
        return WageRegisterJobResponse.of(outcome.job)

    @router.get(f"{WAGE_REGISTERS_PATH}/{{job_id}}", response_model=WageRegisterJobResponse)
    def get_wage_register(job_id: str, caller: Caller = recorder) -> WageRegisterJobResponse:
        return WageRegisterJobResponse.of(importer.job(job_id, caller))

    @router.get(
        f"{WAGE_REGISTERS_PATH}/{{job_id}}/report.csv",
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}, "description": "one line per problem found in a row"}},
    )
    def wage_register_report(job_id: str, caller: Caller = recorder) -> Response:
        job = importer.job(job_id, caller)
        stem = PurePosixPath(job.file_name).stem.encode("ascii", "ignore").decode() or "wage-register"
        safe_stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
        return Response(
            report_of(importer.report(job_id, caller)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{safe_stem}-problems.csv"'},
        )

    return router
