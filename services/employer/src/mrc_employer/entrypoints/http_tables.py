"""REST API of the minimum-wage table (/v1/minimum-wages) and the public verification (/v1/verify)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from mrc_employer.domain.licences import LicenceKind, LicenceStatus
from mrc_employer.domain.minimum_wages import (
    MinimumWageRate,
    RateCaveat,
    RateInput,
    RateStatus,
    RateUnit,
    ValueStatus,
    WageSphere,
)
from mrc_employer.domain.organisation import OrganisationRole
from mrc_employer.domain.verification import PublicVerification
from mrc_employer.entrypoints.http_common import Amount, Day, OptionalAmount, any_scope
from mrc_employer.service_layer.minimum_wages import LISTING_SCOPES, MinimumWageService
from mrc_employer.service_layer.verification import VERIFYING_SCOPES, VerificationService
from mrc_kernel.caller import Caller
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.client_address import limit_key
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import Limiter
from mrc_plumbing.http_models import IdempotencyHeader, IfMatchHeader, StrictModel


class RateBody(StrictModel):
    sphere: WageSphere
    state_code: str = Field(default="", max_length=3, description="LGD; empty for the central sphere")
    scheduled_employment: str = Field(max_length=200, description="as the notification prints it")
    scheduled_employment_key: str = Field(default="", max_length=100, description="derived from the label if empty")
    skill_category: str = Field(max_length=200)
    area: str = Field(default="", max_length=200)
    unit: RateUnit
    amount: Amount
    basic: OptionalAmount = ""
    vda: OptionalAmount = ""
    effective_from: Day = ""
    effective_until: Day = ""
    notification_ref: str = Field(default="", max_length=300)
    source_urls: list[str] = Field(default_factory=list, max_length=5)
    value_status: ValueStatus = ValueStatus.STATED
    caveats: list[RateCaveat] = Field(default_factory=list, max_length=10)
    note: str = Field(default="", max_length=1000)

    def input(self) -> RateInput:
        return RateInput(
            sphere=self.sphere,
            state_code=self.state_code,
            scheduled_employment=self.scheduled_employment,
            skill_category=self.skill_category,
            area=self.area,
            unit=self.unit,
            amount=self.amount,
            effective_from=self.effective_from,
            notification_ref=self.notification_ref,
            source_urls=tuple(self.source_urls),
            effective_until=self.effective_until,
            basic=self.basic,
            vda=self.vda,
            scheduled_employment_key=self.scheduled_employment_key,
            value_status=self.value_status,
            caveats=frozenset(self.caveats),
            note=self.note,
        )


class SupersedeBody(StrictModel):
    replacement: RateBody
    reason: str = Field(max_length=1000)


class WithdrawBody(StrictModel):
    reason: str = Field(max_length=1000)


class RateView(BaseModel):
    rate_id: str
    sphere: WageSphere
    state_code: str
    scheduled_employment: str
    scheduled_employment_label: str
    skill_category: str
    area: str
    unit: RateUnit
    amount: str
    basic: str | None
    vda: str | None
    effective_from: date | None
    effective_until: date | None
    notification_ref: str
    source_urls: list[str]
    value_status: ValueStatus
    caveats: list[RateCaveat]
    provisional: bool = Field(description="its value or date is in doubt: shortfalls against it count half")
    note: str
    status: RateStatus
    revision: int
    supersedes: str
    superseded_by: str
    change_reason: str
    version: int
    recorded_at: datetime

    @classmethod
    def of(cls, rate: MinimumWageRate) -> RateView:
        return cls(
            rate_id=rate.rate_id,
            sphere=rate.sphere,
            state_code=rate.state_code,
            scheduled_employment=rate.scheduled_employment,
            scheduled_employment_label=rate.scheduled_employment_label,
            skill_category=rate.skill_label,
            area=rate.area_label,
            unit=rate.unit,
            amount=f"{rate.amount:f}",
            basic=None if rate.basic is None else f"{rate.basic:f}",
            vda=None if rate.vda is None else f"{rate.vda:f}",
            effective_from=rate.effective_from,
            effective_until=rate.effective_until,
            notification_ref=rate.notification_ref,
            source_urls=list(rate.source_urls),
            value_status=rate.value_status,
            caveats=sorted(rate.caveats),
            provisional=rate.provisional,
            note=rate.note,
            status=rate.status,
            revision=rate.revision,
            supersedes=rate.supersedes,
            superseded_by=rate.superseded_by,
            change_reason=rate.change_reason,
            version=rate.version,
            recorded_at=rate.recorded_at,
        )


class RateListingView(BaseModel):
    rates: list[RateView]
    next_page_token: str


class SupersededView(BaseModel):
    superseded: RateView
    replacement: RateView


class LicenceStandingView(BaseModel):
    kind: LicenceKind
    issuing_authority: str
    valid_from: date
    valid_until: date
    status: LicenceStatus
    valid_on_day: bool
    matches_query: bool


class VerificationView(BaseModel):
    """No personal data: a holder's name only when it is a company, firm, trust or other body."""

    query: str
    found: bool
    checked_on: date
    holder_name: str
    roles: list[OrganisationRole]
    needs_licence: bool
    licensed: bool
    licences: list[LicenceStandingView]
    risk_flag_raised: bool
    in_good_standing: bool

    @classmethod
    def of(cls, answer: PublicVerification) -> VerificationView:
        return cls(
            query=answer.query,
            found=answer.found,
            checked_on=answer.checked_on,
            holder_name=answer.holder_name,
            roles=[OrganisationRole(r) for r in answer.roles],
            needs_licence=answer.needs_licence,
            licensed=answer.licensed,
            licences=[LicenceStandingView(**s.__dict__) for s in answer.licences],
            risk_flag_raised=answer.risk_flag_raised,
            in_good_standing=answer.in_good_standing,
        )


