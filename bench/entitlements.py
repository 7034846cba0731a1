"""Entitlements benchmarks, beside the raw store and broker rates measured in the same run.

    uv run python -m bench.entitlements [--quick] [--workers 100000] [--duration 30] [--concurrency 16]

1. Rule evaluations per second per core: the shipped catalogue's published rules evaluated in process
   against synthetic workers' facts (CPU time, one thread). Target >= 20,000.
2. Lag from WorkerRegistered to the first determination event: registrations driven through the
   registry's REST API as ``bench/rest.py`` does (N keep-alive connections for a fixed duration, consent
   to entitlement linkage added), with the entitlements worker consuming; lag = Kafka timestamp of the
   first EligibilityDetermined of a worker minus that of its WorkerRegistered. Target p99 <= 2 s.
3. Re-evaluation after a rule change: N consenting workers' records loaded into the entitlements
   store, a new rule version published, and the job run to completion by the service's own runner on
   the real store adapter; workers/s beside the raw store write rates. Target >= 0.5x raw.

The stack lives in ``.devstack/bench-entitlements`` with ports shifted by 23000; wiped at the start,
stopped at the end. The table goes to stdout, progress to stderr, the JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaConsumer, TopicPartition
from pymongo import MongoClient

from bench import baselines, rest
from bench.report import Report, log, percentile
from bench.synthetic import Population
from mrc_devstack.stack import Stack

REPO_ROOT = Path(__file__).resolve().parents[1]
HOME = REPO_ROOT / ".devstack" / "bench-entitlements"
PORT_OFFSET = 23000
SECTION = "entitlements"
WORKERS_TOPIC = "mrc.registry.workers.v1"
ELIGIBILITY_TOPIC = "mrc.entitlements.eligibility.v1"
DATABASE = "mrc_entitlements"
TARGET_EVALUATIONS = 20_000.0
TARGET_LAG_P99_MS = 2000.0
TARGET_REEVALUATION_RATIO = 0.5
SECTORS = ("construction", "agriculture", "brick_kiln", "domestic_work", "manufacturing")


def _facts(rng: random.Random, worker_id: str) -> Any:
    from mrc_entitlements.domain.facts import (
        ConsentPurpose,
        DocumentKind,
        HouseholdFacts,
        LgdPlace,
        MigrationEpisodeFacts,
        MigrationStatus,
        WorkerFacts,
        WorkerProfile,
    )

    profile = WorkerProfile(worker_id)
    profile.record_worker(
        WorkerFacts(
            worker_id=worker_id,
            birth_year=rng.randint(1955, 2010),
            gender=rng.choice(("female", "male", "")),
            sector=rng.choice(SECTORS),
            occupation="mason",
            home=LgdPlace(rng.choice(("10", "20", "9")), str(rng.randint(100, 700))),
            documents=frozenset(rng.sample(list(DocumentKind), rng.randint(0, 3))),
            vulnerabilities=frozenset(),
            active_purposes=frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.ENTITLEMENT_LINKAGE}),
            registering_partner_id="bench-partner",
        )
    )
    if rng.random() < 0.5:
        profile.record_episode(
            MigrationEpisodeFacts(
                "e-1",
                None,
                LgdPlace("32", "540"),
                "",
                "construction",
                "",
                date(2026, 1, 1),
                None,
                MigrationStatus.ONGOING,
            )
        )
    if rng.random() < 0.7:
        profile.record_household(HouseholdFacts("h-1", frozenset({worker_id}), 5, True, "10"))
    if rng.random() < 0.3:
        profile.declare("epfo_member", False, date(2026, 12, 4))
        profile.declare("bank_account", True, date(2026, 12, 4))
    return profile


# -- 1. rule evaluations per second per core -------------------------------------------------------


def rule_evaluations(workers: int, report: Report) -> None:
    from mrc_entitlements.catalogue import starter_catalogue
    from mrc_entitlements.domain.determinations import determine

    now = datetime.now(UTC)
    rules = [s.published_rule for s in starter_catalogue(now) if s.published_rule is not None]
    rng = random.Random(7)
    profiles = [_facts(rng, f"w-{i}") for i in range(workers)]
    snapshots = [p.snapshot(now.date()) for p in profiles]
    log(f"rules: {len(rules)} published rules x {workers} workers")
    began_cpu, began = time.process_time(), time.perf_counter()
    for index, snapshot in enumerate(snapshots):
        determine(f"w-{index}", rules, snapshot, now)
    cpu, wall = time.process_time() - began_cpu, time.perf_counter() - began
    evaluations = workers * len(rules)
    per_core = evaluations / cpu
    report.add(
        SECTION, "rule evaluations per CPU-second", per_core, "evals/s/core", f"{evaluations:,} in {wall:.1f} s wall"
    )
    conditions = sum(len(r.conditions) for r in rules) * workers
    report.add(SECTION, "condition evaluations per CPU-second", conditions / cpu, "conds/s/core", "CEL programs run")
    verdict = "met" if per_core >= TARGET_EVALUATIONS else "NOT met"
    report.add("targets", f"rule evaluations >= {TARGET_EVALUATIONS:,.0f}/s/core", per_core, "evals/s/core", verdict)


def consumer_cpu(events: int, report: Report) -> None:
    """CPU per WorkerRegistered in the consumer's handler on the in-memory store (decode, assess, map, store)."""
    from mrc_entitlements.entrypoints.consumer import build_handler
    from mrc_entitlements.entrypoints.wiring import build
    from mrc_kernel.idempotency import IdDeriver
    from mrc_plumbing.events import EventDecoder
    from mrc_plumbing.store.memory import InMemoryStore
    from tests.support.auth import RecordingAudit
    from tests.unit.entitlements.fakes import registered

    service = build(InMemoryStore(), RecordingAudit(), IdDeriver(b"bench-secret-of-32-bytes-long!!!"))
    handler = build_handler(service.intake, EventDecoder())
    rng = random.Random(5)
    batch = [
        registered(worker_id=str(uuid.UUID(int=rng.getrandbits(128))), birth_year=rng.randint(1960, 2008))
        for _ in range(events)
    ]
    profiler = cProfile.Profile()
    began = time.process_time()
    profiler.enable()
    for event in batch:
        handler(event)
    profiler.disable()
    cpu = time.process_time() - began
    report.add(SECTION, "consumer CPU per WorkerRegistered", cpu * 1000 / events, "ms", "in-memory store, profiled")
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(15)
    report.details["consumer_profile"] = stream.getvalue()


