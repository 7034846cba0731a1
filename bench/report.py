"""Measured figures: percentiles, the table printed to stdout and the JSON written to bench/results/."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values. With n < 100, p99 is the maximum."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the table."""
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Figure:
    section: str
    name: str
    value: float | None  # None: not measured (see note)
    unit: str
    note: str = ""


@dataclass
class Report:
    options: dict[str, Any]
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, section: str, name: str, value: float | None, unit: str, note: str = "") -> None:
        if value is not None and (math.isnan(value) or math.isinf(value)):
            value = None
        self.figures.append(Figure(section, name, value, unit, note))

    def add_latencies(self, section: str, name: str, seconds: Sequence[float], note: str = "") -> None:
        """p50 and p99 of latencies measured in seconds, reported in milliseconds."""
        count = f"n={len(seconds)}"
        full = f"{count}; {note}" if note else count
        self.add(section, f"{name} p50", percentile(seconds, 50) * 1000, "ms", full)
        self.add(section, f"{name} p99", percentile(seconds, 99) * 1000, "ms", full)

    def value(self, section: str, name: str) -> float | None:
        for figure in self.figures:
            if figure.section == section and figure.name == name:
                return figure.value
        return None

    def add_ratio(self, section: str, name: str, ours: float | None, raw: float | None, raw_label: str) -> None:
        ratio = ours / raw if ours is not None and raw else None
        self.add(section, name, ratio, "x", f"of {raw_label}")

    # ------------------------------------------------------------------ output

    def table(self) -> str:
        rows = [("section", "figure", "value", "unit", "note")]
        for f in self.figures:
            rows.append((f.section, f.name, _format(f.value, f.unit), f.unit, f.note))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = []
        for index, row in enumerate(rows):
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3].ljust(widths[3])]
            lines.append("  ".join([*cells, row[4]]).rstrip())
            if index == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def write_json(self, directory: Path = RESULTS_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
        document = {
            "started_at": self.started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "host": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
            "options": self.options,
            "figures": [asdict(f) for f in self.figures],
            "details": self.details,
        }
        path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
        return path


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "x":
        return f"{value:.3f}"
    if unit == "ms":
        return f"{value:.2f}" if value < 100 else f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"
