"""Run every benchmark on the bench's own stack and print the measured figures.

    uv run python -m bench.run_all [--quick] [--only baselines,rest,import,dedup,grievance,employer]
    uv run python -m bench.entitlements [--quick]   (entitlements: its own stack, its own raw baselines)

The stack lives in ``.devstack/bench`` with every port shifted by 24000 (Kafka 33092, FerretDB 51017,
access 32105, registry 32101); it is wiped at the start so each run begins empty, and stopped at the end.
The table goes to stdout, progress to stderr, and the figures to ``bench/results/<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from bench import baselines, bulk_import, cpu, dedup, employer, grievance, rest
from bench.report import Report, log
from bench.synthetic import Population
from bench.worker_docs import REGISTRY_DATABASE, WORKERS_COLLECTION, registry_document, stored_keys
from mrc_devstack.stack import Stack

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_HOME = REPO_ROOT / ".devstack" / "bench"
PORT_OFFSET = 24000
SECTIONS = ("baselines", "rest", "import", "dedup", "grievance", "employer")
RATE_LIMIT = "100000"

TARGET_REST_RATE = 500.0  # workers/s
TARGET_REST_P99_MS = 50.0
TARGET_IMPORT_RATE = 3000.0  # workers/s
TARGET_DEDUP_P99_MS = 20.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and 5 s REST runs (a few minutes)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--duration", type=float, help="seconds per REST load level (default 30, quick 5)")
    parser.add_argument("--concurrency", default="1,16", help="REST connection counts to try (default 1,16)")
    parser.add_argument("--import-rows", type=int, help="rows in the bulk import (default 100000, quick 5000)")
    parser.add_argument("--dedup-workers", type=int, help="workers loaded for dedup (default 1000000, quick 20000)")
    parser.add_argument(
        "--phase-budget", type=float, help="seconds each dedup phase may load, and then look up (300, quick 60)"
    )
    parser.add_argument("--home", type=Path, default=BENCH_HOME, help=f"stack home (default {BENCH_HOME})")
    parser.add_argument("--port-offset", type=int, default=PORT_OFFSET, help=f"added to every port ({PORT_OFFSET})")
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(args.only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    args.duration = args.duration or (5.0 if args.quick else 30.0)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.import_rows = args.import_rows or (5_000 if args.quick else 100_000)
    args.dedup_workers = args.dedup_workers or (20_000 if args.quick else 1_000_000)
    args.phase_budget = args.phase_budget or (60.0 if args.quick else 300.0)
    return args


def _workers_count(mongo_uri: str) -> int:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        return client[REGISTRY_DATABASE][WORKERS_COLLECTION].count_documents({})
    finally:
        client.close()


def check_document_shape(mongo_uri: str, partner_id: str, report: Report) -> None:
    """Compare a worker the registry stored with the documents the dedup benchmark loads."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        stored = client[REGISTRY_DATABASE][WORKERS_COLLECTION].find_one({"registering_partner_id": partner_id})
    finally:
        client.close()
    if stored is None:
        log("shape check: no registered worker found")
        return
    population = Population(seed=99)
    ours = registry_document(population.person(), population, partner_id, datetime.now(UTC))
    name = stored.get("latin_name") or stored["full_name"]
    keys = stored_keys(name, stored["home"]["district_code"], stored.get("birth_year"), stored.get("phone_index") or "")
    missing, extra = sorted(set(stored) - set(ours) - {"outbox_pending"}), sorted(set(ours) - set(stored))
    same_keys = set(stored.get("match_keys", [])) == keys
    report.details["shape_check"] = {"fields_missing": missing, "fields_extra": extra, "match_keys_equal": same_keys}
    if missing or extra or not same_keys:
        log(f"shape check: WARNING fields missing {missing}, extra {extra}, match keys equal: {same_keys}")
    else:
        log("shape check: loaded documents have the registry's fields and match keys")


def start_services(stack: Stack) -> None:
    access_env = {"MRC_ACCESS_BOOTSTRAP_CLIENT_ID": rest.OPERATOR_CLIENT_ID}
    access_env["MRC_ACCESS_BOOTSTRAP_CLIENT_SECRET"] = rest.OPERATOR_CLIENT_SECRET
    stack.start_service("access", extra_env=access_env)
    jwks = f"{stack.http_url('access')}/.well-known/jwks.json"
    stack.start_service(
        "registry",
        extra_env={
            "MRC_AUTH_JWKS_URL": jwks,
            "MRC_AUTH_RATE_LIMIT_PER_SECOND": RATE_LIMIT,
            "MRC_AUTH_RATE_LIMIT_BURST": RATE_LIMIT,
        },
    )


def stack_cpu(stack: Stack) -> Callable[[], dict[str, float]]:
    """CPU seconds of the processes a registration runs through (with their children)."""
    names = ("registry", "ferretdb", "kafka", "access")
    roots = {s.name: s.pid for s in stack.status(names) if s.pid is not None}
    return functools.partial(cpu.cpu_seconds, roots)


