"""Bulk registration: a partner's field survey (CSV or XLSX, thousands of rows) imported in one upload.

Each row is the `RegisterWorker` command the REST API would build, checked by the same rules as a
single registration (consent, `WorkerProtection.details`, `Worker.register`); a row that breaks any
of them is reported (row, column, problem; never a phone or identity number) and the others go on.

Nothing is half-written: each valid row becomes one worker document holding its `WorkerRegistered`
event and its audit event in its outbox, exactly as a single registration stores it, written in
batches by `BulkWorkerWriter` (one document = one atomic write).

Idempotent twice over. The job's id derives from the partner and the file's SHA-256, so the same file
uploaded again returns the first job. Each row's idempotency key is `import:<file sha256>:<row_key>`
scoped by partner (the worker id derives from it, as in a single registration), so re-running a job
that stopped half-way stores only the rows still missing.

Duplicates: exact matches on identity blind indexes (documents and phone, scored by the registry's
matcher) within the file and against the store. A certain match with a stored worker links this
partner to that record through the consent it captured, as a single registration does; a certain
match with an earlier row is reported as `duplicate_in_file`. Possible matches go to the review queue.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import enum
import functools
import hashlib
import io
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import (
    Conflict,
    FieldViolation,
    IdempotencyKeyReused,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    Unavailable,
)
from mrc_kernel.events import Event
from mrc_kernel.idempotency import request_fingerprint, scoped_key
from mrc_kernel.roles import Scope
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose, validate_consent
from mrc_registry.domain.identity.matching import (
    PHONE_KIND,
    CandidateFacts,
    MatchDecision,
    MatchThresholds,
    score,
)
from mrc_registry.domain.worker import DocumentKind, Gender, Place, Sector, Vulnerability, Worker
from mrc_registry.service_layer.commands import ConsentInput, DocumentInput, RegisterWorker, WorkerInput
from mrc_registry.service_layer.deduplication import Deduplicator, PossibleDuplicate, facts_of
from mrc_registry.service_layer.ports import AccessRecorder, EventNotifier, Protector, WorkerRepository
from mrc_registry.service_layer.protection import WorkerProtection
from mrc_registry.service_layer.workers import PERSONAL_FIELDS, _derived_id

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
LIST_SEPARATOR = ";"
MAX_ROW_KEY_LENGTH = 128
MAX_FILE_NAME_LENGTH = 200
# Earlier rows compared with a new one per shared key (a surveyor's own phone may be on every row);
# a single registration likewise scores at most 50 stored candidates.
MAX_IN_FILE_CANDIDATES = 50

DOCUMENT_COLUMNS: dict[str, DocumentKind] = {
    "aadhaar": DocumentKind.AADHAAR,
    "e_shram_uan": DocumentKind.E_SHRAM_UAN,
    "voter_id": DocumentKind.VOTER_ID,
    "ration_card": DocumentKind.RATION_CARD,
}
COLUMNS = (
    "full_name",
    "gender",
    "birth_year",
    "home_state_code",
    "home_district_code",
    "home_subdistrict_code",
    "home_village",
    "occupation",
    "sector",
    "father_or_spouse_name",
    "phone",
    *DOCUMENT_COLUMNS,
    "languages",
    "skills",
    "vulnerabilities",
    "consent_purposes",
    "consent_method",
    "consent_witness",
    "row_key",
)
REQUIRED_COLUMNS = (
    "full_name",
    "gender",
    "home_state_code",
    "home_district_code",
    "consent_purposes",
    "consent_method",
)
# Values that must never reach a report, even inside another column's problem.
SENSITIVE_COLUMNS = ("phone", *DOCUMENT_COLUMNS)
# A violation's field, as the domain names it, to the column a registrar has to fix.
_COLUMN_OF_FIELD = {
    "home.state_code": "home_state_code",
    "home.district_code": "home_district_code",
    "home.subdistrict_code": "home_subdistrict_code",
    "home.village_name": "home_village",
    "consent.purposes": "consent_purposes",
    "consent.method": "consent_method",
    "consent.witness_name": "consent_witness",
    "consent.shared_with_partner_ids": "consent_purposes",
    "consent.expires_at": "consent_purposes",
}
_DOCUMENT_FIELD = re.compile(r"^identity_documents(?:\[(\d+)\]|\.(\d+))")
_COLUMN_OF_MATCH_KIND = {PHONE_KIND: "phone", **{kind.value: column for column, kind in DOCUMENT_COLUMNS.items()}}
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")

INVALID = "invalid"
DUPLICATE_IN_FILE = "duplicate_in_file"
REPORT_HEADER = ("row", "row_key", "code", "field", "problem")


class FileTooLarge(PayloadTooLarge):
    title = "File too large"


class ImportStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"  # every row was registered, linked or reported
    FAILED = "failed"  # the store failed part-way; upload the same file again to resume


@dataclass(frozen=True)
class ImportCounts:
    total: int = 0
    registered: int = 0
    linked: int = 0
    failed: int = 0


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the headers are row 1
    row_key: str  # the survey's own row id, when the file gives one
    code: str  # INVALID or DUPLICATE_IN_FILE
    field: str  # the column to fix
    problem: str


@dataclass(frozen=True)
class ImportJob:
    job_id: str
    partner_id: str
    file_name: str
    sha256: str
    status: ImportStatus
    counts: ImportCounts
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    idempotency_key: str = ""
    error: str = ""


@dataclass(frozen=True)
class ImportOutcome:
    job: ImportJob
    replayed: bool  # this upload found the job already done (or under way) instead of running it


@dataclass(frozen=True)
class NewWorker:
    """A worker to store, with what `WorkerRepository.add` would store alongside it."""

    worker: Worker
    idempotency_key: str
    fingerprint: str
    match_keys: set[str]
    also_publish: Sequence[Event] = ()


class TabularFile(Protocol):
    @property
    def headers(self) -> tuple[str, ...]: ...

    @property
    def rows(self) -> Sequence[tuple[int, tuple[str, ...]]]:
        """Data rows as (row number in the sheet, cells), blank rows left out."""
        ...


# Reads CSV or XLSX content (file name, bytes, row limit); raises ValueError saying why it cannot.
TableReader = Callable[[str, bytes, int], TabularFile]


class BulkWorkerWriter(Protocol):
    def insert_batch(self, workers: Sequence[NewWorker]) -> set[str]:
        """Store each worker with its events in one write per worker; the ids stored by this call.

        A worker whose id or idempotency key is already stored is left out (an earlier run stored it)."""
        ...


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


# -- one registration, as WorkerService.register prepares it -------------------------------------------


@dataclass(frozen=True)
class PreparedRegistration:
    worker: Worker
    consent: Consent
    idempotency_key: str  # scoped by partner
    fingerprint: str


def prepare_registration(
    command: RegisterWorker,
    caller: Caller,
    protector: Protector,
    now: datetime,
    *,
    protection: WorkerProtection | None = None,
) -> PreparedRegistration:
    """The first half of `WorkerService.register`: the worker and consent it would store, or
    InvalidArgument naming every problem (consent and details together, where register stops at the first).

    `command.idempotency_key` must be set; ids derive from it as in a single registration.
    """
    key = scoped_key(caller.partner_id, command.idempotency_key)
    raw = command.consent
    violations: list[FieldViolation] = []
    if ConsentPurpose.REGISTRATION not in raw.purposes:
        violations.append(FieldViolation("consent.purposes", "registration needs consent for 'registration'"))
    violations += validate_consent(
        raw.purposes, raw.method, raw.witness_name, raw.shared_with_partner_ids, raw.expires_at, now
    )
    details, detail_violations = (protection or WorkerProtection(protector)).details(command.details)
    if violations or raw.method is None:
        raise InvalidArgument([*violations, *detail_violations, *details.normalised().violations(now)])
    consent = Consent(
        consent_id=_derived_id("consent", key),
        purposes=raw.purposes,
        method=raw.method,
        captured_by_partner_id=caller.partner_id,
        captured_at=now,
        shared_with_partner_ids=raw.shared_with_partner_ids,
        witness_name=raw.witness_name.strip(),
        expires_at=raw.expires_at,
    )
    worker = Worker.register(
        worker_id=_derived_id("worker", key),
        details=details,
        consent=consent,
        registering_partner_id=caller.partner_id,
        now=now,
        extra_violations=detail_violations,
    )
    # Keyed, so the stored fingerprint cannot be used to guess the phone or Aadhaar number in the request.
    fingerprint = protector.blind_index(
        "request", request_fingerprint({"details": _plain(command.details), "consent": _plain(command.consent)})
    )
    return PreparedRegistration(worker, consent, key, fingerprint)


def _plain(value: Any) -> Any:
    """`dataclasses.asdict` without its deep copies (a third of the cost of a row): the same fingerprint."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


