"""Helpers for the one-time installation steps: locking, hashing, running build tools visibly."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

Echo = Callable[[str], None]


class InstallError(RuntimeError):
    """A prerequisite is missing or a download/build failed."""


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive lock so two ``mrc-dev`` runs (e.g. tests and a developer) never install concurrently."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def digest(files: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for file in files:
        h.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return h.hexdigest()


def read_stripped(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def require(tool: str, purpose: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise InstallError(f"`{tool}` is not on PATH; it is needed to {purpose}")
    return path


def run_visible(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None,
    echo: Echo,
    prefix: str,
    heartbeat: str,
) -> None:
    """Run a build tool, echoing its output line by line plus a heartbeat while it is silent."""
    started = time.monotonic()
    last_output = [started]
    proc = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    )
    done = threading.Event()

    def beat() -> None:
        while not done.wait(5.0):
            if time.monotonic() - last_output[0] >= 20.0:
                echo(f"{prefix}{heartbeat} ({time.monotonic() - started:.0f} s)")
                last_output[0] = time.monotonic()

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            last_output[0] = time.monotonic()
            echo(prefix + line.rstrip())
        code = proc.wait()
    except BaseException:
        proc.terminate()
        proc.wait()
        raise
    finally:
        done.set()
    if code != 0:
        raise InstallError(f"{' '.join(command[:2])} failed with exit code {code} (output above)")
