"""A local federation: one stack per state (its own Kafka, FerretDB and chosen services, ports shifted),
an optional national Kafka, and MirrorMaker 2 between them.

Layout under the federation's home (``.devstack/federation/local`` for ``mrc-dev federation``)::

    <home>/federation.json        the states, offsets and services this home runs
    <home>/<state>/               a regular stack home (kafka, ferretdb, logs, run, work)
    <home>/national/              the national cluster: Kafka only
    <home>/mirror-maker/          mm2.properties, its log and pid file

Each state's services get ``MRC_STATE_CODE`` (LGD), ``MRC_FEDERATION_CLUSTER_ALIAS`` (the state's name,
which prefixes its topics in the other clusters) and ``MRC_FEDERATION_PEERS`` (the other states' aliases:
their topics arrive here as ``<peer>.mrc.federation.*``).

Python API (what tests/federation does)::

    federation = Federation(home, parse_states("bihar:26000,kerala:28000"), national_offset=30000)
    federation.start(services=[])          # infrastructure, federation topics, then MirrorMaker 2
    federation.stop_mirror_maker(kill=True)
    federation.start_mirror_maker()
    federation.stop()
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from mrc_devstack import health, mirror_maker, procs
from mrc_devstack.mirror_maker import FEDERATION_TOPICS, Cluster, Flow
from mrc_devstack.paths import REPO_ROOT, Layout, default_cache
from mrc_devstack.services import KAFKA_CONTROLLER_PORT, KAFKA_PORT, MONGO_PORT, SERVICES
from mrc_devstack.stack import COMPONENTS, INFRA, SERVICE_NAMES, STOP_TIMEOUT, ComponentStatus, Stack, StackError, State
from mrc_devstack.tools import InstallError
from mrc_geography.lgd import LGD

MIRROR_MAKER = "mirror-maker"
NATIONAL = "national"
#: MirrorMaker 2's internal REST listener (exactly-once support needs it): this plus the first state's offset.
MIRROR_MAKER_REST_PORT = 8083
STATE_FILE = "federation.json"
TOPIC_PARTITIONS = 3
MAX_PORT = 65535


def default_federation_home() -> Path:
    return REPO_ROOT / ".devstack" / "federation" / "local"


@dataclass(frozen=True)
class StateSpec:
    """One state of the federation: its cluster alias (the state's name), LGD code and port offset."""

    name: str
    code: str
    port_offset: int


def lgd_state_code(name: str) -> str:
    """The LGD code of a state given by name (``bihar`` -> ``10``, ``tamil_nadu`` -> ``33``)."""
    wanted = name.replace("_", " ").replace("-", " ").strip().lower()
    for state in LGD().states.values():
        if state.name.lower() == wanted:
            return state.code
    raise StackError(f"{name!r} is not the name of an Indian state or union territory in the LGD")


def parse_states(text: str) -> list[StateSpec]:
    """``bihar:26000,kerala:28000`` -> the states with their LGD codes and port offsets."""
    states: list[StateSpec] = []
    for entry in text.split(","):
        name, sep, offset = entry.strip().partition(":")
        if not sep or not offset.strip().isdigit():
            raise StackError(f"state {entry.strip()!r}: expected <name>:<port offset>, e.g. bihar:26000")
        alias = name.strip().lower()
        try:
            Cluster(alias, "")
        except ValueError as e:
            raise StackError(str(e)) from None
        states.append(StateSpec(alias, lgd_state_code(alias), int(offset)))
    if len(states) < 2:
        raise StackError("a federation needs at least two states")
    if len({s.name for s in states}) != len(states):
        raise StackError("a state is listed twice")
    if NATIONAL in {s.name for s in states}:
        raise StackError(f"{NATIONAL!r} is the national cluster's alias, not a state")
    return states


def stack_ports(offset: int, *, kafka_only: bool = False) -> dict[str, int]:
    """Every port a stack at ``offset`` may bind (all its services, running or not)."""
    ports = {"kafka": KAFKA_PORT + offset, "kafka controller": KAFKA_CONTROLLER_PORT + offset}
    if kafka_only:
        return ports
    ports["ferretdb"] = MONGO_PORT + offset
    for spec in SERVICES:
        for label, port in (("http", spec.http_port), ("grpc", spec.grpc_port), ("web", spec.web_port)):
            if port is not None:
                ports[f"{spec.name} {label}"] = port + offset
    return ports


class Federation:
    """State stacks, the national Kafka and MirrorMaker 2, living under ``home``."""

    def __init__(
        self,
        home: Path,
        states: Sequence[StateSpec],
        national_offset: int | None = None,
        *,
        mirror_maker_port: int | None = None,
        cache_dir: Path | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.home = Path(home).resolve()
        self.states = list(states)
        self.national_offset = national_offset
        self.mirror_maker_port = mirror_maker_port or MIRROR_MAKER_REST_PORT + self.states[0].port_offset
        self.cache = Path(cache_dir or default_cache()).resolve()
        self.echo: Callable[[str], None] = echo or (lambda message: print(message, flush=True))
        self.check_ports()
        names = [s.name for s in self.states]
        self.stacks: dict[str, Stack] = {
            s.name: Stack(
                self.home / s.name,
                s.port_offset,
                cache_dir=self.cache,
                echo=self._prefixed(s.name),
                service_env={
                    "MRC_STATE_CODE": s.code,
                    "MRC_FEDERATION_CLUSTER_ALIAS": s.name,
                    "MRC_FEDERATION_PEERS": ",".join(n for n in names if n != s.name),
                },
            )
            for s in self.states
        }
        self.national: Stack | None = (
            Stack(self.home / NATIONAL, national_offset, cache_dir=self.cache, echo=self._prefixed(NATIONAL))
            if national_offset is not None
            else None
        )
        self.mm2_layout = Layout(home=self.home / MIRROR_MAKER, cache=self.cache)
        #: Set to make ongoing stops skip the SIGTERM grace period (second Ctrl-C).
        self.force_stop = False
        self.mm2_started_here = False

    def _prefixed(self, name: str) -> Callable[[str], None]:
        return lambda message: self.echo(f"[{name}] {message}")

    # ----------------------------------------------------------------- configuration

    def check_ports(self) -> None:
        """Refuse offsets whose ports collide with each other or leave the port range."""
        owners: dict[int, str] = {}
        planned = [(s.name, stack_ports(s.port_offset)) for s in self.states]
        if self.national_offset is not None:
            planned.append((NATIONAL, stack_ports(self.national_offset, kafka_only=True)))
        planned.append((MIRROR_MAKER, {"rest": self.mirror_maker_port}))
        for owner, ports in planned:
            for label, port in ports.items():
                where = f"{owner} {label}"
                if not 0 < port <= MAX_PORT:
                    raise StackError(f"{where} would be port {port}: pick a smaller offset (ports end at {MAX_PORT})")
                if port in owners:
                    raise StackError(f"{where} and {owners[port]} would both use port {port}: pick other offsets")
                owners[port] = where

    def to_json(self) -> dict[str, object]:
        return {
            "states": [asdict(s) for s in self.states],
            "national_offset": self.national_offset,
            "mirror_maker_port": self.mirror_maker_port,
        }

    def save(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / STATE_FILE).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, home: Path, echo: Callable[[str], None] | None = None) -> Federation | None:
        """The federation last started in ``home``, or None."""
        try:
            data = json.loads((Path(home) / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        states = [StateSpec(s["name"], s["code"], int(s["port_offset"])) for s in data["states"]]
        national, port = data.get("national_offset"), data.get("mirror_maker_port")
        return cls(home, states, national, mirror_maker_port=port, echo=echo)

    def same_setup(self, other: Federation) -> bool:
        return self.to_json() == other.to_json()

    @property
    def clusters(self) -> list[Cluster]:
        clusters = [Cluster(name, stack.kafka_bootstrap) for name, stack in self.stacks.items()]
        if self.national is not None:
            clusters.append(Cluster(NATIONAL, self.national.kafka_bootstrap))
        return clusters

    @property
    def flows(self) -> list[Flow]:
        return mirror_maker.federation_flows(list(self.stacks), NATIONAL if self.national is not None else None)

    def bootstrap(self, alias: str) -> str:
        if alias == NATIONAL and self.national is not None:
            return self.national.kafka_bootstrap
        try:
            return self.stacks[alias].kafka_bootstrap
        except KeyError:
            raise StackError(f"no cluster {alias!r} in this federation") from None

    def mm2_properties(self) -> str:
        return mirror_maker.properties(self.clusters, self.flows, self.mirror_maker_port)

    # ----------------------------------------------------------------- install, start, stop

    def install(self) -> None:
        """The broker jars, FerretDB and the MirrorMaker 2 jars, into the shared cache (once)."""
        first = next(iter(self.stacks.values()))
        first.install()
        try:
            mirror_maker.install_libs(self.mm2_layout, self.echo)
        except InstallError as e:
            raise StackError(str(e)) from e

    def start(self, services: Sequence[str] = (), timeout: float = 180.0) -> None:
        """Infrastructure of every state (and national), the federation topics, the services, MirrorMaker 2."""
        ordered = _in_start_order(services)
        self.install()
        self.save()
        infra = [(stack, list(INFRA)) for stack in self.stacks.values()]
        if self.national is not None:
            infra.append((self.national, ["kafka"]))
        _in_parallel([functools.partial(stack.start, names, timeout) for stack, names in infra])
        for name, stack in self.stacks.items():
            created = ensure_topics(stack.kafka_bootstrap, FEDERATION_TOPICS)
            if created:
                self.echo(f"[{name}] created federation topics: {', '.join(created)}")
        self.start_services(ordered, timeout)
        self.start_mirror_maker(timeout)

    def start_services(self, services: Sequence[str], timeout: float = 180.0) -> None:
        """Start services in every state (those running stay as they are); the infrastructure must run."""
        ordered = _in_start_order(services)
        if ordered:
            for stack in self.stacks.values():
                stack.start(ordered, timeout)

    def stop(self) -> None:
        """MirrorMaker 2 first, then every stack (services, Kafka, FerretDB)."""
        self.stop_mirror_maker()
        for stack in self.all_stacks():
            stack.force_stop = self.force_stop
            stack.stop_all()

    def summary(self) -> list[str]:
        """Where everything answers, for the developer."""
        lines = [f"MRC federation is up (home {self.home})"]
        lines.append(f"  {'CLUSTER':<12}{'LGD':<5}{'OFFSET':<8}{'KAFKA':<18}{'MONGO (FerretDB)':<28}RUNNING SERVICES")
        for spec in self.states:
            stack = self.stacks[spec.name]
            running = [f"{n} {stack.http_url(n)}" for n in stack_service_names() if stack.is_running(n)]
            lines.append(
                f"  {spec.name:<12}{spec.code:<5}{spec.port_offset:<8}{stack.kafka_bootstrap:<18}"
                f"{stack.mongo_uri:<28}{', '.join(running) or '-'}"
            )
        if self.national is not None:
            lines.append(f"  {NATIONAL:<12}{'-':<5}{self.national_offset:<8}{self.national.kafka_bootstrap}")
        lines.append(f"  MirrorMaker 2: {', '.join(f.name for f in self.flows)}; log {self.mm2_log}")
        copies = ", ".join(f"{s}.mrc.federation.*" for s in self.stacks)
        lines.append(f"  Copies: {copies} in the other states")
        if self.national is not None:
            lines.append(f"          <state>.{mirror_maker.AGGREGATES_TOPIC} in national")
        lines.append("  Logs: mrc-dev federation logs mirror-maker | <state>/<component> (-f to follow)")
        return lines

    def wipe(self) -> None:
        """Delete the data, logs and state of every stack and of MirrorMaker 2 (everything must be stopped)."""
        if self.mirror_maker_running():
            raise StackError("MirrorMaker 2 still runs; run `mrc-dev federation down` first")
        for stack in self.all_stacks():
            stack.wipe()
        shutil.rmtree(self.mm2_layout.home, ignore_errors=True)
        (self.home / STATE_FILE).unlink(missing_ok=True)

    def all_stacks(self) -> list[Stack]:
        return [*self.stacks.values(), *([self.national] if self.national is not None else [])]

    # ----------------------------------------------------------------- MirrorMaker 2

    @property
    def mm2_pid_file(self) -> Path:
        return self.mm2_layout.pid_file(MIRROR_MAKER)

    @property
    def mm2_log(self) -> Path:
        return self.mm2_layout.log_file(MIRROR_MAKER)

    def mirror_maker_running(self) -> bool:
        record = procs.read_pid_file(self.mm2_pid_file)
        return record is not None and procs.is_alive(record)

    def start_mirror_maker(self, timeout: float = 120.0) -> None:
        """Start MirrorMaker 2 (unless it runs) and wait until every flow's source connector runs."""
        missing = [a for a in (c.alias for c in self.clusters) if not health.kafka_ready(self.bootstrap(a))]
        if missing:
            raise StackError(f"Kafka of {', '.join(missing)} does not answer; start the federation's stacks first")
        record = procs.read_pid_file(self.mm2_pid_file)
        if record is not None and procs.is_alive(record):
            self.echo(f"{MIRROR_MAKER}: already running (pid {record.pid})")
        else:
            if record is not None:
                self.echo(f"{MIRROR_MAKER}: previous process {record.pid} is gone (crashed?); starting a new one")
                procs.remove_pid_file(self.mm2_pid_file)
            if health.tcp_open(self.mirror_maker_port):
                raise StackError(
                    f"{MIRROR_MAKER}: port {self.mirror_maker_port} is in use by a process mrc-dev did not start"
                )
            try:
                command = mirror_maker.prepare(self.mm2_layout, self.mm2_layout.home / "config", self.mm2_properties())
            except InstallError as e:
                raise StackError(f"{MIRROR_MAKER}: {e}") from e
            record = procs.spawn(
                MIRROR_MAKER,
                command,
                env=_java_env(),
                cwd=self.mm2_layout.home,
                log_path=self.mm2_log,
                pid_path=self.mm2_pid_file,
            )
            self.mm2_started_here = True
            self.echo(f"{MIRROR_MAKER}: started (pid {record.pid}, log {self.mm2_log})")
        self._wait_mirror_maker(record, time.monotonic() + timeout)

    def _wait_mirror_maker(self, record: procs.PidRecord, deadline: float) -> None:
        begun = time.monotonic()
        problems: list[str] = []
        while True:
            if not procs.is_alive(record):
                code = procs.exit_code(record)
                how = f"exit code {code}" if code is not None else "process gone"
                raise StackError(self._with_tail(f"{MIRROR_MAKER} exited while starting ({how})"))
            healthy, problems = self.mirror_maker_health()
            if healthy:
                took = time.monotonic() - begun
                self.echo(f"{MIRROR_MAKER}: healthy, {len(self.flows)} flows running ({took:.1f} s)")
                return
            if time.monotonic() > deadline:
                why = "; ".join(problems)
                raise StackError(self._with_tail(f"{MIRROR_MAKER} did not become healthy in time: {why}"))
            time.sleep(1.0)

    def mirror_maker_health(self) -> tuple[bool, list[str]]:
        """Healthy: the process runs, its REST listener answers, and since it started every flow's
        MirrorSourceConnector and its tasks report RUNNING in the Connect status topic on their target."""
        record = procs.read_pid_file(self.mm2_pid_file)
        if record is None or not procs.is_alive(record):
            return False, ["not running"]
        if not health.tcp_open(self.mirror_maker_port):
            return False, [f"REST listener {self.mirror_maker_port} not answering yet"]
        started = self.mm2_pid_file.stat().st_mtime
        bootstraps = {c.alias: c.bootstrap for c in self.clusters}
        return mirror_maker.flows_running(self.flows, bootstraps, since=started)

    def stop_mirror_maker(self, kill: bool = False) -> None:
        """SIGTERM (MirrorMaker leaves its groups and commits), or SIGKILL with ``kill`` (a crash)."""
        record = procs.read_pid_file(self.mm2_pid_file)
        if record is None:
            return
        if procs.is_alive(record):
            self.echo(f"{MIRROR_MAKER}: {'killing' if kill else 'stopping'} (pid {record.pid})...")
            began = time.monotonic()
            forced = procs.terminate(record, timeout=STOP_TIMEOUT, kill=kill, force_requested=lambda: self.force_stop)
            self.echo(f"{MIRROR_MAKER}: {'killed' if forced else 'stopped'} ({time.monotonic() - began:.1f} s)")
        procs.remove_pid_file(self.mm2_pid_file)
        self.mm2_started_here = False

    def mirror_maker_status(self) -> ComponentStatus:
        record = procs.read_pid_file(self.mm2_pid_file)
        ports = {"rest": self.mirror_maker_port}
        state: State
        if record is None:
            state, pid, detail = "stopped", None, ""
        elif not procs.is_alive(record):
            state, pid, detail = "crashed", record.pid, "pid file present but the process is gone"
        else:
            healthy, problems = self.mirror_maker_health()
            state, pid = "running", record.pid
            detail = f"{len(self.flows)} flows running" if healthy else "; ".join(problems)
        tail = procs.tail(self.mm2_log, 20) if state == "crashed" else []
        return ComponentStatus(MIRROR_MAKER, "infra", state, pid, ports, detail, self.mm2_log, tail)

    def _with_tail(self, message: str) -> str:
        lines = procs.tail(self.mm2_log, 20)
        return "\n".join([f"{message}; last {len(lines)} lines of {self.mm2_log}:", *("  " + s for s in lines)])

    # ----------------------------------------------------------------- status and components

    def status(self) -> list[ComponentStatus]:
        """Every state's components (named ``<state>/<component>``), national Kafka, MirrorMaker 2."""
        out: list[ComponentStatus] = []
        for name, stack in self.stacks.items():
            out += [_renamed(s, f"{name}/{s.name}") for s in stack.status()]
        if self.national is not None:
            out += [_renamed(s, f"{NATIONAL}/{s.name}") for s in self.national.status(["kafka"])]
        out.append(self.mirror_maker_status())
        return out

    def component_names(self) -> list[str]:
        names = [f"{state}/{component}" for state in self.stacks for component in COMPONENTS]
        if self.national is not None:
            names.append(f"{NATIONAL}/kafka")
        return [*names, MIRROR_MAKER]

    def started_here(self) -> list[str]:
        """Components this object started (what a failed `federation up` rolls back)."""
        names = [f"{owner}/{c}" for owner, stack in self._named_stacks() for c in stack.started_here]
        return [*names, *([MIRROR_MAKER] if self.mm2_started_here else [])]

    def _named_stacks(self) -> list[tuple[str, Stack]]:
        return [*self.stacks.items(), *([(NATIONAL, self.national)] if self.national is not None else [])]

    def locate(self, component: str) -> tuple[Stack | None, str]:
        """``bihar/registry`` -> (bihar's stack, ``registry``); ``mirror-maker`` -> (None, ``mirror-maker``)."""
        if component == MIRROR_MAKER:
            return None, component
        owner, sep, name = component.partition("/")
        stack = self.national if owner == NATIONAL else self.stacks.get(owner)
        if not sep or stack is None:
            raise StackError(f"unknown component {component!r}: use mirror-maker or <state>/<component>")
        return stack, name

    def logs(self, component: str, lines: int = 50) -> list[str]:
        stack, name = self.locate(component)
        return procs.tail(self.mm2_log, lines) if stack is None else stack.logs(name, lines)

    def log_path(self, component: str) -> Path:
        stack, name = self.locate(component)
        return self.mm2_log if stack is None else stack.log_path(name)

    def start_components(self, components: Iterable[str], timeout: float = 120.0) -> None:
        for component in components:
            stack, name = self.locate(component)
            if stack is None:
                self.start_mirror_maker(timeout)
            else:
                stack.start([name], timeout)

    def stop_components(self, components: Iterable[str], kill: bool = False) -> None:
        """Stop the given components: MirrorMaker 2 first, then per stack services before infrastructure."""
        chosen = list(components)
        by_stack: dict[int, list[str]] = {}
        for component in chosen:
            stack, name = self.locate(component)
            if stack is not None:
                by_stack.setdefault(id(stack), []).append(name)
        if MIRROR_MAKER in chosen:
            self.stop_mirror_maker(kill=kill)
        for stack in self.all_stacks():
            if id(stack) in by_stack:
                stack.force_stop = self.force_stop
                stack.stop(by_stack[id(stack)], kill=kill)

    def recorded(self, component: str) -> bool:
        stack, name = self.locate(component)
        return self.mm2_pid_file.exists() if stack is None else stack.recorded(name)

    def is_running(self, component: str) -> bool:
        stack, name = self.locate(component)
        return self.mirror_maker_running() if stack is None else stack.is_running(name)


def _in_start_order(services: Sequence[str]) -> list[str]:
    """The services in the platform's start order (access first: the others verify tokens with its keys)."""
    unknown = sorted(set(services) - set(SERVICE_NAMES))
    if unknown:
        raise StackError(f"unknown service {', '.join(unknown)}; known: {', '.join(SERVICE_NAMES)}")
    return [name for name in SERVICE_NAMES if name in services]


def _in_parallel(steps: Sequence[Callable[[], None]]) -> None:
    """Run the steps in threads (the clusters start independently: JVM start-ups overlap their waits)
    and raise the first failure once all have ended."""
    failures: list[BaseException] = []

    def run(step: Callable[[], None]) -> None:
        try:
            step()
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=run, args=(step,), daemon=True) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def stack_service_names() -> list[str]:
    return [spec.name for spec in SERVICES if spec.http_port is not None or spec.web_port is not None]


def _renamed(status: ComponentStatus, name: str) -> ComponentStatus:
    kind: Literal["infra", "service"] = status.kind
    return ComponentStatus(
        name, kind, status.state, status.pid, status.ports, status.detail, status.log_path, status.log_tail
    )


def _java_env() -> dict[str, str]:
    env = dict(os.environ)
    # Kafka's scripts would add these; a stray KAFKA_OPTS/KAFKA_HEAP_OPTS must not change the dev JVM.
    env.pop("KAFKA_OPTS", None)
    return env


def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int = TOPIC_PARTITIONS) -> list[str]:
    """Create the topics that are missing (replication factor 1); returns those created."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="mrc-dev-federation")
    try:
        missing = [t for t in topics if t not in set(admin.list_topics())]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # created meanwhile by a service
                admin.create_topics([NewTopic(t, partitions, 1) for t in missing])
        return missing
    finally:
        admin.close()
