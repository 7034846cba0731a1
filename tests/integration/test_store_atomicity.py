"""Single-document writes are atomic on the real store, as MongoDB promises and the platform relies on.

FerretDB 1.24 alone loses concurrent updates (it reads, changes in Go, writes back); the dev stack's
FerretDB wrapper serialises read-modify-write commands per collection. These tests guard that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pymongo
import pytest
from pymongo.database import Database

from mrc_plumbing.settings import InfraSettings

pytestmark = pytest.mark.integration

THREADS = 4
ROUNDS = 60


def _in_parallel(infra: InfraSettings, db_name: str, work: Callable[[Database[Any], int], None]) -> None:
    """Runs work on THREADS threads, each with its own client (so its own connections)."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        client: pymongo.MongoClient[Any] = pymongo.MongoClient(infra.mongo_uri)
        try:
            work(client[db_name], index)
        except BaseException as error:  # reported by the test thread below
            errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_concurrent_increments_are_not_lost(db: Database[Any], infra: InfraSettings) -> None:
    db.counters.insert_one({"_id": "c", "n": 0})

    def increment(database: Database[Any], _: int) -> None:
        for _ in range(ROUNDS):
            database.counters.update_one({"_id": "c"}, {"$inc": {"n": 1}})

    _in_parallel(infra, db.name, increment)
    doc = db.counters.find_one({"_id": "c"})
    assert doc is not None and doc["n"] == THREADS * ROUNDS


def test_version_checked_updates_let_exactly_one_writer_win_each_version(
    db: Database[Any], infra: InfraSettings
) -> None:
    db.aggregates.insert_one({"_id": "a", "version": 0, "writers": []})
    wins: list[str] = []

    def compete(database: Database[Any], index: int) -> None:
        for _ in range(ROUNDS):
            current = database.aggregates.find_one({"_id": "a"})
            assert current is not None
            version = current["version"]
            stamp = f"{index}@{version}"
            result = database.aggregates.update_one(
                {"_id": "a", "version": version}, {"$set": {"version": version + 1}, "$push": {"writers": stamp}}
            )
            if result.modified_count:
                wins.append(stamp)

    _in_parallel(infra, db.name, compete)
    doc = db.aggregates.find_one({"_id": "a"})
    assert doc is not None
    # Every acknowledged win is in the document, once, and versions advanced once per win.
    assert doc["version"] == len(wins) == len(doc["writers"])
    assert sorted(doc["writers"]) == sorted(wins)
    assert len({w.split("@")[1] for w in wins}) == len(wins)


def test_a_pull_of_old_entries_keeps_entries_added_concurrently(db: Database[Any], infra: InfraSettings) -> None:
    """The outbox relay's clear ($pullAll of what it published) racing new events being appended."""
    db.outboxes.insert_one({"_id": "o", "pending": []})

    def append_and_clear(database: Database[Any], index: int) -> None:
        for round_ in range(ROUNDS):
            event = f"{index}-{round_}"
            database.outboxes.update_one({"_id": "o"}, {"$push": {"pending": event}})
            if index == 0:
                # The clearing thread removes only its own events, as the relay removes only what it sent.
                database.outboxes.update_one({"_id": "o"}, {"$pullAll": {"pending": [event]}})

    _in_parallel(infra, db.name, append_and_clear)
    doc = db.outboxes.find_one({"_id": "o"})
    assert doc is not None
    expected = {f"{i}-{r}" for i in range(1, THREADS) for r in range(ROUNDS)}
    assert set(doc["pending"]) == expected and len(doc["pending"]) == len(expected)
