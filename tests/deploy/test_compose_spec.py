"""docker-compose.yml loaded the way `docker compose` loads it, with compose-go (tests/deploy/composecheck).

A tiny Go program runs compose-go's loader (the Compose Specification's schema, anchors and merge keys,
interpolation, normalization, consistency checks) and prints the resolved project as JSON. It is built
once per version of its sources into .devstack/cache/composecheck/ (gitignored); the Go modules come
from the Go module proxy on the first build. Skipped only when `go` is not installed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.test_manifests import COMPOSE_FILE, REPO, SERVICES, WORKERS

COMPOSECHECK = Path(__file__).resolve().parent / "composecheck"
CACHE = REPO / ".devstack" / "cache" / "composecheck"
ONE_SHOT = {"certs", "kafka-init", "mongo-init"}


@functools.cache
def composecheck() -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not on PATH: docker-compose.yml was not loaded with compose-go (tests/deploy/composecheck)")
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((COMPOSECHECK / name).read_bytes())
    binary = CACHE / digest.hexdigest()[:16] / "composecheck"
    if not binary.is_file():
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_name(f"composecheck.{os.getpid()}.partial")
        env = {**os.environ, "GOFLAGS": f"{os.environ.get('GOFLAGS', '')} -mod=readonly".strip()}
        result = subprocess.run(
            [go, "build", "-o", str(partial), "."],
            cwd=COMPOSECHECK,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, f"building tests/deploy/composecheck failed:\n{result.stderr}"
        partial.replace(binary)
    return binary


def load(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(composecheck()), str(path)], capture_output=True, text=True, timeout=120, check=False, env={}
    )


@functools.cache
def project() -> dict[str, Any]:
    result = load(COMPOSE_FILE)
    assert result.returncode == 0, f"docker compose would refuse docker-compose.yml:\n{result.stderr}"
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_compose_file_loads_as_docker_compose_loads_it() -> None:
    services = project()["services"]
    assert set(services) == {"kafka", "mongo", *ONE_SHOT, *SERVICES, *WORKERS}
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no", f"{name} runs once"


def test_resolved_ports_bind_loopback_only() -> None:
    for name, svc in project()["services"].items():
        for port in svc.get("ports") or []:
            assert port["host_ip"] == "127.0.0.1", f"{name}: {port}"


def test_resolved_bind_mounts_are_read_only_files_of_the_repository() -> None:
    for name, svc in project()["services"].items():
        for volume in svc.get("volumes") or []:
            if volume["type"] != "bind":
                continue
            source = Path(volume["source"])
            assert source.is_file(), f"{name}: bind mount {source} does not exist"
            assert (REPO / "deploy" / "compose") in source.parents, f"{name}: {source}"
            assert volume.get("read_only") is True, f"{name}: {source} is mounted writable"


def test_resolved_apps_have_their_credentials_and_the_ca() -> None:
    services = project()["services"]
    for name in (*SERVICES, *WORKERS):
        svc = services[name]
        env = svc["environment"]
        # Anchors and merge keys resolved as Docker resolves them.
        assert env["MRC_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["MRC_KAFKA_SASL_USERNAME"] == f"mrc-{name}", name
        assert env["MRC_KAFKA_SASL_PASSWORD"], name
        assert "tls=true" in env["MRC_MONGO_URI"], name
        (ca,) = [v for v in svc["volumes"] if v["source"] == "mrc-ca"]
        assert ca["read_only"] is True and env["MRC_KAFKA_SSL_CAFILE"].startswith(ca["target"] + "/")
        conditions = {dep: spec["condition"] for dep, spec in svc["depends_on"].items()}
        assert conditions == {
            "kafka": "service_healthy",
            "mongo": "service_healthy",
            "kafka-init": "service_completed_successfully",
            "mongo-init": "service_completed_successfully",
        }, name


@pytest.mark.parametrize(
    ("change", "replacement"),
    [
        ("    network_mode: none\n", '    network_mode: none\n    restrat: "no"\n'),  # unknown key
        ("    mongo-init:\n      condition:", "    mongo-initt:\n      condition:"),  # undefined service
        ("      - mongo-data:/data/db\n", "      - mongo-dta:/data/db\n"),  # undeclared volume
    ],
    ids=["unknown-key", "undefined-dependency", "undeclared-volume"],
)
def test_composecheck_refuses_what_docker_compose_refuses(tmp_path: Path, change: str, replacement: str) -> None:
    """Guards the validator: each of these breaks `docker compose up`."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert change in text
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(change, replacement, 1), encoding="utf-8")
    result = load(broken)
    assert result.returncode != 0, f"compose-go accepted a broken file ({replacement.strip()})"
