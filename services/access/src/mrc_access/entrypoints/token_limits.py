"""What stands between the internet and the slow secret hash of the token endpoint.

In order, for each `POST /oauth2/token`:
1. the source address's rate (`per_address`), before the body is even parsed;
2. at most `per_address_in_flight` requests of one address being worked on at once, and `in_flight` of
   everyone (a burst is refused at once rather than queued in front of other callers);
3. the client id's rate (`per_client`), whether or not the secret will turn out right;
4. the lockouts, read from the store: a client id with 10 wrong secrets in 15 minutes, or an address
   with 50, is refused for 15 minutes before any secret is checked (the right one included);
5. only then the secret; a wrong one is counted against the client id and the address, in the store,
   so the lockout holds on every replica.

Requests are worked on in a thread pool of their own, so a flood of other calls (audit listings, say)
can never make a token request wait for a thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from mrc_plumbing.auth.client_address import TrustedProxies, limit_key
from mrc_plumbing.auth.lockout import FailureLockout
from mrc_plumbing.auth.rate_limit import Limiter, RateLimiter
from mrc_plumbing.concurrency import ConcurrencyLimit

DEFAULT_WORKERS = 4


@dataclass
class TokenLimits:
    per_address: Limiter = field(default_factory=lambda: RateLimiter(0, 1))
    per_client: Limiter = field(default_factory=lambda: RateLimiter(0, 1))
    client_lockout: FailureLockout | None = None
    address_lockout: FailureLockout | None = None
    in_flight: ConcurrencyLimit = field(default_factory=lambda: ConcurrencyLimit("token requests", total=64, per_key=8))
    proxies: TrustedProxies = field(default_factory=TrustedProxies)
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=DEFAULT_WORKERS, thread_name_prefix="token")
    )

    def before_parsing(self, address: str) -> None:
        self.per_address.check(limit_key(address))

    @contextmanager
    def working(self, address: str) -> Iterator[None]:
        with self.in_flight.slot(limit_key(address)):
            yield

    def before_secret(self, client_id: str, address: str) -> dict[str, int]:
        """RateLimited if the client or the address is locked; else the client's failures counted so far."""
        if self.address_lockout is not None:
            self.address_lockout.check(limit_key(address))
        return self.client_lockout.failures([client_id]) if self.client_lockout is not None else {}

    def secret_failed(self, client_id: str, address: str) -> None:
        if self.client_lockout is not None and client_id:
            self.client_lockout.failed(client_id)
        if self.address_lockout is not None:
            self.address_lockout.failed(limit_key(address))

    def secret_matched(self, client_id: str, counted: dict[str, int]) -> None:
        # The client's count starts again; the address's does not (one success does not vouch for the rest).
        if self.client_lockout is not None:
            self.client_lockout.succeeded(client_id, counted)
