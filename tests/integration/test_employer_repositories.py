"""The employer service's adapters on the real store, under both strategies (MongoDB's and FerretDB's): one
document per aggregate with its events, public identifiers found through the key index, writes conditional
on the version read, wage records stored in bulk with their events, and exact decimals back."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pymongo.database import Database

from mrc_employer.adapters.histories import StoredHistories
from mrc_employer.adapters.minimum_wages import StoredRates
from mrc_employer.adapters.organisations import StoredOrganisations
from mrc_employer.adapters.records import StoredRecords
from mrc_employer.adapters.wage_register_jobs import StoredWageRegisterJobs
from mrc_employer.domain.compliance_history import ComplianceHistory, summarise_wages
from mrc_employer.domain.compliance_records import RecordSource
from mrc_employer.domain.grievance_signals import GrievanceSignal, GrievanceSignalKind
from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.licences import LicenceInput, LicenceKind
from mrc_employer.domain.minimum_wage_seed import seed_rates
from mrc_employer.domain.minimum_wages import MinimumWageKey, MinimumWageTable, RateStatus, WageSphere
from mrc_employer.domain.organisation import IdentifierInput, Organisation, OrganisationRole
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.wage_register_job import JobCounts, JobStatus, RowProblem, WageRegisterJob
from mrc_employer.domain.wages import Deduction, DeductionKind, WageInput, WageRecord
from mrc_employer.domain.worksites import WageBasis, WorksiteKind
from mrc_employer.service_layer.ports import NewRecord, WageBatchStored
from mrc_kernel.errors import AlreadyExists, Conflict
from mrc_kernel.place import Place
from mrc_plumbing.store import DocumentStore

pytestmark = pytest.mark.integration
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
GSTIN = "27AAACR5055K1Z7"


def organisation(organisation_id: str = "org-1", gstin: str = GSTIN) -> Organisation:
    return Organisation.register(
        organisation_id=organisation_id,
        legal_name="Kaveri Constructions Pvt Ltd",
        roles={OrganisationRole.CONTRACTOR},
        sector="construction",
        location=Place("10", "188", "1116", "Kusiyargaon"),
        identifiers=[IdentifierInput(IdentifierKind.GSTIN, gstin)] if gstin else [],
        licences=[
            LicenceInput(
                LicenceKind.OSH_CONTRACTOR, "OSH/BR/2024/0042", "Labour Commissioner", "2024-01-01", "2028-12-31"
            )
        ],
        registering_partner_id="operators",
        now=NOW,
    )


def test_an_organisation_its_events_and_its_public_keys(store: DocumentStore, db: Database[Any]) -> None:
    repository = StoredOrganisations(store)
    repository.ensure_indexes()
    _, created = repository.add(organisation(), idempotency_key="p:k", fingerprint="f", also_publish=[])
    assert created
    document = db.employers.find_one({"_id": "org-1"})
    assert document is not None
    assert [e["type"] for e in document["outbox"]] == ["mrc.employer.v1.EmployerRegistered"]
    assert repository.holder_of(GSTIN) == "org-1"
    assert repository.holder_of("OSH/BR/2024/0042") == "org-1"
    assert repository.holder_of("27AAACR5055K1Z8") is None
    _, again = repository.add(organisation(), idempotency_key="p:k", fingerprint="f", also_publish=[])
    assert not again
    with pytest.raises(AlreadyExists):
        repository.add(organisation(), idempotency_key="p:other", fingerprint="f", also_publish=[])


def test_a_change_is_stored_only_on_the_version_read(store: DocumentStore) -> None:
    repository = StoredOrganisations(store)
    repository.ensure_indexes()
    repository.add(organisation(), idempotency_key="p:k", fingerprint="f", also_publish=[])
    loaded = repository.get("org-1")
    assert loaded is not None
    loaded.add_worksite(
        worksite_id="site-1",
        kind=WorksiteKind.BRICK_KILN,
        sector="brick_kiln",
        place=Place("10", "212"),
        wage_basis=WageBasis(WageSphere.STATE, "all_scheduled_employments"),
        now=NOW,
    )
    loaded.record_licence(
        LicenceInput(LicenceKind.OSH_CONTRACTOR, "OSH/BR/2029/7", "Labour Commissioner", "2029-01-01", "2030-12-31"),
        NOW,
    )
    repository.save(loaded, expected_version=1, also_publish=[])
    with pytest.raises(Conflict):
        repository.save(loaded, expected_version=1, also_publish=[])

    again = repository.get("org-1")
    assert again is not None
    assert again.version == 3 and [w.worksite_id for w in again.worksites] == ["site-1"]
    assert again.places() == (("10", "188"), ("10", "212"))
    assert repository.holder_of("OSH/BR/2029/7") == "org-1"
    repository.add_recruiter("org-1", "agent-9")
    repository.add_recruiter("org-1", "agent-9")
    assert repository.get("org-1").recruited_by == {"agent-9"}  # type: ignore[union-attr]


def wage(record_id: str, *, batch_id: str = "", paid: str = "13000") -> WageRecord:
    table = MinimumWageTable(seed_rates(NOW))
    return WageRecord.record(
        record_id=record_id,
        organisation_id="org-1",
        given=WageInput(
            worker=WorkerRef(employer_worker_code="EMP-1"),
            worksite_id="site-1",
            period_start=datetime(2024, 11, 1).date(),
            period_end=datetime(2024, 11, 30).date(),
            days_worked=Decimal("25.5"),
            amount_paid=Decimal(paid),
            deductions=(Deduction(DeductionKind.FINE, Decimal("12.34")),),
            key=MinimumWageKey(WageSphere.CENTRAL, "7", "construction", "unskilled", "a"),
        ),
        table=table,
        source=RecordSource.AUDITOR,
        now=NOW,
        batch_id=batch_id,
    )


def test_records_round_trip_exactly_and_bulk_inserts_skip_what_is_stored(store: DocumentStore) -> None:
    records = StoredRecords(store)
    records.ensure_indexes()
    single, created = records.add(
        wage("w-0"), recorded_by_partner_id="p", idempotency_key="p:w0", fingerprint="f", also_publish=[]
    )
    assert created
    assert records.get("w-0") == single
    batch = [NewRecord(wage(f"w-{n}", batch_id="b-1"), "p", f"p:w{n}", []) for n in range(1, 4)]
    stored = WageBatchStored(
        "b-1", "org-1", "job-1", ("w-1", "w-2", "w-3"), 3, NOW, summarise_wages([n.record for n in batch])
    )
    assert records.add_batch(stored, batch, also_publish=[])
    assert not records.add_batch(stored, batch, also_publish=[])
    assert records.batch("b-1") == stored
    loaded = records.get_many(["w-3", "w-1", "missing"])
    assert [r.record_id for r in loaded] == ["w-3", "w-1"]
    assert loaded[0] == batch[2].record
    batch_document = store.collection("wage_batches").get("b-1")
    assert batch_document is not None
    assert [e["type"].rsplit(".", 1)[1] for e in batch_document["outbox"]] == ["WageShortfallFound"] * 3 + [
        "WageRecordsBatched"
    ]


def test_records_are_found_by_worker_and_lose_an_erased_workers_id(store: DocumentStore) -> None:
    records = StoredRecords(store)
    records.ensure_indexes()
    named = dataclasses.replace(wage("w-1"), worker=WorkerRef(registry_worker_id="worker-7"))
    records.add(named, recorded_by_partner_id="p", idempotency_key="p:1", fingerprint="f", also_publish=[])
    bulk = dataclasses.replace(wage("w-2", batch_id="b"), worker=WorkerRef(registry_worker_id="worker-7"))
    batch = WageBatchStored("b", "org-1", "job", ("w-2",), 1, NOW, summarise_wages([bulk]))
    records.add_batch(batch, [NewRecord(bulk, "p", "p:2", [])], also_publish=[])

    assert records.rekey_worker("worker-7", "worker-8") == 2
    assert {r.worker.registry_worker_id for r in records.get_many(["w-1", "w-2"])} == {"worker-8"}  # type: ignore[union-attr]
    assert records.forget_worker("worker-8") == 2
    assert records.forget_worker("worker-8") == 0
    assert {r.worker.registry_worker_id for r in records.get_many(["w-1", "w-2"])} == {""}  # type: ignore[union-attr]


def test_a_history_is_written_only_on_the_version_read(store: DocumentStore) -> None:
    histories = StoredHistories(store)
    history = ComplianceHistory("org-1")
    history.apply_grievance(GrievanceSignal("e-1", "g-1", GrievanceSignalKind.FILED, NOW, "wage_theft", "high"), NOW)
    assert histories.create(history)
    assert not histories.create(ComplianceHistory("org-1"))
    loaded = histories.get("org-1")
    assert (
        loaded is not None and loaded.score == history.score and loaded.grievance_signals == history.grievance_signals
    )
    loaded.apply_wage_batch("b-1", [wage("w-1")], NOW)
    assert histories.save(loaded, expected_version=1)
    assert not histories.save(loaded, expected_version=1)
    final = histories.get("org-1")
    assert final is not None and final.version == 2 and final.wage_batches == loaded.wage_batches
    assert list(histories.organisation_ids()) == ["org-1"]


def test_the_table_is_seeded_once_and_a_row_retired_only_while_active(store: DocumentStore) -> None:
    rates = StoredRates(store)
    seeded = seed_rates(NOW)
    assert rates.seed(seeded) == len(seeded)
    assert rates.seed(seeded) == 0
    assert sorted(r.rate_id for r in rates.all()) == sorted(r.rate_id for r in seeded)
    first = seeded[0]
    retired = dataclasses.replace(first, status=RateStatus.WITHDRAWN, version=2, change_reason="test")
    assert rates.retire(retired, expected_version=1)
    assert not rates.retire(retired, expected_version=1)
    assert next(r for r in rates.all() if r.rate_id == first.rate_id) == retired


def test_a_job_is_claimed_once_and_its_report_kept(store: DocumentStore) -> None:
    jobs = StoredWageRegisterJobs(store)
    jobs.ensure_indexes()
    job = WageRegisterJob("job-1", "org-1", "p", "r.csv", "abc", JobStatus.RUNNING, JobCounts(total=2), NOW, NOW)
    assert jobs.claim(job, stale_before=NOW) == (True, job)
    claimed, current = jobs.claim(job, stale_before=NOW)
    assert not claimed and current.job_id == "job-1"
    done = dataclasses.replace(job, status=JobStatus.COMPLETED, counts=JobCounts(2, 1, 1, 1, 0), completed_at=NOW)
    problems = [RowProblem(3, "r-2", "invalid", "amount_paid", "must be rupees")]
    jobs.save(done, problems)
    assert jobs.get("job-1") == done
    assert jobs.report("job-1") == problems
