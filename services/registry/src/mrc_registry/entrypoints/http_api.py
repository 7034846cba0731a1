"""REST API for partners: /v1/workers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from mrc_registry.domain.worker import Gender, Place, Worker
from mrc_registry.service_layer.registration import RegisterWorker, RegistrationService

# Until partner authentication lands, the calling partner names itself in this header.
PartnerHeader = Annotated[str, Header(alias="X-Partner-Id", max_length=64)]
IdempotencyHeader = Annotated[str, Header(alias="Idempotency-Key", max_length=128)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlaceBody(StrictModel):
    state_code: str = Field(pattern=r"^\d{1,3}$", description="LGD state code")
    district_code: str = Field(pattern=r"^\d{1,4}$", description="LGD district code")
    subdistrict_code: str = Field(default="", pattern=r"^(\d{1,6})?$", description="LGD sub-district code")
    village_name: str = Field(default="", max_length=200)


class RegisterWorkerBody(StrictModel):
    full_name: str = Field(min_length=1, max_length=200, description="As written, in any script")
    gender: Gender
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    home: PlaceBody
    occupation: str = Field(default="", max_length=200)


class WorkerView(BaseModel):
    worker_id: str
    full_name: str
    gender: Gender
    birth_year: int | None
    home: PlaceBody
    occupation: str
    registering_partner_id: str
    registered_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, worker: Worker) -> WorkerView:
        return cls(
            worker_id=worker.worker_id,
            full_name=worker.full_name,
            gender=worker.gender,
            birth_year=worker.birth_year,
            home=PlaceBody.model_construct(**worker.home.__dict__),
            occupation=worker.occupation,
            registering_partner_id=worker.registering_partner_id,
            registered_at=worker.registered_at,
            updated_at=worker.updated_at,
        )


def workers_router(registration: RegistrationService) -> APIRouter:
    router = APIRouter(prefix="/v1/workers", tags=["workers"])

    @router.post("", status_code=201, response_model=WorkerView)
    def register_worker(
        body: RegisterWorkerBody,
        response: Response,
        partner_id: PartnerHeader = "unassigned",
        idempotency_key: IdempotencyHeader = "",
    ) -> WorkerView:
        result = registration.register(
            RegisterWorker(
                full_name=body.full_name,
                gender=body.gender,
                birth_year=body.birth_year,
                home=Place(**body.home.model_dump()),
                occupation=body.occupation,
                partner_id=partner_id,
                idempotency_key=idempotency_key,
            )
        )
        response.headers["Location"] = f"/v1/workers/{result.worker.worker_id}"
        if not result.created:
            response.headers["Idempotent-Replayed"] = "true"
        return WorkerView.of(result.worker)

    @router.get("/{worker_id}", response_model=WorkerView)
    def get_worker(worker_id: str) -> WorkerView:
        return WorkerView.of(registration.get(worker_id))

    return router
