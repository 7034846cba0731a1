"""Cross-state lag of a worker summary under a sustained registration load in the source state.

    uv run python -m bench.federation [--quick] [--duration 60] [--concurrency 8] [--port-offset 26000]

Starts its own local federation under ``.devstack/federation/bench``: Bihar and Kerala, each with its own
Kafka, FerretDB, access service and registry (ports shifted by the offset, and by 2000 more for Kerala), and
MirrorMaker 2 between them (no national cluster). Wiped at the start, stopped at the end.

Measured in one run, on this machine:
1. the raw produce rate of Bihar's Kafka: ~1 KB records from one idempotent producer with acks=all, the
   settings of the services' outbox relays (what the broker takes when nothing else is asked of it);
2. the registry's registration rate without cross-state consent (nothing published across), closed loop
   with N connections for half the duration: what the same stack does without the federation;
3. the registration rate with cross-state consent, closed loop with N connections for the duration (the
   highest rate it sustains here: each request waits for the one before on its connection), and for every
   registration of that run the cross-state lag, from Bihar's 201 (the worker and its summary stored
   together) to
   - the summary on Bihar's Kafka (its outbox relay published it, seen by a consumer there),
   - the summary's arrival in Kerala's Kafka (MirrorMaker 2's copy, seen by a consumer there), and
   - the copy in Kerala's registry (the timestamp of the local `WorkerRegistered` Kerala's registry
     publishes in the write that stores the copy);
   p50 and p99, against the target p99 <= 5 s;
4. the same lag at a lighter load (one connection), unless --quick.
The host's load average is recorded with the figures: on a shared machine other processes take CPU too.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench import cpu
from bench.report import Report, log, percentile
from bench.rest import Registrar, create_registrar
from bench.synthetic import Population
from mrc_devstack.federation import Federation, parse_states
from mrc_devstack.mirror_maker import remote_topic
from mrc_geography.lgd import lgd
from mrc_registry.domain.identity.aadhaar import verhoeff_check_digit  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[1]
HOME = REPO_ROOT / ".devstack" / "federation" / "bench"
SECTION = "federation"
SOURCE, DESTINATION = "bihar", "kerala"
SOURCE_CODE, DESTINATION_CODE = "10", "32"
SHARED_TOPIC = f"mrc.federation.workers.{DESTINATION_CODE}.v1"
LOCAL_TOPIC = "mrc.registry.workers.v1"
RAW_TOPIC = "bench.raw-produce.v1"
RAW_RECORD_BYTES = 1024
TARGET_P99_SECONDS = 5.0
DRAIN_SECONDS = 120.0
RATE_LIMIT = "100000"
SOURCE_DISTRICTS = sorted(d.code for d in lgd().districts.values() if d.state_code == SOURCE_CODE)


def default_offset() -> int:
    for name in ("MRC_FEDERATION_BENCH_PORT_OFFSET", "MRC_FEDERATION_TEST_PORT_OFFSET"):
        if os.environ.get(name, "").strip():
            return int(os.environ[name])
    return 26000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.federation", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s of load and a smaller raw baseline")
    parser.add_argument("--duration", type=float, help="seconds of sustained load (default 60, quick 20)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections of the closed loop (default 8)")
    parser.add_argument("--raw-records", type=int, help="records of the raw produce baseline (20000, quick 5000)")
    parser.add_argument("--home", type=Path, default=HOME, help=f"federation home (default {HOME})")
    parser.add_argument(
        "--port-offset",
        type=int,
        default=default_offset(),
        help="Bihar's port offset, Kerala's is 2000 more (default $MRC_FEDERATION_BENCH_PORT_OFFSET, "
        "$MRC_FEDERATION_TEST_PORT_OFFSET or 26000)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the federation running afterwards")
    args = parser.parse_args(argv)
    args.duration = args.duration or (20.0 if args.quick else 60.0)
    args.raw_records = args.raw_records or (5000 if args.quick else 20000)
    return args


def new_aadhaar(population: Population) -> str:
    payload = str(2 + population.random.randint(0, 7)) + "".join(
        str(population.random.randint(0, 9)) for _ in range(10)
    )
    return payload + str(verhoeff_check_digit(payload))


def registration_body(population: Population, *, crossing: bool) -> dict[str, Any]:
    """A registration in Bihar, with consent to share with Kerala or without."""
    body = population.person().registration_body()
    # A home in Bihar, inside the registrar's state; districts drawn uniformly, as the synthetic population
    # draws them (one district for everyone would make every name key a crowd for deduplication).
    body["home"] = {"state_code": SOURCE_CODE, "district_code": population.random.choice(SOURCE_DISTRICTS)}
    body["identity_documents"] = [{"kind": "aadhaar", "number": new_aadhaar(population)}]
    body["consent"] = {"purposes": ["registration", "entitlement_linkage"], "method": "thumbprint"}
    if crossing:
        body["consent"]["purposes"].append("cross_state_sharing")
        body["consent"]["shared_with_state_codes"] = [DESTINATION_CODE]
    return body


# ------------------------------------------------------------------------------------------ measurements


def raw_produce_rate(bootstrap: str, records: int) -> float:
    """Records/s one producer with the outbox relay's settings gets acknowledged by Bihar's broker."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=5,
        linger_ms=5,
    )
    try:
        value = os.urandom(RAW_RECORD_BYTES)
        for i in range(200):  # metadata, connections
            producer.send(RAW_TOPIC, key=str(i).encode(), value=value)
        producer.flush()
        began = time.perf_counter()
        for i in range(records):
            producer.send(RAW_TOPIC, key=str(i).encode(), value=value, headers=[("ce_id", str(i).encode())])
        producer.flush()
        return records / (time.perf_counter() - began)
    finally:
        producer.close()


