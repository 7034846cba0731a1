"""Rate limits: per client, per source address, per anything with a key.

Two kinds of limiter answer `check(key)` (take one, or raise `RateLimited` saying when to retry):

- `RateLimiter`: a token bucket per key in this process only. Tests and tools use it.
- `SlidingWindowLimiter`: at most `limit` hits in any `window_seconds`, estimated from two fixed windows
  (the previous window's count weighted by how much of it still overlaps, plus the current window's),
  with counts shared by every process and replica through the document store (`SharedCounters`).
  `WindowRule.from_rate(rate, burst)` gives a rule equivalent to a token bucket: bursts of `burst`,
  `rate` a second in the long run.

How the shared counts work, and what they cost:
- A request never waits for the store. `check` reads and bumps an in-memory slot per (key, window):
  the cluster-wide count last read from the store plus this process's hits not yet written.
- A background thread (`SharedCounters`, one per process) writes the hits of every active slot every
  `sync_seconds` (0.5 s by default), or sooner once a slot has gathered a tenth of its limit: one
  `insert_many` for windows seen for the first time, `update_each` of `$inc`s (50 to a command), one
  `get_many` to read back the cluster's totals (one `$in` on MongoDB, point reads on FerretDB), for the
  slots hit since the last sync only. An idle process writes nothing. Documents are
  `{_id: "<limiter>:<key>:<window>", count, expires_at}` and are swept once expired.
- With N replicas, each one refuses as soon as the cluster's total it knows of reaches the limit, and
  it learns the others' hits within one sync. A burst that arrives at all replicas at once may
  therefore pass the limit by what the other replicas admit before their counts have met: a replica
  never holds more than a fifth of the limit unsynced (past that it refuses with `Retry-After: 1`
  until its sync is through), so about `limit * (1 + (N - 1) / 5)`, at worst twice that excess when
  the replicas' syncs interleave badly; exactly `limit` once the counts have met. The long-run rate
  holds cluster-wide.
- If the store cannot be reached the counts stay local (each process limits on its own, without the
  unsynced cap) and the sync retries: a store outage must not also turn into refusing every request.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mrc_kernel.errors import RateLimited
from mrc_plumbing.store import DocumentCollection, DocumentStore

log = logging.getLogger(__name__)

COLLECTION = "rate_limits"
DEFAULT_SYNC_SECONDS = 0.5
SWEEP_SECONDS = 60.0
SWEEP_BATCH = 500
# Slots gathering this share of their limit between syncs wake the sync thread at once...
EARLY_SYNC_SHARE = 0.1
# ...and a replica admits no more than this share unsynced (while the counts are being shared), so
# however slow a sync is, no replica runs far ahead of what the others know.
MAX_UNSYNCED_SHARE = 0.2
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._:@/-]{1,80}$")


class Limiter(Protocol):
    def check(self, key: str) -> None:
        """Count one hit for `key`, or raise RateLimited (with the seconds to wait) if that is one too many."""
        ...


def document_key(key: str) -> str:
    """Keys as they go into document ids: short and printable, or hashed (client ids come from callers)."""
    return key if _SAFE_KEY.match(key) else "h:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]


class RateLimiter:
    """A token bucket per key, in this process: bursts of `burst`, then `rate_per_second`. Rate 0: unlimited."""

    def __init__(self, rate_per_second: float, burst: int) -> None:
        self._rate = rate_per_second
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Take one token for `key`, or raise RateLimited saying when to retry."""
        if self._rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1 - tokens) / self._rate)))
            self._buckets[key] = (tokens - 1, now)


@dataclass(frozen=True)
class WindowRule:
    """At most `limit` hits in any `window_seconds`."""

    limit: int
    window_seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds <= 0:
            raise ValueError("a window rule needs a positive limit and window")

    @classmethod
    def from_rate(cls, rate_per_second: float, burst: int) -> WindowRule | None:
        """Bursts of `burst`, `rate_per_second` in the long run; None (no limit) for a rate of 0."""
        if rate_per_second <= 0:
            return None
        return cls(limit=max(1, burst), window_seconds=max(1, burst) / rate_per_second)


