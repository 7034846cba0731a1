"""REST API for partners: /v1/employers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from mrc_employer.domain.employer import (
    MAX_LEGAL_NAME_LENGTH,
    MAX_REGISTRATION_NUMBER_LENGTH,
    Employer,
    EmployerKind,
    Place,
    Sector,
)
from mrc_employer.service_layer.registration import EmployerRegistrationService, RegisterEmployer
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


class RegisterEmployerBody(StrictModel):
    legal_name: str = Field(min_length=1, max_length=MAX_LEGAL_NAME_LENGTH, description="As registered")
    kind: EmployerKind
    sector: Sector
    location: PlaceBody
    registration_number: str = Field(
        default="",
        max_length=MAX_REGISTRATION_NUMBER_LENGTH,
        description="GSTIN, ISMW Act licence or similar: letters, digits, '/' and '-' (stored in capitals)",
    )


class EmployerView(BaseModel):
    employer_id: str
    legal_name: str
    kind: EmployerKind
    sector: Sector
    location: PlaceBody
    registration_number: str
    registered_at: datetime

    @classmethod
    def of(cls, employer: Employer) -> EmployerView:
        return cls(
            employer_id=employer.employer_id,
            legal_name=employer.legal_name,
            kind=employer.kind,
            sector=employer.sector,
            location=PlaceBody.model_construct(**employer.location.__dict__),
            registration_number=employer.registration_number,
            registered_at=employer.registered_at,
        )


def employers_router(registration: EmployerRegistrationService, auth: HttpAuth) -> APIRouter:
    """Every route needs a bearer token with the route's scope (401 without one, 403 without the scope)."""
    router = APIRouter(prefix="/v1/employers", tags=["employers"])
    # Dependencies as defaults: with postponed annotations FastAPI cannot see these locals in `Annotated`.
    writer = auth.requires(Scope.EMPLOYERS_WRITE)
    reader = auth.requires(Scope.EMPLOYERS_READ)

    @router.post("", status_code=201, response_model=EmployerView)
    def register_employer(
        body: RegisterEmployerBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> EmployerView:
        result = registration.register(
            RegisterEmployer(
                legal_name=body.legal_name,
                kind=body.kind,
                sector=body.sector.value,
                location=Place(**body.location.model_dump()),
                registration_number=body.registration_number,
                idempotency_key=idempotency_key,
            ),
            caller,
        )
        response.headers["Location"] = f"/v1/employers/{result.employer.employer_id}"
        if not result.created:
            response.headers["Idempotent-Replayed"] = "true"
        return EmployerView.of(result.employer)

    @router.get("/{employer_id}", response_model=EmployerView)
    def get_employer(employer_id: str, caller: Caller = reader) -> EmployerView:
        return EmployerView.of(registration.get(employer_id, caller))

    return router
