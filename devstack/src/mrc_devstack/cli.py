"""``mrc-dev``: install and run the embedded local platform (Kafka, FerretDB and the services).

    mrc-dev up [--detach]        install if needed, start everything, supervise until Ctrl-C
    mrc-dev down                 stop everything recorded in the pid files
    mrc-dev status               running/stopped/crashed per component (crashed: last log lines)
    mrc-dev logs COMPONENT       tail of a component's log (-n lines, -f to follow)
    mrc-dev infra up|down|status only Kafka and FerretDB
    mrc-dev install              only fetch Kafka and build FerretDB into the shared cache
    mrc-dev env                  shell exports for running a service by hand against the stack
    mrc-dev clean                delete the home's data and logs (everything must be stopped)

    mrc-dev federation up --states bihar:2000,kerala:4000 [--national 6000] [--services access,registry]
                                 a stack per state (own Kafka, FerretDB, services; ports shifted), the
                                 national Kafka, MirrorMaker 2 between them; supervised until Ctrl-C (-d: detach)
    mrc-dev federation down|status|clean, logs COMPONENT, start|stop COMPONENT... (mirror-maker, bihar/kafka...)

Options (before or after the command): ``--home DIR`` (default ``.devstack/local`` in the repository,
env ``MRC_DEV_HOME``; for ``federation``: ``.devstack/federation/local``) and ``--port-offset N`` (added to
every port, env ``MRC_DEV_PORT_OFFSET``; not for ``federation``, whose states name their offsets).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from mrc_devstack.federation import Federation, default_federation_home, parse_states
from mrc_devstack.paths import default_home, default_port_offset
from mrc_devstack.services import DEV_OPERATOR_CLIENT_ID, DEV_OPERATOR_CLIENT_SECRET, SERVICES
from mrc_devstack.stack import COMPONENTS, INFRA, SERVICE_NAMES, ComponentStatus, Stack, StackError

RESTART_BACKOFF_MAX = 30.0
HEALTHY_RESET = 60.0


# When the interrupt that starts a shutdown arrived. `uv run` forwards the terminal's Ctrl-C to its child,
# which also gets it from the terminal itself: one keypress arrives twice, and only a later one may force.
_interrupted_at = [0.0]
DOUBLE_DELIVERY = 1.0  # seconds


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    _interrupted_at[0] = time.monotonic()
    raise KeyboardInterrupt


def _force_on_second_interrupt(target: Stack | Federation) -> None:
    """While stopping, a further Ctrl-C/SIGTERM skips the grace period (SIGKILL) instead of aborting."""

    def force(signum: int, frame: FrameType | None) -> None:
        if time.monotonic() - _interrupted_at[0] < DOUBLE_DELIVERY:
            return
        if not target.force_stop:
            print("forcing: remaining components get SIGKILL", flush=True)
        target.force_stop = True
        for stack in target.all_stacks() if isinstance(target, Federation) else ():
            stack.force_stop = True

    signal.signal(signal.SIGINT, force)
    signal.signal(signal.SIGTERM, force)


def _interruptible() -> None:
    """Ctrl-C and SIGTERM both raise KeyboardInterrupt, so every step can clean up."""
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)


def _shutting_down(stack: Stack) -> None:
    _force_on_second_interrupt(stack)


# ------------------------------------------------------------------------- output


def _ports(status: ComponentStatus) -> str:
    return ", ".join(f"{label} {port}" for label, port in status.ports.items())


def _print_status(statuses: list[ComponentStatus]) -> int:
    width = max([22, *(len(s.name) + 2 for s in statuses)])
    print(f"{'COMPONENT':<{width}}{'STATE':<10}{'PID':<9}PORTS")
    for s in statuses:
        pid = str(s.pid) if s.pid is not None else "-"
        line = f"{s.name:<{width}}{s.state:<10}{pid:<9}{_ports(s)}"
        print(line + (f"  ({s.detail})" if s.detail else ""))
    for s in statuses:
        if s.state == "crashed":
            print(f"\n--- {s.name}: last {len(s.log_tail)} lines of {s.log_path} ---")
            for line in s.log_tail:
                print(line)
    return 1 if any(s.state == "crashed" for s in statuses) else 0


def _print_urls(stack: Stack) -> None:
    print()
    print(f"MRC dev stack is up (home {stack.home}, port offset {stack.port_offset})")
    print(f"  {'SERVICE':<22}{'REST':<28}{'gRPC':<18}")
    for spec in SERVICES:
        rest = stack.http_url(spec.name) if spec.http_port is not None else "-"
        grpc = stack.grpc_target(spec.name) if spec.grpc_port is not None else "-"
        extra = f"worker web {stack.http_url(spec.name)}" if spec.web_port is not None else ""
        print(f"  {spec.name:<22}{rest:<28}{grpc:<18}{extra}".rstrip())
    print(f"  {'Kafka':<22}{stack.kafka_bootstrap}")
    print(f"  {'Mongo (FerretDB)':<22}{stack.mongo_uri}")
    print(f"  Logs: {stack.layout.logs}   (mrc-dev logs <component>)")
    print(
        f"  Operator credential (local only): {DEV_OPERATOR_CLIENT_ID} / {DEV_OPERATOR_CLIENT_SECRET}"
        f"  -> POST {stack.http_url('access')}/oauth2/token"
    )
    print(flush=True)


# ------------------------------------------------------------------------- commands


def _start_or_roll_back(stack: Stack, names: list[str]) -> int:
    """Start ``names``; on failure or interrupt, stop what this run started."""
    _interruptible()
    try:
        stack.start(names)
        return 0
    except StackError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        code = 1
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        code = 130
    _shutting_down(stack)
    if stack.started_here:
        print(f"stopping what this run started: {', '.join(stack.started_here)}", flush=True)
        stack.stop(list(stack.started_here))
    return code


def cmd_up(stack: Stack, detach: bool, restart: bool) -> int:
    code = _start_or_roll_back(stack, list(COMPONENTS))
    if code != 0:
        return code
    _print_urls(stack)
    if detach:
        print("Running in the background; stop with `mrc-dev down`.")
        return 0
    print("Supervising; Ctrl-C stops everything.", flush=True)
    _interruptible()
    try:
        _supervise(_stack_components(stack), restart)
        return 0
    except KeyboardInterrupt:
        print("\nstopping the stack (services, then Kafka, then FerretDB)...", flush=True)
        _shutting_down(stack)
        stack.stop_all()
        return 0


@dataclass(frozen=True)
class Supervised:
    """What the supervisor needs of a set of components: a stack's, or a federation's."""

    names: Sequence[str]
    recorded: Callable[[str], bool]
    is_running: Callable[[str], bool]
    start: Callable[[str], None]
    log_path: Callable[[str], Path]
    logs: Callable[[str, int], list[str]]


def _stack_components(stack: Stack) -> Supervised:
    return Supervised(
        COMPONENTS, stack.recorded, stack.is_running, lambda name: stack.start([name]), stack.log_path, stack.logs
    )


def _supervise(units: Supervised, restart: bool) -> None:
    backoff: dict[str, float] = {}
    retry_at: dict[str, float] = {}
    up_since: dict[str, float] = {name: time.monotonic() for name in units.names}
    while True:
        time.sleep(1.0)
        if not any(units.recorded(name) for name in units.names):
            print("everything was stopped from elsewhere; exiting", flush=True)
            return
        now = time.monotonic()
        for name in units.names:
            if not units.recorded(name):
                continue
            if units.is_running(name):
                if name not in retry_at and now - up_since.get(name, now) >= HEALTHY_RESET:
                    backoff.pop(name, None)
                continue
            if name not in retry_at:
                delay = backoff.get(name, 1.0)
                backoff[name] = min(delay * 2, RESTART_BACKOFF_MAX)
                retry_at[name] = now + delay if restart else float("inf")
                print(f"\n!! {name} exited unexpectedly; last lines of {units.log_path(name)}:", flush=True)
                for line in units.logs(name, 20):
                    print("   " + line)
                print(f"!! restarting {name} in {delay:.0f} s" if restart else "!! not restarting", flush=True)
            elif now >= retry_at[name]:
                try:
                    units.start(name)
                    del retry_at[name]
                    up_since[name] = time.monotonic()
                except StackError as e:
                    print(f"!! {e}", flush=True)
                    retry_at[name] = time.monotonic() + backoff.get(name, 1.0)
                    backoff[name] = min(backoff.get(name, 1.0) * 2, RESTART_BACKOFF_MAX)


def cmd_down(stack: Stack, names: Sequence[str]) -> int:
    _shutting_down(stack)
    if not any(stack.recorded(name) for name in names):
        print("nothing is running")
        return 0
    stack.stop(names)
    print("stopped")
    return 0


def cmd_logs(stack: Stack, name: str, lines: int, follow: bool) -> int:
    return _print_log(stack.logs(name, lines), stack.log_path(name), follow)


def _print_log(tail: list[str], path: Path, follow: bool) -> int:
    for line in tail:
        print(line)
    if not follow:
        return 0
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            while True:
                chunk = f.readline()
                if chunk:
                    sys.stdout.write(chunk.decode("utf-8", errors="replace"))
                    sys.stdout.flush()
                else:
                    time.sleep(0.3)
    except KeyboardInterrupt:
        return 0
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def cmd_env(stack: Stack) -> int:
    print(f"export MRC_KAFKA_BOOTSTRAP_SERVERS={stack.kafka_bootstrap}")
    print(f"export MRC_MONGO_URI={stack.mongo_uri}")
    return 0


# ------------------------------------------------------------------------- federation

DEFAULT_FEDERATION_STATES = "bihar:2000,kerala:4000"


def _federation_components(federation: Federation) -> Supervised:
    def start(name: str) -> None:
        federation.start_components([name])

    return Supervised(
        federation.component_names(),
        federation.recorded,
        federation.is_running,
        start,
        federation.log_path,
        federation.logs,
    )


def _federation_shutting_down(federation: Federation) -> None:
    _force_on_second_interrupt(federation)


def cmd_federation_up(
    home: Path, states: str, national: int | None, services: list[str], detach: bool, restart: bool
) -> int:
    federation = Federation(home, parse_states(states), national)
    previous = Federation.load(home)
    if previous is not None and not previous.same_setup(federation):
        running = [name for name in previous.component_names() if previous.is_running(name)]
        if running:
            print(
                f"error: {home} runs another federation ({', '.join(s.name for s in previous.states)}); "
                "`mrc-dev federation down` first, or choose another --home",
                file=sys.stderr,
            )
            return 1
    _interruptible()
    try:
        federation.start(services)
    except (StackError, KeyboardInterrupt) as e:
        interrupted = isinstance(e, KeyboardInterrupt)
        print("\ninterrupted" if interrupted else f"error: {e}", file=sys.stderr, flush=True)
        _federation_shutting_down(federation)
        started = federation.started_here()
        if started:
            print(f"stopping what this run started: {', '.join(started)}", flush=True)
            federation.stop_components(started)
        return 130 if interrupted else 1
    print()
    for line in federation.summary():
        print(line)
    print(flush=True)
    if detach:
        print("Running in the background; stop with `mrc-dev federation down`.")
        return 0
    print("Supervising; Ctrl-C stops everything.", flush=True)
    _interruptible()
    try:
        _supervise(_federation_components(federation), restart)
        return 0
    except KeyboardInterrupt:
        print("\nstopping the federation (MirrorMaker 2, then each state's stack)...", flush=True)
        _federation_shutting_down(federation)
        federation.stop()
        return 0


def cmd_federation(args: argparse.Namespace) -> int:
    home: Path = (args.home if getattr(args, "home", None) is not None else default_federation_home()).expanduser()
    action: str = args.action
    if action == "up":
        services = [name.strip() for name in args.services.split(",") if name.strip()]
        return cmd_federation_up(home, args.states, args.national, services, args.detach, not args.no_restart)
    federation = Federation.load(home)
    if federation is None:
        print(f"no federation was started in {home}")
        return 0 if action in ("down", "status", "clean") else 1
    if action == "down":
        _federation_shutting_down(federation)
        if not any(federation.recorded(name) for name in federation.component_names()):
            print("nothing is running")
            return 0
        federation.stop()
        print("stopped")
        return 0
    if action == "status":
        return _print_status(federation.status())
    if action == "logs":
        federation.locate(args.component)
        return _print_log(federation.logs(args.component, args.lines), federation.log_path(args.component), args.follow)
    if action == "start":
        _interruptible()
        federation.start_components(args.components)
        return 0
    if action == "stop":
        _federation_shutting_down(federation)
        federation.stop_components(args.components, kill=args.kill)
        return 0
    if action == "clean":
        federation.wipe()
        print(f"cleaned {home}")
        return 0
    raise AssertionError(action)


def _add_federation_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_ = "several state stacks and MirrorMaker 2 between them (cross-state federation)"
    federation = sub.add_parser("federation", help=help_, description=help_)
    actions = federation.add_subparsers(dest="action", required=True, metavar="ACTION")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_, description=help_)
        p.add_argument(
            "--home", type=Path, default=argparse.SUPPRESS, help="federation home (default .devstack/federation/local)"
        )
        return p

    up = add("up", "start a stack per state, the national Kafka and MirrorMaker 2, and supervise them")
    up.add_argument(
        "--states",
        default=DEFAULT_FEDERATION_STATES,
        help=f"<state>:<port offset>,... by state name (default {DEFAULT_FEDERATION_STATES})",
    )
    up.add_argument("--national", type=int, metavar="OFFSET", help="also run the national Kafka at this port offset")
    up.add_argument(
        "--services",
        default="",
        help="services each state runs, comma-separated (default none: Kafka and FerretDB only)",
    )
    up.add_argument("-d", "--detach", action="store_true", help="start everything and return")
    up.add_argument("--no-restart", action="store_true", help="report crashed components but do not restart")
    add("down", "stop MirrorMaker 2 and every stack of the federation")
    add("status", "state of every component of the federation (MirrorMaker 2: its flows)")
    logs = add("logs", "tail of a component's log: mirror-maker or <state>/<component>")
    logs.add_argument("component")
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    start = add("start", "start components: mirror-maker or <state>/<component>")
    start.add_argument("components", nargs="+")
    stop = add("stop", "stop components: mirror-maker or <state>/<component>")
    stop.add_argument("components", nargs="+")
    stop.add_argument("--kill", action="store_true", help="SIGKILL at once (simulates a crash)")
    add("clean", "delete the federation's data, logs and state (everything must be stopped)")


# ------------------------------------------------------------------------- parsing


def _common(parser: argparse.ArgumentParser, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--home", type=Path, default=default, help="stack home (default .devstack/local)")
    parser.add_argument("--port-offset", type=int, default=default, help="added to every port (default 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mrc-dev", description="Run the embedded local MRC platform: Kafka, FerretDB and the services."
    )
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        _common(p, top=False)
        return p

    up = add("up", "install if needed, start everything and supervise it (Ctrl-C stops)")
    up.add_argument("-d", "--detach", action="store_true", help="start everything and return")
    up.add_argument("--no-restart", action="store_true", help="report crashed components but do not restart")
    add("down", "stop everything this home runs")
    add("status", "state of every component")
    logs = add("logs", "print the tail of a component's log")
    logs.add_argument("component", choices=COMPONENTS)
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    infra = add("infra", "only Kafka and FerretDB")
    infra.add_argument("action", choices=("up", "down", "status"))
    start = add("start", "start some components (and wait until healthy)")
    start.add_argument("components", nargs="+", choices=COMPONENTS)
    stop = add("stop", "stop some components")
    stop.add_argument("components", nargs="+", choices=COMPONENTS)
    add("install", "fetch the Kafka jars and build FerretDB into the shared cache")
    add("env", "print shell exports pointing at this stack's Kafka and Mongo")
    add("clean", "delete this home's data, logs and state (the stack must be stopped)")
    _add_federation_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "federation":
        try:
            return cmd_federation(args)
        except StackError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130
    home: Path = args.home if args.home is not None else default_home()
    offset: int = args.port_offset if args.port_offset is not None else default_port_offset()
    stack = Stack(home.expanduser(), offset)
    command: str = args.command
    try:
        if command == "up":
            return cmd_up(stack, detach=args.detach, restart=not args.no_restart)
        if command == "down":
            return cmd_down(stack, COMPONENTS)
        if command == "status":
            return _print_status(stack.status())
        if command == "logs":
            return cmd_logs(stack, args.component, args.lines, args.follow)
        if command == "infra":
            if args.action == "up":
                code = _start_or_roll_back(stack, list(INFRA))
                if code == 0:
                    print(f"Kafka {stack.kafka_bootstrap}   Mongo (FerretDB) {stack.mongo_uri}")
                return code
            if args.action == "down":
                running = [name for name in SERVICE_NAMES if stack.is_running(name)]
                if running:
                    print(f"note: services still running without infrastructure: {', '.join(running)}")
                return cmd_down(stack, INFRA)
            return _print_status(stack.status(INFRA))
        if command == "start":
            return _start_or_roll_back(stack, [name for name in COMPONENTS if name in args.components])
        if command == "stop":
            return cmd_down(stack, args.components)
        if command == "install":
            _interruptible()
            stack.install()
            return 0
        if command == "env":
            return cmd_env(stack)
        if command == "clean":
            stack.wipe()
            print(f"cleaned {stack.home}")
            return 0
    except StackError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    raise AssertionError(command)
