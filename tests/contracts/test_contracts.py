"""Fast checks of the protobuf contracts in protos/ and the stubs generated from them.

They need neither Kafka nor the services: only the workspace venv (grpcio-tools, mypy-protobuf) and,
for the lint test, buf from npm (`npm ci` at the repo root).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO_ROOT / "protos"
STUB_ROOT = REPO_ROOT / "libs" / "contracts" / "src"
PROTOS_SH = REPO_ROOT / "tools" / "protos.sh"
BUF = REPO_ROOT / "node_modules" / ".bin" / "buf"

PACKAGE_RE = re.compile(r"^package\s+([A-Za-z0-9_.]+)\s*;", re.MULTILINE)
VERSIONED_PACKAGE_RE = re.compile(r"^mrc\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$")
# mrc.<svc>.v<N>.<PastTenseName>: events state what happened, so the name ends in "ed".
# Past participles: regular (-ed) and the irregular ones event names use (WageShortfallFound).
EVENT_NAME_RE = re.compile(
    r"^mrc\.(?P<svc>[a-z][a-z0-9_]*)\.v[1-9][0-9]*\.[A-Z][A-Za-z0-9]*(?:ed|Found|Sent|Held|Withdrawn|Drawn|Taken|Given)$"
)
# Parts that events carry (a worker's non-identifying facts; the federation's blind indexes, status
# summaries and aggregate cells), not events themselves.
EVENT_PART_SUFFIXES = ("Facts", "Grant", "Index", "Summary", "Cell")


def _proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.glob("mrc/**/*.proto"))


def _rel(path: Path) -> str:
    return path.relative_to(PROTO_ROOT).as_posix()


def _module_name(proto: Path, suffix: str) -> str:
    """mrc/registry/v1/worker.proto -> mrc.registry.v1.worker_pb2 (suffix "_pb2")."""
    return _rel(proto).removesuffix(".proto").replace("/", ".") + suffix


def _proto_package(proto: Path) -> str:
    match = PACKAGE_RE.search(proto.read_text(encoding="utf-8"))
    assert match, f"{_rel(proto)} declares no package"
    return match.group(1)


PROTOS = _proto_files()
EVENT_PROTOS = [p for p in PROTOS if p.name == "events.proto"]


def test_there_are_protos_and_event_protos() -> None:
    assert PROTOS, f"no .proto files under {PROTO_ROOT}"
    assert EVENT_PROTOS, "no events.proto files: the services publish no events?"


@pytest.mark.parametrize("proto", PROTOS, ids=_rel)
def test_package_is_versioned_and_mirrors_folder(proto: Path) -> None:
    package = _proto_package(proto)
    assert VERSIONED_PACKAGE_RE.match(package), f"{_rel(proto)}: package {package!r} is not of the form mrc.<svc>.v<N>"
    folder = proto.parent.relative_to(PROTO_ROOT).as_posix()
    assert folder == package.replace(".", "/"), (
        f"{_rel(proto)}: package {package!r} should live in protos/{package.replace('.', '/')}/"
    )


def _generated_modules() -> list[str]:
    names = []
    for path in sorted((STUB_ROOT / "mrc").rglob("*.py")):
        if path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
            names.append(path.relative_to(STUB_ROOT).with_suffix("").as_posix().replace("/", "."))
    return names


@pytest.mark.parametrize("proto", PROTOS, ids=_rel)
def test_every_proto_has_stubs(proto: Path) -> None:
    for suffix, ext in [("_pb2", ".py"), ("_pb2", ".pyi"), ("_pb2_grpc", ".py")]:
        stub = STUB_ROOT / (_module_name(proto, suffix).replace(".", "/") + ext)
        assert stub.is_file(), f"{stub.relative_to(REPO_ROOT)} missing: run make protos"


@pytest.mark.parametrize("module_name", _generated_modules())
def test_generated_module_imports(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert isinstance(module, ModuleType)


def test_generated_packages_are_regular_and_typed() -> None:
    mrc = STUB_ROOT / "mrc"
    assert (mrc / "py.typed").is_file()
    for folder in [mrc, *sorted(p for p in mrc.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        assert (folder / "__init__.py").is_file(), f"{folder.relative_to(REPO_ROOT)} has no __init__.py"


@pytest.mark.parametrize("proto", EVENT_PROTOS, ids=_rel)
def test_event_messages_are_past_tense_full_names(proto: Path) -> None:
    module = importlib.import_module(_module_name(proto, "_pb2"))
    messages = module.DESCRIPTOR.message_types_by_name
    assert messages, f"{_rel(proto)} defines no event message"
    svc = proto.parent.parent.name
    for descriptor in messages.values():
        if descriptor.name.endswith(EVENT_PART_SUFFIXES):
            continue
        match = EVENT_NAME_RE.match(descriptor.full_name)
        assert match, (
            f"event {descriptor.full_name!r} in {_rel(proto)} is not mrc.<svc>.v<N>.<PastTenseName> "
            "(name events for what happened: WorkerRegistered, GrievanceFiled)"
        )
        assert match.group("svc") == svc, f"event {descriptor.full_name!r} lives under protos/mrc/{svc}/"


def test_stubs_are_not_stale() -> None:
    if importlib.util.find_spec("grpc_tools") is None:
        pytest.skip("grpcio-tools is not installed in this environment")
    if shutil.which("uv") is None:
        pytest.skip("uv is not on PATH (tools/protos.sh runs protoc through uv run)")
    result = subprocess.run(
        ["bash", str(PROTOS_SH), "check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_lint() -> None:
    if not BUF.exists():
        pytest.skip("node_modules/.bin/buf missing: run `npm ci` at the repo root to lint with buf")
    result = subprocess.run(
        [str(BUF), "lint", "protos"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
