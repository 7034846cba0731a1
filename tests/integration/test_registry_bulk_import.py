"""Bulk import on the real store, with each strategy: generated survey rows, stored whole with their events."""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from mrc_kernel.caller import Caller
from mrc_kernel.errors import Unavailable
from mrc_kernel.roles import Role
from mrc_plumbing.audit import AuditTrail
from mrc_plumbing.crypto import build_crypto
from mrc_plumbing.store import DocumentStore
from mrc_plumbing.tabular import read_table
from mrc_registry.adapters.crypto_protector import CryptoProtector
from mrc_registry.adapters.import_jobs import StoredImportJobs
from mrc_registry.adapters.mongo_repository import StoredWorkers
from mrc_registry.adapters.mongo_reviews import StoredReviews
from mrc_registry.domain.identity.aadhaar import verhoeff_check_digit
from mrc_registry.domain.import_job import ImportStatus
from mrc_registry.service_layer.bulk_import import BulkImporter
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.ports import NewWorker
from mrc_registry.service_layer.survey_rows import COLUMNS
from tests.support.auth import caller_for

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMES_FILE = REPO_ROOT.parent / "shared" / "data" / "names" / "parlikar_indian_first_names_en_hi.tsv"
SURNAMES = [("Kumar", "कुमार"), ("Devi", "देवी"), ("Yadav", "यादव"), ("Mandal", "मंडल"), ("Paswan", "पासवान")]
# (state, district, sub-district) LGD codes in Bihar, Uttar Pradesh, Jharkhand and Odisha.
PLACES = [
    ("10", "188", "1116"),
    ("10", "189", "1482"),
    ("9", "118", "766"),
    ("20", "322", "2590"),
    ("21", "344", "3011"),
]
SECTORS = ["construction", "brick_kiln", "agriculture", "domestic_work", "textiles"]


def first_names() -> list[tuple[str, str]]:
    """(Latin, Devanagari) first names: the CMU list when the shared data is there, else made up."""
    if NAMES_FILE.exists():
        lines = NAMES_FILE.read_text(encoding="utf-8").splitlines()[1:]
        return [(en, hi) for en, _, hi in (line.partition("\t") for line in lines) if en and hi]
    syllables = [("ra", "रा"), ("mi", "मि"), ("su", "सु"), ("na", "ना"), ("ka", "का"), ("vi", "वि"), ("la", "ला")]
    rng = random.Random(1)
    names = []
    for _ in range(500):
        parts = rng.sample(syllables, 3)
        names.append(("".join(p[0] for p in parts).title(), "".join(p[1] for p in parts)))
    return names


def survey(rows: int, *, seed: int = 7) -> tuple[bytes, dict[str, int]]:
    """A synthetic survey (nobody real), and how many rows are meant to fail or be in-file duplicates.

    Aadhaar numbers are in the 9999... test range, phones in 99999 0xxxx."""
    rng = random.Random(seed)
    names = first_names()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    expected = {"invalid": 0, "duplicate": 0}
    aadhaars: list[str] = []
    for n in range(rows):
        (en, hi), (surname_en, surname_hi) = rng.choice(names), rng.choice(SURNAMES)
        state, district, subdistrict = rng.choice(PLACES)
        hindi = rng.random() < 0.4
        row = {
            "row_key": f"R{n:06d}",
            "full_name": f"{hi} {surname_hi}" if hindi else f"{en} {surname_en}",
            "gender": rng.choice(["female", "male"]),
            "birth_year": str(rng.randint(1960, 2008)),
            "home_state_code": state,
            "home_district_code": district,
            "home_subdistrict_code": subdistrict,
            "home_village": f"Village {rng.randint(1, 300)}",
            "occupation": "labourer",
            "sector": rng.choice(SECTORS),
            "father_or_spouse_name": f"{rng.choice(names)[0]} {surname_en}",
            "phone": f"99999{n:05d}" if rng.random() < 0.7 else "",
            "languages": "hi;bho",
            "skills": "masonry;carpentry",
            "vulnerabilities": rng.choice(["", "single_woman", "no_documents"]),
            "consent_purposes": "registration;entitlement_linkage",
            "consent_method": rng.choice(["signature", "thumbprint", "digital"]),
        }
        if rng.random() < 0.6:
            base = f"9999{n:07d}"
            row["aadhaar"] = base + verhoeff_check_digit(base)
            aadhaars.append(row["aadhaar"])
        if rng.random() < 0.02:
            row["home_district_code"] = "9999"
            expected["invalid"] += 1
        elif aadhaars and not row.get("aadhaar") and rng.random() < 0.01:
            row["aadhaar"] = rng.choice(aadhaars)  # the same person surveyed twice
            row["phone"] = ""
            expected["duplicate"] += 1
        writer.writerow(row)
    return out.getvalue().encode(), expected


