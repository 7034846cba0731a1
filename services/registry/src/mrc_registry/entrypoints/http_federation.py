"""REST reads of what other states share with this one, beyond the workers themselves (those are read at
/v1/workers, marked `federated_from_state_code`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from mrc_kernel.caller import Caller
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth
from mrc_registry.domain.household_links import SharedHouseholdLinks
from mrc_registry.service_layer.federation import SharedHouseholdReads


class SharedHouseholdView(BaseModel):
    """A household another state shares: read-only, as its home state last published it. `member_worker_ids`
    lists the members whose records the caller reaches here; `size` counts everyone."""

    household_id: str
    federated_from_state_code: str
    member_worker_ids: list[str]
    size: int
    holds_ration_card: bool
    ration_card_state_code: str
    state_code: str
    district_code: str
    version: int

    @classmethod
    def of(cls, links: SharedHouseholdLinks) -> SharedHouseholdView:
        return cls(
            household_id=links.household_id,
            federated_from_state_code=links.home_state_code,
            member_worker_ids=list(links.member_worker_ids),
            size=links.size,
            holds_ration_card=links.holds_ration_card,
            ration_card_state_code=links.ration_card_state_code,
            state_code=links.lives_in_state_code,
            district_code=links.lives_in_district_code,
            version=links.version,
        )


def federation_router(shared: SharedHouseholdReads, auth: HttpAuth) -> APIRouter:
    router = APIRouter(tags=["federation"])

    @router.get("/v1/workers/{worker_id}/shared-households", response_model=list[SharedHouseholdView])
    def shared_households(
        worker_id: str, caller: Caller = auth.requires(Scope.WORKERS_READ)
    ) -> list[SharedHouseholdView]:
        return [SharedHouseholdView.of(links) for links in shared.of_worker(worker_id, caller)]

    return router
