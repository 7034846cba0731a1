"""Bulk intake end to end: a survey uploaded over REST and with the CLI, imported in the background."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from mrc_devstack.stack import Stack
from tests.e2e.payloads import mobile, verhoeff_aadhaar
from tests.support.access import Actor

HEADERS = (
    *("full_name", "gender", "birth_year", "home_state_code", "home_district_code", "phone", "aadhaar"),
    *("consent_purposes", "consent_method", "row_key"),
)


def survey(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def row(name: str, **overrides: str) -> dict[str, str]:
    base = {
        "full_name": name,
        "gender": "female",
        "birth_year": "1990",
        "home_state_code": "10",
        "home_district_code": "212",
        "phone": mobile(),
        "aadhaar": verhoeff_aadhaar(),
        "consent_purposes": "registration",
        "consent_method": "thumbprint",
        "row_key": uuid.uuid4().hex[:10],
    }
    return {**base, **overrides}


def finished(http: httpx.Client, location: str, registrar: Actor, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = http.get(location, headers=registrar.headers()).json()
        if job["status"] != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


def test_a_survey_uploaded_over_rest_is_imported_in_the_background(
    http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    registrar = actors["registrar"]
    bad_aadhaar = "234567890123"  # fails the Verhoeff check
    rows = [
        row("Sunita Kumari"),
        row("Rekha Devi"),
        row("Anita Manjhi"),
        row("Meena Paswan", home_district_code="99999"),
        row("Kiran Devi", aadhaar=bad_aadhaar),
    ]
    files = {"file": ("survey.csv", survey(rows), "text/csv")}
    headers = registrar.headers(**{"X-Purpose": "registration"})
    accepted = http["registry"].post("/v1/imports", files=files, headers=headers)
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["Location"]

    job = finished(http["registry"], location, registrar)
    assert job["status"] == "completed"
    assert job["counts"] == {"total": 5, "registered": 3, "linked": 0, "failed": 2}
    report = http["registry"].get(job["report_url"], headers=registrar.headers())
    assert report.status_code == 200
    assert "home_district_code" in report.text and "aadhaar" in report.text
    assert bad_aadhaar not in report.text  # identifiers are never echoed

    # The same file again is the same job, not a second import.
    again = http["registry"].post("/v1/imports", files=files, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["job_id"] == job["job_id"]

    # Each registered row is a worker the registrar can find by its phone.
    found = (
        http["registry"]
        .post("/v1/workers:search", json={"phone": rows[0]["phone"]}, headers=registrar.headers())
        .json()
    )
    assert [w["full_name"] for w in found["workers"]] == ["Sunita Kumari"]


def test_the_cli_uploads_a_survey_and_reports_the_rows(
    running_services: Stack, actors: dict[str, Actor], tmp_path: Path
) -> None:
    registrar = actors["registrar"]
    path = tmp_path / "survey.csv"
    path.write_bytes(survey([row("Lakshmi Devi"), row("Parvati Devi"), row("Sita Devi", gender="unknown-value")]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mrc_registry.entrypoints.import_cli",
            str(path),
            "--url",
            running_services.http_url("registry"),
            "--token-url",
            f"{running_services.http_url('access')}/oauth2/token",
            "--client-id",
            registrar.client_id,
            "--timeout",
            "120",
        ],
        env={**os.environ, "MRC_IMPORT_CLIENT_SECRET": registrar.client_secret},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "completed; 3 rows: 2 registered, 0 linked to workers already registered, 1 refused" in result.stdout
    assert "rows" in result.stderr  # the progress bars
    report = tmp_path / "survey.errors.csv"
    assert report.is_file() and "gender" in report.read_text()
