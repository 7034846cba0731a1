from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.database import Database

from mrc_plumbing.errors import IdempotencyKeyReused
from mrc_registry.adapters.mongo_repository import MongoWorkerRepository
from mrc_registry.domain.worker import Gender, Place, Worker
from mrc_registry.settings import WORKERS_TOPIC

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


def new_worker(worker_id: str) -> Worker:
    return Worker.register(
        worker_id=worker_id,
        full_name="मीना कुमारी",
        gender=Gender.FEMALE,
        birth_year=1995,
        home=Place("10", "212", village_name="Phulwari"),
        occupation="domestic work",
        registering_partner_id="cso-1",
        now=NOW,
    )


def test_worker_and_its_event_are_stored_in_one_document(db: Database[Any]) -> None:
    MongoWorkerRepository.ensure_indexes()
    repo = MongoWorkerRepository()
    worker, created = repo.add(new_worker("w-1"), idempotency_key="cso-1:k1", fingerprint="f")
    assert created
    stored = db.workers.find_one({"_id": "w-1"})
    assert stored is not None
    assert [e["type"] for e in stored["outbox"]] == ["mrc.registry.v1.WorkerRegistered"]
    assert stored["outbox"][0]["topic"] == WORKERS_TOPIC
    assert stored["outbox_pending"] is True
    assert repo.get("w-1") == worker


def test_a_retry_returns_the_first_worker_without_a_second_document(db: Database[Any]) -> None:
    MongoWorkerRepository.ensure_indexes()
    repo = MongoWorkerRepository()
    repo.add(new_worker("w-1"), idempotency_key="cso-1:k1", fingerprint="f")
    replay, created = repo.add(new_worker("w-2"), idempotency_key="cso-1:k1", fingerprint="f")
    assert not created and replay.worker_id == "w-1"
    with pytest.raises(IdempotencyKeyReused):
        repo.add(new_worker("w-3"), idempotency_key="cso-1:k1", fingerprint="other")
    assert db.workers.count_documents({}) == 1
