"""The token endpoint's limits: per address and per client id, lockout after wrong secrets (on every
replica, since the failures are in the store), and a burst refused at once rather than queued."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mrc_access.entrypoints.token_limits import TokenLimits
from mrc_plumbing.auth.lockout import FailureLockout, LockoutRule
from mrc_plumbing.auth.rate_limit import SlidingWindowLimiter, WindowRule
from mrc_plumbing.concurrency import ConcurrencyLimit
from mrc_plumbing.store.memory import InMemoryStore
from tests.unit.access.fakes import Platform
from tests.unit.access.http_client import basic, http_client

FORM = {"grant_type": "client_credentials"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def limits(
    store: InMemoryStore,
    clock: Clock,
    *,
    per_address: int = 1000,
    per_client: int = 1000,
    client_failures: int = 10,
    address_failures: int = 50,
    in_flight: ConcurrencyLimit | None = None,
) -> TokenLimits:
    return TokenLimits(
        per_address=SlidingWindowLimiter("token-address", WindowRule(per_address, 60), clock=clock),
        per_client=SlidingWindowLimiter("token-client", WindowRule(per_client, 60), clock=clock),
        client_lockout=FailureLockout("token-client", LockoutRule(client_failures, 900, 900), store, clock=clock),
        address_lockout=FailureLockout("token-address", LockoutRule(address_failures, 900, 900), store, clock=clock),
        in_flight=in_flight or ConcurrencyLimit("token requests", total=64, per_key=8),
    )


def test_wrong_secrets_lock_the_client_id_then_even_the_right_secret_is_refused() -> None:
    platform, store, clock = Platform(), InMemoryStore(), Clock()
    http = http_client(platform, token_limits=limits(store, clock))
    codes = [http.post("/oauth2/token", data=FORM, headers=basic(secret=f"guess-{n}")).status_code for n in range(12)]
    assert codes == [401] * 10 + [429, 429]
    refused = http.post("/oauth2/token", data=FORM, headers=basic())
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 900
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["cache-control"] == "no-store"
    # From another address too: the client id is locked, wherever the guesses come from.
    assert (
        http_client(platform, address="198.51.100.99", token_limits=limits(store, clock))
        .post("/oauth2/token", data=FORM, headers=basic())
        .status_code
        == 429
    )
    clock.now += 900
    assert http.post("/oauth2/token", data=FORM, headers=basic()).status_code == 200


def test_the_lockout_holds_across_replicas_sharing_the_store() -> None:
    platform, store, clock = Platform(), InMemoryStore(), Clock()
    replicas = [http_client(platform, token_limits=limits(store, clock)) for _ in range(3)]
    for n in range(10):
        assert replicas[n % 3].post("/oauth2/token", data=FORM, headers=basic(secret="wrong")).status_code == 401
    for replica in replicas:
        assert replica.post("/oauth2/token", data=FORM, headers=basic()).status_code == 429


def test_many_client_ids_guessed_from_one_address_lock_the_address() -> None:
    platform, store, clock = Platform(), InMemoryStore(), Clock()
    http = http_client(platform, token_limits=limits(store, clock, address_failures=5))
    for n in range(5):
        assert http.post("/oauth2/token", data=FORM, headers=basic(client_id=f"guess-{n}")).status_code == 401
    assert http.post("/oauth2/token", data=FORM, headers=basic()).status_code == 429
    other = http_client(platform, address="198.51.100.99", token_limits=limits(store, clock, address_failures=5))
    assert other.post("/oauth2/token", data=FORM, headers=basic()).status_code == 200


def test_malformed_credentials_count_against_the_address() -> None:
    platform, store, clock = Platform(), InMemoryStore(), Clock()
    http = http_client(platform, token_limits=limits(store, clock, address_failures=2))
    for _ in range(2):
        assert http.post("/oauth2/token", data=FORM, headers={"Authorization": "Basic !!!"}).status_code == 401
    assert http.post("/oauth2/token", data=FORM, headers=basic()).status_code == 429


def test_a_success_clears_the_client_ids_failures() -> None:
    platform, store, clock = Platform(), InMemoryStore(), Clock()
    http = http_client(platform, token_limits=limits(store, clock, client_failures=3))
    for _ in range(2):
        http.post("/oauth2/token", data=FORM, headers=basic(secret="typo"))
    assert http.post("/oauth2/token", data=FORM, headers=basic()).status_code == 200
    for _ in range(2):
        http.post("/oauth2/token", data=FORM, headers=basic(secret="typo"))
    assert http.post("/oauth2/token", data=FORM, headers=basic()).status_code == 200


def test_rates_per_address_and_per_client() -> None:
    platform, store, clock = Platform(), InMemoryStore(), Clock()
    http = http_client(platform, token_limits=limits(store, clock, per_address=3))
    assert [http.post("/oauth2/token", data=FORM, headers=basic()).status_code for _ in range(4)] == [200] * 3 + [429]
    per_client = limits(store, clock, per_client=2)
    http = http_client(platform, address="198.51.100.50", token_limits=per_client)
    assert [http.post("/oauth2/token", data=FORM, headers=basic()).status_code for _ in range(3)] == [200, 200, 429]
    assert http.post("/oauth2/token", data=FORM, headers=basic(client_id="someone-else")).status_code == 401


@contextmanager
def slow_secret_checks(platform: Platform) -> Iterator[threading.Event]:
    """Secret checks that wait until the test lets them go."""
    release = threading.Event()
    issue = platform.tokens.issue

    def waiting(*args: object, **kwargs: object) -> object:
        release.wait(10)
        return issue(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(platform.tokens, "issue", waiting)
        yield release


def test_a_burst_from_one_address_is_refused_at_once_not_queued() -> None:
    platform, store, clock = Platform(), InMemoryStore(), Clock()
    in_flight = ConcurrencyLimit("token requests", total=64, per_key=2)
    http = http_client(platform, token_limits=limits(store, clock, in_flight=in_flight))
    results: list[int] = []
    with slow_secret_checks(platform) as release:
        threads = [
            threading.Thread(
                target=lambda: results.append(http.post("/oauth2/token", data=FORM, headers=basic()).status_code)
            )
            for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        deadline = threading.Event()
        while len(results) < 4 and not deadline.wait(0.05):
            pass
        assert sorted(results) == [429] * 4  # answered while two are still being worked on
        release.set()
        for thread in threads:
            thread.join(10)
    assert sorted(results) == [200, 200, 429, 429, 429, 429]
