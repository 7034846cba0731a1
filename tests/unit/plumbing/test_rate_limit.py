"""Sliding-window limits, their counts shared through the store, the lockout and the concurrency cap."""

from __future__ import annotations

import pytest

from mrc_kernel.errors import RateLimited, Unavailable
from mrc_plumbing.auth.lockout import FailureLockout, LockoutRule
from mrc_plumbing.auth.rate_limit import (
    RateLimiter,
    SharedCounters,
    SlidingWindowLimiter,
    WindowRule,
    document_key,
)
from mrc_plumbing.concurrency import ConcurrencyLimit
from mrc_plumbing.store.memory import InMemoryStore


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def refused(limiter: SlidingWindowLimiter | FailureLockout, key: str) -> int:
    with pytest.raises(RateLimited) as raised:
        limiter.check(key)
    return raised.value.retry_after_seconds


def test_a_window_admits_its_limit_then_refuses_with_retry_after() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter("t", WindowRule(3, 10), clock=clock)
    for _ in range(3):
        limiter.check("a")
    # Hits of this window weigh into the next one as it slides: 3 * (1 - f) <= 2 a third into it.
    assert refused(limiter, "a") == 14
    limiter.check("b")  # per key


def test_the_window_slides_so_the_long_run_rate_holds() -> None:
    clock = Clock(1_000_000.0)  # a window boundary (10 s windows)
    limiter = SlidingWindowLimiter("t", WindowRule(10, 10), clock=clock)
    for _ in range(10):
        limiter.check("a")
    clock.now += 10  # the next window: the previous one still counts in full
    assert refused(limiter, "a") >= 1
    clock.now += 5  # half of it has slid out: five more
    for _ in range(5):
        limiter.check("a")
    refused(limiter, "a")
    clock.now += 15  # both windows past
    for _ in range(10):
        limiter.check("a")


def test_from_rate_matches_a_token_bucket_and_rate_zero_is_unlimited() -> None:
    assert WindowRule.from_rate(20, 300) == WindowRule(300, 15)
    assert WindowRule.from_rate(0, 300) is None
    unlimited = SlidingWindowLimiter("t", None)
    for _ in range(1000):
        unlimited.check("a")


def test_refuse_if_over_counts_nothing_and_add_counts_without_checking() -> None:
    clock = Clock()
    failures = SlidingWindowLimiter("f", WindowRule(2, 60), clock=clock)
    failures.refuse_if_over("a")
    failures.add("a")
    failures.refuse_if_over("a")
    failures.add("a")
    failures.add("a")  # a third failure happened anyway
    with pytest.raises(RateLimited):
        failures.refuse_if_over("a")


def test_replicas_share_their_counts_through_the_store() -> None:
    store, clock = InMemoryStore(), Clock()
    replicas = [SharedCounters(store, clock=clock) for _ in range(3)]
    limiters = [SlidingWindowLimiter("client", WindowRule(30, 60), counters=c, clock=clock) for c in replicas]
    for limiter in limiters:
        for _ in range(10):
            limiter.check("c-1")
    for counters in replicas:
        counters.sync_once()
    assert store.collection("rate_limits").get("client:c-1:16666")["count"] == 30  # type: ignore[index]
    # The last replica to sync read the cluster's 30: it refuses. The others read their count before
    # the later replicas wrote theirs; they learn the total on the sync after their next hit.
    refused(limiters[2], "c-1")
    limiters[0].check("c-1")
    replicas[0].sync_once()
    refused(limiters[0], "c-1")


class HandSynced(SharedCounters):
    """Running, but syncing only when the test says so."""

    def wake(self) -> None:
        pass


def test_a_replica_never_runs_far_ahead_of_what_the_others_know() -> None:
    store, clock = InMemoryStore(), Clock()
    counters = HandSynced(store, clock=clock, sync_seconds=3600)
    limiter = SlidingWindowLimiter("client", WindowRule(100, 60), counters=counters, clock=clock)
    counters.start()  # counts are shared from now on
    for _ in range(20):
        limiter.check("c-1")
    assert refused(limiter, "c-1") == 1  # a fifth of the limit unsynced: wait for the sync
    counters.sync_once()
    for _ in range(20):
        limiter.check("c-1")
    store.unavailable = True
    counters.sync_once()  # no store: each process limits on its own, without the cap
    for _ in range(60):
        limiter.check("c-1")
    refused(limiter, "c-1")  # the limit itself (20 + 20 + 60) still holds
    counters.stop()