# -- rows ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyRow:
    """One data row: the command it asks for, or what is wrong with it before any rule runs."""

    number: int
    row_key: str  # as given ("" if not)
    key: str  # the row's idempotency key within its file: row_key, or a hash of the row
    command: RegisterWorker
    problems: tuple[tuple[str, str], ...]  # (column, problem)
    document_columns: tuple[str, ...]  # the column of each of command.details.identity_documents
    sensitive: tuple[str, ...]  # raw phone and document values, to keep out of the report


def check_headers(headers: Sequence[str]) -> None:
    """The whole file is refused for unknown, repeated or missing columns."""
    named = [h for h in headers if h]
    violations = []
    unknown = sorted(set(named) - set(COLUMNS))
    if unknown:
        violations.append(FieldViolation("file", f"unknown columns: {', '.join(unknown)}; known: {', '.join(COLUMNS)}"))
    repeated = sorted({h for h in named if named.count(h) > 1})
    if repeated:
        violations.append(FieldViolation("file", f"columns named twice: {', '.join(repeated)}"))
    missing = [c for c in REQUIRED_COLUMNS if c not in named]
    if missing:
        violations.append(FieldViolation("file", f"missing columns: {', '.join(missing)}"))
    if violations:
        raise InvalidArgument(violations)


E = TypeVar("E", bound=enum.StrEnum)


