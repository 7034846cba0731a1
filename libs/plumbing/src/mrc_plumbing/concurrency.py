"""A per-process cap on expensive operations running at once, that refuses rather than queues.

A burst of listings must not occupy every worker thread while cheap calls (a token request) wait
behind them. `ConcurrencyLimit.slot(key)` admits at most `per_key` operations of one caller and `total`
operations of everyone at the same time; beyond that it answers at once: `RateLimited` (429) when the
caller holds its share, `Unavailable` (503) when the process does. Both carry `Retry-After`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from mrc_kernel.errors import RateLimited, Unavailable


class ConcurrencyLimit:
    def __init__(self, name: str, *, total: int, per_key: int, retry_after_seconds: int = 1) -> None:
        if total < 1 or per_key < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.name = name
        self._total = total
        self._per_key = per_key
        self._retry_after = retry_after_seconds
        self._running = 0
        self._by_key: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        with self._lock:
            if self._by_key.get(key, 0) >= self._per_key:
                raise RateLimited(self._retry_after, f"at most {self._per_key} {self.name} at a time per caller")
            if self._running >= self._total:
                raise Unavailable(f"too many {self.name} in progress; retry shortly", self._retry_after)
            self._running += 1
            self._by_key[key] = self._by_key.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                left = self._by_key[key] - 1
                if left:
                    self._by_key[key] = left
                else:
                    del self._by_key[key]
