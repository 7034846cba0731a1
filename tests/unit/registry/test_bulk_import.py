"""Bulk import of field surveys, on in-memory stand-ins for the store: rows, report, idempotency, dedup, REST, CLI."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from mrc_kernel.errors import Conflict, IdempotencyKeyReused, InvalidArgument, Unavailable
from mrc_kernel.events import Event
from mrc_kernel.idempotency import IdDeriver, request_fingerprint
from mrc_kernel.place import Place
from mrc_kernel.roles import Role
from mrc_kernel.vocabulary import Gender
from mrc_plumbing import http_uploads
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.store import IDEMPOTENCY_FIELD, OUTBOX_FIELD
from mrc_plumbing.store.memory import InMemoryStore
from mrc_plumbing.tabular import read_table
from mrc_registry.adapters.import_jobs import StoredImportJobs
from mrc_registry.adapters.mongo_repository import StoredWorkers
from mrc_registry.adapters.mongo_reviews import StoredReviews
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.identity.aadhaar import verhoeff_check_digit
from mrc_registry.domain.import_job import ImportJob, ImportStatus, RowError
from mrc_registry.domain.worker import DocumentKind, Worker, WorkerDetails
from mrc_registry.entrypoints import http_import, import_cli
from mrc_registry.entrypoints.http_import import MAX_UPLOAD_BYTES, imports_router
from mrc_registry.service_layer.bulk_import import BulkImporter
from mrc_registry.service_layer.commands import DocumentInput, WorkerInput
from mrc_registry.service_layer.deduplication import Deduplicator, MatchKind, MatchReview
from mrc_registry.service_layer.ports import NewWorker
from mrc_registry.service_layer.protection import WorkerProtection
from mrc_registry.service_layer.registration import _plain
from mrc_registry.service_layer.survey_rows import parse_row
from tests.support.auth import RecordingAudit, bearer, caller_for, http_auth, role_tokens

NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
HEADER = [
    "row_key",
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
    "aadhaar",
    "languages",
    "skills",
    "vulnerabilities",
    "consent_purposes",
    "consent_method",
    "consent_witness",
]
REGISTRAR = caller_for(Role.REGISTRAR, partner_id="cso-1")


def aadhaar(n: int) -> str:
    base = f"99999999{n:03d}"
    return base + verhoeff_check_digit(base)


def phone(n: int) -> str:
    return f"98765{n:05d}"


def row(n: int, **overrides: str) -> dict[str, str]:
    values = {
        "row_key": f"S-{n:04d}",
        "full_name": f"Worker {chr(65 + n % 26)}{chr(65 + n // 26 % 26)} Kumar",
        "gender": "female" if n % 2 else "male",
        "birth_year": str(1970 + n % 30),
        "home_state_code": "10",
        "home_district_code": "188",
        "home_subdistrict_code": "1116",
        "home_village": "Belwa",
        "occupation": "mason",
        "sector": "construction",
        "father_or_spouse_name": f"Father {n}",
        "phone": phone(n),
        "aadhaar": aadhaar(n),
        "languages": "hi;mai",
        "skills": "masonry; plastering",
        "vulnerabilities": "",
        "consent_purposes": "registration;entitlement_linkage",
        "consent_method": "thumbprint",
        "consent_witness": "",
    }
    values.update(overrides)
    return values


def csv_file(rows: Sequence[dict[str, str]], header: Sequence[str] = HEADER, *, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


# -- stand-ins ---------------------------------------------------------------------------------------------


class FakeProtector:
    def encrypt(self, state_code: str, field: str, plaintext: str) -> str:
        return "enc:" + base64.b64encode(f"{state_code}|{field}|{plaintext}".encode()).decode()

    def decrypt(self, field: str, token: str) -> str:
        return base64.b64decode(token.removeprefix("enc:")).decode().split("|", 2)[2]

    def blind_index(self, kind: str, value: str) -> str:
        return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:24]


class WorkersOnTheStore:
    """The registry's real worker adapter on the in-memory store, with faults to inject and what tests look into."""

    def __init__(self, store: InMemoryStore) -> None:
        self.memory = store
        self.adapter = StoredWorkers(store)
        self.adapter.ensure_indexes()
        self.batches = 0
        self.fail_batch = 0  # fail this batch (1-based) after storing half of it
        self.fail_saves = 0  # the next saves fail with Conflict
        self.notified: list[Any] = []
        store.on_events_stored(self._told)

    def _told(self, name: str, ids: Sequence[Any]) -> None:
        if name == "workers":
            self.notified.extend(ids)

    def add_many(self, workers: Sequence[NewWorker]) -> set[str]:
        self.batches += 1
        items = list(workers)
        if self.batches == self.fail_batch:
            self.adapter.add_many(items[: len(items) // 2])
            raise ConnectionError("store went away")
        return self.adapter.add_many(items)

    def save(self, worker: Worker, *, match_keys: set[str] | None = None, also_publish: Sequence[Event] = ()) -> None:
        if self.fail_saves:
            self.fail_saves -= 1
            raise Conflict("changed meanwhile")
        self.adapter.save(worker, match_keys=match_keys, also_publish=also_publish)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.adapter, name)

    @property
    def _documents(self) -> dict[Any, dict[str, Any]]:
        return self.memory.collection("workers").documents

    @property
    def workers(self) -> dict[str, Worker]:
        found = {worker_id: self.adapter.get(worker_id) for worker_id in sorted(self._documents)}
        return {worker_id: worker for worker_id, worker in found.items() if worker is not None}

    @property
    def keys(self) -> dict[str, str]:
        return {doc[IDEMPOTENCY_FIELD]: worker_id for worker_id, doc in self._documents.items()}

    @property
    def outbox(self) -> dict[str, list[Event]]:
        return {
            worker_id: [Event.from_document(e) for e in doc.get(OUTBOX_FIELD, [])]
            for worker_id, doc in self._documents.items()
        }

    def event_types(self, worker_id: str) -> list[str]:
        return [e.type for e in self.outbox[worker_id]]


class JobsOnTheStore(StoredImportJobs):
    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self._memory = store
        self.ensure_indexes()

    @property
    def jobs(self) -> dict[str, ImportJob]:
        found = {job_id: self.get(job_id) for job_id in self._memory.collection("import_jobs").documents}
        return {job_id: job for job_id, job in found.items() if job is not None}


class ReviewsOnTheStore(StoredReviews):
    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self._memory = store
        self.ensure_indexes()

    @property
    def reviews(self) -> dict[str, MatchReview]:
        found = {rid: self.get(rid) for rid in self._memory.collection("match_reviews").documents}
        return {rid: review for rid, review in found.items() if review is not None}


IDS = IdDeriver(b"unit-test-id-derivation-key-0001")


class Platform:
    def __init__(self, *, batch_size: int = 500, clock: Callable[[], datetime] = lambda: NOW) -> None:
        memory = InMemoryStore()
        self.store = WorkersOnTheStore(memory)
        self.jobs = JobsOnTheStore(memory)
        self.reviews = ReviewsOnTheStore(memory)
        self.audit = RecordingAudit()
        self.importer = BulkImporter(
            self.store,
            self.jobs,
            FakeProtector(),
            self.audit,
            Deduplicator(self.store, self.reviews, IDS),
            IDS,
            read_table,
            clock=clock,
            batch_size=batch_size,
        )

    def run(self, content: bytes, name: str = "survey.csv", key: str = "") -> ImportJob:
        return self.importer.run(name, content, REGISTRAR, idempotency_key=key).job

    def report(self, job: ImportJob) -> list[RowError]:
        return self.importer.report(job.job_id, REGISTRAR)


# -- rows and the report ---------------------------------------------------------------------------------------


def test_valid_rows_are_registered_with_their_events_and_invalid_rows_reported() -> None:
    platform = Platform()
    rows = [
        row(1),
        row(2, home_district_code="9999"),  # unknown district
        row(3, aadhaar="999999990018"),  # wrong check digit
        row(4, consent_purposes="entitlement_linkage"),  # no consent to register
        row(5, consent_method="verbal_with_witness"),  # no witness
        row(6, gender="robot", birth_year="nineteen"),
        row(7, full_name="मीना कुमारी", vulnerabilities="single_woman;pregnant"),
    ]
    job = platform.run(csv_file(rows, bom=True))

    assert job.status is ImportStatus.COMPLETED
    assert (job.counts.total, job.counts.registered, job.counts.linked, job.counts.failed) == (7, 2, 0, 5)
    assert len(platform.store.workers) == 2
    for worker_id, worker in platform.store.workers.items():
        assert platform.store.event_types(worker_id) == [
            "mrc.registry.v1.WorkerRegistered",
            "mrc.audit.v1.DataAccessed",
        ]
        assert worker.registering_partner_id == "cso-1"
        assert [c.purposes for c in worker.consents] == [
            frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.ENTITLEMENT_LINKAGE})
        ]
    hindi = next(w for w in platform.store.workers.values() if w.details.full_name == "मीना कुमारी")
    assert hindi.details.latin_name and hindi.details.skills == ("masonry", "plastering")
    assert hindi.details.phone is not None and hindi.details.phone.last4 == phone(7)[-4:]
    # The store tells the relay which documents hold events (it never needs to scan every outbox).
    assert set(platform.store.notified) == set(platform.store.workers)

    problems = {(e.row, e.field) for e in platform.report(job)}
    assert problems == {
        (3, "home_district_code"),
        (4, "aadhaar"),
        (5, "consent_purposes"),
        (6, "consent_witness"),
        (7, "gender"),
        (7, "birth_year"),
    }
    assert {e.code for e in platform.report(job)} == {"invalid"}
    assert all(e.row_key.startswith("S-") for e in platform.report(job))