@dataclass
class _Slot:
    shared: int = 0  # the cluster's count as last read from the store (our written hits included)
    pending: int = 0  # this process's hits not yet written
    created: bool = False  # the window's document is known to exist
    touched: bool = True  # checked since the last sync: worth reading the cluster's count again

    @property
    def total(self) -> int:
        return self.shared + self.pending


class SlidingWindowLimiter:
    def __init__(
        self,
        name: str,
        rule: WindowRule | None,
        *,
        counters: SharedCounters | None = None,
        clock: Callable[[], float] = time.time,
        detail: str = "",
    ) -> None:
        self.name = name
        self.rule = rule
        self._clock = clock
        self._detail = detail
        self._slots: dict[tuple[str, int], _Slot] = {}
        self._lock = threading.Lock()
        self._counters = counters
        self._cleaned_window = -1
        # Whether counts are being shared (the counters run, and the last sync reached the store):
        # the unsynced cap applies only then.
        self.sharing = False
        if counters is not None and rule is not None:
            counters.register(self)

    # -- requests ----------------------------------------------------------------------------------

    def check(self, key: str) -> None:
        """Count one hit; RateLimited if the window already holds the limit (refused hits do not count)."""
        self._take(key, count=True)

    def refuse_if_over(self, key: str) -> None:
        """RateLimited if the window holds the limit; counts nothing (for failure budgets checked up front)."""
        self._take(key, count=False)

    def add(self, key: str, hits: int = 1) -> None:
        """Count hits without checking (a failure that has already happened)."""
        if self.rule is None:
            return
        now = self._clock()
        window = self._window(now)
        with self._lock:
            slot = self._slots.setdefault((key, window), _Slot())
            slot.pending += hits
            slot.touched = True
            wake = slot.pending >= self._early_sync_at()
        if wake and self._counters is not None:
            self._counters.wake()

    def _take(self, key: str, *, count: bool) -> None:
        rule = self.rule
        if rule is None:
            return
        now = self._clock()
        window = self._window(now)
        elapsed = (now - window * rule.window_seconds) / rule.window_seconds
        with self._lock:
            self._clean(window)
            current = self._slots.setdefault((key, window), _Slot())
            previous = self._slots.get((key, window - 1))
            previous_total = previous.total if previous else 0
            current.touched = True
            estimate = previous_total * (1 - elapsed) + current.total
            if estimate + 1 > rule.limit + 1e-9:
                raise RateLimited(_retry_after(estimate, previous_total, current.total, elapsed, rule), self._detail)
            if not count:
                return
            unsynced_cap = self.sharing and current.pending >= max(1, int(rule.limit * MAX_UNSYNCED_SHARE))
            if not unsynced_cap:
                current.pending += 1
            wake = current.pending >= self._early_sync_at()
        if wake and self._counters is not None:
            self._counters.wake()
        if unsynced_cap:
            # Ahead of what the other replicas know: refuse until this replica's counts are shared.
            raise RateLimited(1, self._detail)

    def _window(self, now: float) -> int:
        assert self.rule is not None
        return math.floor(now / self.rule.window_seconds)

    def _early_sync_at(self) -> int:
        assert self.rule is not None
        return max(1, int(self.rule.limit * EARLY_SYNC_SHARE))

    def _clean(self, window: int) -> None:
        """Forget windows before the previous one (called under the lock, at most once per window)."""
        if window == self._cleaned_window:
            return
        self._cleaned_window = window
        for slot_key in [k for k in self._slots if k[1] < window - 1]:
            del self._slots[slot_key]

    # -- the shared counts -------------------------------------------------------------------------

    def _document_id(self, key: str, window: int) -> str:
        return f"{self.name}:{document_key(key)}:{window}"

    def sync(self, collection: DocumentCollection) -> None:
        """Write this process's hits and read back the cluster's counts (the sync thread calls this)."""
        rule = self.rule
        if rule is None:
            return
        now = self._clock()
        window = self._window(now)
        with self._lock:
            self._clean(window)
            work = [
                (key, slot, slot.pending)
                for key, slot in self._slots.items()
                if key[1] >= window - 1 and (slot.pending or slot.touched)
            ]
            for _, slot, _ in work:
                slot.touched = False
        if not work:
            return
        ids = {key: self._document_id(*key) for key, _, _ in work}
        expires = {key: (key[1] + 3) * rule.window_seconds for key, _, _ in work}
        new = [(key, slot) for key, slot, pending in work if pending and not slot.created]
        if new:
            collection.insert_many([({"_id": ids[key], "count": 0, "expires_at": expires[key]}, ()) for key, _ in new])
        increments = [(ids[key], {"$inc": {"count": pending}}) for key, _, pending in work if pending]
        if increments:
            collection.update_each(increments)
        counts = {doc["_id"]: int(doc.get("count", 0)) for doc in collection.get_many(list(ids.values()))}
        with self._lock:
            for key, slot, pending in work:
                slot.pending -= pending
                if ids[key] in counts:
                    slot.shared = counts[ids[key]]
                    slot.created = True
                else:  # swept, or never written: written again with the next hits
                    slot.shared += pending
                    slot.created = False