def parse_row(number: int, headers: Sequence[str], cells: Sequence[str], file_sha256: str) -> SurveyRow:
    values: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for position, cell in enumerate(cells):
        name = headers[position] if position < len(headers) else ""
        if name:
            values[name] = cell.strip()
        elif cell.strip():
            problems.append((f"column {position + 1}", "has a value but no header"))

    def text(column: str) -> str:
        return values.get(column, "")

    def items(column: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in text(column).split(LIST_SEPARATOR) if item.strip())

    def choice(column: str, kind: type[E]) -> E | None:
        value = text(column).lower()
        if not value:
            return None
        try:
            return kind(value)
        except ValueError:
            problems.append((column, f"must be one of {', '.join(m.value for m in kind)}"))
            return None

    def choices(column: str, kind: type[E]) -> frozenset[E]:
        chosen: set[E] = set()
        for item in items(column):
            try:
                chosen.add(kind(item.lower()))
            except ValueError:
                allowed = ", ".join(m.value for m in kind)
                problems.append((column, f"each item (separated by '{LIST_SEPARATOR}') must be one of {allowed}"))
                break
        return frozenset(chosen)

    birth_year: int | None = None
    if text("birth_year"):
        if text("birth_year").isascii() and text("birth_year").isdigit():
            birth_year = int(text("birth_year"))
        else:
            problems.append(("birth_year", "must be a year such as 1990"))
    row_key = text("row_key")
    if len(row_key) > MAX_ROW_KEY_LENGTH:
        problems.append(("row_key", f"must be at most {MAX_ROW_KEY_LENGTH} characters"))
        row_key = ""
    documents = [
        (column, DocumentInput(kind, text(column))) for column, kind in DOCUMENT_COLUMNS.items() if text(column)
    ]
    if not row_key:
        content = json.dumps(sorted(values.items()), ensure_ascii=False, separators=(",", ":"))
        row_key_or_hash = "content-" + hashlib.sha256(content.encode()).hexdigest()[:32]
    key = f"import:{file_sha256}:{row_key or row_key_or_hash}"
    command = RegisterWorker(
        idempotency_key=key,
        details=WorkerInput(
            full_name=text("full_name"),
            gender=choice("gender", Gender),
            birth_year=birth_year,
            home=Place(
                state_code=text("home_state_code"),
                district_code=text("home_district_code"),
                subdistrict_code=text("home_subdistrict_code"),
                village_name=text("home_village"),
            ),
            occupation=text("occupation"),
            sector=choice("sector", Sector),
            skills=items("skills"),
            languages=items("languages"),
            vulnerabilities=choices("vulnerabilities", Vulnerability),
            father_or_spouse_name=text("father_or_spouse_name"),
            phone=text("phone"),
            identity_documents=tuple(document for _, document in documents),
        ),
        consent=ConsentInput(
            purposes=choices("consent_purposes", ConsentPurpose),
            method=choice("consent_method", CaptureMethod),
            witness_name=text("consent_witness"),
        ),
    )
    return SurveyRow(
        number=number,
        row_key=row_key,
        key=key,
        command=command,
        problems=tuple(problems),
        document_columns=tuple(column for column, _ in documents),
        sensitive=tuple(values[c] for c in SENSITIVE_COLUMNS if values.get(c)),
    )