def test_the_report_never_shows_a_phone_or_aadhaar_number() -> None:
    platform = Platform()
    rows = [
        row(1, phone="12345 67", home_state_code="99"),  # invalid phone, and another problem
        row(2, aadhaar="1234 5678 9012"),  # starts with 1
        row(3, home_district_code=aadhaar(3)),  # an Aadhaar number typed in the wrong column
        row(4, row_key=f"S-{phone(4)}", home_district_code="1"),  # a phone in the survey's own row id
        row(5, aadhaar=aadhaar(1)),  # the same person as row 1? row 1 failed, so this one is fine
        row(6, aadhaar=aadhaar(1), phone=phone(6)),  # the same Aadhaar as the row before: duplicate_in_file
    ]
    job = platform.run(csv_file(rows))
    report = platform.importer.report(job.job_id, REGISTRAR)
    text = http_import.report_of(report)

    assert job.counts.failed == 5 and job.counts.registered == 1
    assert text.splitlines()[0] == "row,row_key,code,field,problem"
    for n in range(1, 7):
        for value in (phone(n), aadhaar(n), "1234567", "123456789012"):
            assert value not in text
    assert "[redacted]" in text
    assert ("phone" in {e.field for e in report if e.row == 2}) and (
        "aadhaar" in {e.field for e in report if e.row == 3}
    )
    duplicate = next(e for e in report if e.code == "duplicate_in_file")
    assert (duplicate.row, duplicate.field) == (7, "aadhaar") and "row 6" in duplicate.problem