@dataclass
class Arrivals:
    """Follows the clusters from now on: when each worker's summary was on Bihar's Kafka (its outbox relay
    published it) and arrived on Kerala's (MirrorMaker 2's copy), as local times of receipt, and when Kerala's
    registry stored its copy (its WorkerRegistered's timestamp)."""

    bootstrap: str
    source_bootstrap: str
    published: dict[str, float] = field(default_factory=dict)
    mirrored: dict[str, float] = field(default_factory=dict)
    stored: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _ready: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    error: BaseException | None = None

    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        mirrored_topic = remote_topic(SOURCE, SHARED_TOPIC)
        follows = [(self.source_bootstrap, (SHARED_TOPIC,)), (self.bootstrap, (mirrored_topic, LOCAL_TOPIC))]
        readies = []
        for bootstrap, topics in follows:
            ready = threading.Event()
            thread = threading.Thread(target=self._run, args=(bootstrap, topics, ready), daemon=True)
            thread.start()
            self._threads.append(thread)
            readies.append(ready)
        if not all(ready.wait(60) for ready in readies):
            raise RuntimeError("could not follow the clusters' topics within 60 s")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def _run(self, bootstrap: str, topics: tuple[str, ...], ready: threading.Event) -> None:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
        try:
            partitions: list[TopicPartition] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                partitions = [
                    TopicPartition(topic, p)
                    for topic in topics
                    for p in sorted(consumer.partitions_for_topic(topic) or ())
                ]
                if {tp.topic for tp in partitions} == set(topics):
                    break
                time.sleep(0.5)
            consumer.assign(partitions)
            consumer.seek_to_end(*partitions)
            for tp in partitions:
                consumer.position(tp)
            ready.set()
            while not self._stop.is_set():
                for batch in consumer.poll(timeout_ms=100).values():
                    received = time.time()
                    for record in batch:
                        headers = dict(record.headers or [])
                        subject = headers.get("ce_subject", b"").decode()
                        if record.topic == SHARED_TOPIC:
                            self.published.setdefault(subject, received)
                        elif record.topic != LOCAL_TOPIC:
                            self.mirrored.setdefault(subject, received)
                        elif headers.get("ce_type") == b"mrc.registry.v1.WorkerRegistered":
                            self.stored.setdefault(subject, record.timestamp / 1000)
        except BaseException as e:  # reported by the run
            self.error = e
            ready.set()
        finally:
            consumer.close()


@dataclass
class Load:
    elapsed: float = 0.0
    registered: dict[str, float] = field(default_factory=dict)  # worker id -> wall time of the 201
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    first_error: str = ""

    @property
    def rate(self) -> float:
        return len(self.registered) / self.elapsed if self.elapsed else 0.0


