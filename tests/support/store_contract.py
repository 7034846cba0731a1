"""The document-store port's contract: one test case, subclassed for each strategy.

`tests/unit/plumbing/test_store_memory.py` runs it on the in-memory strategy;
`tests/integration/test_store_contract.py` runs it on the real FerretDB with both the FerretDB and the
MongoDB strategy (FerretDB executes the MongoDB strategy's ordinary commands, more slowly), so the
code production runs on MongoDB is exercised here. Against `mongo:7` where a Docker engine exists, set
`MRC_TEST_MONGO_URI` (see the README) and run `uv run pytest tests/integration/test_store_contract.py -k Mongo`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from mrc_kernel.errors import IdempotencyKeyReused
from mrc_kernel.events import Event
from mrc_plumbing.store import (
    FINGERPRINT_FIELD,
    IDEMPOTENCY_FIELD,
    OUTBOX_FIELD,
    DocumentStore,
    DuplicateDocument,
    IndexSpec,
    StoreUnavailable,
)


def event(subject: str = "doc-1") -> Event:
    return Event(
        id=str(uuid.uuid4()),
        type="mrc.test.v1.Happened",
        source="/mrc/test",
        time=datetime(2026, 1, 1, tzinfo=UTC),
        subject=subject,
        topic="mrc.test.v1",
        data=b"\x08\x01",
    )


class StoreContract:
    """Subclasses provide `store` (a fresh, empty database per test) and `unreachable_store`."""

    @pytest.fixture
    def store(self) -> Iterator[DocumentStore]:
        raise NotImplementedError

    @pytest.fixture
    def unreachable_store(self) -> Iterator[DocumentStore]:
        raise NotImplementedError

    @pytest.fixture
    def notified(self, store: DocumentStore) -> list[tuple[str, list[Any]]]:
        calls: list[tuple[str, list[Any]]] = []
        store.on_events_stored(lambda name, ids: calls.append((name, list(ids))))
        return calls

    # -- reads and inserts -------------------------------------------------------------------------

    def test_a_document_reads_back_as_written(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert({"_id": "a", "name": "A", "tags": ["x", "y"], "nested": {"n": 1}})

        assert things.get("a", exclude=[OUTBOX_FIELD]) == {
            "_id": "a",
            "name": "A",
            "tags": ["x", "y"],
            "nested": {"n": 1},
        }
        assert things.get("a", fields=["name"]) == {"_id": "a", "name": "A"}
        assert things.get("missing") is None

    def test_an_insert_that_clashes_is_refused_and_changes_nothing(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.ensure_indexes([IndexSpec(("code",), "code", unique=True)])
        things.insert({"_id": "a", "code": "1"})

        with pytest.raises(DuplicateDocument):
            things.insert({"_id": "a", "code": "2"})
        with pytest.raises(DuplicateDocument):
            things.insert({"_id": "b", "code": "1"})
        assert things.get("a", fields=["code"]) == {"_id": "a", "code": "1"}
        assert things.get("b") is None

    def test_insert_many_keeps_the_new_and_reports_the_clashes(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert({"_id": "b"})

        report = things.insert_many([({"_id": "a"}, []), ({"_id": "b"}, []), ({"_id": "c"}, [])])

        assert sorted(report.inserted) == ["a", "c"]
        assert report.duplicates == ["b"]
        assert things.count() == 3

    def test_get_many_keeps_the_order_asked_and_skips_what_is_missing(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert_many([({"_id": f"d{i}", "n": i}, []) for i in range(6)])

        found = things.get_many(["d4", "zz", "d1", "d5"], fields=["n"])

        assert found == [{"_id": "d4", "n": 4}, {"_id": "d1", "n": 1}, {"_id": "d5", "n": 5}]

    def test_insert_once_returns_the_first_result_to_a_retry(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.ensure_indexes([IndexSpec((IDEMPOTENCY_FIELD,), IDEMPOTENCY_FIELD, unique=True)])
        first = {"_id": "a", "v": 1, IDEMPOTENCY_FIELD: "p1:k", FINGERPRINT_FIELD: "f1"}

        _, created = things.insert_once(first, events=[event("a")])
        replayed, created_again = things.insert_once(dict(first), events=[event("a")])
        # A retry whose id was derived differently still finds the first result by its key.
        by_key, created_by_key = things.insert_once({**first, "_id": "other"})

        assert created and not created_again and not created_by_key
        assert replayed["_id"] == by_key["_id"] == "a"
        assert len(things.get("a", fields=[OUTBOX_FIELD])[OUTBOX_FIELD]) == 1  # type: ignore[index]
        with pytest.raises(IdempotencyKeyReused):
            things.insert_once({**first, FINGERPRINT_FIELD: "f2"})

    def test_find_filters_sorts_and_limits(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert_many(
            [
                ({"_id": f"d{i}", "n": i, "kind": "even" if i % 2 == 0 else "odd", "place": {"s": str(i % 3)}}, [])
                for i in range(10)
            ]
        )

        evens = things.find({"kind": "even", "n": {"$gte": 4}}, sort=[("n", -1)], limit=2, fields=["n"])
        in_place = things.find({"place.s": {"$in": ["1", "2"]}, "n": {"$lt": 5}}, sort=[("_id", 1)], fields=[])

        assert [d["n"] for d in evens] == [8, 6]
        assert [d["_id"] for d in in_place] == ["d1", "d2", "d4"]
        assert things.count({"kind": "odd"}) == 5
        assert [d["_id"] for d in things.scan({"n": {"$lt": 3}}, fields=[])] == ["d0", "d1", "d2"]

    def test_pages_cover_everything_once_in_id_order(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert_many([({"_id": f"d{i:02d}", "odd": i % 2 == 1}, []) for i in range(11)])

        seen: list[str] = []
        after = ""
        for _ in range(10):
            page = things.page({"odd": True}, after=after, limit=2, time_budget_seconds=5)
            seen += [d["_id"] for d in page.documents]
            after = page.next_after
            if not after:
                break

        assert seen == ["d01", "d03", "d05", "d07", "d09"]

    # -- updates -----------------------------------------------------------------------------------

    def test_a_conditional_update_applies_only_while_the_condition_holds(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert({"_id": "a", "version": 1, "name": "old"})

        assert things.update("a", {"$set": {"name": "new", "version": 2}}, where={"version": {"$lt": 2}})
        assert not things.update("a", {"$set": {"name": "stale", "version": 2}}, where={"version": {"$lt": 2}})
        assert not things.update("missing", {"$set": {"name": "x"}})
        assert things.get("a", fields=["name", "version"]) == {"_id": "a", "name": "new", "version": 2}

    def test_each_version_has_exactly_one_winner_under_concurrency(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert({"_id": "a", "version": 0, "winners": []})
        wins: list[tuple[int, int]] = []
        lock = threading.Lock()

        def writer(number: int) -> None:
            for version in range(1, 6):
                if things.update(
                    "a",
                    {"$set": {"version": version}, "$push": {"winners": number}},
                    where={"version": {"$lt": version}},
                ):
                    with lock:
                        wins.append((version, number))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        stored = things.get("a")
        assert stored is not None
        assert sorted(v for v, _ in wins) == sorted(set(v for v, _ in wins))  # one winner per version
        assert len(stored["winners"]) == len(wins)

    def test_apply_once_applies_an_event_once(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert({"_id": "a", "count": 0})

        first = things.apply_once("a", {"$inc": {"count": 1}}, "event-1", events=[event("a")])
        again = things.apply_once("a", {"$inc": {"count": 1}}, "event-1", events=[event("a")])
        other = things.apply_once("a", {"$inc": {"count": 1}}, "event-2")
        missing = things.apply_once("nobody", {"$inc": {"count": 1}}, "event-1")

        assert (first, again, other, missing) == (True, False, True, False)
        stored = things.get("a")
        assert stored is not None
        assert stored["count"] == 2
        assert len(stored[OUTBOX_FIELD]) == 1
        assert things.get("nobody") is None  # never created

    def test_update_each_updates_by_id(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert_many([({"_id": f"d{i}", "ids": ["x"]}, []) for i in range(120)])

        matched = things.update_each(
            [(f"d{i}", {"$addToSet": {"ids": "y"}}) for i in range(120)] + [("zz", {"$set": {"a": 1}})]
        )

        assert matched == 120
        assert things.count({"ids": "y"}) == 120

    def test_delete_honours_its_condition(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert_many([({"_id": "a", "state": "open"}, []), ({"_id": "b", "state": "closed"}, [])])

        assert not things.delete("a", where={"state": "closed"})
        assert things.delete("b", where={"state": "closed"})
        assert not things.delete("b")
        assert [d["_id"] for d in things.find({}, fields=[])] == ["a"]

    # -- events and the outbox ---------------------------------------------------------------------

    def test_events_are_stored_with_their_write_and_the_relay_is_told(
        self, store: DocumentStore, notified: list[tuple[str, list[Any]]]
    ) -> None:
        things = store.collection("things")
        registered, renamed = event("a"), event("a")

        things.insert({"_id": "a", "version": 1}, events=[registered])
        things.update("a", {"$set": {"version": 2}}, where={"version": 1}, events=[renamed])
        refused = things.update("a", {"$set": {"version": 3}}, where={"version": 1}, events=[event("a")])

        stored = things.get("a", fields=[OUTBOX_FIELD])
        assert stored is not None
        assert [e["id"] for e in stored[OUTBOX_FIELD]] == [registered.id, renamed.id]
        assert not refused
        assert notified == [("things", ["a"]), ("things", ["a"])]

    def test_the_relay_finds_pending_outboxes_and_clears_exactly_what_it_published(self, store: DocumentStore) -> None:
        things = store.collection("things")
        things.insert({"_id": "a"}, events=[event("a"), event("a")])
        things.insert({"_id": "b"})
        things.insert({"_id": "c"}, events=[event("c")])

        pending = things.pending_outboxes(limit=10)
        late = event("a")
        things.update("a", {"$set": {"x": 1}}, events=[late])  # appended after the relay read
        things.clear_outboxes(pending)

        assert sorted(d["_id"] for d in pending) == ["a", "c"]
        assert [e["id"] for e in things.outboxes_of(["a", "b", "c"])[0][OUTBOX_FIELD]] == [late.id]
        assert [d["_id"] for d in things.pending_outboxes(limit=10)] == ["a"]
        things.clear_outboxes(things.outboxes_of(["a"]))
        assert things.pending_outboxes(limit=10) == []

    # -- secondary keys ----------------------------------------------------------------------------

    def test_a_key_index_lists_and_ranks_documents_by_their_keys(self, store: DocumentStore) -> None:
        people = store.collection("people")
        index = store.key_index("people", "keys")
        rows = {"p1": ["name:ram", "district:212"], "p2": ["name:ram"], "p3": ["district:212"], "p4": ["name:sita"]}
        for document_id, keys in rows.items():
            index.added(document_id, keys)
            people.insert({"_id": document_id, "keys": keys})

        ranked = index.ranked(["name:ram", "district:212"], limit=10, exclude="p3")
        listing = index.listing("name:ram")

        assert [(r.document_id, r.shared_keys) for r in ranked] == [("p1", 2), ("p2", 1)]
        assert listing.ids == ["p1", "p2"] and listing.complete
        assert index.listing("name:ram", after="p1").ids == ["p2"]

        people.update("p2", {"$set": {"keys": ["name:sita"]}})
        index.added("p2", ["name:sita"])
        index.removed("p2", ["name:ram"])
        assert index.listing("name:ram").ids == ["p1"]
        assert index.listing("name:sita").ids == ["p2", "p4"]

    # -- outages -----------------------------------------------------------------------------------

    def test_an_unreachable_store_is_unavailable_not_an_error(self, unreachable_store: DocumentStore) -> None:
        things = unreachable_store.collection("things")

        with pytest.raises(StoreUnavailable):
            things.get("a")
        with pytest.raises(StoreUnavailable):
            things.insert({"_id": "a"}, events=[event("a")])
        assert not unreachable_store.is_reachable()
