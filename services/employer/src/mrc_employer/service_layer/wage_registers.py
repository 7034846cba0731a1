"""Wage registers (CSV or XLSX, one worker and one wage period per row) imported in one upload.

Each row is checked by `domain.wage_register` (the columns, then the same rules as a single wage
record) and assessed against the minimum-wage table; a row that breaks a rule is reported (row,
column, problem; never the cell's value) and the others are stored. Each valid row becomes one
wage-record document, written `batch_size` at a time; then the records' events (`ComplianceRecorded`,
and `WageShortfallFound` / `RecruitmentFeeFound` where found) are written in a few documents of their
own, and last the batch's document, with the batch's audit event (one per batch: it names the batch,
whose document lists its records) and `WageRecordsBatched`. The relay thus reads and clears a few
documents per batch instead of one per row (the outbox writes and clears were most of an import's
cost on FerretDB). The compliance
history takes the batch as one (a month's totals per batch), so a register of thousands of rows is
one line of history per month, not thousands.

Idempotent twice over. The job's id derives from the partner, the organisation and the file's
SHA-256, so the same file uploaded again returns the first job (or finishes one that stopped). Each
row's id derives from its `row_key` when the file gives one (a re-upload of the same row stores
nothing new), otherwise from the file and the row number.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from mrc_employer.domain.compliance_history import summarise_wages
from mrc_employer.domain.organisation import Organisation
from mrc_employer.domain.organisation_access import acts_for_an_employer, source_of
from mrc_employer.domain.values import looks_personal
from mrc_employer.domain.wage_register import check_columns, wage_record_from_row
from mrc_employer.domain.wage_register_job import (
    DUPLICATE_IN_FILE,
    INVALID,
    JobCounts,
    JobStatus,
    RowProblem,
    WageRegisterJob,
)
from mrc_employer.domain.wages import AssessmentOutcome, WageRecord
from mrc_employer.service_layer.access import RECORD_WRITING_SCOPES, OrganisationAccess, require_any, with_purpose
from mrc_employer.service_layer.minimum_wages import MinimumWageTables
from mrc_employer.service_layer.ports import (
    ComplianceRecords,
    NewRecord,
    Organisations,
    WageBatchStored,
    WageRegisterJobs,
)
from mrc_kernel.audit import Action, AuditRecorder
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import (
    FieldViolation,
    FileTooLarge,
    IdempotencyKeyReused,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from mrc_kernel.idempotency import IdDeriver, scoped_key

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
BATCH_SIZE = 1000
MAX_PENDING_BATCHES = 2
RUNNING_LEASE = timedelta(minutes=2)
MAX_FILE_NAME_LENGTH = 200
WAGE_FIELDS = ("worker", "period", "days_worked", "amount_paid", "deductions")
NOT_FOUND = "no such wage register"
# The audit trail's resource for a batch of wage records (its id is the batch's; its document lists them).
BATCH_RESOURCE = "wage_record_batch"


class TabularFile(Protocol):
    @property
    def headers(self) -> tuple[str, ...]: ...

    @property
    def rows(self) -> Sequence[tuple[int, tuple[str, ...]]]: ...


# Reads CSV or XLSX content (file name, bytes, row limit); raises ValueError saying why it cannot.
TableReader = Callable[[str, bytes, int], TabularFile]


@dataclass(frozen=True)
class ImportOutcome:
    job: WageRegisterJob
    replayed: bool


@dataclass
class _Progress:
    counts: JobCounts
    problems: list[RowProblem] = field(default_factory=list)
    row_keys: dict[str, int] = field(default_factory=dict)

    def add(self, **more: int) -> None:
        self.counts = replace(self.counts, **{k: getattr(self.counts, k) + v for k, v in more.items()})


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class WageRegisterImporter:
    def __init__(
        self,
        organisations: Organisations,
        records: ComplianceRecords,
        jobs: WageRegisterJobs,
        tables: MinimumWageTables,
        audit: AuditRecorder,
        ids: IdDeriver,
        read_table: TableReader,
        *,
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._records = records
        self._jobs = jobs
        self._tables = tables
        self._audit = audit
        self._ids = ids
        self._read_table = read_table
        self._clock = clock
        self._batch_size = batch_size
        self._access = OrganisationAccess(organisations, audit)

    def run(
        self, organisation_id: str, file_name: str, content: bytes, caller: Caller, *, idempotency_key: str = ""
    ) -> ImportOutcome:
        outcome, work = self.start(organisation_id, file_name, content, caller, idempotency_key=idempotency_key)
        return work() if work is not None else outcome

    def start(
        self, organisation_id: str, file_name: str, content: bytes, caller: Caller, *, idempotency_key: str = ""
    ) -> tuple[ImportOutcome, Callable[[], ImportOutcome] | None]:
        """Check the file and claim its job; the work that imports its rows, or None for a replay."""
        require_any(caller, RECORD_WRITING_SCOPES)
        caller = with_purpose(caller)
        organisation_id = organisation_id.strip() or (caller.employer_id if acts_for_an_employer(caller) else "")
        if not organisation_id:
            raise InvalidArgument.for_field("employer_id", "must be set")
        organisation = self._access.load(organisation_id, caller, action=Action.CREATE)
        if len(content) > MAX_FILE_BYTES:
            raise FileTooLarge(f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MiB: split it")
        if not content:
            raise InvalidArgument.for_field("file", "is empty")
        sha256 = hashlib.sha256(content).hexdigest()
        job_id = self._ids.derive(
            "wage-register", scoped_key(caller.partner_id, f"{organisation.organisation_id}:{sha256}")
        )
        key = scoped_key(caller.partner_id, idempotency_key) if idempotency_key else ""
        if key and (earlier := self._jobs.find_by_key(key)) is not None and earlier.job_id != job_id:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different file")
        existing = self._jobs.get(job_id)
        if existing is not None and existing.status is JobStatus.COMPLETED:
            return ImportOutcome(existing, replayed=True), None
        try:
            table = self._read_table(file_name, content, MAX_ROWS)
        except ValueError as exc:
            raise InvalidArgument.for_field("file", str(exc)) from None
        if problems := check_columns(table.headers):
            raise InvalidArgument(problems)
        now = self._clock()
        job = WageRegisterJob(
            job_id=job_id,
            organisation_id=organisation.organisation_id,
            partner_id=caller.partner_id,
            file_name=_clean_file_name(file_name),
            sha256=sha256,
            status=JobStatus.RUNNING,
            counts=JobCounts(total=len(table.rows)),
            created_at=now,
            updated_at=now,
            idempotency_key=key,
        )
        claimed, job = self._jobs.claim(job, stale_before=now - RUNNING_LEASE)
        if not claimed:
            return ImportOutcome(job, replayed=True), None
        return ImportOutcome(job, replayed=False), functools.partial(
            self._import_rows, job, table, organisation, caller, now
        )

    def job(self, job_id: str, caller: Caller) -> WageRegisterJob:
        require_any(caller, RECORD_WRITING_SCOPES)
        job = self._jobs.get(job_id) if job_id else None
        if job is None or job.partner_id != caller.partner_id:
            raise NotFound(NOT_FOUND)
        return job

    def report(self, job_id: str, caller: Caller) -> list[RowProblem]:
        return self._jobs.report(self.job(job_id, caller).job_id)

    # -- the import ----------------------------------------------------------------------------------

    def _import_rows(
        self, job: WageRegisterJob, table: TabularFile, organisation: Organisation, caller: Caller, now: datetime
    ) -> ImportOutcome:
        progress = _Progress(JobCounts(total=len(table.rows)))
        timings = {"checking_seconds": 0.0, "waiting_for_store_seconds": 0.0}

        def heartbeat() -> None:
            self._jobs.save(replace(job, counts=progress.counts, updated_at=self._clock()))

        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wage-register-writer") as writer:
                pending: deque[tuple[Future[None], list[WageRecord]]] = deque()

                def account_for_oldest() -> None:
                    waited = time.perf_counter()
                    insert, stored = pending.popleft()
                    insert.result()
                    below = sum(r.assessment.outcome is AssessmentOutcome.BELOW_MINIMUM for r in stored)
                    unrated = sum(r.assessment.outcome is AssessmentOutcome.NO_APPLICABLE_RATE for r in stored)
                    progress.add(stored=len(stored), below_minimum=below, no_applicable_rate=unrated)
                    heartbeat()
                    timings["waiting_for_store_seconds"] += time.perf_counter() - waited

                for number, batch in enumerate(_chunks(table.rows, self._batch_size)):
                    checked = time.perf_counter()
                    batch_id = f"{job.job_id}:{number:05d}"
                    records = self._check_batch(
                        batch, table.headers, batch_id, job, organisation, caller, now, progress
                    )
                    timings["checking_seconds"] += time.perf_counter() - checked
                    work = functools.partial(self._store_batch, batch_id, job, records, caller, now)
                    pending.append((writer.submit(work), [n.record for n in records]))
                    while pending and (len(pending) > MAX_PENDING_BATCHES or pending[0][0].done()):
                        account_for_oldest()
                while pending:
                    account_for_oldest()
        except Exception as exc:
            log.exception("wage register import stopped", extra={"job_id": job.job_id})
            failed = replace(
                job,
                status=JobStatus.FAILED,
                counts=progress.counts,
                updated_at=self._clock(),
                error="the import stopped part-way; upload the same file again to finish it",
            )
            try:
                self._jobs.save(failed, progress.problems)
            except Exception:
                log.exception("could not record the failed import", extra={"job_id": job.job_id})
            raise Unavailable(f"import {job.job_id} stopped part-way; upload the same file again to finish it") from exc
        finished = self._clock()
        job = replace(
            job, status=JobStatus.COMPLETED, counts=progress.counts, updated_at=finished, completed_at=finished
        )
        self._jobs.save(job, progress.problems)
        log.info(
            "wage register imported",
            extra={"job_id": job.job_id, **asdict(job.counts), **{k: round(v, 3) for k, v in timings.items()}},
        )
        return ImportOutcome(job, replayed=False)

    def _check_batch(
        self,
        batch: Sequence[tuple[int, tuple[str, ...]]],
        headers: Sequence[str],
        batch_id: str,
        job: WageRegisterJob,
        organisation: Organisation,
        caller: Caller,
        now: datetime,
        progress: _Progress,
    ) -> list[NewRecord]:
        worksites = {w.worksite_id: w for w in organisation.worksites if caller.covers_place(*w.place.scope)}
        table = self._tables.current()
        source = source_of(caller)
        new: list[NewRecord] = []
        for number, cells in batch:
            row = dict(zip(headers, cells, strict=False))
            row_key = (row.get("row_key") or "").strip()
            key = row_key or f"row-{number}"
            if key in progress.row_keys:
                problem = f"has the same row_key as row {progress.row_keys[key]}"
                self._fail(number, row_key, DUPLICATE_IN_FILE, [FieldViolation("row_key", problem)], progress)
                continue
            progress.row_keys[key] = number
            worksite_id = (row.get("worksite_id") or "").strip()
            if worksite_id not in worksites and organisation.worksite(worksite_id) is not None:
                outside = FieldViolation("worksite_id", "is outside your partner's geography")
                self._fail(number, row_key, INVALID, [outside], progress)
                continue
            # With a row_key, the row is the same record in any file; without, this file's row.
            scope = f"{organisation.organisation_id}:row:{row_key}" if row_key else f"{job.sha256}:{number}"
            idempotency_key = scoped_key(caller.partner_id, scope)
            result = wage_record_from_row(
                row,
                record_id=self._ids.derive("wage-record", idempotency_key),
                organisation_id=organisation.organisation_id,
                worksites=worksites,
                table=table,
                source=source,
                now=now,
                batch_id=batch_id,
            )
            if isinstance(result, list):
                self._fail(number, row_key, INVALID, result, progress)
                continue
            new.append(NewRecord(result, caller.partner_id, idempotency_key, []))
        return new

    def _store_batch(
        self, batch_id: str, job: WageRegisterJob, records: list[NewRecord], caller: Caller, now: datetime
    ) -> None:
        if not records:
            return
        # One audit event for the batch (its document lists the records): who wrote which wage records.
        audit = self._audit.event(
            caller,
            Action.CREATE,
            BATCH_RESOURCE,
            batch_id,
            WAGE_FIELDS,
            state_code=records[0].record.key.state_code,
        )
        below = sum(n.record.assessment.outcome is AssessmentOutcome.BELOW_MINIMUM for n in records)
        batch = WageBatchStored(
            batch_id=batch_id,
            organisation_id=job.organisation_id,
            job_id=job.job_id,
            record_ids=tuple(n.record.record_id for n in records),
            records_below_minimum=below,
            stored_at=now,
            summary=summarise_wages([n.record for n in records]),
        )
        self._records.add_batch(batch, records, also_publish=[audit])

    @staticmethod
    def _fail(number: int, row_key: str, code: str, problems: Sequence[FieldViolation], progress: _Progress) -> None:
        shown_key = "[hidden: looks like a phone or Aadhaar number]" if looks_personal(row_key) else row_key[:128]
        for problem in dict.fromkeys((p.field, p.description) for p in problems):
            progress.problems.append(RowProblem(number, shown_key, code, problem[0], problem[1]))
        progress.add(refused=1)


def _clean_file_name(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1].strip()
    return "".join(ch for ch in base if ch.isprintable())[:MAX_FILE_NAME_LENGTH] or "upload"