async def _closed_loop(
    registry_url: str,
    registrar: Registrar,
    population: Population,
    concurrency: int,
    duration: float,
    *,
    crossing: bool = True,
) -> Load:
    load = Load()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=registry_url, timeout=60, limits=limits) as client:

        async def register(count: bool) -> None:
            body = registration_body(population, crossing=crossing)
            headers = {**registrar.headers(), "Idempotency-Key": str(uuid.uuid4())}
            started = time.perf_counter()
            response = await client.post("/v1/workers", json=body, headers=headers)
            if not count:
                return
            load.statuses[response.status_code] += 1
            if response.status_code == 201:
                load.registered[response.json()["worker_id"]] = time.time()
                load.latencies.append(time.perf_counter() - started)
            elif not load.first_error:
                load.first_error = f"{response.status_code}: {response.text[:300]}"

        await asyncio.gather(*(register(False) for _ in range(concurrency * 2)))  # warm-up, not counted
        deadline = time.perf_counter() + duration

        async def loop() -> None:
            while time.perf_counter() < deadline:
                await register(True)

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        load.elapsed = time.perf_counter() - began
    return load


def cpu_roots(federation: Federation) -> dict[str, int]:
    """The processes a shared registration runs through: each state's registry, FerretDB and Kafka, and MM2."""
    roots = {
        f"{state} {s.name}": s.pid
        for state, stack in federation.stacks.items()
        for s in stack.status(["registry", "ferretdb", "kafka"])
        if s.pid is not None
    }
    mirror_maker = federation.mirror_maker_status()
    if mirror_maker.pid is not None:
        roots["mirror-maker"] = mirror_maker.pid
    return roots


def _cpu_figures(report: Report, label: str, before: dict[str, float], after: dict[str, float], load: Load) -> None:
    """CPU milliseconds per registration, by process and by side (what Bihar spends, what Kerala and MM2 do)."""
    if not load.registered:
        return
    per = {k: (after[k] - before[k]) * 1000 / len(load.registered) for k in after if k in before}
    for side, prefix in (("Bihar", SOURCE), ("Kerala + MirrorMaker 2", "")):
        chosen = {k: v for k, v in per.items() if (k.startswith(prefix) if prefix else not k.startswith(SOURCE))}
        detail = ", ".join(f"{k} {v:.0f}" for k, v in sorted(chosen.items()))
        report.add(SECTION, f"CPU per registration {label}: {side}", sum(chosen.values()), "ms", detail)


def _note(load: Load) -> str:
    failed = sum(n for status, n in load.statuses.items() if status != 201)
    if load.first_error:
        log(f"first failure: {load.first_error}")
    return f"{len(load.registered)} ok, {failed} failed in {load.elapsed:.0f} s; latency p50 " + (
        f"{percentile(load.latencies, 50) * 1000:.0f} ms, p99 {percentile(load.latencies, 99) * 1000:.0f} ms"
    )


def _lag_figures(report: Report, arrivals: Arrivals, load: Load, concurrency: int, *, highest: bool) -> None:
    """Wait for every summary of the run to be stored in Kerala, then report the run and its lags."""
    label = f"c={concurrency}"
    report.add(SECTION, f"registrations with cross-state consent {label}", load.rate, "workers/s", _note(load))
    log(f"waiting up to {DRAIN_SECONDS:.0f} s for every summary to be stored in Kerala")
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline and not set(load.registered) <= set(arrivals.stored):
        time.sleep(1.0)
    to_source, lost_source = lags(load, arrivals.published)
    to_kafka, lost_kafka = lags(load, arrivals.mirrored)
    to_store, lost_store = lags(load, arrivals.stored)
    report.add_latencies(SECTION, f"lag to Bihar's Kafka {label}", to_source, f"{lost_source} missing; outbox relay")
    report.add_latencies(SECTION, f"lag to Kerala's Kafka {label}", to_kafka, f"{lost_kafka} missing")
    report.add_latencies(SECTION, f"lag to Kerala's registry {label}", to_store, f"{lost_store} missing")
    p99 = percentile(to_store, 99)
    if highest:
        verdict = "met" if lost_store == 0 and p99 <= TARGET_P99_SECONDS else "NOT met"
        report.add(SECTION, "target p99 <= 5 s", p99 * 1000, "ms", f"{verdict} at {load.rate:.1f} workers/s ({label})")
    report.details.setdefault("federation", []).append(
        {
            "concurrency": concurrency,
            "registrations": len(load.registered),
            "statuses": dict(load.statuses),
            "rate": load.rate,
            "lag_to_source_kafka_s": {"p50": percentile(to_source, 50), "p99": percentile(to_source, 99)},
            "lag_to_kafka_s": {"p50": percentile(to_kafka, 50), "p99": percentile(to_kafka, 99), "missing": lost_kafka},
            "lag_to_store_s": {"p50": percentile(to_store, 50), "p99": p99, "missing": lost_store},
            # When the slow ones were registered (seconds into the run) and how long they took to reach
            # Bihar's Kafka: periodic stalls show as clusters.
            "slow_at_source": _slow(load, arrivals.published),
        }
    )


