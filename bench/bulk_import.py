"""Bulk import through ``POST /v1/imports`` (multipart ``file``: a CSV of workers), when the registry has it.

Works with a synchronous endpoint (the response comes when the rows are in) and with an asynchronous one
(202 with a ``Location`` header or an id, then polled with GET until its ``status`` is final). The rate is
the rows the registry reports as imported (or, when it reports no count, all rows) over the time from
sending the file to the final answer.
"""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from bench.report import Report, log
from bench.synthetic import IMPORT_COLUMNS, Population

SECTION = "bulk import"
FINAL_STATUSES = {"completed", "complete", "succeeded", "success", "done", "finished", "failed", "error", "partial"}
COUNT_FIELDS = ("imported", "created", "registered", "succeeded", "accepted", "imported_count", "created_count")


def build_csv(rows: int, seed: int = 4) -> bytes:
    population = Population(seed=seed)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=IMPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for _ in range(rows):
        writer.writerow(population.person().import_row())
    return buffer.getvalue().encode("utf-8")


def _status(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    value = body.get("status") or body.get("state") or ""
    return str(value).lower()


def _imported(body: Any) -> int | None:
    if not isinstance(body, dict):
        return None
    for name in COUNT_FIELDS:
        value = body.get(name)
        if isinstance(value, int):
            return value
    counts = body.get("counts") or body.get("summary")
    if isinstance(counts, dict) and isinstance(counts.get("registered"), int):
        # Rows that ended as a worker: new registrations and rows linked to a worker already registered.
        return int(counts["registered"]) + int(counts.get("linked") or 0)
    return _imported(counts) if isinstance(counts, dict) else None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def run(
    registry_url: str,
    headers: Callable[[], dict[str, str]],
    rows: int,
    timeout: float,
    report: Report,
    cpu_snapshot: Callable[[], dict[str, float]] | None = None,
) -> None:
    log(f"bulk import: building a CSV of {rows} synthetic workers")
    payload = build_csv(rows)
    log(f"bulk import: POST /v1/imports ({len(payload) / 1e6:.1f} MB)")
    cpu_before = cpu_snapshot() if cpu_snapshot else {}
    # Headers are asked for at each request: an import of 100k rows outlives a token (10 minutes).
    with httpx.Client(base_url=registry_url, timeout=timeout) as http:
        began = time.perf_counter()
        try:
            response = http.post(
                "/v1/imports",
                files={"file": ("workers.csv", payload, "text/csv")},
                headers={**headers(), "Idempotency-Key": str(uuid.uuid4())},
            )
        except httpx.TimeoutException:
            report.add(SECTION, "import", None, "workers/s", f"no answer within {timeout:.0f} s")
            return
        if response.status_code in (404, 405):
            print("bulk import: not available", flush=True)
            report.add(
                SECTION, "import", None, "workers/s", f"not available (POST /v1/imports: {response.status_code})"
            )
            return
        if not response.is_success:
            report.add(SECTION, "import", None, "workers/s", f"failed: {response.status_code} {response.text[:120]}")
            log(f"bulk import: {response.status_code} {response.text[:500]}")
            return
        body = _json(response)
        location = response.headers.get("Location", "")
        job_id = (body.get("job_id") or body.get("import_id") or body.get("id")) if isinstance(body, dict) else None
        if response.status_code == 202 or (_status(body) and _status(body) not in FINAL_STATUSES):
            poll = location or (f"/v1/imports/{job_id}" if job_id else "")
            if not poll:
                report.add(SECTION, "import", None, "workers/s", "accepted, but no Location or id to follow")
                return
            deadline = began + timeout
            while _status(body) not in FINAL_STATUSES and time.perf_counter() < deadline:
                time.sleep(0.5)
                polled = http.get(poll, headers=headers())
                if polled.is_success:
                    body = _json(polled)
        elapsed = time.perf_counter() - began
    status = _status(body) or str(response.status_code)
    imported = _imported(body)
    count = imported if imported is not None else rows
    counts = body.get("counts") if isinstance(body, dict) else None
    failed = counts.get("failed") if isinstance(counts, dict) else None
    note = f"{count} of {rows} rows in {elapsed:.1f} s, status {status}" + (f", {failed} failed" if failed else "")
    if imported is None:
        note += " (no count reported: all rows assumed)"
    report.add(SECTION, "import", count / elapsed if elapsed else None, "workers/s", note)
    cpu_after = cpu_snapshot() if cpu_snapshot else {}
    cpu_ms = {k: (cpu_after[k] - cpu_before[k]) * 1000 / count for k in cpu_after if k in cpu_before and count}
    for component, ms in sorted(cpu_ms.items()):
        report.add(SECTION, f"CPU per imported worker: {component}", ms, "ms", "user+system, until the answer")
    if cpu_ms:
        cores = os.cpu_count() or 1
        total = sum(cpu_ms.values())
        ceiling = f"so at most {cores * 1000 / total:,.0f}/s on {cores} cores"
        report.add(SECTION, "CPU per imported worker: all", total, "ms", ceiling)
    report.details["bulk_import"] = {"rows": rows, "elapsed_s": elapsed, "final_body": body, "cpu_ms": cpu_ms}