def prepare_store(db: Database[Any], store: DocumentStore) -> None:
    """Collections and indexes as a running registry has them.

    The devstack's FerretDB adds the index that makes `_id` lookups fast to new collections every 2 s,
    when the store is idle: give it that moment, as a long-running store would have had."""
    StoredWorkers(store).ensure_indexes()
    StoredReviews(store).ensure_indexes()
    StoredImportJobs(store).ensure_indexes()
    for name in ("workers__match_keys", "match_reviews"):
        if name not in db.list_collection_names():
            db.create_collection(name)
    time.sleep(3)


def importer(store: DocumentStore, *, workers: StoredWorkers | None = None, batch_size: int = 500) -> BulkImporter:
    workers = workers or StoredWorkers(store)
    crypto = build_crypto(store)
    return BulkImporter(
        workers,
        StoredImportJobs(store),
        CryptoProtector(crypto),
        AuditTrail(None, service="registry", state_code="10"),
        Deduplicator(workers, StoredReviews(store), crypto.ids),
        crypto.ids,
        read_table,
        batch_size=batch_size,
    )


class FailingWorkers(StoredWorkers):
    """Stores a batch, then fails as a store going away would (on the `fail_on`th batch)."""

    def __init__(self, store: DocumentStore, fail_on: int) -> None:
        super().__init__(store)
        self._fail_on = fail_on
        self._calls = 0

    def add_many(self, workers: Sequence[NewWorker]) -> set[str]:
        self._calls += 1
        inserted = super().add_many(workers)
        if self._calls == self._fail_on:
            raise ConnectionError("store went away")
        return inserted


def registrar(partner_id: str) -> Caller:
    return caller_for(Role.REGISTRAR, partner_id=partner_id)


# Kept small: on the embedded FerretDB every lookup other than by `_id` scans the collection.
SURVEY_ROWS = 300


def test_a_survey_is_stored_each_row_with_its_events(db: Database[Any], store: DocumentStore) -> None:
    prepare_store(db, store)
    content, expected = survey(SURVEY_ROWS)
    job = importer(store).run("survey.csv", content, registrar("cso-it")).job

    failed = expected["invalid"] + expected["duplicate"]
    assert job.status is ImportStatus.COMPLETED
    assert (job.counts.total, job.counts.registered, job.counts.linked, job.counts.failed) == (
        SURVEY_ROWS,
        SURVEY_ROWS - failed,
        0,
        failed,
    )
    stored = list(db.workers.find({"registering_partner_id": "cso-it"}))
    assert len(stored) == job.counts.registered
    for doc in stored:
        types = [e["type"] for e in doc["outbox"]]
        assert types == ["mrc.registry.v1.WorkerRegistered", "mrc.audit.v1.DataAccessed"], doc["_id"]
        assert doc["outbox_pending"] is True
        assert doc["idempotency_key"].startswith(f"cso-it:import:{job.sha256}:R")
        assert "aadhaar" not in str(doc.get("phone")) and len(doc["match_keys"]) >= 2
    repository = StoredWorkers(store)
    assert repository.get(stored[0]["_id"]) is not None
    for doc in stored[:50]:  # deduplication and search find imported workers by their match keys
        assert doc["_id"] in {w.worker_id for w in repository.find_candidates(set(doc["match_keys"]), limit=1000)}

    jobs = StoredImportJobs(store)
    report = jobs.report(job.job_id)
    assert {e.row for e in report} == {e.row for e in report if e.code in ("invalid", "duplicate_in_file")}
    assert len({e.row for e in report}) == failed
    assert sum(e.code == "duplicate_in_file" for e in report) == expected["duplicate"]
    assert jobs.get(job.job_id) == job
    # Uploading it again returns the same job and writes nothing.
    again = importer(store).run("again.csv", content, registrar("cso-it"))
    assert again.replayed and again.job == job
    assert db.workers.count_documents({}) == len(stored)


