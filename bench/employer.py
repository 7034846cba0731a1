"""The employer service's benchmarks, beside the raw store and broker rates measured in the same run.

    uv run python -m bench.employer [--quick] [--rows N] [--grievances N] [--port-offset N]

* **wage-register ingestion**: one `POST /v1/wage-registers` (an employer's own client) of a CSV of
  synthetic rows (one worker, one month each; about a fifth paid below the minimum wage, some with
  deductions), from sending the file until its job, polled at `Location`, is `completed`. Every row is
  parsed, checked and assessed against the minimum-wage table, and stored as its own document with its
  events and audit event, batch by batch, each batch followed by its `WageRecordsBatched` document.
  Target: >= 0.5x the raw store `insert_many` rate. Also measured in this process, without the store:
  the rate at which rows are checked and assessed (the domain's share of the work), and CPU per row of
  each component (employer, worker, ferretdb, kafka).
* **score lag**: `GrievanceFiled` events naming registered organisations are produced to
  `mrc.grievance.grievances.v1` as the grievance service would (acks=all); the lag is from each send
  until the `ScoreChanged` of that organisation arrives on `mrc.employer.employers.v1`: the worker's
  consumption, the history's read, recomputation and conditional write, and the outbox relay.
  At a steady 2/s (far above a state's grievance rate) and 20/s (a flood), and as a burst (all sent at
  once; its drain rate is the worker's capacity). Target: p99 <= 2 s.

The stack lives in `.devstack/bench-employer` with ports shifted by `--port-offset` (28000, so it does
not meet the platform bench's 24000); it is wiped at the start and stopped at the end.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import os
import random
import sys
import threading
import time
import traceback
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench import baselines, cpu
from bench.report import Report, log
from bench.rest import OPERATOR_CLIENT_ID, OPERATOR_CLIENT_SECRET, token
from mrc.employer.v1 import events_pb2 as employer_events
from mrc.grievance.v1 import events_pb2 as grievance_events
from mrc.grievance.v1 import grievance_pb2
from mrc_devstack.stack import Stack
from mrc_employer.domain.compliance_records import RecordSource
from mrc_employer.domain.minimum_wage_seed import seed_rates
from mrc_employer.domain.minimum_wages import MinimumWageTable, WageSphere
from mrc_employer.domain.wage_register import wage_record_from_row
from mrc_employer.domain.worksites import WageBasis, Worksite, WorksiteKind
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_plumbing.protobuf import timestamp

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_HOME = REPO_ROOT / ".devstack" / "bench-employer"
PORT_OFFSET = 28000
SECTION_INGEST = "wage-register ingestion"
SECTION_LAG = "grievance -> score lag"
SECTION_TARGETS = "employer targets"
EMPLOYERS_TOPIC = "mrc.employer.employers.v1"
GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"
TARGET_INGEST_RATIO = 0.5
TARGET_LAG_P99_S = 2.0
# Grievances naming organisations arrive a few a minute in a state; 2/s is far above that, 20/s a flood.
PACES = (2.0, 20.0)
RATE_LIMIT = "100000"
HEADER = [
    "row_key",
    "worker_code",
    "worksite_id",
    "period_start",
    "period_end",
    "days_worked",
    "amount_paid",
    "skill_category",
    "deduction_social_security",
    "deduction_housing",
]


@dataclass
class Client:
    access_url: str
    client_id: str
    secret: str
    _token: str = ""
    _at: float = 0.0

    def headers(self) -> dict[str, str]:
        if not self._token or time.monotonic() - self._at > 300:
            with httpx.Client(base_url=self.access_url, timeout=30) as http:
                self._token = token(http, self.client_id, self.secret)
            self._at = time.monotonic()
        return {"Authorization": f"Bearer {self._token}"}


def _client(access_url: str, kind: str, role: str, employer_id: str = "") -> Client:
    with httpx.Client(base_url=access_url, timeout=30) as http:
        operator = {"Authorization": f"Bearer {token(http, OPERATOR_CLIENT_ID, OPERATOR_CLIENT_SECRET)}"}
        partner = http.post(
            "/v1/partners",
            json={"name": f"Bench {kind} {uuid.uuid4().hex[:6]}", "kind": kind, "employer_id": employer_id},
            headers={**operator, "Idempotency-Key": str(uuid.uuid4())},
        )
        partner.raise_for_status()
        created = http.post(
            f"/v1/partners/{partner.json()['partner_id']}/clients", json={"roles": [role]}, headers=operator
        )
        created.raise_for_status()
        body = created.json()
        client_id = body["client"]["client_id"] if "client" in body else body["client_id"]
    return Client(access_url, str(client_id), str(body["client_secret"]))


def start_services(stack: Stack) -> None:
    stack.start_service(
        "access",
        extra_env={
            "MRC_ACCESS_BOOTSTRAP_CLIENT_ID": OPERATOR_CLIENT_ID,
            "MRC_ACCESS_BOOTSTRAP_CLIENT_SECRET": OPERATOR_CLIENT_SECRET,
        },
    )
    env = {
        "MRC_AUTH_JWKS_URL": f"{stack.http_url('access')}/.well-known/jwks.json",
        "MRC_AUTH_RATE_LIMIT_PER_SECOND": RATE_LIMIT,
        "MRC_AUTH_RATE_LIMIT_BURST": RATE_LIMIT,
    }
    stack.start_service("employer", extra_env=env)
    stack.start_service("employer-worker", extra_env=env)


def _organisation(n: int, roles: list[str]) -> dict[str, Any]:
    return {
        "legal_name": f"Bench Works {n} Pvt Ltd",
        "roles": roles,
        "sector": "construction",
        "location": {"state_code": "10", "district_code": "212"},
    }


# Central-sphere construction, area A, from 1 October 2024 (the seed table's rows), per skill as a
# register writes it.
DAILY_RATE = {"Unskilled": 783, "unskilled": 783, "Semi-skilled": 868, "skilled": 954}


def build_register(rows: int, site: str, seed: int = 7) -> bytes:
    """About a fifth of the rows paid below the minimum wage (a bad register), some with deductions."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for n in range(rows):
        month = 10 + n % 3  # October to December 2024: the rates above apply
        days = rng.choice(["26", "25", "24.5", "22"])
        skill = rng.choice(list(DAILY_RATE))
        due = DAILY_RATE[skill] * float(days)
        paid = due * (rng.uniform(0.6, 0.95) if rng.random() < 0.2 else rng.uniform(1.0, 1.1))
        writer.writerow(
            [
                f"r-{n}",
                f"EMP-{n:06d}",
                site,
                f"2024-{month:02d}-01",
                f"2024-{month:02d}-28",
                days,
                f"{paid:.2f}",
                skill,
                f"{rng.randint(0, 900)}" if rng.random() < 0.5 else "",
                "500" if rng.random() < 0.2 else "",
            ]
        )
    return out.getvalue().encode()


