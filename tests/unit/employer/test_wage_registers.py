"""Wage-register imports on the real adapters: bad rows are reported by column and the good ones kept, each
record stored with its events, each batch with `WageRecordsBatched`; the same file again is a replay."""

from __future__ import annotations

import csv
import dataclasses
import io

import openpyxl
import pytest

from mrc.audit.v1 import audit_pb2
from mrc.employer.v1 import events_pb2
from mrc_employer.domain.wage_register_job import DUPLICATE_IN_FILE, INVALID, JobStatus
from mrc_kernel.errors import (
    IdempotencyKeyReused,
    InvalidArgument,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Unavailable,
)

from .fakes import (
    AUDITOR,
    BRICK_CO,
    CASEWORKER,
    EMPLOYER,
    OPERATOR,
    OTHER_EMPLOYER,
    Service,
    employer_with_site,
    make_service,
)

HEADER = [
    "row_key",
    "worker_code",
    "worksite_id",
    "period_start",
    "period_end",
    "days_worked",
    "amount_paid",
    "skill_category",
]


def register_csv(site: str, rows: list[list[str]] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows if rows is not None else _rows(site):
        writer.writerow(row)
    return out.getvalue().encode()


def _rows(site: str) -> list[list[str]]:
    return [
        ["r-1", "EMP-1", site, "2024-11-01", "2024-11-30", "26", "20358", "Unskilled"],  # at the minimum
        ["r-2", "EMP-2", site, "2024-11-01", "2024-11-30", "26", "13000", "Unskilled"],  # below it
        ["r-3", "9876543210", site, "2024-11-01", "2024-11-30", "26", "20358", "Unskilled"],  # a phone as a code
        ["r-4", "EMP-4", "elsewhere", "2024-11-01", "2024-13-30", "26", "20,358", "Unskilled"],
        ["r-1", "EMP-5", site, "2024-11-01", "2024-11-30", "26", "20358", "Unskilled"],  # the same row key
    ]


def _own_site(service: Service) -> str:
    organisation = service.repository.get(BRICK_CO)
    assert organisation is not None
    return organisation.worksites[0].worksite_id


def test_bad_rows_are_reported_by_column_and_the_good_ones_kept() -> None:
    service = make_service()
    employer_with_site(service, EMPLOYER)
    site = _own_site(service)

    outcome = service.importer.run("", "register.csv", register_csv(site), EMPLOYER)

    job = outcome.job
    assert job.status is JobStatus.COMPLETED and job.organisation_id == BRICK_CO
    assert (job.counts.total, job.counts.stored, job.counts.refused, job.counts.below_minimum) == (5, 2, 3, 1)
    problems = service.importer.report(job.job_id, EMPLOYER)
    assert [(p.row, p.code, p.column) for p in problems] == [
        (4, INVALID, "worker_code"),
        (5, INVALID, "worksite_id"),
        (5, INVALID, "period_end"),
        (5, INVALID, "amount_paid"),
        (6, DUPLICATE_IN_FILE, "row_key"),
    ]
    assert all("9876543210" not in p.problem for p in problems)


def test_each_batch_document_carries_its_records_events_its_audit_and_wage_records_batched() -> None:
    service = make_service(batch_size=2)
    employer_with_site(service, EMPLOYER)
    site = _own_site(service)
    rows = [[f"r-{n}", f"EMP-{n}", site, "2024-11-01", "2024-11-30", "26", "13000", "Unskilled"] for n in range(5)]

    job = service.importer.run(BRICK_CO, "register.csv", register_csv(site, rows), EMPLOYER).job

    records = service.store.collection("compliance_records").documents
    assert len(records) == 5
    assert all(not record.get("outbox") for record in records.values())  # their events are the batch's
    batches = service.store.collection("wage_batches").documents
    assert sorted(len(b["record_ids"]) for b in batches.values()) == [1, 2, 2]
    first = service.events("wage_batches", f"{job.job_id}:00000")
    # A register's records are announced per batch; their findings one by one.
    assert [type(m).__name__ for m in first] == [
        "WageShortfallFound",
        "WageShortfallFound",
        "DataAccessed",
        "WageRecordsBatched",
    ]
    audit = first[2]
    assert isinstance(audit, audit_pb2.DataAccessed)
    assert (audit.resource_type, audit.resource_id) == ("wage_record_batch", f"{job.job_id}:00000")
    batched = first[-1]
    assert isinstance(batched, events_pb2.WageRecordsBatched) and batched.records_below_minimum == 2
    announced = [m for _, m in service.all_events("wage_batches") if isinstance(m, events_pb2.WageRecordsBatched)]
    assert sorted(i for m in announced for i in m.record_ids) == sorted(records)
    assert not [m for _, m in service.all_events("wage_batches") if isinstance(m, events_pb2.ComplianceRecorded)]

    service.relay()
    history = service.histories.get(BRICK_CO)
    assert history is not None
    assert len(history.wage_batches) == 3  # one per batch, not one per row
    assert sum(m.records_below for b in history.wage_batches for m in b.months) == 5


def test_a_batch_whose_document_was_not_written_is_finished_by_the_re_run() -> None:
    service = make_service()
    employer_with_site(service, EMPLOYER)
    content = register_csv(_own_site(service))
    real_insert = service.store.collection("wage_batches").insert

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the process died after storing the records")

    service.store.collection("wage_batches").insert = crash  # type: ignore[method-assign]
    with pytest.raises(Unavailable):
        service.importer.run("", "register.csv", content, EMPLOYER)
    assert len(service.store.collection("compliance_records").documents) == 2
    assert service.store.collection("wage_batches").documents == {}

    service.store.collection("wage_batches").insert = real_insert  # type: ignore[method-assign]
    job = service.importer.run("", "register.csv", content, EMPLOYER).job
    assert job.status is JobStatus.COMPLETED and job.counts.stored == 2
    (batch,) = service.store.collection("wage_batches").documents
    (batched,) = [m for m in service.events("wage_batches", batch) if isinstance(m, events_pb2.WageRecordsBatched)]
    assert len(batched.record_ids) == 2


def test_the_same_file_again_returns_the_first_job_and_stores_nothing_new() -> None:
    service = make_service()
    employer_with_site(service, EMPLOYER)
    content = register_csv(_own_site(service))
    first = service.importer.run("", "register.csv", content, EMPLOYER, idempotency_key="upload-1")
    again = service.importer.run("", "register.csv", content, EMPLOYER, idempotency_key="upload-1")

    assert again.replayed and again.job.job_id == first.job.job_id
    assert len(service.store.collection("compliance_records").documents) == 2
    with pytest.raises(IdempotencyKeyReused):
        service.importer.run("", "other.csv", content + b"\n", EMPLOYER, idempotency_key="upload-1")


def test_a_row_key_names_the_same_record_in_a_later_file() -> None:
    service = make_service()
    employer_with_site(service, EMPLOYER)
    site = _own_site(service)
    row = ["r-1", "EMP-1", site, "2024-11-01", "2024-11-30", "26", "13000", "Unskilled"]
    service.importer.run("", "a.csv", register_csv(site, [row]), EMPLOYER)
    second = service.importer.run("", "b.csv", register_csv(site, [row, ["r-2", *row[1:]]]), EMPLOYER)
    assert second.job.counts.stored == 2
    assert len(service.store.collection("compliance_records").documents) == 2


def test_an_xlsx_register_is_read_like_a_csv() -> None:
    service = make_service()
    employer_with_site(service, EMPLOYER)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in _rows(_own_site(service))[:2]:
        sheet.append([*row[:5], int(row[5]), int(row[6]), row[7]])
    buffer = io.BytesIO()
    workbook.save(buffer)

    job = service.importer.run("", "register.xlsx", buffer.getvalue(), EMPLOYER).job
    assert (job.counts.stored, job.counts.refused, job.counts.below_minimum) == (2, 0, 1)


def test_a_file_that_cannot_be_a_register_is_refused_at_once() -> None:
    service = make_service()
    employer_with_site(service, EMPLOYER)
    with pytest.raises(InvalidArgument) as caught:
        service.importer.run("", "register.csv", b"name,phone\nA,1\n", EMPLOYER)
    assert {v.field for v in caught.value.violations} == {"file"}
    with pytest.raises(InvalidArgument):
        service.importer.run("", "register.csv", b"", EMPLOYER)
    with pytest.raises(PayloadTooLarge):
        service.importer.run("", "register.csv", b"x" * (20 * 1024 * 1024 + 1), EMPLOYER)


def test_only_those_who_reach_the_organisation_upload_and_follow_its_registers() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    content = register_csv(site)
    with pytest.raises(NotFound):
        service.importer.run(organisation_id, "register.csv", content, OTHER_EMPLOYER)
    with pytest.raises(InvalidArgument):  # someone not acting for an employer names the organisation
        service.importer.run("", "register.csv", content, OPERATOR)
    job = service.importer.run(organisation_id, "register.csv", content, OPERATOR).job
    with pytest.raises(NotFound):
        service.importer.job(job.job_id, dataclasses.replace(OPERATOR, partner_id="someone-else"))
    with pytest.raises(PermissionDenied):  # an auditor holds no writing scope
        service.importer.job(job.job_id, AUDITOR)


def test_rows_at_worksites_outside_the_callers_geography_are_refused() -> None:
    service = make_service()
    organisation_id, delhi_site = employer_with_site(service)  # Bihar office, Delhi site
    job = service.importer.run(organisation_id, "register.csv", register_csv(delhi_site), CASEWORKER).job
    assert job.counts.stored == 0
    problems = service.importer.report(job.job_id, CASEWORKER)
    assert {(p.row, p.problem) for p in problems if p.row in (2, 3, 4)} == {
        (row, "is outside your partner's geography") for row in (2, 3, 4)
    }


def test_a_large_batchs_events_are_spread_over_documents_and_the_batch_document_comes_last() -> None:
    service = make_service()
    employer_with_site(service, EMPLOYER)
    site = _own_site(service)
    rows = [[f"r-{n}", f"EMP-{n}", site, "2024-11-01", "2024-11-30", "26", "13000", "Unskilled"] for n in range(220)]
    job = service.importer.run(BRICK_CO, "register.csv", register_csv(site, rows), EMPLOYER).job

    documents = service.store.collection("wage_batches").documents
    assert sorted(documents) == [
        f"{job.job_id}:00000",
        f"{job.job_id}:00000:events:000",
        f"{job.job_id}:00000:events:001",
    ]
    kinds = [type(m).__name__ for _, m in service.all_events("wage_batches")]
    assert kinds.count("WageShortfallFound") == 220
    assert [type(m).__name__ for m in service.events("wage_batches", f"{job.job_id}:00000")][-1] == "WageRecordsBatched"
    service.relay()
    history = service.histories.get(BRICK_CO)
    assert history is not None and len(history.wage_batches) == 1