def test_report_cells_cannot_run_as_spreadsheet_formulas() -> None:
    text = http_import.report_of([RowError(2, "=HYPERLINK(1)", "invalid", "gender", "must be set")])
    assert "'=HYPERLINK(1)" in text


def test_unknown_missing_or_repeated_headers_refuse_the_whole_file() -> None:
    platform = Platform()
    with pytest.raises(InvalidArgument) as refused:
        platform.run(csv_file([row(1, **{"caste": "x"})], [*HEADER, "caste", "Mobile No"]))
    assert "caste" in refused.value.detail and "mobile_no" in refused.value.detail
    with pytest.raises(InvalidArgument, match="missing columns: gender"):
        platform.run(csv_file([row(1)], [h for h in HEADER if h != "gender"]))
    with pytest.raises(InvalidArgument, match="named twice: phone"):
        platform.run(
            b"full_name,gender,home_state_code,home_district_code,consent_purposes,consent_method,phone,Phone\n"
        )
    assert platform.store.workers == {} and platform.jobs.jobs == {}


def test_unreadable_files_are_refused() -> None:
    platform = Platform()
    for content, problem in [
        (b"full_name,gender\n\xff\xfe bad", "not UTF-8"),
        (b"PK\x03\x04 not really a zip", "not a valid one"),
        (b"\xd0\xcf\x11\xe0 old excel", "xls"),
    ]:
        with pytest.raises(InvalidArgument, match=problem):
            platform.run(content)
    with pytest.raises(InvalidArgument, match="is empty"):
        platform.run(b"")


