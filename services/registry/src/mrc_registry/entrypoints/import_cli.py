"""Upload a field survey (CSV or XLSX) to the registry from a partner's machine.

    python -m mrc_registry.entrypoints.import_cli survey.csv \\
        --url http://127.0.0.1:8101 --token-url http://127.0.0.1:8105/oauth2/token \\
        --client-id cso-bihar-importer          # secret: --client-secret or MRC_IMPORT_CLIENT_SECRET

Gets a token (OAuth2 client credentials), uploads the file (a progress bar of bytes), follows the import (a
progress bar of rows; the registry imports in the background), prints the counts and
saves the problems found in rows next to the file (`survey.errors.csv`). Exit status 0 when the import
completed, even if some rows were refused; 1 when it did not. Uploading the same file again is safe: the
registry returns the first import, or finishes one that stopped part-way.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

SECRET_ENV = "MRC_IMPORT_CLIENT_SECRET"  # noqa: S105 (the name of a variable, not a secret)
MAX_FILE_BYTES = 20 * 1024 * 1024  # as the registry enforces (mrc_registry.service_layer.bulk_import)
CHUNK = 64 * 1024
POLL_SECONDS = 2.0
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportFailed(Exception):
    pass


def _problem(response: httpx.Response) -> str:
    """What a failed response says, for a person: problem+json, an OAuth2 error, or the status."""
    try:
        body: Any = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    if "error" in body and "title" not in body:  # RFC 6749 token endpoint error
        return f"{body['error']}: {body.get('error_description', '')}".rstrip(": ")
    lines = [f"HTTP {response.status_code} {body.get('title', '')}: {body.get('detail', '')}"]
    lines += [f"  {e.get('field', '')}: {e.get('detail', '')}" for e in body.get("errors", []) if isinstance(e, dict)]
    return "\n".join(lines)


def get_token(http: httpx.Client, token_url: str, client_id: str, client_secret: str, audience: str) -> str:
    form = {"grant_type": "client_credentials"}
    if audience:
        form["audience"] = audience
    response = http.post(token_url, data=form, auth=(client_id, client_secret))
    if response.status_code != 200:
        raise ImportFailed(f"no token from {token_url}: {_problem(response)}")
    token = response.json().get("access_token")
    if not isinstance(token, str) or not token:
        raise ImportFailed(f"{token_url} answered without an access token")
    return token


def multipart_body(path: Path, content: bytes, progress: tqdm[Any] | None) -> tuple[str, int, Iterator[bytes]]:
    """(content type, length, body chunks) of a multipart upload of `content` in the field `file`."""
    boundary = secrets.token_hex(16)
    file_name = path.name.replace("\\", "_").replace('"', "%22").replace("\r", "").replace("\n", "")
    file_type = XLSX_TYPE if path.suffix.lower() == ".xlsx" else "text/csv"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {file_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for start in range(0, len(content), CHUNK):
            piece = content[start : start + CHUNK]
            yield piece
            if progress is not None:
                progress.update(len(piece))
        yield tail
        if progress is not None:
            progress.close()

    return f"multipart/form-data; boundary={boundary}", len(head) + len(content) + len(tail), chunks()


def upload(
    http: httpx.Client, url: str, token: str, path: Path, content: bytes, idempotency_key: str, *, quiet: bool
) -> dict[str, Any]:
    bar = tqdm(total=len(content), unit="B", unit_scale=True, unit_divisor=1024, desc=path.name, disable=quiet)
    content_type, length, body = multipart_body(path, content, bar)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": content_type,
        "Content-Length": str(length),
        "X-Purpose": "registration",
    }
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    try:
        response = http.post(f"{url}/v1/imports", content=body, headers=headers)
    finally:
        bar.close()
    if response.status_code not in (200, 201, 202):
        raise ImportFailed(f"the registry refused the file: {_problem(response)}")
    job: dict[str, Any] = response.json()
    return job


def wait_for(
    http: httpx.Client,
    url: str,
    token: Callable[[], str],
    job: dict[str, Any],
    timeout: float,
    *,
    quiet: bool = False,
) -> dict[str, Any]:
    """The job once it is no longer running, with a bar of the rows done so far.

    `token` gives a bearer token, fetching a new one when asked again (a long import outlives one).
    """
    deadline = time.monotonic() + timeout
    counts = job.get("counts", {})
    bar = tqdm(total=counts.get("total", 0), unit="row", desc="rows", disable=quiet)
    try:
        bearer = token()
        while True:
            counts = job.get("counts", {})
            bar.update(counts.get("registered", 0) + counts.get("linked", 0) + counts.get("failed", 0) - bar.n)
            if job.get("status") != "running":
                return job
            if time.monotonic() > deadline:
                raise ImportFailed(f"import {job['job_id']} is still running; check it later: GET /v1/imports/<id>")
            time.sleep(POLL_SECONDS)
            response = http.get(f"{url}/v1/imports/{job['job_id']}", headers={"Authorization": f"Bearer {bearer}"})
            if response.status_code == 401:  # the token expired during a long import
                bearer = token()
                continue
            if response.status_code != 200:
                raise ImportFailed(f"cannot follow import {job['job_id']}: {_problem(response)}")
            job = response.json()
    finally:
        bar.close()


def save_report(http: httpx.Client, url: str, token: str, job: dict[str, Any], path: Path) -> Path:
    response = http.get(f"{url}{job['report_url']}", headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        raise ImportFailed(f"cannot download the report: {_problem(response)}")
    target = path.with_name(f"{path.stem}.errors.csv")
    target.write_bytes(response.content)
    return target


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mrc_registry.entrypoints.import_cli",
        description="Register the workers of a field survey (CSV UTF-8 or XLSX) with the MRC registry.",
    )
    parser.add_argument("file", type=Path, help="the survey; first row: column headers")
    parser.add_argument("--url", default="http://127.0.0.1:8101", help="the registry's REST address")
    parser.add_argument("--token-url", default="http://127.0.0.1:8105/oauth2/token", help="the OAuth2 token endpoint")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", default="", help=f"default: ${SECRET_ENV} (keeps it out of shell history)")
    parser.add_argument("--audience", default="", help="token audience (default: every service)")
    parser.add_argument("--idempotency-key", default="", help="optional key for this upload")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the import")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    secret = args.client_secret or os.environ.get(SECRET_ENV, "")
    if not secret:
        print(f"error: give --client-secret or set {SECRET_ENV}", file=sys.stderr)
        return 1
    path: Path = args.file
    try:
        content = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    if len(content) > MAX_FILE_BYTES:
        print(f"error: {path.name} is over {MAX_FILE_BYTES // (1024 * 1024)} MiB: split it", file=sys.stderr)
        return 1
    url = args.url.rstrip("/")
    try:
        with httpx.Client(timeout=httpx.Timeout(30.0, read=args.timeout)) as http:
            token = get_token(http, args.token_url, args.client_id, secret, args.audience)
            job = upload(http, url, token, path, content, args.idempotency_key, quiet=args.quiet)

            def fresh_token() -> str:
                return get_token(http, args.token_url, args.client_id, secret, args.audience)

            job = wait_for(http, url, fresh_token, job, args.timeout, quiet=args.quiet)
            token = fresh_token()
            counts = job["counts"]
            print(
                f"import {job['job_id']}: {job['status']}; {counts['total']} rows: {counts['registered']} registered, "
                f"{counts['linked']} linked to workers already registered, {counts['failed']} refused"
            )
            if job["status"] != "completed":
                print(f"error: {job.get('error') or 'the import did not complete'}", file=sys.stderr)
                return 1
            if counts["failed"]:
                print(f"problems by row: {save_report(http, url, token, job, path)}")
            return 0
    except ImportFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
    except httpx.HTTPError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
