"""The local platform as one object: install, start, stop and inspect its components.

Components, in start order: ``ferretdb``, ``kafka`` (the infrastructure), then the services from
:data:`mrc_devstack.services.SERVICES`. They are stopped in reverse order. Each runs detached in its own
session with its output in ``<home>/logs/<name>.log`` and its PID in ``<home>/run/<name>.pid``; all
bind 127.0.0.1 only.

Example (what the tests do)::

    stack = Stack(Path(".devstack/test"), port_offset=10000)
    stack.install()
    stack.start_infra()
    stack.start_services()
    ...
    stack.stop_services()
    stack.stop_infra()
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mrc_devstack import ferretdb_server, health, kafka_broker, procs
from mrc_devstack.health import HOST
from mrc_devstack.paths import Layout, default_cache
from mrc_devstack.services import (
    ACCESS_HTTP_PORT,
    DEV_OPERATOR_CLIENT_ID,
    DEV_OPERATOR_CLIENT_SECRET,
    KAFKA_CONTROLLER_PORT,
    KAFKA_PORT,
    MONGO_PORT,
    SERVICES,
    SERVICES_BY_NAME,
    ServiceSpec,
)
from mrc_devstack.tools import InstallError

INFRA: tuple[str, ...] = ("ferretdb", "kafka")
SERVICE_NAMES: tuple[str, ...] = tuple(spec.name for spec in SERVICES)
COMPONENTS: tuple[str, ...] = INFRA + SERVICE_NAMES

STOP_TIMEOUT = 20.0  # seconds between SIGTERM and SIGKILL
WORKER_SETTLE = 5.0  # a worker without a health endpoint counts as up after living this long
CRASH_TAIL = 20

State = Literal["running", "stopped", "crashed"]


class StackError(RuntimeError):
    """A component could not be installed, started or found."""


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    kind: Literal["infra", "service"]
    state: State
    pid: int | None
    ports: dict[str, int]
    detail: str
    log_path: Path
    log_tail: list[str] = field(default_factory=list)  # last lines of the log when crashed

    @property
    def running(self) -> bool:
        return self.state == "running"


def _print(message: str) -> None:
    print(message, flush=True)


class Stack:
    """One instance of the local platform, living in ``home`` with every port shifted by ``port_offset``."""

    def __init__(
        self,
        home: Path,
        port_offset: int = 0,
        *,
        cache_dir: Path | None = None,
        python: str | None = None,
        echo: Callable[[str], None] | None = None,
        service_env: Mapping[str, str] | None = None,
    ) -> None:
        self.layout = Layout(home=Path(home).resolve(), cache=Path(cache_dir or default_cache()).resolve())
        self.port_offset = port_offset
        self.python = python or sys.executable
        self.echo: Callable[[str], None] = echo or _print
        #: Extra variables of every service of this stack (a federation sets each state's code this way).
        self.service_env: dict[str, str] = dict(service_env or {})
        #: Components this object started (what ``mrc-dev up`` rolls back on failure).
        self.started_here: list[str] = []
        #: Set to make ongoing stops skip the SIGTERM grace period (second Ctrl-C).
        self.force_stop = False

    def __repr__(self) -> str:
        return f"Stack(home={self.layout.home!s}, port_offset={self.port_offset})"

    # ----------------------------------------------------------------- addresses

    @property
    def home(self) -> Path:
        return self.layout.home

    @property
    def kafka_port(self) -> int:
        return KAFKA_PORT + self.port_offset

    @property
    def kafka_controller_port(self) -> int:
        return KAFKA_CONTROLLER_PORT + self.port_offset

    @property
    def mongo_port(self) -> int:
        return MONGO_PORT + self.port_offset

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongo_uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/"

    def _spec(self, name: str) -> ServiceSpec:
        try:
            return SERVICES_BY_NAME[name]
        except KeyError:
            raise StackError(f"unknown service {name!r}; known: {', '.join(SERVICE_NAMES)}") from None

    def http_url(self, name: str) -> str:
        """Base URL of a service's REST API (a worker's web port), e.g. ``http://127.0.0.1:8101``."""
        spec = self._spec(name)
        port = spec.http_port if spec.http_port is not None else spec.web_port
        if port is None:
            raise StackError(f"{name} serves no HTTP")
        return f"http://127.0.0.1:{port + self.port_offset}"

    def grpc_target(self, name: str) -> str:
        """gRPC target of a service, e.g. ``127.0.0.1:9101``."""
        spec = self._spec(name)
        if spec.grpc_port is None:
            raise StackError(f"{name} serves no gRPC")
        return f"127.0.0.1:{spec.grpc_port + self.port_offset}"

    def ports(self, name: str) -> dict[str, int]:
        if name == "kafka":
            return {"kafka": self.kafka_port, "controller": self.kafka_controller_port}
        if name == "ferretdb":
            return {"mongo": self.mongo_port}
        spec = self._spec(name)
        found = {"http": spec.http_port, "grpc": spec.grpc_port, "web": spec.web_port}
        return {label: port + self.port_offset for label, port in found.items() if port is not None}

    def _probe_port(self, name: str) -> int | None:
        """The port that must answer for the component to count as running."""
        if name == "kafka":
            return self.kafka_port
        if name == "ferretdb":
            return self.mongo_port
        spec = self._spec(name)
        return spec.http_port + self.port_offset if spec.http_port is not None else None

    def log_path(self, name: str) -> Path:
        self._check_name(name)
        return self.layout.log_file(name)

    def _check_name(self, name: str) -> None:
        if name not in COMPONENTS:
            raise StackError(f"unknown component {name!r}; known: {', '.join(COMPONENTS)}")

    # ----------------------------------------------------------------- install

    def install(self) -> None:
        """Fetch the Kafka jars and build FerretDB into the shared cache, unless already there."""
        try:
            kafka_broker.install_libs(self.layout, self.echo)
            ferretdb_server.install_binary(self.layout, self.echo)
        except InstallError as e:
            raise StackError(str(e)) from e

    # ----------------------------------------------------------------- start / stop

    def start_infra(self, timeout: float = 120.0) -> None:
        """Start FerretDB and Kafka (installing first if needed) and wait until both answer."""
        self.install()
        self._start(list(INFRA), timeout)

    def stop_infra(self) -> None:
        """Stop Kafka, then FerretDB."""
        for name in reversed(INFRA):
            self._stop(name)

    def start_services(self, names: list[str] | None = None, timeout: float = 120.0) -> None:
        """Start the services (all by default) and wait until each is healthy."""
        chosen = list(SERVICE_NAMES) if names is None else names
        for name in chosen:
            self._spec(name)
        self._require_infra()
        self._start(chosen, timeout)

    def stop_services(self, names: list[str] | None = None) -> None:
        """Stop the services (all by default), in reverse start order."""
        chosen = set(SERVICE_NAMES if names is None else names)
        for name in reversed(SERVICE_NAMES):
            if name in chosen:
                self._stop(name)

    def start_service(self, name: str, timeout: float = 120.0, extra_env: Mapping[str, str] | None = None) -> None:
        """Start one service; ``extra_env`` adds variables (the crash tests set fault injection this way)."""
        self._spec(name)
        self._require_infra()
        self._start([name], timeout, extra_env)

    def stop_service(self, name: str, kill: bool = False) -> None:
        """Stop one service; ``kill=True`` sends SIGKILL at once (simulates a crash)."""
        self._spec(name)
        self._stop(name, kill=kill)

    def start(self, names: Iterable[str], timeout: float = 120.0) -> None:
        """Start components: the infrastructure among them first (until healthy), then the services."""
        chosen = list(names)
        for name in chosen:
            self._check_name(name)
        infra = [name for name in chosen if name in INFRA]
        if infra:
            self.install()
            self._start(infra, timeout)
        services = [name for name in chosen if name not in INFRA]
        if services:
            self._require_infra()
            self._start(services, timeout)

    def stop(self, names: Iterable[str], kill: bool = False) -> None:
        """Stop the given components, services first, then Kafka, then FerretDB."""
        chosen = set(names)
        for name in reversed(COMPONENTS):
            if name in chosen:
                self._stop(name, kill=kill)

    def stop_all(self) -> None:
        self.stop_services()
        self.stop_infra()

    def wipe(self) -> None:
        """Delete the home's data, logs and state (the shared cache stays). Everything must be stopped."""
        running = [s.name for s in self.status() if s.pid is not None and s.state == "running"]
        if running:
            raise StackError(f"still running: {', '.join(running)}; run `mrc-dev down` first")
        for sub in ("kafka", "ferretdb", "logs", "run", "work"):
            shutil.rmtree(self.layout.home / sub, ignore_errors=True)

    # ----------------------------------------------------------------- status

    def status(self, names: Iterable[str] | None = None) -> list[ComponentStatus]:
        chosen = set(COMPONENTS if names is None else names)
        return [self._status(name) for name in COMPONENTS if name in chosen]

    def _status(self, name: str) -> ComponentStatus:
        record = procs.read_pid_file(self.layout.pid_file(name))
        ports = self.ports(name)
        probe = self._probe_port(name)
        log_path = self.layout.log_file(name)
        pid: int | None = None
        state: State
        if record is None:
            state = "stopped"
            busy = [str(p) for p in ports.values() if health.tcp_open(p)]
            detail = f"port {', '.join(busy)} in use by a process mrc-dev did not start" if busy else ""
        elif not procs.is_alive(record):
            state, pid, detail = "crashed", record.pid, "pid file present but the process is gone"
        elif probe is not None and not health.tcp_open(probe):
            state, pid, detail = "crashed", record.pid, f"process alive but port {probe} does not answer"
        else:
            state, pid, detail = "running", record.pid, ""
        tail = procs.tail(log_path, CRASH_TAIL) if state == "crashed" else []
        kind: Literal["infra", "service"] = "infra" if name in INFRA else "service"
        return ComponentStatus(name, kind, state, pid, ports, detail, log_path, tail)

    def is_running(self, name: str) -> bool:
        """True when the component's recorded process is alive (no port check)."""
        record = procs.read_pid_file(self.layout.pid_file(name))
        return record is not None and procs.is_alive(record)

    def recorded(self, name: str) -> bool:
        """True when a pid file exists for the component (running or crashed)."""
        return self.layout.pid_file(name).exists()

    def logs(self, name: str, lines: int = 50) -> list[str]:
        return procs.tail(self.log_path(name), lines)

    # ----------------------------------------------------------------- internals

    def _require_infra(self) -> None:
        missing = [name for name in INFRA if not self.is_running(name)]
        if missing:
            raise StackError(
                f"{' and '.join(missing)} not running for home {self.home}; start the infrastructure first "
                "(`mrc-dev infra up` or Stack.start_infra())"
            )

    def _command(self, name: str) -> list[str]:
        if name == "ferretdb":
            return ferretdb_server.command(self.layout, self.mongo_port)
        if name == "kafka":
            return kafka_broker.prepare(self.layout, self.kafka_port, self.kafka_controller_port, self.echo)
        return [self.python, "-m", self._spec(name).module]

    def _env(self, name: str) -> dict[str, str]:
        env = dict(os.environ)
        if name in INFRA:
            return env
        env.update(
            {
                "MRC_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                "MRC_MONGO_URI": self.mongo_uri,
                "MRC_LOG_FORMAT": "json",
                "PYTHONUNBUFFERED": "1",
                # Every service verifies tokens against the access service's published keys.
                "MRC_AUTH_JWKS_URL": f"http://{HOST}:{ACCESS_HTTP_PORT + self.port_offset}/.well-known/jwks.json",
                # The local operator credential that bootstraps partners and clients (never in a cluster).
                "MRC_ACCESS_BOOTSTRAP_CLIENT_ID": DEV_OPERATOR_CLIENT_ID,
                "MRC_ACCESS_BOOTSTRAP_CLIENT_SECRET": DEV_OPERATOR_CLIENT_SECRET,
            }
        )
        env.update(self.service_env)
        env.update(self._spec(name).env(self.port_offset))
        return env

    def _cwd(self, name: str) -> Path:
        return self.layout.kafka_dir if name == "kafka" else self.layout.work / name

    def _healthy(self, name: str, spawned_at: float | None) -> bool:
        if name == "ferretdb":
            return health.mongo_ready(self.mongo_uri)
        if name == "kafka":
            return health.kafka_ready(self.kafka_bootstrap)
        spec = self._spec(name)
        if spec.http_port is not None:
            base = self.http_url(name)
            if health.http_status(f"{base}/healthz") != 200:
                return False
            return health.http_status(f"{base}/readyz") in (200, 404)
        if spec.web_port is not None and health.tcp_open(spec.web_port + self.port_offset):
            return True
        return spawned_at is None or time.monotonic() - spawned_at >= WORKER_SETTLE

    def _start(self, names: list[str], timeout: float, extra_env: Mapping[str, str] | None = None) -> None:
        waiting: list[tuple[str, procs.PidRecord, float | None]] = []
        for name in names:
            pid_file = self.layout.pid_file(name)
            record = procs.read_pid_file(pid_file)
            if record is not None and procs.is_alive(record):
                if self._healthy(name, None):
                    self.echo(f"{name}: already running (pid {record.pid}) and healthy; leaving it")
                else:
                    self.echo(f"{name}: already running (pid {record.pid}); waiting for it to become healthy")
                    waiting.append((name, record, None))
                continue
            if record is not None:
                self.echo(f"{name}: previous process {record.pid} is gone (crashed?); starting a new one")
                procs.remove_pid_file(pid_file)
            busy = [p for p in self.ports(name).values() if health.tcp_open(p)]
            if busy:
                raise StackError(
                    f"{name}: port {', '.join(map(str, busy))} is already in use by a process mrc-dev did "
                    "not start; stop it or pick other ports with --port-offset"
                )
            try:
                command = self._command(name)
            except InstallError as e:
                raise StackError(f"{name}: {e}") from e
            log_path = self.layout.log_file(name)
            record = procs.spawn(
                name,
                command,
                env={**self._env(name), **(extra_env or {})},
                cwd=self._cwd(name),
                log_path=log_path,
                pid_path=pid_file,
            )
            self.started_here.append(name)
            self.echo(f"{name}: started (pid {record.pid}, log {log_path})")
            waiting.append((name, record, time.monotonic()))
        deadline = time.monotonic() + timeout
        for name, record, spawned_at in waiting:
            self._wait_healthy(name, record, spawned_at, deadline)

    def _wait_healthy(self, name: str, record: procs.PidRecord, spawned_at: float | None, deadline: float) -> None:
        begun = time.monotonic()
        while True:
            if not procs.is_alive(record):
                code = procs.exit_code(record)
                how = f"exit code {code}" if code is not None else "process gone"
                raise StackError(self._with_tail(name, f"{name} exited while starting ({how})"))
            if self._healthy(name, spawned_at):
                self.echo(f"{name}: healthy ({time.monotonic() - begun:.1f} s)")
                return
            if time.monotonic() > deadline:
                raise StackError(self._with_tail(name, f"{name} did not become healthy in time"))
            time.sleep(0.5)

    def _with_tail(self, name: str, message: str) -> str:
        log_path = self.layout.log_file(name)
        lines = procs.tail(log_path, CRASH_TAIL)
        return "\n".join([f"{message}; last {len(lines)} lines of {log_path}:", *("  " + s for s in lines)])

    def _stop(self, name: str, kill: bool = False) -> None:
        pid_file = self.layout.pid_file(name)
        record = procs.read_pid_file(pid_file)
        if record is None:
            return
        if procs.is_alive(record):
            verb = "killing" if kill else "stopping"
            self.echo(f"{name}: {verb} (pid {record.pid})...")
            began = time.monotonic()
            forced = procs.terminate(record, timeout=STOP_TIMEOUT, kill=kill, force_requested=lambda: self.force_stop)
            how = "killed" if forced else "stopped"
            self.echo(f"{name}: {how} ({time.monotonic() - began:.1f} s)")
        procs.remove_pid_file(pid_file)
        if name in self.started_here:
            self.started_here.remove(name)
