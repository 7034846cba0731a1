"""The shared rate limits and the lockout on the real store (FerretDB), with both store strategies:
several replicas (store connections) count into the same documents and agree."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pymongo.database import Database

from mrc_kernel.errors import RateLimited
from mrc_plumbing.auth.lockout import FailureLockout, LockoutRule
from mrc_plumbing.auth.rate_limit import SharedCounters, SlidingWindowLimiter, WindowRule
from mrc_plumbing.store import DocumentStore
from mrc_plumbing.store.wiring import store_for

pytestmark = pytest.mark.integration


def replicas(db: Database[Any], store: DocumentStore, count: int) -> list[DocumentStore]:
    """`count` stores on the same database, as `count` processes would open it."""
    return [store_for(db, store.strategy) for _ in range(count)]


def test_replicas_admit_the_limit_between_them(db: Database[Any], store: DocumentStore) -> None:
    limit, per_replica_attempts = 60, 60
    counters = [SharedCounters(s, sync_seconds=0.05) for s in replicas(db, store, 3)]
    limiters = [SlidingWindowLimiter("client", WindowRule(limit, 600), counters=c) for c in counters]
    for c in counters:
        c.start()
    admitted = [0, 0, 0]

    def hammer(index: int) -> None:
        for _ in range(per_replica_attempts):
            try:
                limiters[index].check("c-1")
                admitted[index] += 1
            except RateLimited:
                pass
            time.sleep(0.005)

    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(hammer, range(3)))
        time.sleep(0.3)  # the last syncs
    finally:
        for c in counters:
            c.stop()
    total = sum(admitted)
    # Each replica alone would have admitted 60 (180 in all); together they hold the limit, give or take
    # what the others admit before they have shared their counts (a fifth of the limit each, at most).
    assert limit // 2 <= total <= limit * (1 + 2 / 5), admitted
    [window] = db.rate_limits.find({"_id": {"$regex": "^client:c-1:"}})
    assert window["count"] == total  # every admitted hit is counted exactly once


def test_the_sweep_removes_expired_windows(store: DocumentStore) -> None:
    clock = [1_000_000.0]
    counters = SharedCounters(store, clock=lambda: clock[0])
    limiter = SlidingWindowLimiter("address", WindowRule(10, 1), counters=counters, clock=lambda: clock[0])
    limiter.check("198.51.100.7")
    counters.sync_once()
    assert store.collection("rate_limits").count() == 1
    clock[0] += 10
    assert counters.sweep() == 1
    assert store.collection("rate_limits").count() == 0


def test_concurrent_failures_on_several_replicas_lock_once(db: Database[Any], store: DocumentStore) -> None:
    rule = LockoutRule(failures=10, window_seconds=900, lock_seconds=900)
    lockouts = [FailureLockout("token-client", rule, s) for s in replicas(db, store, 2)]
    locked: list[bool] = []
    lock = threading.Lock()

    def fail(n: int) -> None:
        result = lockouts[n % 2].failed("c-1")
        with lock:
            locked.append(result)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fail, range(10)))
    assert locked.count(True) == 1  # the tenth failure, wherever it landed, set the lock once
    for lockout in lockouts:
        with pytest.raises(RateLimited) as refused:
            lockout.check("c-1")
        assert 895 <= refused.value.retry_after_seconds <= 900
    lockouts[0].check("c-2")