def test_headers_are_matched_loosely_and_blank_rows_keep_row_numbers() -> None:
    platform = Platform()
    header = [h.replace("_", " ").title() for h in HEADER]  # "Full Name", "Home State Code"...
    content = csv_file([row(1)], HEADER).replace(b"\r\n", b"\n").split(b"\n")
    lines = [b",".join(f'"{h}"'.encode() for h in header), content[1], b"", b",,,", content[1].replace(b"S-0001", b"")]
    job = platform.run(b"\n".join(lines) + b"\n")
    assert job.counts.total == 2
    # Row 5 is row 2 again without its row key: a different key, but the same Aadhaar.
    assert [(e.row, e.code) for e in platform.report(job)] == [(5, "duplicate_in_file")]


def test_xlsx_numbers_read_as_typed() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    values: dict[str, object] = dict(row(1))
    values.update(phone=int(phone(1)), aadhaar=int(aadhaar(1)), birth_year=1988.0, home_state_code=10)
    sheet.append([values[h] for h in HEADER])
    sheet.append([None] * len(HEADER))
    sheet.append([row(3)[h] for h in HEADER])
    buffer = io.BytesIO()
    workbook.save(buffer)

    platform = Platform()
    job = platform.run(buffer.getvalue(), "survey.xlsx")

    assert (job.counts.total, job.counts.registered, job.counts.failed) == (2, 2, 0)
    first = next(w for w in platform.store.workers.values() if w.details.birth_year == 1988)
    assert first.details.phone is not None and first.details.phone.last4 == phone(1)[-4:]
    assert [d.masked for d in first.details.identity_documents] == [f"XXXX XXXX {aadhaar(1)[-4:]}"]


# -- idempotency -------------------------------------------------------------------------------------------------


def test_the_same_file_again_returns_the_first_job() -> None:
    platform = Platform()
    content = csv_file([row(n) for n in range(1, 6)])
    first = platform.importer.run("a.csv", content, REGISTRAR)
    again = platform.importer.run("renamed.csv", content, REGISTRAR)

    assert not first.replayed and again.replayed
    assert again.job == first.job and again.job.file_name == "a.csv"
    assert len(platform.store.workers) == 5 and platform.store.batches == 1
    # Another partner uploading the same file gets its own job.
    other = platform.importer.run("a.csv", content, caller_for(Role.REGISTRAR, partner_id="cso-2"))
    assert other.job.job_id != first.job.job_id and not other.replayed


def test_an_idempotency_key_belongs_to_one_file() -> None:
    platform = Platform()
    platform.run(csv_file([row(1)]), key="upload-7")
    with pytest.raises(IdempotencyKeyReused):
        platform.run(csv_file([row(2)]), key="upload-7")