def _slow(load: Load, arrived: dict[str, float], threshold: float = 1.0) -> list[tuple[float, float]]:
    start = min(load.registered.values(), default=0.0)
    slow = [
        (t - start, arrived[w] - t) for w, t in load.registered.items() if w in arrived and arrived[w] - t > threshold
    ]
    return [(round(at, 1), round(lag, 2)) for at, lag in sorted(slow)]


def lags(load: Load, arrived: dict[str, float]) -> tuple[list[float], int]:
    """Seconds from each registration's 201 to its arrival; how many never arrived."""
    found = [max(0.0, arrived[w] - t) for w, t in load.registered.items() if w in arrived]
    return found, len(load.registered) - len(found)


# ------------------------------------------------------------------------------------------ the run


def run(args: argparse.Namespace, report: Report) -> None:
    offset = args.port_offset
    federation = Federation(args.home, parse_states(f"{SOURCE}:{offset},{DESTINATION}:{offset + 2000}"), echo=log)
    os.environ.update({"MRC_AUTH_RATE_LIMIT_PER_SECOND": RATE_LIMIT, "MRC_AUTH_RATE_LIMIT_BURST": RATE_LIMIT})
    previous = Federation.load(args.home, echo=log)
    for stale in (previous, federation) if previous is not None else (federation,):
        stale.stop()
        stale.wipe()
    try:
        log("starting Bihar and Kerala (access + registry each) and MirrorMaker 2")
        federation.start(services=["access", "registry"])
        source, destination = federation.stacks[SOURCE], federation.stacks[DESTINATION]

        report.add(SECTION, "host load average (1 min) at the start", os.getloadavg()[0], "", f"{os.cpu_count()} cores")
        log(f"raw produce: {args.raw_records} records of {RAW_RECORD_BYTES} B to Bihar's Kafka")
        raw = raw_produce_rate(source.kafka_bootstrap, args.raw_records)
        report.add(SECTION, "raw produce rate, Bihar's Kafka", raw, "records/s", "1 producer, acks=all, 1 KB")

        registrar = create_registrar(source.http_url("access"))
        registry_url = source.http_url("registry")
        population = Population(seed=14)
        c = args.concurrency

        cpu_now = functools.partial(cpu.cpu_seconds, cpu_roots(federation))
        log(f"registrations without cross-state consent: {c} connections for {args.duration / 2:.0f} s")
        before = cpu_now()
        plain = asyncio.run(_closed_loop(registry_url, registrar, population, c, args.duration / 2, crossing=False))
        report.add(SECTION, f"registrations without cross-state consent c={c}", plain.rate, "workers/s", _note(plain))
        _cpu_figures(report, f"without consent c={c}", before, cpu_now(), plain)

        arrivals = Arrivals(destination.kafka_bootstrap, source.kafka_bootstrap)
        arrivals.start()
        levels = [c] if args.quick or c == 1 else [c, 1]
        for level in levels:
            log(f"registrations with cross-state consent: {level} connection(s) for {args.duration:.0f} s")
            before = cpu_now()
            load = asyncio.run(_closed_loop(registry_url, registrar, population, level, args.duration))
            _lag_figures(report, arrivals, load, level, highest=level == c)
            _cpu_figures(report, f"with consent c={level}", before, cpu_now(), load)
            if level == c:
                report.add_ratio(SECTION, "rate with / without cross-state consent", load.rate, plain.rate, "plain")
                report.add_ratio(SECTION, "rate with consent / raw produce rate", load.rate, raw, "raw produce")
        arrivals.stop()
        if arrivals.error is not None:
            raise arrivals.error
        load_average = os.getloadavg()
        report.add(SECTION, "host load average (1 min) at the end", load_average[0], "", f"{os.cpu_count()} cores")
    finally:
        if not args.keep:
            federation.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report(options={k: str(v) for k, v in vars(args).items()})
    try:
        run(args, report)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    print(report.table())
    log(f"figures written to {report.write_json()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
