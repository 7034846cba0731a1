"""REST: aggregate counts for dashboards (scope aggregates:read); cells under k people are suppressed."""

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mrc_kernel.caller import Caller
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth
from mrc_registry.service_layer.statistics import GroupBy, StatisticsService


class Cell(BaseModel):
    key: str
    count: int | None  # null: fewer than min_cell_size people


class WorkerCounts(BaseModel):
    group_by: GroupBy
    min_cell_size: int
    cells: list[Cell]
    total: int | None  # null when any cell was suppressed


def statistics_router(statistics: StatisticsService, auth: HttpAuth) -> APIRouter:
    router = APIRouter(tags=["statistics"])

    @router.get("/v1/statistics/workers", response_model=WorkerCounts)
    def worker_counts(
        group_by: GroupBy,
        state_code: str = Query(default="", pattern=r"^(\d{1,3})?$"),
        caller: Caller = auth.requires(Scope.AGGREGATES_READ),
    ) -> WorkerCounts:
        safe = statistics.workers_by(group_by, caller, state_code=state_code)
        return WorkerCounts(
            group_by=group_by,
            min_cell_size=safe.min_cell_size,
            cells=[Cell(key=k, count=v) for k, v in sorted(safe.cells.items())],
            total=safe.total,
        )

    return router
