"""REST API: /v1/eligibility/{worker_id}."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from mrc_entitlements.domain.eligibility import Eligibility, EligibilityStatus
from mrc_entitlements.service_layer.eligibility import EligibilityLookup
from mrc_kernel.caller import Caller
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth


class EligibilityView(BaseModel):
    worker_id: str
    status: EligibilityStatus
    eligible_scheme_codes: list[str]
    recorded_at: datetime
    source_event_id: str

    @classmethod
    def of(cls, eligibility: Eligibility) -> EligibilityView:
        return cls(
            worker_id=eligibility.worker_id,
            status=eligibility.status,
            eligible_scheme_codes=eligibility.eligible_scheme_codes,
            recorded_at=eligibility.recorded_at,
            source_event_id=eligibility.source_event_id,
        )


def eligibility_router(lookup: EligibilityLookup, auth: HttpAuth) -> APIRouter:
    """Every route needs a bearer token with the route's scope (401 without one, 403 without the scope)."""
    router = APIRouter(prefix="/v1/eligibility", tags=["eligibility"])
    # A dependency as default: with postponed annotations FastAPI cannot see this local in `Annotated`.
    reader = auth.requires(Scope.ELIGIBILITY_READ)

    @router.get("/{worker_id}", response_model=EligibilityView)
    def get_eligibility(worker_id: str, caller: Caller = reader) -> EligibilityView:
        return EligibilityView.of(lookup.get(worker_id, caller))

    return router
