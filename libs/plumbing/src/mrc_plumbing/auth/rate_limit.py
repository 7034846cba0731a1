"""Per-client rate limits: a token bucket per client id, in each process.

Each replica limits on its own, so a client's effective limit is the per-process rate times the replicas
behind the load balancer; that is enough to stop a runaway integration without a shared store.
"""

from __future__ import annotations

import math
import threading
import time

from mrc_kernel.errors import RateLimited


class RateLimiter:
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
