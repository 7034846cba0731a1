"""Counts of cases for dashboards and policy work, limited to the caller's geography, small cells suppressed."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from mrc_grievance.domain.statistics import CaseRow, GrievanceStatistics, grievance_statistics
from mrc_grievance.service_layer.ports import CaseRepository, StatisticsFilter
from mrc_kernel.caller import Caller
from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.roles import Scope


class StatisticsService:
    def __init__(self, cases: CaseRepository, *, min_cell_size: int) -> None:
        self._cases = cases
        self._min_cell_size = min_cell_size

    def grievances(
        self,
        caller: Caller,
        *,
        state_code: str = "",
        district_code: str = "",
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
    ) -> GrievanceStatistics:
        caller.require(Scope.AGGREGATES_READ)
        violations: list[FieldViolation] = []
        if state_code and caller.states and state_code not in caller.states:
            violations.append(FieldViolation("state_code", "is outside your partner's geography"))
        if district_code and caller.districts and district_code not in caller.districts:
            violations.append(FieldViolation("district_code", "is outside your partner's geography"))
        if filed_from and filed_to and filed_from >= filed_to:
            violations.append(FieldViolation("filed_to", "must be after filed_from"))
        if violations:
            raise InvalidArgument(violations)
        rows = self._cases.statistics_rows(
            StatisticsFilter(
                states=frozenset({state_code}) if state_code else caller.states,
                districts=frozenset({district_code}) if district_code else caller.districts,
                filed_from=filed_from,
                filed_to=filed_to,
            )
        )
        return grievance_statistics(cast(list[CaseRow], rows), min_cell_size=self._min_cell_size)