# -- 2. lag from WorkerRegistered to the determination event -------------------------------------


async def _drive(registry_url: str, headers: dict[str, str], concurrency: int, duration: float) -> tuple[int, float]:
    population = Population(seed=11)
    done = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=registry_url, timeout=60, limits=limits, headers=headers) as client:
        deadline = time.perf_counter() + duration

        async def loop() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                body = population.person().registration_body()
                body["consent"]["purposes"] = ["registration", "entitlement_linkage"]
                body["sector"] = "construction"
                response = await client.post("/v1/workers", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
                if response.is_success:
                    done += 1

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return done, time.perf_counter() - began


def _timestamps(bootstrap: str, topic: str, wanted: Callable[[Any], bool], timeout: float) -> dict[str, int]:
    """First Kafka timestamp (ms) per subject (worker id) of the records `wanted` accepts."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        first: dict[str, int] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                for record in records:
                    headers = dict(record.headers or [])
                    if wanted(headers):
                        subject = (headers.get("ce_subject") or record.key or b"").decode()
                        first.setdefault(subject, record.timestamp)
            if all(consumer.position(p) >= ends[p] for p in partitions):
                break
        return first
    finally:
        consumer.close()


def lag(stack: Stack, concurrency: int, duration: float, report: Report) -> None:
    registrar = rest.create_registrar(stack.http_url("access"))
    log(f"lag: registrations with {concurrency} connection(s) for {duration:.0f} s, entitlements consuming")
    done, elapsed = asyncio.run(_drive(stack.http_url("registry"), registrar.headers(), concurrency, duration))
    rate = done / elapsed
    report.add(SECTION, f"registrations driven c={concurrency}", rate, "workers/s", f"{done} in {elapsed:.0f} s")
    registered = _timestamps(
        stack.kafka_bootstrap, WORKERS_TOPIC, lambda h: h.get("ce_type") == b"mrc.registry.v1.WorkerRegistered", 120
    )
    wait_until = time.monotonic() + 120
    determined: dict[str, int] = {}
    while time.monotonic() < wait_until:
        determined = _timestamps(
            stack.kafka_bootstrap,
            ELIGIBILITY_TOPIC,
            lambda h: h.get("ce_type") == b"mrc.entitlements.v1.EligibilityDetermined",
            120,
        )
        if len(set(registered) - set(determined)) == 0:
            break
        time.sleep(2)
    lags = [(determined[w] - registered[w]) / 1000 for w in registered if w in determined]
    missing = len(set(registered) - set(determined))
    report.add_latencies(SECTION, "lag WorkerRegistered -> EligibilityDetermined", lags, f"{missing} not determined")
    p99 = percentile(lags, 99) * 1000
    verdict = "met" if p99 <= TARGET_LAG_P99_MS and not missing else "NOT met"
    report.add("targets", f"lag p99 <= {TARGET_LAG_P99_MS:.0f} ms at {rate:.0f} registrations/s", p99, "ms", verdict)


# -- 3. re-evaluation after a rule change ----------------------------------------------------------


def _load_records(mongo_uri: str, workers: int, rules: list[Any], now: datetime) -> None:
    from mrc_entitlements.adapters.store import record_state
    from mrc_entitlements.domain.worker_record import WorkerRecord
    from mrc_kernel.policy import Grant, Purpose

    rng = random.Random(13)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        collection = client[DATABASE]["eligibility"]
        batch: list[dict[str, Any]] = []
        began = time.perf_counter()
        for index in range(workers):
            worker_id = f"{index:08d}-{uuid.UUID(int=rng.getrandbits(128))}"
            record = WorkerRecord.new(worker_id)
            record.profile = _facts(rng, worker_id)
            record.grants = (Grant(frozenset({Purpose.ENTITLEMENT_LINKAGE}), partner_id="bench-partner"),)
            record.assess(rules, today=now.date(), now=now)
            record.eligibility.pending_events.clear()
            record.version = 1
            batch.append({"_id": worker_id, **record_state(record), "outbox": []})
            if len(batch) == 1000:
                collection.insert_many(batch, ordered=False)
                batch = []
                if (index + 1) % 20000 == 0:
                    loaded_rate = (index + 1) / (time.perf_counter() - began)
                    log(f"re-evaluation: {index + 1:,} records loaded ({loaded_rate:,.0f}/s)")
        if batch:
            collection.insert_many(batch, ordered=False)
    finally:
        client.close()


def reevaluation(stack: Stack, workers: int, report: Report, profile_batches: int = 5) -> None:
    from mrc_entitlements.adapters.store import StoredJobs, StoredSchemes, StoredWorkerRecords
    from mrc_entitlements.catalogue import starter_catalogue
    from mrc_entitlements.domain.rules import ConditionSpec
    from mrc_entitlements.service_layer.catalogue import CatalogueService
    from mrc_entitlements.service_layer.reevaluation import ReevaluationRunner
    from mrc_kernel.roles import Role
    from mrc_plumbing.settings import InfraSettings
    from mrc_plumbing.store.wiring import open_store
    from tests.support.auth import RecordingAudit, caller_for

    now = datetime.now(UTC)
    schemes = starter_catalogue(now)
    rules = [s.published_rule for s in schemes if s.published_rule is not None]
    log(f"re-evaluation: loading {workers:,} consenting workers' records")
    _load_records(stack.mongo_uri, workers, rules, now)
    store = open_store(InfraSettings(mongo_uri=stack.mongo_uri), DATABASE)
    records, stored_schemes, jobs = StoredWorkerRecords(store), StoredSchemes(store), StoredJobs(store)
    records.ensure_indexes()
    catalogue = CatalogueService(stored_schemes, jobs, records, RecordingAudit())
    catalogue.seed(schemes)
    operator = caller_for(Role.OPERATOR, partner_id="ops")
    specs = [
        ConditionSpec("aged_18_to_59", "age >= 18 && age < 60", "Aged 18 to 59", ("age",)),
        ConditionSpec("construction", "sector == 'construction'", "Construction work", ("sector",)),
    ]
    rule, _ = catalogue.draft("bocw-welfare-board", specs, note="bench", expected_version=0, caller=operator)
    publication = catalogue.publish("bocw-welfare-board", rule.version, expected_version=0, caller=operator)
    runner = ReevaluationRunner(records, stored_schemes, jobs, catalogue, batch_size=500)
    profiler = cProfile.Profile()
    batches = 0

    def on_batch(job: Any) -> None:
        nonlocal batches
        batches += 1
        if batches == profile_batches:
            profiler.disable()
        if batches % 40 == 0:
            so_far = job.processed / (time.perf_counter() - began)
            log(f"re-evaluation: {job.processed:,}/{job.total:,} ({so_far:,.0f}/s)")

    began = time.perf_counter()
    profiler.enable()
    job = runner.run_to_completion(publication.job.job_id, on_batch)
    profiler.disable()
    elapsed = time.perf_counter() - began
    rate = job.processed / elapsed
    report.add(
        SECTION,
        f"re-evaluation of {workers:,} workers",
        rate,
        "workers/s",
        f"{job.processed:,} processed, {job.changed:,} changed in {elapsed:.0f} s ({store.strategy})",
    )
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(18)
    report.details.setdefault("reevaluation_profile", {})[str(workers)] = stream.getvalue()
    for raw_name in ("store insert_one", "store insert_many"):
        raw = report.value(baselines.SECTION, raw_name)
        if raw:
            report.add_ratio("ratios", f"re-evaluation {workers:,} / raw {raw_name}", rate, raw, "same run")
    raw_one = report.value(baselines.SECTION, "store insert_one")
    if raw_one:
        ratio = rate / raw_one
        verdict = "met" if ratio >= TARGET_REEVALUATION_RATIO else "NOT met"
        report.add(
            "targets", f"re-evaluation {workers:,} >= {TARGET_REEVALUATION_RATIO}x raw insert_one", ratio, "x", verdict
        )
    client: MongoClient[dict[str, Any]] = MongoClient(stack.mongo_uri)
    try:
        client.drop_database(DATABASE)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.entitlements", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", default="", help="comma-separated re-evaluation sizes (default 100000)")
    parser.add_argument("--duration", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", default="rules,lag,reevaluation")
    args = parser.parse_args(argv)
    sizes = [int(w) for w in (args.workers or ("10000" if args.quick else "100000")).split(",")]
    duration = args.duration or (10.0 if args.quick else 30.0)
    only = set(args.only.split(","))
    report = Report(vars(args))
    stack = Stack(HOME, PORT_OFFSET, echo=log)
    status = 0
    try:
        report.add("host", "load average (1 min) at start", os.getloadavg()[0], "procs", f"{os.cpu_count()} CPUs")
        if "rules" in only:
            rule_evaluations(2_000 if args.quick else 20_000, report)
            consumer_cpu(500 if args.quick else 2_000, report)
        stack.stop_all()
        stack.wipe()
        stack.start_infra()
        baselines.run(stack.mongo_uri, stack.kafka_bootstrap, True, report)
        if "lag" in only:
            access_env = {
                "MRC_ACCESS_BOOTSTRAP_CLIENT_ID": rest.OPERATOR_CLIENT_ID,
                "MRC_ACCESS_BOOTSTRAP_CLIENT_SECRET": rest.OPERATOR_CLIENT_SECRET,
            }
            stack.start_service("access", extra_env=access_env)
            jwks = {"MRC_AUTH_JWKS_URL": f"{stack.http_url('access')}/.well-known/jwks.json"}
            limits = {"MRC_AUTH_RATE_LIMIT_PER_SECOND": "100000", "MRC_AUTH_RATE_LIMIT_BURST": "100000"}
            stack.start_service("registry", extra_env={**jwks, **limits})
            stack.start_service("entitlements-worker", extra_env=jwks)
            lag(stack, args.concurrency, duration, report)
            report.add("host", "load average (1 min) after the lag run", os.getloadavg()[0], "procs", "")
            stack.stop_services()
        if "reevaluation" in only:
            for size in sizes:
                reevaluation(stack, size, report)
    except KeyboardInterrupt:
        status = 130
    except Exception:
        log(f"failed; reporting what was measured:\n{traceback.format_exc()}")
        status = 1
    finally:
        report.add("host", "load average (1 min) at end", os.getloadavg()[0], "procs", "")
        stack.stop_all()
    print(report.table(), flush=True)
    if "consumer_profile" in report.details:
        print(f"\nprofile of the consumer handler:\n{report.details['consumer_profile']}", flush=True)
    for size, text in report.details.get("reevaluation_profile", {}).items():
        print(f"\nprofile of the first re-evaluation batches ({size} workers):\n{text}", flush=True)
    path = report.write_json()
    print(f"\nresults: {path.relative_to(REPO_ROOT)}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
