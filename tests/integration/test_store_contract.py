"""The store port's contract on the real store, with both strategies.

The embedded FerretDB runs the FerretDB strategy (what `make up` uses) and the MongoDB strategy
(what production runs on MongoDB 7: native conditional filters, `$in`, aggregation, the indexed
pending flag), so neither strategy's code goes untested here. `MRC_TEST_MONGO_URI` points the same
suite at a MongoDB 7 replica set (`docker compose up mongo` where a Docker engine exists).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from mrc_plumbing.settings import InfraSettings
from mrc_plumbing.store import PENDING_FLAG, DocumentStore
from mrc_plumbing.store.wiring import store_for
from tests.support.store_contract import StoreContract, event

pytestmark = pytest.mark.integration


def _fresh(mongo_uri: str, strategy: str) -> Iterator[DocumentStore]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=True)
    name = f"contract_{uuid.uuid4().hex[:10]}"
    try:
        yield store_for(client[name], strategy)
    finally:
        client.drop_database(name)
        client.close()


def _unreachable(strategy: str) -> Iterator[DocumentStore]:
    client: MongoClient[dict[str, Any]] = MongoClient(
        "mongodb://127.0.0.1:9/", serverSelectionTimeoutMS=300, connectTimeoutMS=300
    )
    try:
        yield store_for(client["nowhere"], strategy)
    finally:
        client.close()


class TestFerretDBStrategy(StoreContract):
    @pytest.fixture
    def store(self, infra: InfraSettings) -> Iterator[DocumentStore]:
        yield from _fresh(infra.mongo_uri, "ferretdb")

    @pytest.fixture
    def unreachable_store(self) -> Iterator[DocumentStore]:
        yield from _unreachable("ferretdb")

    def test_a_key_listing_as_many_documents_as_its_cap_says_it_is_incomplete(self, store: DocumentStore) -> None:
        # FerretDB rewrites a whole key document on each change, so key documents are capped; a capped key
        # must be narrowed by another (the registry asks for a district, a phone or a document).
        from mrc_plumbing.store.ferretdb import FerretKeyIndex

        database = store.database  # type: ignore[attr-defined]
        index = FerretKeyIndex(database["people__keys"], database["people__keys__journal"], cap=3)
        for n in range(5):
            index.added(f"p{n}", ["surname:kumar"])
        index.flush()

        listing = index.listing("surname:kumar")

        assert listing.ids == ["p0", "p1", "p2"]
        assert not listing.complete

    def test_key_additions_not_yet_flushed_are_seen_at_once_and_survive_a_restart(self, store: DocumentStore) -> None:
        from mrc_plumbing.store.ferretdb import FerretKeyIndex

        database = store.database  # type: ignore[attr-defined]
        first = FerretKeyIndex(database["people__keys"], database["people__keys__journal"], flush_interval_seconds=60)
        first.added("p1", ["name:ram", "district:212"])
        # Seen by lookups of the same process before any flush...
        assert first.listing("name:ram").ids == ["p1"]
        assert database["people__keys"].count_documents({}) == 0
        # ...and by a process started after this one stopped without flushing: it replays the journal.
        second = FerretKeyIndex(database["people__keys"], database["people__keys__journal"])
        assert second.listing("district:212").ids == ["p1"]
        second.flush()
        assert database["people__keys__journal"].count_documents({}) == 0
        assert sorted(d["_id"] for d in database["people__keys"].find({})) == ["district:212", "name:ram"]


class TestMongoDBStrategy(StoreContract):
    @pytest.fixture
    def store(self, infra: InfraSettings) -> Iterator[DocumentStore]:
        yield from _fresh(os.environ.get("MRC_TEST_MONGO_URI") or infra.mongo_uri, "mongodb")

    @pytest.fixture
    def unreachable_store(self) -> Iterator[DocumentStore]:
        yield from _unreachable("mongodb")

    def test_the_pending_flag_is_set_with_events_and_dropped_when_cleared(self, store: DocumentStore) -> None:
        # MongoDB finds pending outboxes through this indexed flag, so it must stay exact.
        things = store.collection("things")
        things.insert({"_id": "a"}, events=[event("a")])
        things.insert({"_id": "b"})

        assert [d["_id"] for d in things.find({PENDING_FLAG: True}, fields=[])] == ["a"]
        things.clear_outboxes(things.pending_outboxes(limit=10))
        assert things.find({PENDING_FLAG: True}, fields=[]) == []

    def test_the_flag_stays_while_events_appended_during_a_clear_wait(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert({"_id": "a"}, events=[event("a")])
        pending = things.pending_outboxes(limit=10)
        things.update("a", {"$set": {"x": 1}}, events=[event("a")])

        things.clear_outboxes(pending)

        assert [d["_id"] for d in things.find({PENDING_FLAG: True}, fields=[])] == ["a"]
