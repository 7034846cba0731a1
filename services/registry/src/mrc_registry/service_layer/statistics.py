"""Counts of registered workers for dashboards, with small cells suppressed so nobody can be singled out.

Counts cover only the caller's geography: a partner of one state never learns another state's numbers.
"""

from __future__ import annotations

import enum
from typing import Protocol

from mrc_kernel.caller import Caller
from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.privacy import SafeCounts, suppress_small_cells
from mrc_kernel.roles import Scope


class GroupBy(enum.StrEnum):
    HOME_STATE = "home_state"
    HOME_DISTRICT = "home_district"
    SECTOR = "sector"
    GENDER = "gender"


class WorkerCounter(Protocol):
    def count_by(self, group_by: GroupBy, states: frozenset[str], districts: frozenset[str]) -> dict[str, int]:
        """Registered workers homed in these states and districts (empty: no limit), erased ones included:
        their anonymous attributes stay for counting."""
        ...


class StatisticsService:
    def __init__(self, counter: WorkerCounter, *, min_cell_size: int) -> None:
        self._counter = counter
        self._min_cell_size = min_cell_size

    def workers_by(self, group_by: GroupBy, caller: Caller, *, state_code: str = "") -> SafeCounts[str]:
        caller.require(Scope.AGGREGATES_READ)
        if state_code and caller.states and state_code not in caller.states:
            raise InvalidArgument(FieldViolation("state_code", "is outside your partner's geography"))
        states = frozenset({state_code}) if state_code else caller.states
        counts = self._counter.count_by(group_by, states, caller.districts)
        return suppress_small_cells(counts, self._min_cell_size)
