"""The key ring: the key that signs, the keys verifiers must know, and rotation."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec

from mrc_access.domain.signing_key import SigningKey, published_keys
from mrc_access.service_layer.ports import SigningKeyStore
from mrc_kernel.audit import Action, AuditRecorder
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now

log = logging.getLogger(__name__)

# A token naming a key we do not know may come from a replica that just rotated; look again, but
# not more often than this, so made-up key ids cannot turn every request into a store query.
UNKNOWN_KID_RELOAD_SECONDS = 1.0
SIGNING_KEY_RESOURCE = "signing_key"
SIGNING_KEY_FIELDS = ("kid", "encrypted_private_key", "created_at")


class SigningKeyRing:
    """Reads the published keys from the store at most every `cache_seconds`, so replicas agree within that."""

    def __init__(
        self,
        store: SigningKeyStore,
        *,
        grace: timedelta,
        cache_seconds: float = 5.0,
        audit: AuditRecorder | None = None,
        system: Caller | None = None,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`audit` records each new key as created by the operator who rotated, or by `system` (the first key)."""
        self._store = store
        self._audit = audit
        self._system = system
        self._grace = grace
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = []
        self._loaded_at: float | None = None

    def rotate(self, caller: Caller | None = None) -> SigningKey:
        """A new signing key, effective at once; the previous one stays published for the grace period."""
        now = self._clock()
        newest = next(iter(self._store.newest_first()), None)
        if newest is not None and now <= newest.created_at:
            # Keys are ordered by creation time (milliseconds in the store): a rotation within the same
            # millisecond must still sort after the key it replaces, or the old key would keep signing.
            now = newest.created_at + timedelta(milliseconds=1)
        key = SigningKey.generate(now)
        actor = caller or self._system
        audit = (
            [self._audit.event(actor, Action.CREATE, SIGNING_KEY_RESOURCE, key.kid, SIGNING_KEY_FIELDS)]
            if self._audit is not None and actor is not None
            else []
        )
        self._store.add(key, audit=audit)
        with self._lock:
            self._loaded_at = None
        log.info("signing key rotated", extra={"kid": key.kid})
        return key

    def signing_key(self) -> SigningKey:
        """The key that signs now, generated if the store has none yet (a fresh cluster)."""
        keys = self.published()
        return keys[0] if keys else self.rotate()

    def published(self) -> list[SigningKey]:
        """Newest first: the signing key, then retired keys still inside their grace period."""
        with self._lock:
            if self._cache_age() >= self._cache_seconds:
                self._reload()
            return list(self._keys)

    def verification_key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        with self._lock:
            age = self._cache_age()
            if age >= self._cache_seconds or (not self._has(kid) and age >= UNKNOWN_KID_RELOAD_SECONDS):
                self._reload()
            return next((k.public_key for k in self._keys if k.kid == kid), None)

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.public_jwk() for key in self.published()]}

    def _cache_age(self) -> float:
        return math.inf if self._loaded_at is None else self._monotonic() - self._loaded_at

    def _has(self, kid: str) -> bool:
        return any(k.kid == kid for k in self._keys)

    def _reload(self) -> None:
        self._keys = published_keys(self._store.newest_first(), now=self._clock(), grace=self._grace)
        self._loaded_at = self._monotonic()
