"""Detached processes tracked by pid files; stopped by PID only.

Every component runs in its own session (``start_new_session=True``) with stdout and stderr appended
to its log file, so it outlives a detached ``mrc-dev`` and can be stopped later from its pid file. The
pid file also stores the process start time (from ``/proc`` where available) so a recycled PID is
never mistaken for ours.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# Popen handles of the processes this Python process started, so that dead children are reaped
# (a zombie still answers kill(pid, 0)).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class PidRecord:
    pid: int
    start_time: str | None  # field 22 of /proc/<pid>/stat; None where /proc is missing


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of ``pid`` from /proc, or None when unavailable."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()
    return fields[0], fields[19]


def read_pid_file(path: Path) -> PidRecord | None:
    try:
        lines = path.read_text().split()
    except OSError:
        return None
    if not lines or not lines[0].isdigit():
        return None
    return PidRecord(int(lines[0]), lines[1] if len(lines) > 1 else None)


def write_pid_file(path: Path, record: PidRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pid.tmp")
    tmp.write_text(f"{record.pid}\n{record.start_time or ''}\n")
    tmp.replace(path)


def remove_pid_file(path: Path) -> None:
    path.unlink(missing_ok=True)


def is_alive(record: PidRecord) -> bool:
    """True when the recorded process still runs (and is the one we started)."""
    child = _children.get(record.pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # somebody else's process took over the PID
    stat = _proc_stat(record.pid)
    if stat is None:
        return True
    state, start_time = stat
    if state in ("Z", "X"):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(record.pid, os.WNOHANG)
        return False
    return record.start_time is None or record.start_time == start_time


def exit_code(record: PidRecord) -> int | None:
    """Exit code of a dead process this Python process started (None if unknown or running)."""
    child = _children.get(record.pid)
    return child.returncode if child is not None else None


def spawn(
    name: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    pid_path: Path,
) -> PidRecord:
    """Start ``command`` in a new session, output appended to ``log_path``; write ``pid_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with log_path.open("ab") as log:
        log.write(f"\n===== mrc-dev: starting {name} at {stamp}: {shlex.join(command)}\n".encode())
        log.flush()
        child = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    _children[child.pid] = child
    stat = _proc_stat(child.pid)
    record = PidRecord(child.pid, stat[1] if stat else None)
    write_pid_file(pid_path, record)
    return record


def _signal(record: PidRecord, sig: signal.Signals) -> None:
    """Signal the process; its whole process group when it leads one (it does: own session)."""
    try:
        if os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, sig)
        else:
            os.kill(record.pid, sig)
    except ProcessLookupError:
        pass


def terminate(
    record: PidRecord,
    *,
    timeout: float = 20.0,
    kill: bool = False,
    force_requested: Callable[[], bool] | None = None,
) -> bool:
    """SIGTERM (or SIGKILL with ``kill``), wait up to ``timeout`` s, then SIGKILL.

    Returns True if the process had to be (or was asked to be) killed.
    """
    if not is_alive(record):
        return False
    _signal(record, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + (5.0 if kill else timeout)
    while time.monotonic() < deadline:
        if not is_alive(record):
            _children.pop(record.pid, None)
            return kill
        if not kill and force_requested is not None and force_requested():
            break
        time.sleep(0.1)
    if is_alive(record):
        _signal(record, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while is_alive(record) and time.monotonic() < deadline:
            time.sleep(0.05)
    _children.pop(record.pid, None)
    return True


def tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of a text file (empty if missing)."""
    if lines <= 0:
        return []
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            block = 8192
            data = b""
            while size > 0 and data.count(b"\n") <= lines:
                step = min(block, size)
                size -= step
                f.seek(size)
                data = f.read(step) + data
                block *= 2
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()[-lines:]
