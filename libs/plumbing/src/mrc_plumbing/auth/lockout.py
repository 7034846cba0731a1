"""Lockout after repeated failures (wrong client secrets), counted in the store so every replica sees every one.

A key (a client id, a source address) that fails `failures` times within `window_seconds` of its first
counted failure is locked for `lock_seconds`: every attempt is then refused with 429 and `Retry-After`
before any secret is checked, the right secret included. The count starts again when the lock is set,
and a success clears it.

Unlike the rate limiters these writes go to the store at once (failures are rare, and each already
costs a deliberately slow secret hash): one document per key in the `rate_limits` collection,
`{_id: "lockout:<name>:<key>", failures, window_start, locked_until, expires_at}`, changed only by
atomic single-document conditional updates. Cost: `check` is one read for all the keys of a request;
a failure one to three writes and a read; a success a write only if failures had been counted.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mrc_kernel.errors import RateLimited
from mrc_plumbing.auth.rate_limit import COLLECTION, document_key
from mrc_plumbing.store import DocumentStore, DuplicateDocument

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class LockoutRule:
    failures: int
    window_seconds: float
    lock_seconds: float

    def __post_init__(self) -> None:
        if self.failures < 1 or self.window_seconds <= 0 or self.lock_seconds <= 0:
            raise ValueError("a lockout rule needs positive failures, window and lock")


class FailureLockout:
    def __init__(
        self,
        name: str,
        rule: LockoutRule,
        store: DocumentStore,
        *,
        collection: str = COLLECTION,
        clock: Callable[[], float] = time.time,
        detail: str = "too many failed attempts",
    ) -> None:
        self.name = name
        self.rule = rule
        self._documents = store.collection(collection)
        self._clock = clock
        self._detail = detail

    def _id(self, key: str) -> str:
        return f"lockout:{self.name}:{document_key(key)}"

    def failures(self, keys: Sequence[str]) -> dict[str, int]:
        """Raise RateLimited if any key is locked; else the failures counted so far, by key."""
        ids = {self._id(key): key for key in keys}
        now = self._clock()
        counted: dict[str, int] = {}
        locked_until = 0.0
        for doc in self._documents.get_many(list(ids)):
            locked_until = max(locked_until, float(doc.get("locked_until", 0.0)))
            in_window = float(doc.get("window_start", 0.0)) > now - self.rule.window_seconds
            counted[ids[doc["_id"]]] = int(doc.get("failures", 0)) if in_window else 0
        if locked_until > now:
            raise RateLimited(max(1, math.ceil(locked_until - now)), f"{self._detail}; retry later")
        return counted

    def check(self, *keys: str) -> None:
        self.failures(keys)

    def failed(self, key: str) -> bool:
        """Count a failure; True if it locked the key."""
        doc_id = self._id(key)
        now = self._clock()
        rule = self.rule
        window_open = now - rule.window_seconds
        expires = now + rule.window_seconds + rule.lock_seconds
        for _ in range(MAX_ATTEMPTS):
            if self._documents.update(
                doc_id,
                {"$inc": {"failures": 1}, "$set": {"expires_at": expires}},
                where={"window_start": {"$gt": window_open}},
            ):
                break
            if self._documents.update(
                doc_id,
                {"$set": {"failures": 1, "window_start": now, "expires_at": expires}},
                where={"window_start": {"$lte": window_open}},
            ):
                break
            try:
                self._documents.insert(
                    {"_id": doc_id, "failures": 1, "window_start": now, "locked_until": 0.0, "expires_at": expires}
                )
                break
            except DuplicateDocument:
                continue  # another replica created it meanwhile: count into it
        doc = self._documents.get(doc_id) or {}
        failures, locked_until = int(doc.get("failures", 0)), float(doc.get("locked_until", 0.0))
        if failures < rule.failures or locked_until > now:
            return False
        # Exactly one replica sets the lock (the condition is the state it read) and restarts the count.
        locked = self._documents.update(
            doc_id,
            {
                "$set": {
                    "locked_until": now + rule.lock_seconds,
                    "failures": 0,
                    "window_start": now,
                    "expires_at": now + rule.lock_seconds + rule.window_seconds,
                }
            },
            where={"locked_until": locked_until, "failures": {"$gte": rule.failures}},
        )
        if locked:
            log.warning("locked after repeated failures", extra={"lockout": self.name, "seconds": rule.lock_seconds})
        return locked

    def succeeded(self, key: str, counted: Mapping[str, int]) -> None:
        """Clear the key's failures after a success, if `failures` had counted any."""
        if counted.get(key):
            self._documents.update(self._id(key), {"$set": {"failures": 0}}, where={"failures": {"$gt": 0}})
