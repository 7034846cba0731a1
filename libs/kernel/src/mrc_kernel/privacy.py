"""Statistical disclosure control for published aggregates.

A dashboard that says "1 trafficking complaint from village X" points at a person. Cells counting fewer
than k people (default 5) are suppressed; a total is exact only when nothing was suppressed, since
otherwise total minus the visible cells would give the hidden ones away.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

DEFAULT_MIN_CELL_SIZE = 5


@dataclass(frozen=True)
class SafeCounts(Generic[K]):
    cells: dict[K, int | None]  # None: suppressed (fewer than k, but not zero)
    total: int | None  # None when any cell was suppressed
    min_cell_size: int


def suppress_small_cells(counts: Mapping[K, int], min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> SafeCounts[K]:
    if min_cell_size < 1:
        raise ValueError("min_cell_size must be at least 1")
    cells: dict[K, int | None] = {
        key: (count if count == 0 or count >= min_cell_size else None) for key, count in counts.items()
    }
    suppressed = any(value is None for value in cells.values())
    return SafeCounts(cells, None if suppressed else sum(counts.values()), min_cell_size)
