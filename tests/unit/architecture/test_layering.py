"""The layers stay apart: domain and use-case modules are plain Python.

Every service's `domain` and `service_layer` packages, and the shared kernel, must import no transport
or store library (grpc, pymongo, mongoengine, kafka, faust, fastapi, uvicorn), not directly and not
through `mrc_plumbing` (the infrastructure library). Each module is imported in a fresh interpreter and
what it loaded is checked, so an indirect import is caught too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FORBIDDEN = ("grpc", "pymongo", "mongoengine", "kafka", "faust", "fastapi", "uvicorn", "mrc_plumbing", "bson")


def _pure_modules() -> list[str]:
    modules: list[str] = []
    for package_root in sorted((REPO / "services").glob("*/src/mrc_*")):
        for layer in ("domain", "service_layer"):
            for path in sorted((package_root / layer).rglob("*.py")):
                relative = path.relative_to(package_root.parent).with_suffix("")
                modules.append(".".join(relative.parts).removesuffix(".__init__"))
    for path in sorted((REPO / "libs/kernel/src/mrc_kernel").rglob("*.py")):
        relative = path.relative_to(REPO / "libs/kernel/src").with_suffix("")
        modules.append(".".join(relative.parts).removesuffix(".__init__"))
    return modules


PROBE = """
import importlib, json, sys
loaded = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
roots = sorted({m.split('.')[0] for m in sys.modules})
print(json.dumps(roots))
"""


@pytest.mark.parametrize("module", _pure_modules())
def test_domain_and_use_cases_import_no_infrastructure(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, check=True, cwd=REPO)
    loaded = set(json.loads(result.stdout))
    assert not loaded & set(FORBIDDEN), f"{module} loads {sorted(loaded & set(FORBIDDEN))}"
