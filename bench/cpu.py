"""CPU time used by the stack's processes (each with its children), read from /proc.

The REST benchmark reports CPU milliseconds per registration for each component: on a machine with
N cores, no arrangement of the same work can exceed N x 1000 / (their sum) registrations per second.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process itself)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command: state ppid ... utime(14th field overall, index 11 here) stime(index 12).
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _processes() -> dict[int, tuple[int, float]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def cpu_seconds(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process and its living descendants."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    totals: dict[str, float] = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in processes:
                total += processes[pid][1]
            todo.extend(children.get(pid, []))
        totals[name] = total
    return totals
