"""Idempotent writes and event application on the real store (FerretDB here, MongoDB in clusters)."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.database import Database

from mrc_kernel.errors import IdempotencyKeyReused
from mrc_plumbing.idempotency import APPLIED_EVENTS_FIELD, apply_once, ensure_idempotency_index, insert_once

pytestmark = pytest.mark.integration


def test_insert_once_returns_the_first_document_for_a_retry(db: Database[Any]) -> None:
    ensure_idempotency_index(db.items)
    _, created = insert_once(db.items, {"_id": "1", "idempotency_key": "p:k", "request_fingerprint": "f"})
    again, created_again = insert_once(db.items, {"_id": "2", "idempotency_key": "p:k", "request_fingerprint": "f"})
    assert created and not created_again
    assert again["_id"] == "1"
    assert db.items.count_documents({}) == 1
    with pytest.raises(IdempotencyKeyReused):
        insert_once(db.items, {"_id": "3", "idempotency_key": "p:k", "request_fingerprint": "other"})


def test_apply_once_ignores_a_redelivered_event(db: Database[Any]) -> None:
    update = {"$inc": {"count": 1}}
    assert apply_once(db.counters, "c", update, "e-1") is True  # creates the document
    assert apply_once(db.counters, "c", update, "e-1") is False  # redelivery
    assert apply_once(db.counters, "c", update, "e-2") is True
    doc = db.counters.find_one({"_id": "c"})
    assert doc is not None
    assert doc["count"] == 2
    assert doc[APPLIED_EVENTS_FIELD] == ["e-1", "e-2"]
