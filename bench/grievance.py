"""Grievance benchmarks on their own stack, beside the raw store and broker rates of the same run.

    uv run python -m bench.grievance [--quick] [--duration 20] [--concurrency 1,16] [--open-cases 100000]

* intake: ``POST /v1/grievances`` (a helpline filing about a person outside the registry, with a sealed
  account, name and phone) by N keep-alive connections for a fixed time: rate, p50 and p99; beside the
  registry's ``POST /v1/workers`` measured the same way in the same run (the target: intake >= that);
* escalation: ``--open-cases`` open cases (low severity, no milestone within days) are loaded with their
  ``GrievanceFiled`` events, so the SLA worker holds every schedule; once it has caught up, probe cases whose
  acknowledgement breaches fall due over the next minute are loaded the same way, and the time from each
  breach's deadline to its ``GrievanceEscalated`` on the topic is measured (the target: p99 <= 5 s).

The stack lives in ``.devstack/bench-grievance`` with every port shifted by 34000; it is wiped at the start
and stopped at the end. Figures go to stdout and ``bench/results/<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from bench import baselines, rest
from bench.report import Report, log, percentile
from mrc.grievance.v1 import events_pb2
from mrc_devstack.stack import Stack

REPO_ROOT = Path(__file__).resolve().parents[1]
HOME = REPO_ROOT / ".devstack" / "bench-grievance"
PORT_OFFSET = 34000
SECTION = "grievance"
GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"
CONSUMER_GROUP = "mrc-grievance"
RATE_LIMIT = "100000"
TARGET_ESCALATION_P99_S = 5.0
LOAD_BATCH = 1000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.grievance", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs and 10k open cases")
    parser.add_argument("--duration", type=float, help="seconds per REST load level (default 20, quick 5)")
    parser.add_argument("--concurrency", default="1,16", help="REST connection counts (default 1,16)")
    parser.add_argument("--open-cases", type=int, help="open cases held by the SLA worker (default 100000)")
    parser.add_argument("--probes", type=int, default=200, help="cases whose breaches are timed (default 200)")
    parser.add_argument("--skip-rest", action="store_true", help="escalation only (no baselines' REST comparison)")
    parser.add_argument("--home", type=Path, default=HOME)
    parser.add_argument("--port-offset", type=int, default=PORT_OFFSET)
    args = parser.parse_args(argv)
    args.duration = args.duration or (5.0 if args.quick else 20.0)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.open_cases = args.open_cases if args.open_cases is not None else (10_000 if args.quick else 100_000)
    return args


# --- the stack -----------------------------------------------------------------------------------------------


def start_services(stack: Stack) -> None:
    secret = {"MRC_ACCESS_BOOTSTRAP_CLIENT_ID": rest.OPERATOR_CLIENT_ID}
    secret["MRC_ACCESS_BOOTSTRAP_CLIENT_SECRET"] = rest.OPERATOR_CLIENT_SECRET
    stack.start_service("access", extra_env=secret)
    for name in ("registry", "grievance", "grievance-worker"):
        stack.start_service(name, extra_env=service_env(stack))


def service_env(stack: Stack) -> dict[str, str]:
    return {
        "MRC_AUTH_JWKS_URL": f"{stack.http_url('access')}/.well-known/jwks.json",
        "MRC_AUTH_RATE_LIMIT_PER_SECOND": RATE_LIMIT,
        "MRC_AUTH_RATE_LIMIT_BURST": RATE_LIMIT,
    }


@dataclass
class Client:
    access_url: str
    partner_id: str
    client_id: str
    secret: str
    token: str = ""

    def headers(self) -> dict[str, str]:
        if not self.token:
            with httpx.Client(base_url=self.access_url, timeout=30) as http:
                self.token = rest.token(http, self.client_id, self.secret)
        return {"Authorization": f"Bearer {self.token}"}


def create_client(access_url: str, partner_id: str, role: str) -> Client:
    with httpx.Client(base_url=access_url, timeout=30) as http:
        operator = {"Authorization": f"Bearer {rest.token(http, rest.OPERATOR_CLIENT_ID, rest.OPERATOR_CLIENT_SECRET)}"}
        response = http.post(f"/v1/partners/{partner_id}/clients", json={"roles": [role]}, headers=operator)
        response.raise_for_status()
        body = response.json()
        client_id = body["client"]["client_id"] if "client" in body else body["client_id"]
        return Client(access_url, partner_id, str(client_id), str(body["client_secret"]))


# --- intake over REST --------------------------------------------------------------------------------------


@dataclass
class Load:
    concurrency: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    first_error: str = ""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def filing(n: int) -> dict[str, Any]:
    return {
        "category": "wage_theft",
        "channel": "helpline",
        "summary": f"Contractor has not paid wages for {n % 12 + 2} weeks at the site; the munshi threatens us.",
        "location": {"state_code": "10", "district_code": "212", "village_name": "Phulwari"},
        "subject": {"person": {"name": f"Worker {n}", "age": 30, "gender": "female", "phone": f"98{n:08d}"[-10:]}},
        "respondent": {"unregistered": {"kind": "unregistered_contractor", "name": "Mahesh Thekedar"}},
        "facts": {"workers_affected": 3, "days_unpaid": 40},
    }


async def _drive(url: str, headers: dict[str, str], concurrency: int, duration: float) -> Load:
    load = Load(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    counter = iter(range(10**9))
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=headers) as client:

        async def one() -> tuple[int, float, str]:
            body = filing(next(counter))
            began = time.perf_counter()
            response = await client.post("/v1/grievances", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
            return response.status_code, time.perf_counter() - began, "" if response.is_success else response.text[:300]

        await asyncio.gather(*(one() for _ in range(concurrency * 2)))  # warm-up, not counted
        deadline = time.perf_counter() + duration

        async def loop() -> None:
            while time.perf_counter() < deadline:
                status, elapsed, text = await one()
                load.statuses[status] += 1
                if status == 201:
                    load.latencies.append(elapsed)
                elif not load.first_error:
                    load.first_error = f"{status}: {text}"

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        load.elapsed = time.perf_counter() - began
    return load


def intake(url: str, caseworker: Client, concurrencies: list[int], duration: float, report: Report) -> None:
    for concurrency in concurrencies:
        log(f"intake: POST /v1/grievances with {concurrency} connection(s) for {duration:.0f} s")
        load = asyncio.run(_drive(url, caseworker.headers(), concurrency, duration))
        failed = sum(n for s, n in load.statuses.items() if s != 201)
        report.add(
            SECTION, f"intake c={concurrency}", load.rate, "cases/s", f"{len(load.latencies)} ok, {failed} failed"
        )
        report.add_latencies(SECTION, f"intake latency c={concurrency}", load.latencies)
        if load.first_error:
            log(f"intake: first failure: {load.first_error}")


# --- escalation with many open cases ------------------------------------------------------------------------


def _cases_and_events(count: int, *, deadlines: list[datetime] | None, partner_id: str) -> tuple[list[Any], list[Any]]:
    """Case documents as the service stores them and their GrievanceFiled events (the adapters' own mapping).

    One case is built through the domain; the others are copies of it under new ids (building 100k through
    the domain would measure this script, not the service)."""
    from mrc_grievance.adapters.documents import case_state
    from mrc_grievance.adapters.protobuf_mapping import case_event_message
    from mrc_grievance.domain.case import Case
    from mrc_grievance.domain.parties import Actor, UnregisteredPerson
    from mrc_grievance.domain.protected import Sealed
    from mrc_grievance.domain.triage import TriageFacts
    from mrc_grievance.domain.vocabulary import Category, IntakeChannel
    from mrc_grievance.settings import EVENT_SOURCE
    from mrc_kernel.events import Event
    from mrc_kernel.place import Place
    from mrc_plumbing.protobuf import timestamp
    from mrc_plumbing.store import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD

    def template(category: Category, filed_at: datetime) -> Case:
        return Case.file(
            grievance_id="template",
            reference="GR-BENCH-00000",
            category=category,
            channel=IntakeChannel.HELPLINE,
            subject=UnregisteredPerson(),
            respondent=None,
            reporter=None,
            summary=Sealed("enc:v1:10:1:bench-placeholder"),  # never opened by this benchmark
            location=Place("10", "212"),
            facts=TriageFacts(),
            filed_by=Actor("bench-helpline", partner_id),
            now=filed_at,
        )

    now = datetime.now(UTC)
    documents: list[Any] = []
    events: list[Any] = []
    base = template(Category.OTHER, now)  # low severity: the first milestone is days away
    for index in range(count):
        if deadlines is not None:
            # Trafficking: acknowledge within 15 minutes, so filed 15 minutes before the breach wanted.
            base = template(Category.TRAFFICKING, deadlines[index] - timedelta(minutes=15))
        grievance_id = str(uuid.uuid4())
        state = case_state(base) if deadlines is not None or index == 0 else documents[0]
        document = {
            **state,
            "_id": grievance_id,
            "reference": f"GR-B{index:04d}-{uuid.uuid4().hex[:5].upper()}",
            IDEMPOTENCY_FIELD: f"bench:{grievance_id}",
            FINGERPRINT_FIELD: "",
        }
        documents.append(document)
        message = case_event_message(base.pending_events[0])
        message.grievance_id = grievance_id
        message.occurred_at.CopyFrom(timestamp(base.filed_at))
        events.append(Event.from_message(message, source=EVENT_SOURCE, subject=grievance_id, topic=GRIEVANCES_TOPIC))
    return documents, events


def _load(mongo_uri: str, bootstrap: str, documents: list[Any], events: list[Any]) -> None:
    from mrc_grievance.adapters.mongo_repository import CaseDocument
    from mrc_plumbing.settings import InfraSettings
    from mrc_plumbing.store.schema import collection_of
    from mrc_plumbing.store.wiring import open_store

    cases = open_store(InfraSettings(mongo_uri=mongo_uri), "mrc_grievance").collection(collection_of(CaseDocument))
    for start in range(0, len(documents), LOAD_BATCH):
        cases.insert_many([(document, []) for document in documents[start : start + LOAD_BATCH]])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=True)
    try:
        for event in events:
            producer.send(event.topic, key=event.key, value=event.data, headers=event.kafka_headers())
        producer.flush()
    finally:
        producer.close()


def _lag(bootstrap: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        # kafka-python 3 renamed list_consumer_group_offsets, and answers per group.
        listing = getattr(admin, "list_group_offsets", None) or admin.list_consumer_group_offsets
        committed = listing(CONSUMER_GROUP)
        committed = committed.get(CONSUMER_GROUP, committed) if isinstance(committed, dict) else committed
        partitions = [
            TopicPartition(GRIEVANCES_TOPIC, p) for p in consumer.partitions_for_topic(GRIEVANCES_TOPIC) or []
        ]
        ends = consumer.end_offsets(partitions)
        return sum(end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items())
    finally:
        consumer.close()
        admin.close()


def escalation(stack: Stack, partner_id: str, open_cases: int, probes: int, report: Report) -> None:
    bootstrap = stack.kafka_bootstrap
    log(f"escalation: loading {open_cases:,} open cases and their GrievanceFiled events")
    began = time.perf_counter()
    cases, events = _cases_and_events(open_cases, deadlines=None, partner_id=partner_id)
    _load(stack.mongo_uri, bootstrap, cases, events)
    report.add(SECTION, "open cases loaded", open_cases / (time.perf_counter() - began), "cases/s", "docs + events")
    began = time.perf_counter()
    while (lag := _lag(bootstrap)) > 0:
        if time.perf_counter() - began > 1800:
            raise RuntimeError(f"the SLA worker did not catch up (lag {lag})")
        time.sleep(2)
    caught_up = time.perf_counter() - began
    report.add(SECTION, "SLA worker schedules taken in", open_cases / caught_up, "events/s", f"{caught_up:.0f} s")

    # Probes: breaches spread over a minute, starting 20 s from now.
    start = datetime.now(UTC) + timedelta(seconds=20)
    deadlines = [start + timedelta(seconds=60 * i / probes) for i in range(probes)]
    probe_cases, probe_events = _cases_and_events(probes, deadlines=deadlines, partner_id=partner_id)
    wanted = {document["_id"] for document in probe_cases}
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500)
    partitions = [TopicPartition(GRIEVANCES_TOPIC, p) for p in consumer.partitions_for_topic(GRIEVANCES_TOPIC) or []]
    consumer.assign(partitions)
    consumer.seek_to_end(*partitions)
    for tp in partitions:
        consumer.position(tp)
    log(f"escalation: {probes} probe cases breaching from {start:%H:%M:%S} over 60 s")
    _load(stack.mongo_uri, bootstrap, probe_cases, probe_events)
    latencies: dict[str, float] = {}
    keys: Counter[str] = Counter()
    until = time.monotonic() + 120
    try:
        while len(latencies) < probes and time.monotonic() < until:
            for batch in consumer.poll(timeout_ms=200).values():
                received = datetime.now(UTC)
                for message in batch:
                    headers = dict(message.headers or [])
                    if headers.get("ce_type") != b"mrc.grievance.v1.GrievanceEscalated":
                        continue
                    escalated = events_pb2.GrievanceEscalated.FromString(message.value)
                    if escalated.grievance_id not in wanted:
                        continue
                    keys[escalated.idempotency_key] += 1
                    deadline = escalated.deadline.ToDatetime(tzinfo=UTC)
                    latencies.setdefault(escalated.grievance_id, (received - deadline).total_seconds())
        time.sleep(3)  # anything published twice would arrive by now
        for batch in consumer.poll(timeout_ms=1000).values():
            for message in batch:
                if dict(message.headers or []).get("ce_type") == b"mrc.grievance.v1.GrievanceEscalated":
                    escalated = events_pb2.GrievanceEscalated.FromString(message.value)
                    if escalated.grievance_id in wanted:
                        keys[escalated.idempotency_key] += 1
    finally:
        consumer.close()
    values = sorted(latencies.values())
    note = f"{len(values)}/{probes} probes, {open_cases:,} open cases; deadline -> event on the topic"
    report.add(SECTION, "escalation after deadline p50", percentile(values, 50), "s", note)
    report.add(SECTION, "escalation after deadline p99", percentile(values, 99), "s", note)
    report.add(SECTION, "escalation after deadline max", max(values) if values else None, "s", note)
    twice = sum(1 for n in keys.values() if n > 1)
    report.add(SECTION, "breaches published more than once", float(twice), "breaches", "records with one key")
    p99 = percentile(values, 99) if values else None
    verdict = "met" if p99 is not None and p99 <= TARGET_ESCALATION_P99_S and len(values) == probes else "NOT met"
    report.add(
        "targets", f"escalation p99 <= {TARGET_ESCALATION_P99_S:.0f} s with {open_cases:,} open", p99, "s", verdict
    )


def run(
    stack: Stack,
    partner_id: str,
    concurrency: list[int],
    duration: float,
    report: Report,
    open_cases: int,
    probes: int,
) -> None:
    """Intake and escalation on a stack whose access service runs and whose registry was measured (run_all)."""
    for name in ("grievance", "grievance-worker"):
        stack.start_service(name, extra_env=service_env(stack))
    caseworker = create_client(stack.http_url("access"), partner_id, "caseworker")
    intake(stack.http_url("grievance"), caseworker, concurrency, duration, report)
    for c in concurrency:
        ours = report.value(SECTION, f"intake c={c}")
        theirs = report.value(rest.SECTION, f"registrations c={c}")
        report.add_ratio("ratios", f"intake c={c} / registrations c={c}", ours, theirs, "registry, same run")
        for raw in ("store insert_one", "broker produce"):
            report.add_ratio("ratios", f"intake c={c} / raw {raw}", ours, report.value(baselines.SECTION, raw), raw)
    best_ours = max((report.value(SECTION, f"intake c={c}") or 0.0) for c in concurrency)
    best_theirs = max((report.value(rest.SECTION, f"registrations c={c}") or 0.0) for c in concurrency)
    report.add(
        "targets",
        "intake >= registry registrations (best c)",
        best_ours,
        "cases/s",
        f"registry {best_theirs:.0f}/s; {'met' if best_ours >= best_theirs else 'NOT met'}",
    )
    escalation(stack, partner_id, open_cases, probes, report)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report({k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()})
    stack = Stack(args.home, args.port_offset, echo=log)
    status = 0
    try:
        report.add("host", "load average (1 min) at start", os.getloadavg()[0], "procs", f"{os.cpu_count()} CPUs")
        stack.stop_all()
        stack.wipe()
        stack.start_infra()
        baselines.run(stack.mongo_uri, stack.kafka_bootstrap, args.quick, report)
        start_services(stack)
        registrar = rest.create_registrar(stack.http_url("access"))
        if args.skip_rest:
            escalation(stack, registrar.partner_id, args.open_cases, args.probes, report)
        else:
            rest.run(stack.http_url("registry"), registrar, args.concurrency, args.duration, report, lambda: 0)
            run(stack, registrar.partner_id, args.concurrency, args.duration, report, args.open_cases, args.probes)
    except KeyboardInterrupt:
        status = 130
    except Exception:
        log(f"failed; reporting what was measured:\n{traceback.format_exc()}")
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