def column_of(violation_field: str, document_columns: Sequence[str]) -> str:
    found = _DOCUMENT_FIELD.match(violation_field)
    position = int(found.group(1) or found.group(2)) if found else -1
    if 0 <= position < len(document_columns):
        return document_columns[position]
    return _COLUMN_OF_FIELD.get(violation_field, violation_field)


def _redact(text: str, sensitive: Iterable[str]) -> str:
    for value in sensitive:
        digits = "".join(ch for ch in value if ch.isdigit())
        for secret in {value, digits}:
            if len(secret) >= 4:
                text = text.replace(secret, "[redacted]")
    return text


def _cell(text: str) -> str:
    """A report cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(_SPREADSHEET_FORMULA) else text


def report_csv(errors: Iterable[RowError]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_HEADER)
    for e in errors:
        writer.writerow([e.row, _cell(e.row_key), e.code, _cell(e.field), _cell(e.problem)])
    return out.getvalue()


# -- the import ------------------------------------------------------------------------------------------


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
    in_file_possible: list[tuple[int, PossibleDuplicate]] = field(default_factory=list)  # (earlier row, match)


@dataclass(frozen=True)
class _New:
    accepted: _Accepted
    record: NewWorker
    possible: list[PossibleDuplicate]


@dataclass
class _Progress:
    counts: ImportCounts
    errors: list[RowError] = field(default_factory=list)
    # Exact-match keys of the rows accepted so far -> (row number, worker id, facts).
    seen: dict[str, list[tuple[int, str, CandidateFacts]]] = field(default_factory=dict)
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
        writer: BulkWorkerWriter,
        jobs: ImportJobStore,
        protector: Protector,
        audit: AccessRecorder,
        notifier: EventNotifier,
        deduplicator: Deduplicator,
        read_table: TableReader,
        *,
        thresholds: MatchThresholds | None = None,
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._workers = workers
        self._writer = writer
        self._jobs = jobs
        self._protector = protector
        self._protection = WorkerProtection(protector)
        self._audit = audit
        self._notifier = notifier
        self._dedup = deduplicator
        self._read_table = read_table
        self._thresholds = thresholds or MatchThresholds()
        self._clock = clock
        self._batch_size = batch_size

    # -- use cases ---------------------------------------------------------------------------------------

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
        job_id = _derived_id("import", scoped_key(caller.partner_id, sha256))
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
                    pending.append((writer.submit(self._writer.insert_batch, [n.record for n in new]), new))
                    while pending and (len(pending) > MAX_PENDING_BATCHES or pending[0][0].done()):
                        account_for_oldest()
                while pending:
                    account_for_oldest()
        except Exception as exc:
            log.exception("import stopped", extra={"job_id": job.job_id, "rows_done": _done(progress.counts)})
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

    def job(self, job_id: str, caller: Caller) -> ImportJob:
        caller.require(Scope.WORKERS_WRITE)
        job = self._jobs.get(job_id)
        if job is None or job.partner_id != caller.partner_id:
            raise NotFound(f"no import {job_id!r}")
        return job

    def report(self, job_id: str, caller: Caller) -> list[RowError]:
        return self._jobs.report(self.job(job_id, caller).job_id)

    # -- rows in batches -----------------------------------------------------------------------------------

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
            certain, possible = self._assess(a.facts, candidates.values())
            if own is not None:  # stored by an earlier run of this job, which may have stopped before its reviews
                progress.add(registered=1)
                progress.registered_rows.add(a.row.number)
                if possible:
                    self._dedup.queue_for_review(own, possible, now)
                continue
            if certain is not None:
                self._link(a, certain, caller, progress)
                continue
            audit = self._audit.event(caller, Action.CREATE, "worker", worker.worker_id, PERSONAL_FIELDS)
            record = NewWorker(
                worker, a.prepared.idempotency_key, a.prepared.fingerprint, self._dedup.keys(worker), [audit]
            )
            new.append(_New(a, record, possible))
        return new

    def _stored_batch(self, insert: Future[set[str]], new: list[_New], progress: _Progress, now: datetime) -> None:
        """Account for a batch the writer thread stored (or raise what stopped it)."""
        # Rows already stored by an earlier run of this job count as registered all the same.
        inserted = insert.result()
        progress.add(registered=len(new))
        progress.registered_rows.update(n.accepted.row.number for n in new)
        for n in new:
            # Queued on re-runs too (review ids are stable): a first run may have stopped in between.
            in_file = [p for row, p in n.accepted.in_file_possible if row in progress.registered_rows]
            if n.possible or in_file:
                self._dedup.queue_for_review(n.record.worker, sorted(n.possible + in_file, key=lambda p: -p.score), now)
        # By id: the relay reads just these documents (a bare notify() asks it to scan every outbox,
        # which FerretDB does by reading the whole collection).
        for worker_id in sorted(inserted):
            self._notifier.notify(worker_id)

    def _accept(self, row: SurveyRow, caller: Caller, now: datetime, progress: _Progress) -> _Accepted | None:
        """The row ready to store, or None once its problems are in the report."""
        problems = list(row.problems)
        prepared: PreparedRegistration | None = None
        try:
            prepared = prepare_registration(row.command, caller, self._protector, now, protection=self._protection)
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
        earlier = {(n, w): f for key in sorted(keys) for n, w, f in progress.seen.get(key, [])}
        in_file_possible: list[tuple[int, PossibleDuplicate]] = []
        for (number, worker_id), other in sorted(earlier.items()):
            result = score(facts, other, self._thresholds)
            if result.decision is MatchDecision.CERTAIN:
                same = [r.removeprefix("same ") for r in result.reasons if r.startswith("same ")]
                column = _COLUMN_OF_MATCH_KIND.get(same[0], "row") if same else "row"
                because = f" ({', '.join(result.reasons)})" if result.reasons else ""
                self._fail(row, DUPLICATE_IN_FILE, [(column, f"the same person as row {number}{because}")], progress)
                return None
            if result.decision is MatchDecision.POSSIBLE:
                in_file_possible.append((number, PossibleDuplicate(worker_id, result.score, result.reasons)))
        for key in keys:
            rows = progress.seen.setdefault(key, [])
            if len(rows) < MAX_IN_FILE_CANDIDATES:
                rows.append((row.number, prepared.worker.worker_id, facts))
        return _Accepted(row, prepared, facts, in_file_possible)

    def _assess(
        self, facts: CandidateFacts, candidates: Iterable[Worker]
    ) -> tuple[Worker | None, list[PossibleDuplicate]]:
        """As `Deduplicator.assess`, over the candidates already fetched for the batch."""
        best: tuple[float, Worker] | None = None
        possible: list[PossibleDuplicate] = []
        for candidate in candidates:
            result = score(facts, facts_of(candidate), self._thresholds)
            if result.decision is MatchDecision.CERTAIN:
                if best is None or result.score > best[0]:
                    best = (result.score, candidate)
            elif result.decision is MatchDecision.POSSIBLE:
                possible.append(PossibleDuplicate(candidate.worker_id, result.score, result.reasons))
        return (best[1], []) if best is not None else (None, possible)

    def _link(self, a: _Accepted, existing: Worker, caller: Caller, progress: _Progress) -> None:
        """The person is already registered: record this partner's consent on that record (as `_link`)."""
        consent = a.prepared.consent
        for attempt in range(3):
            if any(c.consent_id == consent.consent_id for c in existing.consents):
                break  # linked by an earlier run of this job
            existing.grant_consent(consent)
            audit = self._audit.event(caller, Action.UPDATE, "worker", existing.worker_id, ["consents"])
            try:
                self._workers.save(existing, also_publish=[audit])
                self._notifier.notify(existing.worker_id)
                break
            except Conflict:
                fresh = self._workers.get(existing.worker_id)
                if fresh is None or attempt == 2:
                    self._fail(a.row, INVALID, [("row", "the matching worker changed meanwhile; retry")], progress)
                    return
                existing.__dict__.update(fresh.__dict__)  # the batch shares this object: refresh it in place
        progress.add(linked=1)

    def _fail(self, row: SurveyRow, code: str, problems: Iterable[tuple[str, str]], progress: _Progress) -> None:
        shown_key = _redact(row.row_key, row.sensitive)
        for column, problem in dict.fromkeys(problems):
            progress.errors.append(
                RowError(row.number, shown_key, code, _redact(column, row.sensitive), _redact(problem, row.sensitive))
            )
        progress.add(failed=1)


def _done(counts: ImportCounts) -> int:
    return counts.registered + counts.linked + counts.failed


def _clean_file_name(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1].strip()
    return "".join(ch for ch in base if ch.isprintable())[:MAX_FILE_NAME_LENGTH] or "upload"


__all__ = [
    "COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "BulkImporter",
    "BulkWorkerWriter",
    "FileTooLarge",
    "ImportCounts",
    "ImportJob",
    "ImportJobStore",
    "ImportOutcome",
    "ImportStatus",
    "NewWorker",
    "RowError",
    "prepare_registration",
    "report_csv",
]