def _retry_after(estimate: float, previous: int, current: int, elapsed: float, rule: WindowRule) -> int:
    """Seconds until the estimate falls below the limit again, if nothing else arrives meanwhile."""
    window = rule.window_seconds
    target = rule.limit - 1
    remaining = (1 - elapsed) * window
    if previous > 0:
        # Within this window the estimate falls as the previous window slides out.
        needed = (estimate - target) * window / previous
        if needed <= remaining:
            return max(1, math.ceil(needed))
    if current <= 0:
        return max(1, math.ceil(remaining))
    # In the next window, this window's count slides out in turn.
    needed = max(0.0, (current - target) * window / current)
    return max(1, math.ceil(remaining + needed))


class SharedCounters:
    """The `rate_limits` collection of this process's store: syncs every registered limiter, sweeps expired
    documents. One per process (`start` it once; `stop` on shutdown)."""

    def __init__(
        self,
        store: DocumentStore,
        *,
        collection: str = COLLECTION,
        sync_seconds: float = DEFAULT_SYNC_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.collection = store.collection(collection)
        self.clock = clock
        self._sync_seconds = sync_seconds
        self._limiters: list[SlidingWindowLimiter] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._swept_at = 0.0
        self._failing = False

    def register(self, limiter: SlidingWindowLimiter) -> None:
        self._limiters.append(limiter)
        limiter.sharing = self._thread is not None and not self._failing

    def wake(self) -> None:
        self._wake.set()

    def sync_once(self) -> None:
        """One round: every limiter's counts, and the sweep when it is due. Errors are logged, not raised."""
        try:
            for limiter in list(self._limiters):
                limiter.sync(self.collection)
                limiter.sharing = self._thread is not None
            if self.clock() - self._swept_at >= SWEEP_SECONDS:
                self.sweep()
            if self._failing:
                log.info("rate limit counts are shared again")
            self._failing = False
        except Exception as exc:
            for limiter in self._limiters:
                limiter.sharing = False
            if not self._failing:
                log.warning("rate limit counts cannot be shared; limiting per process", extra={"error": str(exc)})
            self._failing = True

    def sweep(self) -> int:
        """Delete expired counters; how many."""
        now = self.clock()
        self._swept_at = now
        expired = self.collection.find({"expires_at": {"$lt": now}}, fields=["_id"], limit=SWEEP_BATCH)
        return sum(self.collection.delete(doc["_id"], where={"expires_at": {"$lt": now}}) for doc in expired)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._sync_seconds)
            self._wake.clear()
            if self._stop.is_set():
                break
            self.sync_once()

    def start(self) -> None:
        if self._thread is None:
            # From now on the counts are shared, and no replica runs far ahead of the others.
            for limiter in self._limiters:
                limiter.sharing = True
            self._thread = threading.Thread(target=self._run, name="rate-limit-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
