"""Bulk registration: a partner's field survey (CSV or XLSX, thousands of rows) imported in one upload.

Each row is the `RegisterWorker` command the REST API would build (`survey_rows`), prepared by the same
rules as a single registration (`registration.prepare_registration`); a row that breaks any of them is
reported (row, column, problem; never a phone or identity number) and the others go on.

Nothing is half-written: each valid row becomes one worker document holding its `WorkerRegistered`
event and its audit event in its outbox, exactly as a single registration stores it, written in
batches (one document = one atomic write).

Idempotent twice over. The job's id derives from the partner and the file's SHA-256, so the same file
uploaded again returns the first job. Each row's idempotency key is `import:<file sha256>:<row_key>`
scoped by partner (the worker id derives from it, as in a single registration), so re-running a job
that stopped half-way stores only the rows still missing.

Duplicates are handled as for a single registration: a certain match with a record the partner
reaches links its consent there; a match with a record it does not reach keeps the row apart as its own
record and queues a match review (nothing is disclosed); possible matches go to the review queue. A
certain match with an earlier row of the same file is reported as `duplicate_in_file`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import (
    Conflict,
    FileTooLarge,
    IdempotencyKeyReused,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from mrc_kernel.idempotency import IdDeriver, scoped_key
from mrc_kernel.policy import Purpose, require_in_geography
from mrc_kernel.roles import Scope
from mrc_registry.domain.identity.matching import PHONE_KIND, CandidateFacts, MatchDecision, MatchThresholds, score
from mrc_registry.domain.import_job import (
    DUPLICATE_IN_FILE,
    INVALID,
    ImportCounts,
    ImportJob,
    ImportStatus,
    RowError,
)
from mrc_registry.domain.worker import Worker
from mrc_registry.domain.worker_access import RESOURCE
from mrc_registry.service_layer.commands import DocumentInput
from mrc_registry.service_layer.deduplication import Deduplicator, Match, MatchKind, facts_of
from mrc_registry.service_layer.ports import AccessRecorder, NewWorker, Protector, WorkerRepository
from mrc_registry.service_layer.protection import WorkerProtection
from mrc_registry.service_layer.registration import PreparedRegistration, prepare_registration
from mrc_registry.service_layer.survey_rows import (
    COLUMN_OF_MATCH_KIND,
    DOCUMENT_COLUMNS,
    SurveyRow,
    check_headers,
    column_of,
    parse_row,
    redact,
)
from mrc_registry.service_layer.workers import PERSONAL_FIELDS, WorkerAccess

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
BATCH_SIZE = 500  # workers per insert
# Inserts run in a writer thread while the next rows are checked; at most this many batches wait.
MAX_PENDING_BATCHES = 2
# Exact-match keys per store query (all the file's keys are looked up before the first row is stored).
LOOKUP_KEYS_PER_QUERY = 20_000
# A running job that has not reported progress for this long is taken to have died, and may be resumed.
RUNNING_LEASE = timedelta(minutes=2)
MAX_FILE_NAME_LENGTH = 200
# Earlier rows compared with a new one per shared key (a surveyor's own phone may be on every row);
# a single registration likewise scores at most 50 stored candidates.
MAX_IN_FILE_CANDIDATES = 50


@dataclass(frozen=True)
class ImportOutcome:
    job: ImportJob
    replayed: bool  # this upload found the job already done (or under way) instead of running it


class TabularFile(Protocol):
    @property
    def headers(self) -> tuple[str, ...]: ...

    @property
    def rows(self) -> Sequence[tuple[int, tuple[str, ...]]]:
        """Data rows as (row number in the sheet, cells), blank rows left out."""
        ...


# Reads CSV or XLSX content (file name, bytes, row limit); raises ValueError saying why it cannot.
TableReader = Callable[[str, bytes, int], TabularFile]


class ImportJobStore(Protocol):
    def get(self, job_id: str) -> ImportJob | None: ...

    def find_by_key(self, idempotency_key: str) -> ImportJob | None: ...

    def claim(self, job: ImportJob, *, stale_before: datetime) -> tuple[bool, ImportJob]:
        """Store `job` to run it, unless a job with its id is completed or running (updated since
        `stale_before`): then False and that job. A failed or stale job is taken over (True)."""
        ...

    def save(self, job: ImportJob, report: Sequence[RowError] | None = None) -> None:
        """Update the job (progress, outcome) and, when given, replace its report."""
        ...

    def report(self, job_id: str) -> list[RowError]: ...


def _lookup_keys(facts: CandidateFacts) -> set[str]:
    """The exact-match keys among a worker's stored blocking keys: identity documents and phone."""
    keys = {f"{kind}:{index}" for kind, index in facts.identity_indexes if index}
    if facts.phone_index:
        keys.add(f"{PHONE_KIND}:{facts.phone_index}")
    return keys