def test_a_job_stopped_by_the_store_resumes_without_duplicates(db: Database[Any], store: DocumentStore) -> None:
    prepare_store(db, store)
    content, expected = survey(600, seed=11)
    failing = FailingWorkers(store, fail_on=2)
    with pytest.raises(Unavailable):
        importer(store, workers=failing, batch_size=200).run("s.csv", content, registrar("cso-it"))
    stopped = list(db.import_jobs.find())
    assert [j["status"] for j in stopped] == ["failed"]
    partial = db.workers.count_documents({})
    assert 0 < partial < 600

    job = importer(store, batch_size=200).run("s.csv", content, registrar("cso-it")).job
    assert job.status is ImportStatus.COMPLETED
    assert job.counts.registered == 600 - expected["invalid"] - expected["duplicate"]
    assert db.workers.count_documents({}) == job.counts.registered
    assert len(db.workers.distinct("idempotency_key")) == job.counts.registered
    assert all(len(doc["outbox"]) == 2 for doc in db.workers.find({}, {"outbox": 1}))


def test_a_second_partner_importing_the_same_people_gets_its_own_records_and_link_requests(
    db: Database[Any], store: DocumentStore
) -> None:
    prepare_store(db, store)
    content, _ = survey(300, seed=5)
    first = importer(store).run("s.csv", content, registrar("cso-a")).job
    second = importer(store).run("s.csv", content, registrar("cso-b")).job

    with_identity = db.workers.count_documents(
        {
            "registering_partner_id": "cso-a",
            "$or": [{"document_indexes.0": {"$exists": True}}, {"phone_index": {"$ne": None}}],
        }
    )
    # Nothing of partner A's records is linked or disclosed: B's rows are B's records, each certain match
    # a link request that only the code sent to the phone on record (or A's supervisor) can confirm.
    assert (second.counts.registered, second.counts.linked) == (first.counts.registered, 0)
    assert all(
        [c["captured_by_partner_id"] for c in doc["consents"]] == ["cso-a"]
        for doc in db.workers.find({"registering_partner_id": "cso-a"})
    )
    requests = list(db.match_reviews.find({"requested_by_partner_id": "cso-b", "kind": "certain"}))
    assert len(requests) == with_identity
    assert all(set(r["partner_ids"]) == {"cso-a", "cso-b"} for r in requests)


def test_the_same_partner_importing_its_people_again_links_them(db: Database[Any], store: DocumentStore) -> None:
    prepare_store(db, store)
    content, _ = survey(120, seed=3)
    first = importer(store).run("s.csv", content, registrar("cso-a")).job
    again, _ = survey(120, seed=3)
    second = importer(store).run("again.csv", again + b"\n", registrar("cso-a")).job  # another file, same rows

    with_identity = db.workers.count_documents(
        {"$or": [{"document_indexes.0": {"$exists": True}}, {"phone_index": {"$ne": None}}]}
    )
    assert second.job_id != first.job_id
    assert second.counts.linked == with_identity
    shared = db.workers.find_one({"document_indexes.0": {"$exists": True}})
    assert shared is not None
    assert [c["captured_by_partner_id"] for c in shared["consents"]] == ["cso-a", "cso-a"]
    assert [e["type"] for e in shared["outbox"]][-2:] == ["mrc.registry.v1.ConsentChanged", "mrc.audit.v1.DataAccessed"]