def test_a_job_that_stopped_part_way_finishes_without_duplicates() -> None:
    rows = [row(n) for n in range(1, 12)] + [row(30, aadhaar="bad")]
    content = csv_file(rows)
    clean = Platform(batch_size=4)
    expected = clean.run(content)

    platform = Platform(batch_size=4)
    platform.store.fail_batch = 2  # half of the second batch is stored, then the store fails
    with pytest.raises(Unavailable, match="upload the same file again"):
        platform.run(content)
    failed = next(iter(platform.jobs.jobs.values()))
    assert failed.status is ImportStatus.FAILED and failed.counts.registered == 4
    # Later batches may have been stored meanwhile (the writer runs ahead): a gap, not a half-written row.
    assert 6 <= len(platform.store.workers) < 11

    resumed = platform.run(content)
    assert resumed.status is ImportStatus.COMPLETED
    assert resumed.counts == expected.counts
    assert len(platform.store.workers) == 11 == len(set(platform.store.keys))
    assert set(platform.store.workers) == set(clean.store.workers)  # ids derive from the rows
    assert all(len(events) == 2 for events in platform.store.outbox.values())
    assert platform.report(resumed) == clean.report(expected)


def test_a_running_job_is_not_run_twice_until_its_lease_lapses() -> None:
    platform = Platform()
    content = csv_file([row(1)])
    job = platform.run(content)
    platform.jobs.save(ImportJob(**{**job.__dict__, "status": ImportStatus.RUNNING}))
    replay = platform.importer.run("survey.csv", content, REGISTRAR)
    assert replay.replayed and replay.job.status is ImportStatus.RUNNING


# -- duplicates --------------------------------------------------------------------------------------------------


def test_duplicates_within_the_file_are_reported() -> None:
    platform = Platform()
    rows = [
        row(1),
        row(2, aadhaar=aadhaar(1), full_name="Someone Else"),  # same Aadhaar: one number, one person
        row(3, row_key="S-0001"),  # the survey's row id again
        row(4, phone=phone(1), aadhaar="", **{k: row(1)[k] for k in ("full_name", "gender", "birth_year")}),
        row(5, phone=phone(1), full_name="Sita Devi", birth_year="1950", aadhaar="", gender="female"),  # family
    ]
    job = platform.run(csv_file(rows))
    report = platform.report(job)

    assert [(e.row, e.code, e.field) for e in report] == [
        (3, "duplicate_in_file", "aadhaar"),
        (4, "duplicate_in_file", "row_key"),
        (5, "duplicate_in_file", "phone"),
    ]
    assert "row 2" in report[0].problem
    assert (job.counts.registered, job.counts.failed) == (2, 3)
    # The relative sharing a phone is registered, and the pair goes to review.
    assert len(platform.reviews.reviews) == 1


def test_a_worker_this_partner_already_registered_is_linked_not_duplicated() -> None:
    platform = Platform()
    existing = registered_elsewhere(platform, aadhaar(1), partner_id="cso-1")
    job = platform.run(csv_file([row(1), row(2)]))

    assert (job.counts.registered, job.counts.linked, job.counts.failed) == (1, 1, 0)
    linked = platform.store.workers[existing.worker_id]
    assert [c.captured_by_partner_id for c in linked.consents] == ["cso-1", "cso-1"]
    assert platform.store.event_types(existing.worker_id)[-2:] == [
        "mrc.registry.v1.ConsentChanged",
        "mrc.audit.v1.DataAccessed",
    ]
    assert len(platform.store.workers) == 2


def test_another_partners_worker_is_neither_linked_nor_disclosed_but_queued_for_a_link_request() -> None:
    platform = Platform()
    existing = registered_elsewhere(platform, aadhaar(1))
    job = platform.run(csv_file([row(1), row(2)]))

    # The row becomes the partner's own record, kept apart; the other partner's record is untouched.
    assert (job.counts.registered, job.counts.linked, job.counts.failed) == (2, 0, 0)
    assert [c.captured_by_partner_id for c in platform.store.workers[existing.worker_id].consents] == ["cso-9"]
    assert platform.report(job) == []
    [review] = platform.reviews.reviews.values()
    assert review.kind is MatchKind.CERTAIN
    assert review.candidate_id == existing.worker_id
    assert review.requested_by_partner_id == "cso-1"
    assert set(review.partner_ids) == {"cso-1", "cso-9"}