@dataclass
class _Accepted:
    row: SurveyRow
    prepared: PreparedRegistration
    facts: CandidateFacts
    in_file_possible: list[tuple[int, Match]] = field(default_factory=list)  # (earlier row, match)


@dataclass(frozen=True)
class _New:
    accepted: _Accepted
    record: NewWorker
    matches: list[Match]
    reachable: list[str]  # the matched records this partner reaches


@dataclass
class _Progress:
    counts: ImportCounts
    errors: list[RowError] = field(default_factory=list)
    # Exact-match keys of the rows accepted so far -> (row number, worker, facts).
    seen: dict[str, list[tuple[int, Worker, CandidateFacts]]] = field(default_factory=dict)
    row_keys: dict[str, int] = field(default_factory=dict)  # row idempotency key -> first row number
    registered_rows: set[int] = field(default_factory=set)  # rows that made a new worker

    def add(self, **more: int) -> None:
        self.counts = replace(self.counts, **{k: getattr(self.counts, k) + v for k, v in more.items()})


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BulkImporter:
    def __init__(
        self,
        workers: WorkerRepository,
        jobs: ImportJobStore,
        protector: Protector,
        audit: AccessRecorder,
        deduplicator: Deduplicator,
        ids: IdDeriver,
        read_table: TableReader,
        *,
        thresholds: MatchThresholds | None = None,
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = BATCH_SIZE,
        own_state_code: str = "",
    ) -> None:
        self._own_state_code = own_state_code
        self._workers = workers
        self._jobs = jobs
        self._protector = protector
        self._protection = WorkerProtection(protector)
        self._audit = audit
        self._dedup = deduplicator
        self._ids = ids
        self._read_table = read_table
        self._thresholds = thresholds or MatchThresholds()
        self._clock = clock
        self._batch_size = batch_size
        self._access = WorkerAccess(workers, audit, clock)

    # -- use cases -----------------------------------------------------------------------------------

    def run(self, file_name: str, content: bytes, caller: Caller, *, idempotency_key: str = "") -> ImportOutcome:
        """Import a survey, or return the job that already imported (or is importing) the same file."""
        outcome, work = self.start(file_name, content, caller, idempotency_key=idempotency_key)
        return work() if work is not None else outcome

    def start(
        self, file_name: str, content: bytes, caller: Caller, *, idempotency_key: str = ""
    ) -> tuple[ImportOutcome, Callable[[], ImportOutcome] | None]:
        """Check the file and claim its job; the work that imports its rows, or None for a replay.

        The checks that concern the whole file (size, format, headers, idempotency) happen here, so the
        caller learns of them at once; the rows are imported when the returned work runs.
        """
        caller.require(Scope.WORKERS_WRITE)
        check_purpose(caller.purpose, "registration")
        if len(content) > MAX_FILE_BYTES:
            raise FileTooLarge(f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MiB: split it")
        if not content:
            raise InvalidArgument.for_field("file", "is empty")
        sha256 = hashlib.sha256(content).hexdigest()
        job_id = self._ids.derive("import", scoped_key(caller.partner_id, sha256))
        key = scoped_key(caller.partner_id, idempotency_key) if idempotency_key else ""
        if key and (earlier := self._jobs.find_by_key(key)) is not None and earlier.job_id != job_id:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different file")
        existing = self._jobs.get(job_id)
        if existing is not None and existing.status is ImportStatus.COMPLETED:
            return ImportOutcome(existing, replayed=True), None

        try:
            table = self._read_table(file_name, content, MAX_ROWS)
        except ValueError as exc:
            raise InvalidArgument.for_field("file", str(exc)) from None
        check_headers(table.headers)

        now = self._clock()
        job = ImportJob(
            job_id=job_id,
            partner_id=caller.partner_id,
            file_name=_clean_file_name(file_name),
            sha256=sha256,
            status=ImportStatus.RUNNING,
            counts=ImportCounts(total=len(table.rows)),
            created_at=now,
            updated_at=now,
            idempotency_key=key,
        )
        claimed, job = self._jobs.claim(job, stale_before=now - RUNNING_LEASE)
        if not claimed:
            return ImportOutcome(job, replayed=True), None
        return ImportOutcome(job, replayed=False), functools.partial(self._import_rows, job, table, caller, now)

    def job(self, job_id: str, caller: Caller) -> ImportJob:
        caller.require(Scope.WORKERS_WRITE)
        job = self._jobs.get(job_id) if job_id else None
        if job is None or job.partner_id != caller.partner_id:
            raise NotFound("no such import")
        return job

    def report(self, job_id: str, caller: Caller) -> list[RowError]:
        return self._jobs.report(self.job(job_id, caller).job_id)

    # -- the import ----------------------------------------------------------------------------------

    def _import_rows(self, job: ImportJob, table: TabularFile, caller: Caller, now: datetime) -> ImportOutcome:
        progress = _Progress(ImportCounts(total=len(table.rows)))
        # Where an import spends its time, logged when it completes (operators size imports with it).
        timings = {"lookup_seconds": 0.0, "checking_seconds": 0.0, "waiting_for_store_seconds": 0.0}

        def heartbeat() -> None:  # progress for GET, and the sign of life that keeps the job ours
            self._jobs.save(replace(job, counts=progress.counts, updated_at=self._clock()))

        try:
            # The file's exact-match keys are looked up once, before any row is checked.
            started = time.perf_counter()
            stored = self._stored_matches(self._file_keys(table))
            timings["lookup_seconds"] = time.perf_counter() - started
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
                pending: deque[tuple[Future[set[str]], list[_New]]] = deque()

                def account_for_oldest() -> None:
                    waited = time.perf_counter()
                    self._stored_batch(*pending.popleft(), progress, now)
                    heartbeat()
                    timings["waiting_for_store_seconds"] += time.perf_counter() - waited

                for batch in _chunks(table.rows, self._batch_size):
                    checked = time.perf_counter()
                    new = self._check_batch(batch, table.headers, job, caller, now, progress, stored)
                    timings["checking_seconds"] += time.perf_counter() - checked
                    pending.append((writer.submit(self._workers.add_many, [n.record for n in new]), new))
                    while pending and (len(pending) > MAX_PENDING_BATCHES or pending[0][0].done()):
                        account_for_oldest()
                while pending:
                    account_for_oldest()
        except Exception as exc:
            log.exception("import stopped", extra={"job_id": job.job_id, "rows_done": progress.counts.done})
            failed = replace(
                job,
                status=ImportStatus.FAILED,
                counts=progress.counts,
                updated_at=self._clock(),
                error="the import stopped part-way; upload the same file again to finish it",
            )
            try:
                self._jobs.save(failed, progress.errors)
            except Exception:
                log.exception("could not record the failed import", extra={"job_id": job.job_id})
            raise Unavailable(f"import {job.job_id} stopped part-way; upload the same file again to finish it") from exc
        finished = self._clock()
        job = replace(
            job, status=ImportStatus.COMPLETED, counts=progress.counts, updated_at=finished, completed_at=finished
        )
        self._jobs.save(job, progress.errors)
        log.info(
            "import completed",
            extra={"job_id": job.job_id, **asdict(job.counts), **{k: round(v, 3) for k, v in timings.items()}},
        )
        return ImportOutcome(job, replayed=False)

    def _file_keys(self, table: TabularFile) -> set[str]:
        """The exact-match keys (blind indexes of phones and documents) of every row that has valid ones."""
        keys: set[str] = set()
        position = {name: i for i, name in enumerate(table.headers) if name}
        phone_at = position.get("phone", -1)
        documents_at = [(position[c], kind) for c, kind in DOCUMENT_COLUMNS.items() if c in position]
        for _, cells in table.rows:
            if 0 <= phone_at < len(cells) and cells[phone_at].strip():
                with contextlib.suppress(ValueError):
                    keys.add(f"{PHONE_KIND}:{self._protection.phone_index(cells[phone_at].strip())}")
            for at, kind in documents_at:
                if at < len(cells) and cells[at].strip():
                    with contextlib.suppress(ValueError):
                        index = self._protection.document_index(DocumentInput(kind, cells[at].strip()))
                        keys.add(f"{kind.value}:{index}")
        return keys

    def _stored_matches(self, keys: set[str]) -> dict[str, list[Worker]]:
        """Stored workers by the exact-match keys they share with the file's rows."""
        found: dict[str, list[Worker]] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), LOOKUP_KEYS_PER_QUERY):
            part = set(ordered[start : start + LOOKUP_KEYS_PER_QUERY])
            # Room for every key to match a few records (a phone a family shares).
            for candidate in self._workers.find_candidates(part, limit=100 + 4 * len(part)):
                for key in _lookup_keys(facts_of(candidate)) & part:
                    found.setdefault(key, []).append(candidate)
        return found

    def _check_batch(
        self,
        batch: Sequence[tuple[int, tuple[str, ...]]],
        headers: Sequence[str],
        job: ImportJob,
        caller: Caller,
        now: datetime,
        progress: _Progress,
        stored: Mapping[str, list[Worker]],
    ) -> list[_New]:
        """Report, link or prepare each row of the batch; the workers to store."""
        new: list[_New] = []
        for number, cells in batch:
            a = self._accept(parse_row(number, headers, cells, job.sha256), caller, now, progress)
            if a is None:
                continue
            worker = a.prepared.worker
            candidates = {c.worker_id: c for key in sorted(_lookup_keys(a.facts)) for c in stored.get(key, [])}
            own = candidates.pop(worker.worker_id, None)
            matches = self._dedup.assess_against(worker, candidates.values()).matches
            reachable = [m for m in matches if self._access.decision(m.worker, caller, Purpose.REGISTRATION)]
            if own is not None:  # stored by an earlier run of this job, which may have stopped before its reviews
                progress.add(registered=1)
                progress.registered_rows.add(a.row.number)
                self._dedup.queue_for_review(own, matches, now, reachable=[m.worker.worker_id for m in reachable])
                continue
            certain = next((m for m in reachable if m.kind is MatchKind.CERTAIN), None)
            if certain is not None:
                self._link(a, certain.worker, caller, progress)
                continue
            audit = self._audit.event(
                caller,
                Action.CREATE,
                RESOURCE,
                worker.worker_id,
                PERSONAL_FIELDS,
                state_code=worker.details.home.state_code,
            )
            record = NewWorker(
                worker, a.prepared.idempotency_key, a.prepared.fingerprint, self._dedup.keys(worker), [audit]
            )
            new.append(_New(a, record, matches, [m.worker.worker_id for m in reachable]))
        return new

    def _stored_batch(self, insert: Future[set[str]], new: list[_New], progress: _Progress, now: datetime) -> None:
        """Account for a batch the writer thread stored (or raise what stopped it)."""
        # Rows already stored by an earlier run of this job count as registered all the same.
        insert.result()
        progress.add(registered=len(new))
        progress.registered_rows.update(n.accepted.row.number for n in new)
        for n in new:
            # Queued on re-runs too (review ids are stable): a first run may have stopped in between.
            in_file = [m for row, m in n.accepted.in_file_possible if row in progress.registered_rows]
            # Earlier rows of the same file are this partner's own records: it reaches them.
            reachable = [*n.reachable, *(m.worker.worker_id for m in in_file)]
            self._dedup.queue_for_review(n.record.worker, [*n.matches, *in_file], now, reachable=reachable)

    def _accept(self, row: SurveyRow, caller: Caller, now: datetime, progress: _Progress) -> _Accepted | None:
        """The row ready to store, or None once its problems are in the report."""
        problems = list(row.problems)
        prepared: PreparedRegistration | None = None
        try:
            prepared = prepare_registration(
                row.command,
                caller,
                self._protection,
                self._protector,
                self._ids,
                now,
                own_state_code=self._own_state_code,
            )
            home = prepared.worker.details.home
            require_in_geography(caller, home.state_code, home.district_code, prefix="home")
        except InvalidArgument as exc:
            # A value the row could not even parse is already reported; the domain would only add "must be set".
            unparsed = {column for column, _ in row.problems}
            problems += [
                (column, v.description)
                for v in exc.violations
                if (column := column_of(v.field, row.document_columns)) not in unparsed
            ]
        if problems or prepared is None:
            self._fail(row, INVALID, problems, progress)
            return None

        if row.key in progress.row_keys:
            column = "row_key" if row.row_key else "row"
            what = "the same row_key" if row.row_key else "the same values"
            self._fail(row, DUPLICATE_IN_FILE, [(column, f"has {what} as row {progress.row_keys[row.key]}")], progress)
            return None
        progress.row_keys[row.key] = row.number
        facts = facts_of(prepared.worker)
        keys = _lookup_keys(facts)
        earlier = {(n, w.worker_id): (w, f) for key in sorted(keys) for n, w, f in progress.seen.get(key, [])}
        in_file_possible: list[tuple[int, Match]] = []
        for (number, _), (other, other_facts) in sorted(earlier.items()):
            result = score(facts, other_facts, self._thresholds)
            if result.decision is MatchDecision.CERTAIN:
                same = [r.removeprefix("same ") for r in result.reasons if r.startswith("same ")]
                column = COLUMN_OF_MATCH_KIND.get(same[0], "row") if same else "row"
                because = f" ({', '.join(result.reasons)})" if result.reasons else ""
                self._fail(row, DUPLICATE_IN_FILE, [(column, f"the same person as row {number}{because}")], progress)
                return None
            if result.decision is MatchDecision.POSSIBLE:
                in_file_possible.append((number, Match(other, MatchKind.POSSIBLE, result.score, tuple(result.reasons))))
        for key in keys:
            rows = progress.seen.setdefault(key, [])
            if len(rows) < MAX_IN_FILE_CANDIDATES:
                rows.append((row.number, prepared.worker, facts))
        return _Accepted(row, prepared, facts, in_file_possible)

    def _link(self, a: _Accepted, existing: Worker, caller: Caller, progress: _Progress) -> None:
        """The person is already registered where this partner reaches: record its consent on that record."""
        consent = a.prepared.consent
        for attempt in range(3):
            if any(c.consent_id == consent.consent_id for c in existing.consents):
                break  # linked by an earlier run of this job
            existing.grant_consent(consent)
            audit = self._audit.event(
                caller,
                Action.UPDATE,
                RESOURCE,
                existing.worker_id,
                ["consents"],
                state_code=existing.details.home.state_code,
            )
            try:
                self._workers.save(existing, also_publish=[audit])
                break
            except Conflict:
                fresh = self._workers.get(existing.worker_id)
                if fresh is None or attempt == 2:
                    self._fail(a.row, INVALID, [("row", "the matching worker changed meanwhile; retry")], progress)
                    return
                existing.__dict__.update(fresh.__dict__)  # the batch shares this object: refresh it in place
        progress.add(linked=1)

    def _fail(self, row: SurveyRow, code: str, problems: Sequence[tuple[str, str]], progress: _Progress) -> None:
        shown_key = redact(row.row_key, row.sensitive)
        for column, problem in dict.fromkeys(problems):
            progress.errors.append(
                RowError(row.number, shown_key, code, redact(column, row.sensitive), redact(problem, row.sensitive))
            )
        progress.add(failed=1)


def _clean_file_name(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1].strip()
    return "".join(ch for ch in base if ch.isprintable())[:MAX_FILE_NAME_LENGTH] or "upload"
