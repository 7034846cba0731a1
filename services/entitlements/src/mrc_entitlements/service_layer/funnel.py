"""The entitlement funnel for dashboards: eligible, applied, approved and delivered per place and scheme.

Limited to the caller's geography (a filter outside it is refused naming the field) and published with
small cells suppressed (`mrc_kernel.privacy`), so no count points at a person. Eligible workers count
where their home is; applications where they are made. Workers without consent to entitlement linkage
have no determinations, so they are never counted as eligible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mrc_entitlements.domain.funnel import FunnelCell, count_funnel, safe_funnel
from mrc_entitlements.service_layer.access import require_place_in_geography
from mrc_entitlements.service_layer.ports import ApplicationRepository, WorkerRecordRepository
from mrc_kernel.caller import Caller
from mrc_kernel.privacy import DEFAULT_MIN_CELL_SIZE, SafeCounts
from mrc_kernel.roles import Scope


@dataclass(frozen=True)
class FunnelFilter:
    state_code: str = ""
    district_code: str = ""
    scheme_code: str = ""


class FunnelService:
    def __init__(
        self,
        records: WorkerRecordRepository,
        applications: ApplicationRepository,
        *,
        min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    ) -> None:
        self._records = records
        self._applications = applications
        self._min_cell_size = min_cell_size

    def funnel(self, wanted: FunnelFilter, caller: Caller) -> SafeCounts[FunnelCell]:
        caller.require(Scope.AGGREGATES_READ)
        if wanted.state_code and caller.states and wanted.state_code not in caller.states:
            require_place_in_geography(caller, wanted.state_code, "")
        if wanted.district_code and caller.districts and wanted.district_code not in caller.districts:
            require_place_in_geography(caller, next(iter(caller.states), wanted.state_code), wanted.district_code)
        eligible = (
            (determination, record.home[0], record.home[1])
            for record in self._records.scan_consenting()
            for determination in record.eligibility.determinations.values()
        )
        counts = count_funnel(eligible, self._applications.scan())
        kept: Counter[FunnelCell] = Counter()
        for cell, count in counts.items():
            if not caller.covers_place(cell.state_code, cell.district_code):
                continue
            if wanted.state_code and cell.state_code != wanted.state_code:
                continue
            if wanted.district_code and cell.district_code != wanted.district_code:
                continue
            if wanted.scheme_code and cell.scheme_code != wanted.scheme_code:
                continue
            kept[cell] = count
        return safe_funnel(kept, self._min_cell_size)

    def national_funnel(self, own_state_code: str) -> SafeCounts[FunnelCell]:
        """This state's funnel for the national cluster (cross-state federation): every district of the state,
        small cells suppressed. Copies of other states' workers are left out: their home state counts them."""
        eligible = (
            (determination, record.home[0], record.home[1])
            for record in self._records.scan_consenting()
            if not record.federated_from
            for determination in record.eligibility.determinations.values()
        )
        counts = count_funnel(eligible, self._applications.scan())
        kept: Counter[FunnelCell] = Counter(
            {cell: count for cell, count in counts.items() if cell.state_code == own_state_code}
        )
        return safe_funnel(kept, self._min_cell_size)
