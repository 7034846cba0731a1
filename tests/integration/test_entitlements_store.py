"""The entitlements repositories on the real store (both strategies): worker records with determinations and
their events in one write, optimistic concurrency, households and applications found through the key
index, the consenting records' pages a re-evaluation job walks, schemes seeded once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mrc_entitlements.adapters.store import (
    StoredApplications,
    StoredHouseholds,
    StoredJobs,
    StoredSchemes,
    StoredWorkerRecords,
)
from mrc_entitlements.catalogue import starter_catalogue
from mrc_entitlements.domain.applications import Actor, Application
from mrc_entitlements.domain.facts import ConsentPurpose, HouseholdFacts, LgdPlace, WorkerFacts
from mrc_entitlements.domain.reevaluation import ReevaluationJob
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_kernel.errors import Conflict
from mrc_kernel.policy import Grant, Purpose
from mrc_plumbing.store import OUTBOX_FIELD, DocumentStore

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def _record(worker_id: str, schemes: StoredSchemes, *, linkage: bool = True) -> WorkerRecord:
    record = WorkerRecord.new(worker_id)
    purposes = {ConsentPurpose.REGISTRATION} | ({ConsentPurpose.ENTITLEMENT_LINKAGE} if linkage else set())
    record.record_worker_facts(
        WorkerFacts(
            worker_id,
            1996,
            "male",
            "construction",
            "mason",
            LgdPlace("10", "212"),
            frozenset(),
            frozenset(),
            frozenset(purposes),
            "p-1",
        ),
        (Grant(frozenset({Purpose.ENTITLEMENT_LINKAGE}), partner_id="p-1"),),
        1,
    )
    record.assess([s.published_rule for s in schemes.all() if s.published_rule], today=NOW.date(), now=NOW)
    return record


@pytest.fixture
def schemes(store: DocumentStore) -> StoredSchemes:
    stored = StoredSchemes(store)
    for scheme in starter_catalogue(NOW):
        assert stored.add_if_absent(scheme)
    return stored


def test_schemes_are_seeded_once_and_read_back_with_their_rules(schemes: StoredSchemes) -> None:
    assert not schemes.add_if_absent(starter_catalogue(NOW)[0])
    shipped = {s.code: s for s in starter_catalogue(NOW)}
    for scheme in schemes.all():
        assert scheme.details == shipped[scheme.code].details
        assert scheme.published_rule == shipped[scheme.code].published_rule


def test_a_record_is_stored_with_its_events_and_a_stale_write_is_a_conflict(
    store: DocumentStore, schemes: StoredSchemes
) -> None:
    records = StoredWorkerRecords(store)
    records.ensure_indexes()
    record = _record("w-1", schemes)
    records.save(record)
    stored = store.collection("eligibility").get("w-1")
    assert stored is not None and len(stored[OUTBOX_FIELD]) == 9
    loaded = records.get("w-1")
    assert loaded is not None
    assert loaded.eligibility.determinations == record.eligibility.determinations
    assert loaded.grants == record.grants and loaded.places == (("10", "212"),)
    stale = records.get("w-1")
    assert stale is not None
    loaded.mark_applied("event-2")
    records.save(loaded)
    with pytest.raises(Conflict):
        records.save(stale)
    with pytest.raises(Conflict):
        records.save(_record("w-1", schemes))  # created meanwhile


def test_jobs_walk_consenting_records_in_id_order(store: DocumentStore, schemes: StoredSchemes) -> None:
    records = StoredWorkerRecords(store)
    records.ensure_indexes()
    for index in range(5):
        records.save(_record(f"w-{index}", schemes, linkage=index != 2))
    assert records.count_consenting() == 4
    assert [r.worker_id for r in records.stream()] == ["w-0", "w-1", "w-3", "w-4"]
    assert [r.worker_id for r in records.stream(after="w-1")] == ["w-3", "w-4"]
    jobs = StoredJobs(store)
    job = ReevaluationJob.start(job_id="pmsby.v2", scheme_code="pmsby", rule_version=2, total=4, now=NOW)
    assert jobs.add_if_absent(job) and not jobs.add_if_absent(job)
    job.advance(last_worker_id="w-1", processed=2, changed=1, now=NOW)
    jobs.save(job, started_from=1)
    assert [j.cursor for j in jobs.unfinished()] == ["w-1"]


def test_households_and_applications_are_found_by_member(store: DocumentStore) -> None:
    households = StoredHouseholds(store)
    assert households.put(HouseholdFacts("h-1", frozenset({"w-1", "w-2"}), 4, True, "10"), 1)[0]
    assert [h.household_id for h, _ in households.of_member("w-2")] == ["h-1"]
    kept, before = households.put(HouseholdFacts("h-1", frozenset({"w-1"}), 3, True, "10"), 2)
    assert kept and before == {"w-1", "w-2"}
    assert households.of_member("w-2") == []
    assert not households.put(HouseholdFacts("h-1", frozenset({"w-1", "w-2"}), 4, True, "10"), 1)[0]
    households.forget_member("w-1")
    assert households.of_member("w-1") == []

    applications = StoredApplications(store)
    applications.ensure_indexes()
    application = Application.identify(
        application_id="a-1",
        worker_id="w-1",
        scheme_code="pmsby",
        state_code="10",
        district_code="212",
        by=Actor("p-1", "c-1"),
        now=NOW,
    )
    stored, created = applications.add(application, idempotency_key="p-1:k", fingerprint="f")
    assert created and [a.application_id for a in applications.of_worker("w-1")] == ["a-1"]
    applications.rekey(stored, "w-9")
    assert applications.of_worker("w-1") == [] and [a.worker_id for a in applications.of_worker("w-9")] == ["w-9"]
