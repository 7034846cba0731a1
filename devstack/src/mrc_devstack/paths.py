"""Where things live: the repository (pom, Go module), the shared cache and a stack's home folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: ``devstack/`` in the repository (this file is devstack/src/mrc_devstack/paths.py; the
#: workspace installs the package in editable mode, so the sources are always next to it).
DEVSTACK_DIR = Path(__file__).resolve().parents[2]
#: The repository root (the uv workspace).
REPO_ROOT = DEVSTACK_DIR.parent

KAFKA_POM = DEVSTACK_DIR / "kafka" / "pom.xml"
#: MirrorMaker 2 (connect-mirror) of the same Kafka release, on a classpath of its own.
MIRROR_POM = DEVSTACK_DIR / "kafka" / "mirror" / "pom.xml"
FERRETDB_MODULE_DIR = DEVSTACK_DIR / "ferretdb"

ENV_HOME = "MRC_DEV_HOME"
ENV_PORT_OFFSET = "MRC_DEV_PORT_OFFSET"
ENV_CACHE = "MRC_DEV_CACHE"


def default_home() -> Path:
    """``$MRC_DEV_HOME`` or ``.devstack/local`` under the repository root."""
    env = os.environ.get(ENV_HOME)
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".devstack" / "local"


def default_cache() -> Path:
    """Downloads and builds shared by every home: ``$MRC_DEV_CACHE`` or ``.devstack/cache``."""
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".devstack" / "cache"


def default_port_offset() -> int:
    env = os.environ.get(ENV_PORT_OFFSET, "").strip()
    return int(env) if env else 0


@dataclass(frozen=True)
class Layout:
    """Folders of one stack instance (``home``) plus the shared ``cache``."""

    home: Path
    cache: Path

    @property
    def kafka_dir(self) -> Path:
        return self.home / "kafka"

    @property
    def kafka_data(self) -> Path:
        return self.kafka_dir / "data"

    @property
    def ferretdb_data(self) -> Path:
        return self.home / "ferretdb" / "data"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def work(self) -> Path:
        """Working directories of the services (faust keeps its table state there)."""
        return self.home / "work"

    @property
    def kafka_libs(self) -> Path:
        return self.cache / "kafka" / "libs"

    @property
    def mirror_libs(self) -> Path:
        return self.cache / "kafka" / "mirror-libs"

    @property
    def bin(self) -> Path:
        return self.cache / "bin"

    def log_file(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.pid"