def add_ratios_and_targets(report: Report, args: argparse.Namespace) -> None:
    raw = {
        "raw insert_many": report.value(baselines.SECTION, "store insert_many"),
        "raw insert_one": report.value(baselines.SECTION, "store insert_one"),
        "raw produce": report.value(baselines.SECTION, "broker produce"),
    }
    ours: list[tuple[str, float | None]] = [
        (f"REST c={c}", report.value(rest.SECTION, f"registrations c={c}")) for c in args.concurrency
    ]
    ours.append(("bulk import", report.value(bulk_import.SECTION, "import")))
    for label, rate in ours:
        if rate is None:
            continue
        for raw_label, raw_rate in raw.items():
            report.add_ratio("ratios", f"{label} / {raw_label}", rate, raw_rate, f"{raw_label} rate, same run")

    best: tuple[float, float, int] | None = None
    for c in args.concurrency:
        rate = report.value(rest.SECTION, f"registrations c={c}")
        p99 = report.value(rest.SECTION, f"latency c={c} p99")
        if rate is not None and p99 is not None and (best is None or rate > best[0]):
            best = (rate, p99, c)
    if best is not None:
        met = best[0] >= TARGET_REST_RATE and best[1] <= TARGET_REST_P99_MS
        note = f"best c={best[2]}: p99 {best[1]:.1f} ms; {'met' if met else 'NOT met'}"
        report.add(
            "targets",
            f"REST >= {TARGET_REST_RATE:.0f}/s, p99 <= {TARGET_REST_P99_MS:.0f} ms",
            best[0],
            "workers/s",
            note,
        )
    rate = report.value(bulk_import.SECTION, "import")
    if "import" in args.only:
        verdict = "not measured" if rate is None else ("met" if rate >= TARGET_IMPORT_RATE else "NOT met")
        report.add("targets", f"bulk import >= {TARGET_IMPORT_RATE:.0f}/s", rate, "workers/s", verdict)
    phases = report.details.get("dedup") or []
    if phases:
        last = phases[-1]
        label = f"{last['workers']:,} workers"
        for kind, field in (
            ("registry find_candidates", "find_candidates_p99_ms"),
            ("side _id lookups", "side_p99_ms"),
            ("old scan query", "scan_p99_ms"),
        ):
            value = last[field]
            if value != value:  # NaN: not timed at this size (the old scan query stops at 20k)
                continue
            verdict = "met" if value <= TARGET_DEDUP_P99_MS else "NOT met"
            scope = "at 1M" if last["workers"] >= 1_000_000 else f"at {label}; the target is for 1M"
            report.add(
                "targets", f"dedup {kind} p99 <= {TARGET_DEDUP_P99_MS:.0f} ms", value, "ms", f"{verdict} {scope}"
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options: dict[str, Any] = {k: v for k, v in vars(args).items()}
    options.update({"stack_home": str(args.home), "home": str(args.home)})
    report = Report(options)
    stack = Stack(args.home, args.port_offset, echo=log)
    partner_id = "bench-partner"
    status = 0
    try:
        report.add("host", "load average (1 min) at start", os.getloadavg()[0], "procs", f"{os.cpu_count()} CPUs")
        stack.stop_all()  # leftovers of an interrupted bench run (this home only)
        stack.wipe()
        stack.start_infra()
        if "baselines" in args.only:
            baselines.run(stack.mongo_uri, stack.kafka_bootstrap, args.quick, report)
        if "rest" in args.only or "import" in args.only or "grievance" in args.only:
            start_services(stack)
            registrar = rest.create_registrar(stack.http_url("access"))
            partner_id = registrar.partner_id
            registry_url = stack.http_url("registry")
            if "rest" in args.only:
                count = functools.partial(_workers_count, stack.mongo_uri)
                rest.run(registry_url, registrar, args.concurrency, args.duration, report, count, stack_cpu(stack))
                check_document_shape(stack.mongo_uri, partner_id, report)
            if "import" in args.only:
                bulk_import.run(registry_url, registrar.headers, args.import_rows, 3600.0, report, stack_cpu(stack))
            if "grievance" in args.only:
                open_cases = 10_000 if args.quick else 100_000
                grievance.run(stack, partner_id, args.concurrency, args.duration, report, open_cases, probes=200)
            # The registry's outbox relay polls the workers collection; stop it before loading millions.
            stack.stop_services()
        if "dedup" in args.only:
            raw_rate = report.value(baselines.SECTION, "store insert_many")
            sqlite_dir = stack.layout.ferretdb_data
            dedup.run(stack.mongo_uri, sqlite_dir, partner_id, args.dedup_workers, args.phase_budget, raw_rate, report)
        if "employer" in args.only:  # bench/employer.py: wage-register ingestion, grievance-to-score lag
            employer.run(stack, args.quick, report, baselines_done="baselines" in args.only)
    except KeyboardInterrupt:
        log("interrupted; stopping the stack and reporting what was measured")
        status = 130
    except Exception:
        log(f"failed; stopping the stack and reporting what was measured:\n{traceback.format_exc()}")
        status = 1
    finally:
        report.add("host", "load average (1 min) at end", os.getloadavg()[0], "procs", "before stopping the stack")
        stack.stop_all()
    add_ratios_and_targets(report, args)
    print(report.table(), flush=True)
    path = report.write_json()
    print(f"\nresults: {path.relative_to(REPO_ROOT)}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