def test_a_replica_wakes_its_sync_early_when_a_key_is_busy() -> None:
    store, clock = InMemoryStore(), Clock()
    counters = SharedCounters(store, clock=clock)
    limiter = SlidingWindowLimiter("client", WindowRule(100, 60), counters=counters, clock=clock)
    for _ in range(9):
        limiter.check("c-1")
    assert not counters._wake.is_set()
    limiter.check("c-1")  # a tenth of the limit unsynced
    assert counters._wake.is_set()


def test_an_unreachable_store_leaves_the_limits_local() -> None:
    store, clock = InMemoryStore(), Clock()
    counters = SharedCounters(store, clock=clock)
    limiter = SlidingWindowLimiter("client", WindowRule(5, 60), counters=counters, clock=clock)
    store.unavailable = True
    for _ in range(5):
        limiter.check("c-1")
    counters.sync_once()  # logged, not raised
    refused(limiter, "c-1")
    store.unavailable = False
    counters.sync_once()
    assert store.collection("rate_limits").get("client:c-1:16666")["count"] == 5  # type: ignore[index]


def test_expired_counters_are_swept() -> None:
    store, clock = InMemoryStore(), Clock()
    counters = SharedCounters(store, clock=clock)
    limiter = SlidingWindowLimiter("client", WindowRule(5, 60), counters=counters, clock=clock)
    limiter.check("c-1")
    counters.sync_once()
    assert counters.sweep() == 0
    clock.now += 4 * 60
    assert counters.sweep() == 1
    assert store.collection("rate_limits").count() == 0


def test_keys_from_callers_become_short_document_ids() -> None:
    assert document_key("127.0.0.1") == "127.0.0.1"
    assert document_key("2001:db8::/64") == "2001:db8::/64"
    hashed = document_key("x" * 10_000)
    assert hashed.startswith("h:") and len(hashed) == 34
    assert document_key("a\nb") != "a\nb"


def test_the_local_token_bucket_still_works() -> None:
    limiter = RateLimiter(1, 2)
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimited):
        limiter.check("a")


RULE = LockoutRule(failures=3, window_seconds=900, lock_seconds=600)


def test_repeated_failures_lock_the_key_on_every_replica() -> None:
    store, clock = InMemoryStore(), Clock()
    replica_a = FailureLockout("client", RULE, store, clock=clock)
    replica_b = FailureLockout("client", RULE, store, clock=clock)
    assert not replica_a.failed("c-1")
    assert not replica_b.failed("c-1")
    replica_a.check("c-1")
    assert replica_b.failed("c-1")  # the third, on another replica
    assert refused(replica_a, "c-1") == 600
    clock.now += 599
    assert refused(replica_b, "c-1") == 1
    clock.now += 1
    replica_a.check("c-1")  # the lock is over and the count started again
    assert not replica_a.failed("c-1")


def test_failures_outside_the_window_start_a_new_count() -> None:
    store, clock = InMemoryStore(), Clock()
    lockout = FailureLockout("client", RULE, store, clock=clock)
    lockout.failed("c-1")
    lockout.failed("c-1")
    clock.now += 901
    assert lockout.failures(["c-1"]) == {"c-1": 0}
    assert not lockout.failed("c-1")
    assert not lockout.failed("c-1")
    assert lockout.failed("c-1")


def test_a_success_clears_the_count() -> None:
    store, clock = InMemoryStore(), Clock()
    lockout = FailureLockout("client", RULE, store, clock=clock)
    lockout.failed("c-1")
    lockout.failed("c-1")
    counted = lockout.failures(["c-1", "10.0.0.1"])
    assert counted == {"c-1": 2}
    lockout.succeeded("c-1", counted)
    assert lockout.failures(["c-1"]) == {"c-1": 0}
    assert not lockout.failed("c-1")


def test_any_locked_key_of_a_request_refuses_it() -> None:
    store, clock = InMemoryStore(), Clock()
    lockout = FailureLockout("address", RULE, store, clock=clock)
    for _ in range(3):
        lockout.failed("10.0.0.1")
    with pytest.raises(RateLimited):
        lockout.check("other", "10.0.0.1")
    lockout.check("other", "10.0.0.2")


def test_concurrency_limit_refuses_at_once_per_caller_then_per_process() -> None:
    limit = ConcurrencyLimit("listings", total=3, per_key=2)
    with limit.slot("a"), limit.slot("a"):
        with pytest.raises(RateLimited), limit.slot("a"):
            pass
        with limit.slot("b"):
            assert limit.running == 3
            with pytest.raises(Unavailable), limit.slot("c"):
                pass
    assert limit.running == 0
    with limit.slot("a"):
        pass
