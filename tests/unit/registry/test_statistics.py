from fastapi.testclient import TestClient

from mrc_kernel.roles import Role
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.http_app import create_http_app
from mrc_registry.entrypoints.http_statistics import statistics_router
from mrc_registry.service_layer.statistics import GroupBy, StatisticsService
from tests.support.auth import StaticVerifier, caller_for


class FakeCounter:
    def count_by(self, group_by: GroupBy, state_code: str) -> dict[str, int]:
        return {"212": 12, "213": 2, "214": 5} if group_by is GroupBy.HOME_DISTRICT else {"female": 19}


def client() -> TestClient:
    verifier = StaticVerifier({"public": caller_for(Role.PUBLIC), "registrar": caller_for(Role.REGISTRAR)})
    app = create_http_app(service="registry", title="t")
    app.include_router(
        statistics_router(StatisticsService(FakeCounter(), min_cell_size=5), HttpAuth(verifier, RateLimiter(0, 1)))
    )
    return TestClient(app)


def test_small_cells_are_suppressed_for_dashboards() -> None:
    body = (
        client()
        .get("/v1/statistics/workers", params={"group_by": "home_district"}, headers={"Authorization": "Bearer public"})
        .json()
    )
    assert body["cells"] == [{"key": "212", "count": 12}, {"key": "213", "count": None}, {"key": "214", "count": 5}]
    assert body["total"] is None
    assert body["min_cell_size"] == 5


def test_totals_are_exact_when_nothing_is_suppressed() -> None:
    body = (
        client()
        .get("/v1/statistics/workers", params={"group_by": "gender"}, headers={"Authorization": "Bearer public"})
        .json()
    )
    assert body["total"] == 19


def test_aggregates_need_their_scope() -> None:
    response = client().get(
        "/v1/statistics/workers", params={"group_by": "gender"}, headers={"Authorization": "Bearer registrar"}
    )
    assert response.status_code == 403