def test_rows_outside_the_callers_geography_are_refused_naming_the_column() -> None:
    platform = Platform()
    araria_only = caller_for(Role.REGISTRAR, partner_id="cso-1", states=["10"], districts=["188"])
    rows = [
        row(1),  # Araria
        row(2, home_state_code="9", home_district_code="162", home_subdistrict_code="", home_village=""),  # Lucknow
        row(3, home_district_code="212", home_subdistrict_code="", home_village=""),  # Patna
    ]

    job = platform.importer.run("survey.csv", csv_file(rows), araria_only).job

    assert (job.counts.registered, job.counts.failed) == (1, 2)
    problems = {(e.row, e.field) for e in platform.importer.report(job.job_id, araria_only)}
    assert problems == {(3, "home_state_code"), (4, "home_district_code")}
    assert {w.details.home.district_code for w in platform.store.workers.values()} == {"188"}


def test_linking_survives_a_concurrent_change_and_is_idempotent() -> None:
    platform = Platform()
    existing = registered_elsewhere(platform, aadhaar(1), partner_id="cso-1")
    platform.store.fail_saves = 1
    content = csv_file([row(1)])
    job = platform.run(content)
    assert job.counts.linked == 1
    platform.jobs.jobs.clear()  # forget the job: run every row again
    again = platform.run(content)
    assert again.counts.linked == 1
    assert len(platform.store.workers[existing.worker_id].consents) == 2


def registered_elsewhere(platform: Platform, number: str, *, partner_id: str = "cso-9") -> Worker:
    protection = WorkerProtection(FakeProtector())
    details, _ = protection.details(
        WorkerInput(
            full_name="Registered Elsewhere",
            gender=Gender.MALE,
            birth_year=1980,
            home=Place("10", "188"),
            identity_documents=(DocumentInput(DocumentKind.AADHAAR, number),),
        )
    )
    worker = Worker.register(
        worker_id="w-existing",
        details=details,
        consent=Consent("c-1", frozenset({ConsentPurpose.REGISTRATION}), CaptureMethod.SIGNATURE, partner_id, NOW),
        registering_partner_id=partner_id,
        now=NOW,
    )
    dedup = Deduplicator(platform.store, platform.reviews, IDS)
    platform.store.add(worker, idempotency_key=f"{partner_id}:k", fingerprint="f", match_keys=dedup.keys(worker))
    return worker


# -- REST and the CLI ------------------------------------------------------------------------------------------


def rest(platform: Platform) -> TestClient:
    app = create_http_app(service="registry", title="t", max_body_bytes=MAX_UPLOAD_BYTES)
    app.include_router(imports_router(platform.importer, http_auth(role_tokens())))
    return TestClient(app)


def finished(http: TestClient, location: str) -> dict[str, Any]:
    for _ in range(200):
        job: dict[str, Any] = http.get(location, headers=bearer("registrar")).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"{location} still running")


def test_rest_upload_status_and_report() -> None:
    platform = Platform()
    http = rest(platform)
    content = csv_file([row(1), row(2, gender="")])
    created = http.post("/v1/imports", files={"file": ("survey.csv", content, "text/csv")}, headers=bearer("registrar"))
    assert created.status_code == 202, created.text  # accepted: the rows are imported in the background
    assert created.json()["counts"]["total"] == 2
    assert created.headers["location"] == f"/v1/imports/{created.json()['job_id']}"
    job = finished(http, created.headers["location"])
    assert job["counts"] == {"total": 2, "registered": 1, "linked": 0, "failed": 1}
    assert job["status"] == "completed"

    again = http.post("/v1/imports", files={"file": ("x.csv", content)}, headers=bearer("registrar"))
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.json()["job_id"] == job["job_id"]
    assert http.get(f"/v1/imports/{job['job_id']}", headers=bearer("registrar")).json() == job

    report = http.get(job["report_url"], headers=bearer("registrar"))
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    assert 'filename="survey-errors.csv"' in report.headers["content-disposition"]
    assert list(csv.DictReader(io.StringIO(report.text))) == [
        {"row": "3", "row_key": "S-0002", "code": "invalid", "field": "gender", "problem": "must be set"}
    ]


