"""REST API for partners: /v1/grievances."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from mrc_grievance.domain.grievance import (
    MAX_ID_LENGTH,
    MAX_SUMMARY_LENGTH,
    Grievance,
    GrievanceCategory,
    GrievanceStatus,
    IntakeChannel,
    Place,
)
from mrc_grievance.service_layer.filing import FileGrievance, FilingService
from mrc_kernel.caller import Caller
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth

IdempotencyHeader = Annotated[str, Header(alias="Idempotency-Key", max_length=128)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlaceBody(StrictModel):
    state_code: str = Field(pattern=r"^\d{1,3}$", description="LGD state code")
    district_code: str = Field(pattern=r"^\d{1,4}$", description="LGD district code")
    subdistrict_code: str = Field(default="", pattern=r"^(\d{1,6})?$", description="LGD sub-district code")
    village_name: str = Field(default="", max_length=200)


class FileGrievanceBody(StrictModel):
    worker_id: str = Field(default="", max_length=MAX_ID_LENGTH, description="Empty when anonymous")
    category: GrievanceCategory
    channel: IntakeChannel
    summary: str = Field(min_length=1, max_length=MAX_SUMMARY_LENGTH, description="What happened, in any script")
    location: PlaceBody
    employer_id: str = Field(default="", max_length=MAX_ID_LENGTH, description="The party complained about")
    anonymous: bool = False


class GrievanceView(BaseModel):
    grievance_id: str
    worker_id: str
    category: GrievanceCategory
    channel: IntakeChannel
    summary: str
    location: PlaceBody
    employer_id: str
    status: GrievanceStatus
    anonymous: bool
    filed_at: datetime

    @classmethod
    def of(cls, grievance: Grievance) -> GrievanceView:
        return cls(
            grievance_id=grievance.grievance_id,
            worker_id=grievance.worker_id,
            category=grievance.category,
            channel=grievance.channel,
            summary=grievance.summary,
            location=PlaceBody.model_construct(**grievance.location.__dict__),
            employer_id=grievance.employer_id,
            status=grievance.status,
            anonymous=grievance.anonymous,
            filed_at=grievance.filed_at,
        )


def grievances_router(filing: FilingService, auth: HttpAuth) -> APIRouter:
    """Every route needs a bearer token with the route's scope (401 without one, 403 without the scope)."""
    router = APIRouter(prefix="/v1/grievances", tags=["grievances"])
    # Dependencies as defaults: with postponed annotations FastAPI cannot see these locals in `Annotated`.
    writer = auth.requires(Scope.GRIEVANCES_WRITE)
    reader = auth.requires(Scope.GRIEVANCES_READ)

    @router.post("", status_code=201, response_model=GrievanceView)
    def file_grievance(
        body: FileGrievanceBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> GrievanceView:
        result = filing.file(
            FileGrievance(
                worker_id=body.worker_id,
                category=body.category,
                channel=body.channel,
                summary=body.summary,
                location=Place(**body.location.model_dump()),
                employer_id=body.employer_id,
                anonymous=body.anonymous,
                idempotency_key=idempotency_key,
            ),
            caller,
        )
        response.headers["Location"] = f"/v1/grievances/{result.grievance.grievance_id}"
        if not result.created:
            response.headers["Idempotent-Replayed"] = "true"
        return GrievanceView.of(result.grievance)

    @router.get("/{grievance_id}", response_model=GrievanceView)
    def get_grievance(grievance_id: str, caller: Caller = reader) -> GrievanceView:
        return GrievanceView.of(filing.get(grievance_id, caller))

    return router
