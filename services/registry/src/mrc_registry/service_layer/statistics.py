"""Counts of registered workers for dashboards, with small cells suppressed so nobody can be singled out."""

from __future__ import annotations

import enum
from typing import Protocol

from mrc_kernel.caller import Caller
from mrc_kernel.privacy import SafeCounts, suppress_small_cells
from mrc_kernel.roles import Scope


class GroupBy(enum.StrEnum):
    HOME_STATE = "home_state"
    HOME_DISTRICT = "home_district"
    SECTOR = "sector"
    GENDER = "gender"


class WorkerCounter(Protocol):
    def count_by(self, group_by: GroupBy, state_code: str) -> dict[str, int]:
        """Registered workers (erased ones included: their anonymous attributes stay for counting)."""
        ...


class StatisticsService:
    def __init__(self, counter: WorkerCounter, *, min_cell_size: int) -> None:
        self._counter = counter
        self._min_cell_size = min_cell_size

    def workers_by(self, group_by: GroupBy, caller: Caller, *, state_code: str = "") -> SafeCounts[str]:
        caller.require(Scope.AGGREGATES_READ)
        return suppress_small_cells(self._counter.count_by(group_by, state_code), self._min_cell_size)