def test_rest_access_and_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    platform = Platform()
    http = rest(platform)
    upload = {"file": ("survey.csv", csv_file([row(1)]))}
    assert http.post("/v1/imports", files=upload).status_code == 401
    assert http.post("/v1/imports", files=upload, headers=bearer("auditor")).status_code == 403
    job_id = http.post("/v1/imports", files=upload, headers=bearer("registrar")).json()["job_id"]
    other = rest_with_partner(platform, "cso-2")
    assert other.get(f"/v1/imports/{job_id}", headers=bearer("registrar")).status_code == 404

    unknown = http.post(
        "/v1/imports", files={"file": ("s.csv", csv_file([row(1)], [*HEADER, "caste"]))}, headers=bearer("registrar")
    )
    assert unknown.status_code == 422 and "caste" in unknown.json()["detail"]
    assert http.post("/v1/imports", data={"x": "1"}, headers=bearer("registrar")).status_code == 422

    monkeypatch.setattr(http_import, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(http_uploads, "ENVELOPE_BYTES", 0)
    big = {"file": ("big.csv", csv_file([row(n) for n in range(1, 20)]))}
    assert http.post("/v1/imports", files=big, headers=bearer("registrar")).status_code == 413


def rest_with_partner(platform: Platform, partner_id: str) -> TestClient:
    app = create_http_app(service="registry", title="t", max_body_bytes=MAX_UPLOAD_BYTES)
    verifier = role_tokens(registrar=caller_for(Role.REGISTRAR, partner_id=partner_id))
    app.include_router(imports_router(platform.importer, http_auth(verifier)))
    return TestClient(app)


def test_cli_uploads_prints_counts_and_saves_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = Platform()
    app = rest(platform)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth2/token":
            assert request.headers["authorization"].startswith("Basic ")
            return httpx.Response(200, json={"access_token": "registrar", "token_type": "Bearer"})
        answer = app.request(request.method, request.url.path, headers=dict(request.headers), content=request.read())
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    real_client = httpx.Client
    monkeypatch.setattr(
        import_cli.httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(handler), **kw)
    )
    monkeypatch.setenv(import_cli.SECRET_ENV, "s3cret")
    survey = tmp_path / "survey.csv"
    survey.write_bytes(csv_file([row(1), row(2, home_district_code="1")]))

    args = [str(survey), "--url", "http://registry", "--token-url", "http://access/oauth2/token", "--client-id", "c1"]
    assert import_cli.main([*args, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2 rows: 1 registered, 0 linked to workers already registered, 1 refused" in out
    report = (tmp_path / "survey.errors.csv").read_text()
    assert "home_district_code" in report
    upload = next(r for r in seen if r.url.path == "/v1/imports")
    assert upload.headers["content-length"] == str(len(upload.content))

    survey.write_bytes(b"nothing,useful\n")
    assert import_cli.main([*args, "--quiet"]) == 1
    assert "unknown columns" in capsys.readouterr().err
    monkeypatch.delenv(import_cli.SECRET_ENV)
    assert import_cli.main(args) == 1


def test_details_are_protected_like_a_single_registration() -> None:
    platform = Platform()
    platform.run(csv_file([row(1)]))
    worker = next(iter(platform.store.workers.values()))
    stored: WorkerDetails = worker.details
    assert stored.phone is not None and phone(1) not in stored.phone.encrypted
    assert [d.encrypted for d in stored.identity_documents] == [""]  # Aadhaar: never stored, not even encrypted
    [audit] = platform.audit.events
    assert (audit.action.name, audit.resource_type, audit.resource_id) == ("CREATE", "worker", worker.worker_id)


def test_row_fingerprints_are_those_of_a_single_registration() -> None:
    command = parse_row(2, HEADER, [row(1)[h] for h in HEADER], "sha").command
    for part in (command.details, command.consent):
        assert request_fingerprint({"x": _plain(part)}) == request_fingerprint({"x": asdict(part)})