def domain_rate(rows: int) -> float:
    """Rows checked and assessed per second in this process (no store): the domain's share of an import."""
    table = MinimumWageTable(seed_rates(datetime.now(UTC)))
    site = Worksite.add(
        worksite_id="site",
        organisation_id="org",
        kind=WorksiteKind.CONSTRUCTION_SITE,
        sector="construction",
        place=Place("7", "79"),
        wage_basis=WageBasis(WageSphere.CENTRAL, "construction", "a"),
        now=datetime.now(UTC),
    )
    reader = csv.DictReader(io.StringIO(build_register(rows, "site").decode()))
    parsed = list(reader)
    now = datetime.now(UTC)
    began = time.perf_counter()
    for n, row in enumerate(parsed):
        wage_record_from_row(
            row,
            record_id=f"r{n}",
            organisation_id="org",
            worksites={"site": site},
            table=table,
            source=RecordSource.SELF_REPORTED,
            now=now,
        )
    return len(parsed) / (time.perf_counter() - began)


def ingestion(stack: Stack, rows: int, report: Report, cpu_snapshot: Callable[[], dict[str, float]]) -> None:
    access_url, employer_url = stack.http_url("access"), stack.http_url("employer")
    employer_id = f"bench-{uuid.uuid4().hex[:8]}"
    employer = _client(access_url, "employer", "employer", employer_id)
    with httpx.Client(base_url=employer_url, timeout=3600) as http:
        created = http.post("/v1/employers", json=_organisation(0, ["principal_employer"]), headers=employer.headers())
        created.raise_for_status()
        site = http.post(
            f"/v1/employers/{employer_id}/worksites",
            json={
                "kind": "construction_site",
                "sector": "construction",
                "location": {"state_code": "7", "district_code": "79"},
                "wage_basis": {"sphere": "central", "scheduled_employment": "construction", "area": "a"},
            },
            headers=employer.headers(),
        )
        site.raise_for_status()
        payload = build_register(rows, site.json()["worksite_id"])
        log(f"ingestion: POST /v1/wage-registers, {rows} rows ({len(payload) / 1e6:.1f} MB)")
        before = cpu_snapshot()
        began = time.perf_counter()
        response = http.post(
            "/v1/wage-registers", files={"file": ("register.csv", payload, "text/csv")}, headers=employer.headers()
        )
        response.raise_for_status()
        location = response.headers["Location"]
        job = response.json()
        while job["status"] == "running":
            time.sleep(0.25)
            job = http.get(location, headers=employer.headers()).json()
        elapsed = time.perf_counter() - began
        after = cpu_snapshot()
    stored = int(job["counts"]["stored"])
    note = f"{stored} of {rows} rows stored in {elapsed:.1f} s, {job['counts']['below_minimum']} below the minimum"
    report.add(SECTION_INGEST, "ingestion", stored / elapsed if elapsed else None, "rows/s", note)
    report.add(SECTION_INGEST, "check + assess only (in process)", domain_rate(min(rows, 20_000)), "rows/s", "no store")
    cpu_ms = {k: (after[k] - before[k]) * 1000 / stored for k in after if k in before and stored}
    for component, ms in sorted(cpu_ms.items()):
        report.add(SECTION_INGEST, f"CPU per row: {component}", ms, "ms", "user+system, until completed")
    if cpu_ms:
        total = sum(cpu_ms.values())
        cores = os.cpu_count() or 1
        report.add(SECTION_INGEST, "CPU per row: all", total, "ms", f"so at most {cores * 1000 / total:,.0f}/s here")
    report.details["ingestion"] = {"rows": rows, "elapsed_s": elapsed, "job": job, "cpu_ms": cpu_ms}


