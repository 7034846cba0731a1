"""The registry's worker adapter on the real store, with each strategy: one document per worker with its events,
the key index behind deduplication and search, optimistic concurrency, time-bounded listings, the consents the
expiry sweep looks for, and counts by place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from mrc_kernel.errors import Conflict, IdempotencyKeyReused
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Gender
from mrc_plumbing.store import DocumentStore
from mrc_registry.adapters.mongo_repository import SearchTooBroad, StoredWorkerCounts, StoredWorkers
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.worker import ProtectedPhone, Worker, WorkerDetails, WorkerStatus
from mrc_registry.service_layer.ports import SearchCriteria
from mrc_registry.service_layer.statistics import GroupBy
from mrc_registry.settings import WORKERS_TOPIC

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


def new_worker(
    worker_id: str, phone_index: str = "bi-phone", home: Place | None = None, expires_at: datetime | None = None
) -> Worker:
    return Worker.register(
        worker_id=worker_id,
        details=WorkerDetails(
            full_name="मीना कुमारी",
            latin_name="mina kumari",
            gender=Gender.FEMALE,
            birth_year=1995,
            home=home or Place("10", "212", village_name="Phulwari"),
            occupation="domestic work",
            phone=ProtectedPhone(encrypted="enc:v1:10:1:xyz", blind_index=phone_index, last4="3210"),
        ),
        consent=Consent(
            "c-1",
            frozenset({ConsentPurpose.REGISTRATION}),
            CaptureMethod.THUMBPRINT,
            "cso-1",
            NOW,
            expires_at=expires_at,
        ),
        registering_partner_id="cso-1",
        now=NOW,
    )


@pytest.fixture
def repo(store: DocumentStore) -> StoredWorkers:
    workers = StoredWorkers(store)
    workers.ensure_indexes()
    return workers


def ids(workers: list[Worker]) -> list[str]:
    return [w.worker_id for w in workers]


def test_worker_and_its_event_are_stored_in_one_document(db: Database[Any], repo: StoredWorkers) -> None:
    worker, created = repo.add(new_worker("w-1"), idempotency_key="cso-1:k1", fingerprint="f", match_keys={"phone:bi"})
    assert created
    stored = db.workers.find_one({"_id": "w-1"})
    assert stored is not None
    assert [e["type"] for e in stored["outbox"]] == ["mrc.registry.v1.WorkerRegistered"]
    assert stored["outbox"][0]["topic"] == WORKERS_TOPIC
    assert stored["outbox_pending"] is True
    assert stored["phone"]["encrypted"].startswith("enc:")
    assert repo.get("w-1") == worker


def test_a_retry_returns_the_first_worker_without_a_second_document(db: Database[Any], repo: StoredWorkers) -> None:
    repo.add(new_worker("w-1"), idempotency_key="cso-1:k1", fingerprint="f", match_keys=set())
    replay, created = repo.add(new_worker("w-2"), idempotency_key="cso-1:k1", fingerprint="f", match_keys=set())
    assert not created
    assert replay.worker_id == "w-1"
    with pytest.raises(IdempotencyKeyReused):
        repo.add(new_worker("w-3"), idempotency_key="cso-1:k1", fingerprint="other", match_keys=set())
    assert db.workers.count_documents({}) == 1


def test_candidates_and_search_go_through_the_match_keys(repo: StoredWorkers) -> None:
    repo.add(new_worker("w-1"), idempotency_key="k1", fingerprint="f", match_keys={"phone:bi-1", "name:MN"})
    repo.add(new_worker("w-2"), idempotency_key="k2", fingerprint="f", match_keys={"phone:bi-2", "name:MN"})
    assert ids(repo.find_candidates({"phone:bi-1"})) == ["w-1"]
    assert set(ids(repo.find_candidates({"name:MN"}, exclude="w-2"))) == {"w-1"}
    found = repo.search(SearchCriteria(name_keys=("name:MN",), phone_index="bi-2"), after="", limit=10)
    assert ids(found.workers) == ["w-2"]
    assert found.next_after == ""
    page = repo.search(SearchCriteria(name_keys=("name:MN",)), after="w-1", limit=10)
    assert ids(page.workers) == ["w-2"]
    first = repo.search(SearchCriteria(name_keys=("name:MN",)), after="", limit=1)
    assert (ids(first.workers), first.next_after) == (["w-1"], "w-1")


def test_changed_keys_move_and_stale_writes_conflict(repo: StoredWorkers) -> None:
    repo.add(new_worker("w-1"), idempotency_key="k1", fingerprint="f", match_keys={"phone:old"})
    first, second = repo.get("w-1"), repo.get("w-1")
    assert first is not None
    assert second is not None
    first.erase(NOW)
    repo.save(first, match_keys={"phone:new"})
    assert repo.find_candidates({"phone:old"}) == []
    second.erase(NOW)
    with pytest.raises(Conflict):
        repo.save(second)


def test_merged_and_erased_workers_are_neither_candidates_nor_found(repo: StoredWorkers) -> None:
    for worker_id in ("w-1", "w-2", "w-3"):
        repo.add(new_worker(worker_id), idempotency_key=worker_id, fingerprint="f", match_keys={"name:MN"})
    merged, erased = repo.get("w-1"), repo.get("w-2")
    assert merged is not None and erased is not None
    merged.merge_into("w-3", NOW)
    repo.save(merged)  # keys left in place: readers must check the status
    erased.erase(NOW)
    repo.save(erased)

    assert ids(repo.find_candidates({"name:MN"})) == ["w-3"]
    assert ids(repo.search(SearchCriteria(name_keys=("name:MN",)), after="", limit=10).workers) == ["w-3"]
    listing = repo.search(SearchCriteria(district_code="212"), after="", limit=10)
    assert ids(listing.workers) == ["w-3"]
    stored = repo.get("w-1")
    assert stored is not None and stored.status is WorkerStatus.MERGED and stored.merged_into == "w-3"


def test_a_common_name_key_stops_growing_on_ferretdb_and_its_search_must_be_narrowed(
    store: DocumentStore, repo: StoredWorkers, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store.strategy != "ferretdb":
        pytest.skip("MongoDB lists every worker under a key (a multikey index)")
    from mrc_plumbing.store import ferretdb

    monkeypatch.setattr(ferretdb, "MAX_IDS_PER_KEY", 3)
    monkeypatch.setattr(ferretdb.FerretKeyIndex.__init__, "__defaults__", (3,))
    # A store of its own: the fixture's store already holds key indexes made with the real cap.
    repo = StoredWorkers(ferretdb.FerretStore(store.database))
    for n in range(5):
        keys = {"name:MN", f"phone:bi-{n}", f"name+district:MN:{212 if n == 4 else 999}"}
        repo.add(new_worker(f"w-{n}"), idempotency_key=f"k{n}", fingerprint="f", match_keys=keys)
    with pytest.raises(SearchTooBroad):
        repo.search(SearchCriteria(name_keys=("name:MN",)), after="", limit=10)
    # A district's first-name key narrows it; a phone does too. Each finds a worker the full key misses.
    narrowed = SearchCriteria(name_keys=("name:MN",), name_district_keys=("name+district:MN:212",))
    assert ids(repo.search(narrowed, after="", limit=10).workers) == ["w-4"]
    by_phone = SearchCriteria(name_keys=("name:MN",), phone_index="bi-3")
    assert ids(repo.search(by_phone, after="", limit=10).workers) == ["w-3"]


def test_candidates_listed_under_more_keys_come_first(repo: StoredWorkers) -> None:
    repo.add(new_worker("w-a"), idempotency_key="ka", fingerprint="f", match_keys={"name+birth_year:MN:1995"})
    repo.add(new_worker("w-b"), idempotency_key="kb", fingerprint="f", match_keys={"name+birth_year:MN:1995"})
    repo.add(
        new_worker("w-c"),
        idempotency_key="kc",
        fingerprint="f",
        match_keys={"name+birth_year:MN:1995", "name+district:MN:212"},
    )
    found = repo.find_candidates({"name+birth_year:MN:1995", "name+district:MN:212"}, limit=1)
    assert ids(found) == ["w-c"]


def test_district_and_partner_listings_are_pages_in_id_order(repo: StoredWorkers) -> None:
    for n in range(5):
        home = Place("10", "188") if n % 2 else Place("10", "212")
        repo.add(new_worker(f"w-{n}", home=home), idempotency_key=f"k{n}", fingerprint="f", match_keys=set())

    first = repo.search(SearchCriteria(district_code="212"), after="", limit=2)
    rest = repo.search(SearchCriteria(district_code="212"), after=first.next_after, limit=2)
    by_partner = repo.search(SearchCriteria(registering_partner_id="cso-1"), after="w-2", limit=10)

    assert (ids(first.workers), first.next_after) == (["w-0", "w-2"], "w-2")
    assert (ids(rest.workers), rest.next_after) == (["w-4"], "")
    assert ids(by_partner.workers) == ["w-3", "w-4"]


def test_the_expiry_sweep_finds_only_consents_expired_and_not_yet_announced(repo: StoredWorkers) -> None:
    repo.add(
        new_worker("w-soon", expires_at=NOW + timedelta(days=1)),
        idempotency_key="k1",
        fingerprint="f",
        match_keys=set(),
    )
    repo.add(
        new_worker("w-late", expires_at=NOW + timedelta(days=9)),
        idempotency_key="k2",
        fingerprint="f",
        match_keys=set(),
    )
    repo.add(new_worker("w-never"), idempotency_key="k3", fingerprint="f", match_keys=set())
    later = NOW + timedelta(days=2)

    [due] = repo.with_consents_expiring(later, limit=10)
    assert due.worker_id == "w-soon"
    assert due.announce_expired_consents(later)
    repo.save(due)

    assert repo.with_consents_expiring(later, limit=10) == []
    assert ids(repo.with_consents_expiring(NOW + timedelta(days=10), limit=10)) == ["w-late"]
    stored = repo.get("w-soon")
    assert stored is not None and stored.consents[0].expiry_announced


def test_counts_cover_only_the_places_asked_for(store: DocumentStore, repo: StoredWorkers) -> None:
    homes = [Place("10", "212"), Place("10", "212"), Place("10", "188"), Place("9", "162")]
    for n, home in enumerate(homes):
        repo.add(new_worker(f"w-{n}", home=home), idempotency_key=f"k{n}", fingerprint="f", match_keys=set())
    counts = StoredWorkerCounts(store)

    assert counts.count_by(GroupBy.HOME_STATE, frozenset(), frozenset()) == {"10": 3, "9": 1}
    assert counts.count_by(GroupBy.HOME_DISTRICT, frozenset({"10"}), frozenset()) == {"212": 2, "188": 1}
    assert counts.count_by(GroupBy.HOME_DISTRICT, frozenset({"10"}), frozenset({"188"})) == {"188": 1}
    assert counts.count_by(GroupBy.GENDER, frozenset({"27"}), frozenset()) == {}
