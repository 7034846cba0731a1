"""Registrations through the registry's REST API (``POST /v1/workers``) with a registrar's bearer token.

The access service issues the token: an operator token (client credentials, HTTP Basic), a CSO partner
working in every state, a client of it with role ``registrar``, and that client's token. Load is driven
by one asyncio event loop with N concurrent HTTP/1.1 keep-alive connections for a fixed duration;
latency is measured per request, from send to the end of the response.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.report import Report, log, percentile
from bench.synthetic import Population

SECTION = "REST registrations"
OPERATOR_CLIENT_ID = "mrc-operator"
OPERATOR_CLIENT_SECRET = "dev-operator-secret"  # the dev stack's local operator credential
TOKEN_REFRESH_SECONDS = 300  # tokens live 600 s


@dataclass
class Registrar:
    """A registrar client of a CSO partner; ``headers()`` keeps its token fresh."""

    access_url: str
    partner_id: str
    client_id: str
    client_secret: str
    _token: str = ""
    _fetched_at: float = 0.0

    def headers(self) -> dict[str, str]:
        if not self._token or time.monotonic() - self._fetched_at > TOKEN_REFRESH_SECONDS:
            with httpx.Client(base_url=self.access_url, timeout=30) as http:
                self._token = token(http, self.client_id, self.client_secret)
            self._fetched_at = time.monotonic()
        return {"Authorization": f"Bearer {self._token}"}


def token(http: httpx.Client, client_id: str, client_secret: str) -> str:
    response = http.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, client_secret))
    response.raise_for_status()
    return str(response.json()["access_token"])


def create_registrar(access_url: str) -> Registrar:
    with httpx.Client(base_url=access_url, timeout=30) as http:
        operator = {"Authorization": f"Bearer {token(http, OPERATOR_CLIENT_ID, OPERATOR_CLIENT_SECRET)}"}
        response = http.post(
            "/v1/partners",
            json={"name": f"Bench CSO {uuid.uuid4().hex[:6]}", "kind": "cso", "state_codes": []},
            headers={**operator, "Idempotency-Key": str(uuid.uuid4())},
        )
        response.raise_for_status()
        partner_id = str(response.json()["partner_id"])
        response = http.post(f"/v1/partners/{partner_id}/clients", json={"roles": ["registrar"]}, headers=operator)
        response.raise_for_status()
        body = response.json()
        client_id = body["client"]["client_id"] if "client" in body else body["client_id"]
        registrar = Registrar(access_url, partner_id, str(client_id), str(body["client_secret"]))
    registrar.headers()
    return registrar


@dataclass
class LoadResult:
    concurrency: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)  # of successful registrations
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""

    @property
    def succeeded(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.succeeded / self.elapsed if self.elapsed else 0.0


async def _drive(
    registry_url: str, headers: dict[str, str], population: Population, concurrency: int, duration: float
) -> LoadResult:
    result = LoadResult(concurrency, 0.0)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=registry_url, timeout=60, limits=limits, headers=headers) as client:

        async def register() -> tuple[int, float, str]:
            body = population.person().registration_body()
            start = time.perf_counter()
            response = await client.post("/v1/workers", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
            elapsed = time.perf_counter() - start
            return response.status_code, elapsed, "" if response.is_success else response.text[:300]

        # Warm-up: open the connections and let the service settle; not counted.
        await asyncio.gather(*(register() for _ in range(concurrency * 2)))

        deadline = time.perf_counter() + duration

        async def loop() -> None:
            while time.perf_counter() < deadline:
                try:
                    status, elapsed, text = await register()
                except httpx.HTTPError as e:
                    result.errors[type(e).__name__] += 1
                    continue
                result.statuses[status] += 1
                if status in (200, 201):
                    result.latencies.append(elapsed)
                elif not result.first_error:
                    result.first_error = f"{status}: {text}"

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - began
    return result


def run(
    registry_url: str,
    registrar: Registrar,
    concurrencies: list[int],
    duration: float,
    report: Report,
    count_workers: Callable[[], int],
    cpu_snapshot: Callable[[], dict[str, float]] | None = None,
) -> list[LoadResult]:
    """``count_workers`` counts the workers collection: each registration scans it, so its size matters."""
    population = Population(seed=3)
    results: list[LoadResult] = []
    for concurrency in concurrencies:
        log(f"REST: POST /v1/workers with {concurrency} connection(s) for {duration:.0f} s")
        before = count_workers()
        cpu_before = cpu_snapshot() if cpu_snapshot else {}
        result = asyncio.run(_drive(registry_url, registrar.headers(), population, concurrency, duration))
        cpu_after = cpu_snapshot() if cpu_snapshot else {}
        after = count_workers()
        results.append(result)
        failed = sum(n for s, n in result.statuses.items() if s not in (200, 201)) + sum(result.errors.values())
        note = (
            f"{result.succeeded} ok, {failed} failed in {result.elapsed:.0f} s; "
            f"workers in collection {before:,} -> {after:,}"
        )
        report.add(SECTION, f"registrations c={concurrency}", result.rate, "workers/s", note)
        report.add_latencies(SECTION, f"latency c={concurrency}", result.latencies)
        # Includes the warm-up requests, so it slightly overstates the cost of each counted one.
        total_requests = result.succeeded + concurrency * 2
        cpu_ms = {k: (cpu_after[k] - cpu_before[k]) * 1000 / total_requests for k in cpu_after if k in cpu_before}
        for component, ms in sorted(cpu_ms.items()):
            report.add(SECTION, f"CPU per registration c={concurrency}: {component}", ms, "ms", "user+system")
        if cpu_ms:
            cores = os.cpu_count() or 1
            total = sum(cpu_ms.values())
            report.add(
                SECTION,
                f"CPU per registration c={concurrency}: all",
                total,
                "ms",
                f"so at most {cores * 1000 / total:,.0f} registrations/s on {cores} cores",
            )
        report.details.setdefault("rest", []).append(
            {
                "concurrency": concurrency,
                "workers_before": before,
                "workers_after": after,
                "elapsed_s": result.elapsed,
                "succeeded": result.succeeded,
                "statuses": dict(result.statuses),
                "errors": dict(result.errors),
                "first_error": result.first_error,
                "p50_ms": percentile(result.latencies, 50) * 1000,
                "p99_ms": percentile(result.latencies, 99) * 1000,
                "cpu_ms_per_registration": cpu_ms,
            }
        )
        if result.first_error:
            log(f"REST: first failure: {result.first_error}")
    return results
