"""The registry's Mongo repository on the real store: one document per worker with its events, the
match-key collection used for deduplication and search, optimistic concurrency."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.database import Database

from mrc_kernel.errors import Conflict, IdempotencyKeyReused
from mrc_registry.adapters import mongo_repository
from mrc_registry.adapters.mongo_repository import MongoWorkerRepository, SearchTooBroad
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.worker import Gender, Place, ProtectedPhone, Worker, WorkerDetails
from mrc_registry.service_layer.ports import SearchCriteria
from mrc_registry.settings import WORKERS_TOPIC

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


def new_worker(worker_id: str, phone_index: str = "bi-phone") -> Worker:
    return Worker.register(
        worker_id=worker_id,
        details=WorkerDetails(
            full_name="मीना कुमारी",
            latin_name="mina kumari",
            gender=Gender.FEMALE,
            birth_year=1995,
            home=Place("10", "212", village_name="Phulwari"),
            occupation="domestic work",
            phone=ProtectedPhone(encrypted="enc:v1:10:1:xyz", blind_index=phone_index, last4="3210"),
        ),
        consent=Consent("c-1", frozenset({ConsentPurpose.REGISTRATION}), CaptureMethod.THUMBPRINT, "cso-1", NOW),
        registering_partner_id="cso-1",
        now=NOW,
    )


@pytest.fixture
def repo(db: Database[Any]) -> MongoWorkerRepository:
    MongoWorkerRepository.ensure_indexes()
    return MongoWorkerRepository()


def test_worker_and_its_event_are_stored_in_one_document(db: Database[Any], repo: MongoWorkerRepository) -> None:
    worker, created = repo.add(new_worker("w-1"), idempotency_key="cso-1:k1", fingerprint="f", match_keys={"phone:bi"})
    assert created
    stored = db.workers.find_one({"_id": "w-1"})
    assert stored is not None
    assert [e["type"] for e in stored["outbox"]] == ["mrc.registry.v1.WorkerRegistered"]
    assert stored["outbox"][0]["topic"] == WORKERS_TOPIC
    assert stored["outbox_pending"] is True
    assert stored["phone"]["encrypted"].startswith("enc:")
    assert repo.get("w-1") == worker


def test_a_retry_returns_the_first_worker_without_a_second_document(
    db: Database[Any], repo: MongoWorkerRepository
) -> None:
    repo.add(new_worker("w-1"), idempotency_key="cso-1:k1", fingerprint="f", match_keys=set())
    replay, created = repo.add(new_worker("w-2"), idempotency_key="cso-1:k1", fingerprint="f", match_keys=set())
    assert not created
    assert replay.worker_id == "w-1"
    with pytest.raises(IdempotencyKeyReused):
        repo.add(new_worker("w-3"), idempotency_key="cso-1:k1", fingerprint="other", match_keys=set())
    assert db.workers.count_documents({}) == 1


def test_candidates_and_search_go_through_the_match_keys(repo: MongoWorkerRepository) -> None:
    repo.add(new_worker("w-1"), idempotency_key="k1", fingerprint="f", match_keys={"phone:bi-1", "name:MN"})
    repo.add(new_worker("w-2"), idempotency_key="k2", fingerprint="f", match_keys={"phone:bi-2", "name:MN"})
    assert [w.worker_id for w in repo.find_candidates({"phone:bi-1"})] == ["w-1"]
    assert {w.worker_id for w in repo.find_candidates({"name:MN"}, exclude="w-2")} == {"w-1"}
    found = repo.search(SearchCriteria(name_keys=("name:MN",), phone_index="bi-2"), after="", limit=10)
    assert [w.worker_id for w in found] == ["w-2"]
    page = repo.search(SearchCriteria(name_keys=("name:MN",)), after="w-1", limit=10)
    assert [w.worker_id for w in page] == ["w-2"]


def test_changed_keys_move_and_stale_writes_conflict(repo: MongoWorkerRepository) -> None:
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


def test_a_common_name_key_stops_growing_and_its_search_must_be_narrowed(
    db: Database[Any], repo: MongoWorkerRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mongo_repository, "MAX_WORKERS_PER_KEY", 3)
    for n in range(5):
        keys = {"name:MN", f"phone:bi-{n}", f"name+district:MN:{212 if n == 4 else 999}"}
        repo.add(new_worker(f"w-{n}"), idempotency_key=f"k{n}", fingerprint="f", match_keys=keys)
    key = db.worker_match_keys.find_one({"_id": "name:MN"})
    assert key is not None and key["worker_ids"] == ["w-0", "w-1", "w-2"]  # full: later workers not added
    with pytest.raises(SearchTooBroad):
        repo.search(SearchCriteria(name_keys=("name:MN",)), after="", limit=10)
    # A district's first-name key narrows it; a phone does too. Each finds a worker the full key misses.
    narrowed = SearchCriteria(name_keys=("name:MN",), name_district_keys=("name+district:MN:212",))
    assert [w.worker_id for w in repo.search(narrowed, after="", limit=10)] == ["w-4"]
    by_phone = SearchCriteria(name_keys=("name:MN",), phone_index="bi-3")
    assert [w.worker_id for w in repo.search(by_phone, after="", limit=10)] == ["w-3"]


def test_candidates_listed_under_more_keys_come_first(repo: MongoWorkerRepository) -> None:
    repo.add(new_worker("w-a"), idempotency_key="ka", fingerprint="f", match_keys={"name+birth_year:MN:1995"})
    repo.add(new_worker("w-b"), idempotency_key="kb", fingerprint="f", match_keys={"name+birth_year:MN:1995"})
    repo.add(
        new_worker("w-c"),
        idempotency_key="kc",
        fingerprint="f",
        match_keys={"name+birth_year:MN:1995", "name+district:MN:212"},
    )
    found = repo.find_candidates({"name+birth_year:MN:1995", "name+district:MN:212"}, limit=1)
    assert [w.worker_id for w in found] == ["w-c"]
