"""k-anonymous counts of this state's registry for the national cluster (mrc.federation.v1
AggregatesPublished): workers who moved from one district to another (migration episodes), and workers by
home district and sector. Never a record or an id; a cell counting fewer than the minimum (but some) is
suppressed (`mrc_kernel.privacy`). Copies of other states' records are not counted here: their home
state counts them.

A snapshot covers the UTC day it is taken in (its period); a later snapshot of the same day replaces an
earlier one at the national cluster (same `aggregates_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol

from mrc_kernel.clock import utc_now
from mrc_kernel.privacy import suppress_small_cells

FlowKey = tuple[str, str, str, str]  # origin state, origin district, destination state, destination district
SectorKey = tuple[str, str, str]  # home state, home district, sector


@dataclass(frozen=True)
class Cell:
    key: tuple[str, ...]
    count: int  # 0 when suppressed
    suppressed: bool


@dataclass(frozen=True)
class AggregatesSnapshot:
    aggregates_id: str
    home_state_code: str
    period_start: datetime
    period_end: datetime
    min_cell_size: int
    migration_flows: tuple[Cell, ...]
    sectors: tuple[Cell, ...]
    published_at: datetime


class RegistryCounts(Protocol):
    def migration_flows(self) -> Mapping[FlowKey, int]:
        """Distinct workers per (origin, destination) district pair of the migration episodes recorded here."""
        ...

    def workers_by_sector(self) -> Mapping[SectorKey, int]:
        """Active workers of this registry (no copies) per home district and sector."""
        ...


class AggregatesOutbox(Protocol):
    def publish(self, snapshot: AggregatesSnapshot) -> None:
        """Store the snapshot with its event (the outbox relay publishes it)."""
        ...


def _cells(counts: Mapping[tuple[str, ...], int], min_cell_size: int) -> tuple[Cell, ...]:
    safe = suppress_small_cells(counts, min_cell_size)
    return tuple(Cell(key, value or 0, value is None) for key, value in sorted(safe.cells.items()) if counts[key] > 0)


class AggregatesService:
    def __init__(
        self,
        counts: RegistryCounts,
        outbox: AggregatesOutbox,
        *,
        own_state_code: str,
        min_cell_size: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._counts = counts
        self._outbox = outbox
        self._own = own_state_code
        self._min_cell_size = min_cell_size
        self._clock = clock

    def snapshot(self) -> AggregatesSnapshot:
        now = self._clock()
        start = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
        flows: dict[tuple[str, ...], int] = {key: n for key, n in self._counts.migration_flows().items()}
        sectors: dict[tuple[str, ...], int] = {key: n for key, n in self._counts.workers_by_sector().items()}
        return AggregatesSnapshot(
            aggregates_id=f"{self._own}:{start.date().isoformat()}",
            home_state_code=self._own,
            period_start=start,
            period_end=start + timedelta(days=1),
            min_cell_size=self._min_cell_size,
            migration_flows=_cells(flows, self._min_cell_size),
            sectors=_cells(sectors, self._min_cell_size),
            published_at=now,
        )

    def publish(self) -> AggregatesSnapshot:
        snapshot = self.snapshot()
        self._outbox.publish(snapshot)
        return snapshot