def _version(if_match: str) -> int:
    value = if_match.strip().strip('"')
    return int(value) if value.isdigit() else 0


def minimum_wages_router(service: MinimumWageService, auth: HttpAuth) -> APIRouter:
    router = APIRouter(prefix="/v1/minimum-wages", tags=["minimum wages"])
    reader = any_scope(auth, *LISTING_SCOPES)
    operator = auth.requires(Scope.EMPLOYERS_WRITE)

    @router.get("", response_model=RateListingView, summary="The minimum-wage table, most recent rows first")
    def list_minimum_wages(
        caller: Caller = reader,
        sphere: WageSphere | None = None,
        state_code: Annotated[str, Query(max_length=3)] = "",
        scheduled_employment: Annotated[str, Query(max_length=100)] = "",
        include_inactive: bool = False,
        page_size: Annotated[int, Query(ge=1, le=500)] = 100,
        page_token: Annotated[str, Query(max_length=12)] = "",
    ) -> RateListingView:
        listing = service.list(
            caller,
            sphere=sphere,
            state_code=state_code,
            scheduled_employment=scheduled_employment,
            include_inactive=include_inactive,
            page_size=page_size,
            page_token=page_token,
        )
        return RateListingView(rates=[RateView.of(r) for r in listing.rates], next_page_token=listing.next_page_token)

    @router.post("", status_code=201, response_model=RateView, summary="Add a row (operators)")
    def add_minimum_wage(
        body: RateBody, response: Response, caller: Caller = operator, idempotency_key: IdempotencyHeader = ""
    ) -> RateView:
        rate, created = service.add(body.input(), caller, idempotency_key=idempotency_key.strip())
        response.headers["Location"] = f"/v1/minimum-wages?include_inactive=true#{rate.rate_id}"
        if not created:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        return RateView.of(rate)

    @router.post("/{rate_id}:supersede", response_model=SupersededView, summary="Correct a row (operators)")
    def supersede_minimum_wage(
        rate_id: str,
        body: SupersedeBody,
        caller: Caller = operator,
        idempotency_key: IdempotencyHeader = "",
        if_match: IfMatchHeader = "",
    ) -> SupersededView:
        old, new = service.supersede(
            rate_id,
            body.replacement.input(),
            body.reason,
            caller,
            expected_version=_version(if_match),
            idempotency_key=idempotency_key.strip(),
        )
        return SupersededView(superseded=RateView.of(old), replacement=RateView.of(new))

    @router.post("/{rate_id}:withdraw", response_model=RateView, summary="Withdraw a row entered by mistake")
    def withdraw_minimum_wage(
        rate_id: str, body: WithdrawBody, caller: Caller = operator, if_match: IfMatchHeader = ""
    ) -> RateView:
        return RateView.of(service.withdraw(rate_id, body.reason, caller, expected_version=_version(if_match)))

    return router


def verification_router(
    service: VerificationService, auth: HttpAuth, per_client: Limiter, per_address: Limiter
) -> APIRouter:
    router = APIRouter(tags=["verification"])
    caller_of = any_scope(auth, *VERIFYING_SCOPES)

    def address_limit(request: Request) -> None:
        # Before the token is checked: calls that fail authentication count too. The address is the
        # socket's peer, or the client a trusted proxy names (MRC_AUTH_TRUSTED_PROXIES).
        per_address.check(limit_key(auth.address(request)))

    @router.get(
        "/v1/verify/{identifier}",
        dependencies=[Depends(address_limit)],
        response_model=VerificationView,
        summary="Is the agency or contractor behind a GSTIN, LIN or licence number licensed and in good standing?",
        description="Open to the public role; no personal data; rate limited per client and per source address.",
    )
    def verify(identifier: str, caller: Caller = caller_of) -> VerificationView:
        per_client.check(caller.client_id)
        return VerificationView.of(service.verify(identifier, caller))

    return router
