"""The limits every authenticated call passes, in the order that makes failed calls count.

1. Before the token is looked at: the source address's failure budget (an address that sent too many
   bad tokens is refused outright) and its request rate. Every call counts, authenticated or not.
2. The token is verified; a failure is counted against the address.
3. Then the client's own rate, before the scope check: a call refused for its scope still counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mrc_plumbing.auth.client_address import TrustedProxies, limit_key
from mrc_plumbing.auth.rate_limit import Limiter, SlidingWindowLimiter


@dataclass
class CallerGuard:
    per_client: Limiter
    per_address: Limiter | None = None
    failures_per_address: SlidingWindowLimiter | None = None
    proxies: TrustedProxies = field(default_factory=TrustedProxies)

    def before_authentication(self, address: str) -> None:
        key = limit_key(address)
        if self.failures_per_address is not None:
            self.failures_per_address.refuse_if_over(key)
        if self.per_address is not None:
            self.per_address.check(key)

    def authentication_failed(self, address: str) -> None:
        if self.failures_per_address is not None:
            self.failures_per_address.add(limit_key(address))

    def authenticated(self, client_id: str) -> None:
        self.per_client.check(client_id)