class ScoreWatcher:
    """Follows the employers topic from its current end, noting when each organisation's ScoreChanged arrives."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        partitions = self._consumer.partitions_for_topic(EMPLOYERS_TOPIC) or set()
        assigned = [TopicPartition(EMPLOYERS_TOPIC, p) for p in sorted(partitions)]
        self._consumer.assign(assigned)
        self._consumer.seek_to_end(*assigned)
        for partition in assigned:
            self._consumer.position(partition)
        self.arrivals: dict[str, deque[float]] = defaultdict(deque)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for batch in self._consumer.poll(timeout_ms=100).values():
                arrived = time.perf_counter()
                for record in batch:
                    if dict(record.headers or []).get("ce_type") == b"mrc.employer.v1.ScoreChanged":
                        changed = employer_events.ScoreChanged.FromString(record.value)
                        self.arrivals[changed.employer_id].append(arrived)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


def _filed(employer_id: str) -> Event:
    grievance_id = str(uuid.uuid4())
    message = grievance_events.GrievanceFiled(
        grievance_id=grievance_id,
        category=grievance_pb2.GRIEVANCE_CATEGORY_WAGE_THEFT,
        severity=grievance_pb2.SEVERITY_LOW,
        status=grievance_pb2.GRIEVANCE_STATUS_NEW,
        employer_id=employer_id,
        respondent_kind=grievance_pb2.RESPONDENT_KIND_REGISTERED_EMPLOYER,
        occurred_at=timestamp(datetime.now(UTC) - timedelta(minutes=1)),
    )
    return Event.from_message(message, source="/mrc/grievance", subject=grievance_id, topic=GRIEVANCES_TOPIC)


def score_lag(stack: Stack, organisations: int, grievances: int, paces: tuple[float, ...], report: Report) -> None:
    access_url, employer_url = stack.http_url("access"), stack.http_url("employer")
    operator = Client(access_url, OPERATOR_CLIENT_ID, OPERATOR_CLIENT_SECRET)
    ids: list[str] = []
    with httpx.Client(base_url=employer_url, timeout=60) as http:
        for n in range(organisations):
            created = http.post(
                "/v1/employers",
                json=_organisation(n, ["recruitment_agency"]),
                headers={**operator.headers(), "Idempotency-Key": f"lag-{n}-{uuid.uuid4().hex}"},
            )
            created.raise_for_status()
            ids.append(created.json()["employer_id"])
    producer = KafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", linger_ms=0)
    warm = _filed(ids[0])
    producer.send(GRIEVANCES_TOPIC, key=warm.key, value=warm.data, headers=warm.kafka_headers()).get(timeout=30)
    watcher = ScoreWatcher(stack.kafka_bootstrap)
    time.sleep(5)  # the warm-up event's effect passes before measuring
    try:
        runs = [(f"{pace:g}/s", 1.0 / pace, max(20, min(grievances, int(pace * 30)))) for pace in paces]
        for label, interval, count in [*runs, ("burst", 0.0, grievances)]:
            sent: dict[str, deque[float]] = defaultdict(deque)
            watcher.arrivals.clear()
            log(f"score lag ({label}): {count} GrievanceFiled over {organisations} organisations")
            for n in range(count):
                employer_id = ids[n % len(ids)]
                event = _filed(employer_id)
                started = time.perf_counter()
                producer.send(GRIEVANCES_TOPIC, key=event.key, value=event.data, headers=event.kafka_headers())
                if interval:
                    producer.flush()
                sent[employer_id].append(started)
                if interval:
                    time.sleep(max(0.0, interval - (time.perf_counter() - started)))
            producer.flush()
            deadline = time.monotonic() + 60
            while sum(len(v) for v in watcher.arrivals.values()) < count and time.monotonic() < deadline:
                time.sleep(0.2)
            lags = [
                arrived - sent_at
                for employer_id, times in sent.items()
                for sent_at, arrived in zip(times, watcher.arrivals.get(employer_id, deque()), strict=False)
            ]
            note = f"{len(lags)} of {count} seen" + ("" if interval else ", all sent at once")
            if not interval and lags:
                note += f"; drained at {count / max(lags):.0f} events/s"
            report.add_latencies(SECTION_LAG, f"lag {label}", lags, note)
            report.details[f"lag_{label}"] = {"seen": len(lags), "sent": count, "max_s": max(lags, default=0)}
    finally:
        watcher.close()
        producer.close()


def add_targets(report: Report) -> None:
    raw = report.value(baselines.SECTION, "store insert_many")
    rate = report.value(SECTION_INGEST, "ingestion")
    report.add_ratio(SECTION_TARGETS, "ingestion / raw insert_many", rate, raw, "raw insert_many rate, same run")
    ratio = rate / raw if rate and raw else None
    verdict = "not measured" if ratio is None else ("met" if ratio >= TARGET_INGEST_RATIO else "NOT met")
    report.add(SECTION_TARGETS, f"ingestion >= {TARGET_INGEST_RATIO}x raw insert_many", ratio, "x", verdict)
    labels = [f.name.removeprefix("lag ").removesuffix(" p99") for f in report.figures if f.section == SECTION_LAG]
    for label in dict.fromkeys(label for label in labels if not label.endswith(" p50")):
        p99 = report.value(SECTION_LAG, f"lag {label} p99")
        verdict = "not measured" if p99 is None else ("met" if p99 <= TARGET_LAG_P99_S * 1000 else "NOT met")
        report.add(SECTION_TARGETS, f"score lag {label} p99 <= {TARGET_LAG_P99_S:.0f} s", p99, "ms", verdict)


def run(stack: Stack, quick: bool, report: Report, *, rows: int = 0, grievances: int = 0, baselines_done: bool) -> None:
    """The employer part: on `stack` (infrastructure started); raw baselines first unless measured already."""
    if not baselines_done:
        baselines.run(stack.mongo_uri, stack.kafka_bootstrap, quick, report)
    start_services(stack)
    roots = {s.name: s.pid for s in stack.status(("employer", "employer-worker", "ferretdb", "kafka")) if s.pid}
    snapshot = functools.partial(cpu.cpu_seconds, roots)
    ingestion(stack, rows or (5_000 if quick else 50_000), report, snapshot)
    score_lag(stack, 50 if quick else 100, grievances or (150 if quick else 600), PACES, report)
    add_targets(report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.employer", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--rows", type=int, default=0, help="wage-register rows (default 50000, quick 5000)")
    parser.add_argument("--grievances", type=int, default=0, help="grievance events per lag run (600, quick 150)")
    parser.add_argument("--home", type=Path, default=BENCH_HOME)
    parser.add_argument("--port-offset", type=int, default=PORT_OFFSET)
    args = parser.parse_args(argv)
    report = Report({k: str(v) for k, v in vars(args).items()})
    stack = Stack(args.home, args.port_offset, echo=log)
    status = 0
    try:
        report.add("host", "load average (1 min) at start", os.getloadavg()[0], "procs", f"{os.cpu_count()} CPUs")
        stack.stop_all()
        stack.wipe()
        stack.start_infra()
        run(stack, args.quick, report, rows=args.rows, grievances=args.grievances, baselines_done=False)
    except KeyboardInterrupt:
        status = 130
    except Exception:
        log(f"failed; stopping the stack and reporting what was measured:\n{traceback.format_exc()}")
        status = 1
    finally:
        report.add("host", "load average (1 min) at end", os.getloadavg()[0], "procs", "before stopping the stack")
        stack.stop_all()
    print(report.table(), flush=True)
    path = report.write_json()
    print(f"\nresults: {path.relative_to(REPO_ROOT)}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
