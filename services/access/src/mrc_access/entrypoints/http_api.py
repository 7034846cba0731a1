"""REST API for operators (/v1/partners, /v1/clients, /v1/signing-keys) and auditors (/v1/audit-records).

No `from __future__ import annotations` here: FastAPI must resolve the route closures' dependency
aliases (`Operator`, `Auditor`) at definition time, and those are local to the router factories.
"""

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Self

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mrc_access.adapters.bearer_auth import BearerTokenVerifier, Caller, InsufficientScope, InvalidBearerToken
from mrc_access.domain.audit_record import AccessAction, AccessOutcome, AccessRecord
from mrc_access.domain.client import Client
from mrc_access.domain.partner import Partner, PartnerKind
from mrc_access.entrypoints.oauth_http import oauth_router
from mrc_access.entrypoints.token_limits import TokenLimits
from mrc_access.service_layer.administration import CreateClient, CreatePartner, PartnerAdministration
from mrc_access.service_layer.audit_trail import AccessRecordQuery, AuditTrail
from mrc_access.service_layer.signing_keys import SigningKeyRing
from mrc_access.service_layer.tokens import TokenService
from mrc_kernel.caller import check_purpose
from mrc_kernel.errors import problem_type
from mrc_kernel.roles import Role, Scope
from mrc_plumbing.auth.guard import CallerGuard
from mrc_plumbing.auth.http import client_address, declares_scope
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.concurrency import ConcurrencyLimit
from mrc_plumbing.http_app import ReadinessCheck, create_http_app, problem
from mrc_plumbing.structured_logging import request_id_var

REALM = "mrc-access"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a secret

IdempotencyHeader = Annotated[str, Header(alias="Idempotency-Key", max_length=128)]
StateCode = Annotated[str, Field(pattern=r"^\d{1,3}$", description="LGD state code")]
DistrictCode = Annotated[str, Field(pattern=r"^\d{1,4}$", description="LGD district code")]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreatePartnerBody(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    kind: PartnerKind
    state_codes: list[StateCode] = Field(default_factory=list, max_length=50, description="Empty: all states")
    district_codes: list[DistrictCode] = Field(default_factory=list, max_length=1000, description="Empty: all")
    employer_id: str = Field(default="", max_length=64, description="For employer partners: who they act for")


class PartnerView(BaseModel):
    partner_id: str
    name: str
    kind: PartnerKind
    state_codes: list[str]
    district_codes: list[str]
    employer_id: str
    created_at: datetime

    @classmethod
    def of(cls, partner: Partner) -> Self:
        return cls(
            partner_id=partner.partner_id,
            name=partner.name,
            kind=partner.kind,
            state_codes=list(partner.geography.state_codes),
            district_codes=list(partner.geography.district_codes),
            employer_id=partner.employer_id,
            created_at=partner.created_at,
        )


class CreateClientBody(StrictModel):
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    state_codes: list[StateCode] = Field(default_factory=list, max_length=50, description="Empty: the partner's")
    district_codes: list[DistrictCode] = Field(default_factory=list, max_length=1000)
    display_name: str = Field(default="", max_length=200)


class ClientView(BaseModel):
    client_id: str
    partner_id: str
    roles: list[Role]
    state_codes: list[str]
    district_codes: list[str]
    display_name: str
    revoked: bool
    created_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, client: Client) -> Self:
        return cls(
            client_id=client.client_id,
            partner_id=client.partner_id,
            roles=list(client.roles),
            state_codes=list(client.geography.state_codes),
            district_codes=list(client.geography.district_codes),
            display_name=client.display_name,
            revoked=client.revoked,
            created_at=client.created_at,
            revoked_at=client.revoked_at,
        )


class IssuedClientView(ClientView):
    client_secret: str = Field(description="Shown this once; only a hash is stored")


class SigningKeyView(BaseModel):
    kid: str
    created_at: datetime


class ActorView(BaseModel):
    client_id: str
    partner_id: str
    roles: list[str]


class AccessRecordView(BaseModel):
    record_id: str
    actor: ActorView
    action: AccessAction
    service: str
    resource_type: str
    resource_id: str
    # A listing's records (one audit record for a page of a work queue); empty for a single read or write.
    resource_ids: list[str] = []
    fields: list[str]
    purpose: str
    outcome: AccessOutcome
    remote_address: str
    request_id: str
    occurred_at: datetime
    state_code: str

    @classmethod
    def of(cls, record: AccessRecord) -> Self:
        return cls(
            record_id=record.record_id,
            actor=ActorView(
                client_id=record.actor.client_id, partner_id=record.actor.partner_id, roles=list(record.actor.roles)
            ),
            action=record.action,
            service=record.service,
            resource_type=record.resource_type,
            resource_id=record.resource_id,
            resource_ids=list(record.resource_ids),
            fields=list(record.fields),
            purpose=record.purpose,
            outcome=record.outcome,
            remote_address=record.remote_address,
            request_id=record.request_id,
            occurred_at=record.occurred_at,
            state_code=record.state_code,
        )


class AccessRecordPageView(BaseModel):
    records: list[AccessRecordView]
    next_page_token: str


def unlimited() -> CallerGuard:
    return CallerGuard(RateLimiter(0, 1))


def audit_listings(total: int = 2, per_caller: int = 1) -> ConcurrencyLimit:
    """The per-process cap on audit listings running at once (REST and gRPC share one)."""
    return ConcurrencyLimit("audit listings", total=total, per_key=per_caller)


def requires(
    verifier: BearerTokenVerifier, scope: Scope, guard: CallerGuard | None = None, *, purpose: str = "operations"
) -> Callable[..., Caller]:
    """A dependency: the caller's verified token, which must carry `scope`, within the limits of `guard`
    (by address before the token is looked at, by client before the scope check; see `CallerGuard`)."""
    limits = guard or unlimited()

    def authenticated_caller(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        _declared: str | None = declares_scope(scope),
    ) -> Caller:
        address = client_address(request, limits.proxies)
        limits.before_authentication(address)
        try:
            caller = verifier.verify_authorization(authorization)
        except InvalidBearerToken:
            limits.authentication_failed(address)
            raise
        limits.authenticated(caller.client_id)
        caller.require(scope)
        return dataclasses.replace(
            caller,
            purpose=check_purpose(request.headers.get("x-purpose", ""), purpose),
            remote_address=address,
            request_id=request_id_var.get(),
        )

    return authenticated_caller


def install_bearer_error_handlers(app: FastAPI) -> None:
    """401/403 as problem+json, with the RFC 6750 §3 `WWW-Authenticate` challenge."""

    @app.exception_handler(InvalidBearerToken)
    async def invalid_token(request: Request, error: InvalidBearerToken) -> JSONResponse:
        challenge = f'Bearer realm="{REALM}"'
        if error.token_sent:
            challenge += ', error="invalid_token"'
        response = problem(401, error.title, error.detail, type_=problem_type(error), instance=request.url.path)
        response.headers["WWW-Authenticate"] = challenge
        return response

    @app.exception_handler(InsufficientScope)
    async def insufficient_scope(request: Request, error: InsufficientScope) -> JSONResponse:
        response = problem(403, error.title, error.detail, type_=problem_type(error), instance=request.url.path)
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="{REALM}", error="insufficient_scope", scope="{error.scope.value}"'
        )
        return response


def admin_router(
    administration: PartnerAdministration,
    key_ring: SigningKeyRing,
    verifier: BearerTokenVerifier,
    guard: CallerGuard | None = None,
) -> APIRouter:
    router = APIRouter(tags=["administration"])
    Operator = Annotated[Caller, Depends(requires(verifier, Scope.PARTNERS_ADMIN, guard))]  # noqa: N806 - a type alias

    @router.post("/v1/partners", status_code=201, response_model=PartnerView)
    def create_partner(
        body: CreatePartnerBody, response: Response, caller: Operator, idempotency_key: IdempotencyHeader = ""
    ) -> PartnerView:
        result = administration.create_partner(
            CreatePartner(
                name=body.name,
                kind=body.kind,
                state_codes=tuple(body.state_codes),
                district_codes=tuple(body.district_codes),
                employer_id=body.employer_id,
                caller_partner_id=caller.partner_id,
                idempotency_key=idempotency_key,
            ),
            caller,
        )
        response.headers["Location"] = f"/v1/partners/{result.partner.partner_id}"
        if not result.created:
            response.headers["Idempotent-Replayed"] = "true"
        return PartnerView.of(result.partner)

    @router.get("/v1/partners/{partner_id}", response_model=PartnerView)
    def get_partner(partner_id: str, caller: Operator) -> PartnerView:
        return PartnerView.of(administration.get_partner(partner_id))

    @router.post("/v1/partners/{partner_id}/clients", status_code=201, response_model=IssuedClientView)
    def create_client(
        partner_id: str, body: CreateClientBody, response: Response, caller: Operator
    ) -> IssuedClientView:
        issued = administration.create_client(
            CreateClient(
                partner_id=partner_id,
                roles=tuple(body.roles),
                state_codes=tuple(body.state_codes),
                district_codes=tuple(body.district_codes),
                display_name=body.display_name,
            ),
            caller,
        )
        response.headers["Location"] = f"/v1/clients/{issued.client.client_id}"
        response.headers["Cache-Control"] = "no-store"  # the body holds the secret
        return IssuedClientView(**ClientView.of(issued.client).model_dump(), client_secret=issued.client_secret)

    @router.get("/v1/clients/{client_id}", response_model=ClientView)
    def get_client(client_id: str, caller: Operator) -> ClientView:
        return ClientView.of(administration.get_client(client_id))

    @router.post("/v1/clients/{client_id}:revoke", response_model=ClientView)
    def revoke_client(client_id: str, caller: Operator) -> ClientView:
        return ClientView.of(administration.revoke_client(client_id, caller))

    @router.post("/v1/signing-keys:rotate", status_code=201, response_model=SigningKeyView)
    def rotate_signing_key(caller: Operator) -> SigningKeyView:
        key = key_ring.rotate(caller)
        return SigningKeyView(kid=key.kid, created_at=key.created_at)

    return router


def audit_router(
    audit_trail: AuditTrail,
    verifier: BearerTokenVerifier,
    guard: CallerGuard | None = None,
    listings: ConcurrencyLimit | None = None,
) -> APIRouter:
    router = APIRouter(tags=["audit"])
    Auditor = Annotated[Caller, Depends(requires(verifier, Scope.AUDIT_READ, guard, purpose="audit"))]  # noqa: N806
    running = listings or audit_listings()

    @router.get(
        "/v1/audit-records",
        response_model=AccessRecordPageView,
        summary="The audit trail of the caller's states (an operator: the cluster's), newest first",
        description=(
            "At most 200 records a page, found within a time budget: a short page with a `next_page_token` "
            "is not the last one. Listings running at once are capped per caller and per process "
            "(1 and 2 by default): more answer 429 or 503 with Retry-After at once."
        ),
    )
    def list_audit_records(
        caller: Auditor,
        resource_type: Annotated[str, Query(max_length=128)] = "",
        resource_id: Annotated[str, Query(max_length=128)] = "",
        partner_id: Annotated[str, Query(max_length=128)] = "",
        page_size: Annotated[int, Query(ge=0, description="Default 50, at most 200")] = 0,
        page_token: Annotated[str, Query(max_length=1024)] = "",
    ) -> AccessRecordPageView:
        query = AccessRecordQuery(
            resource_type=resource_type,
            resource_id=resource_id,
            partner_id=partner_id,
            page_size=page_size,
            page_token=page_token,
        )
        with running.slot(caller.client_id):
            page = audit_trail.list(query, caller)
        return AccessRecordPageView(
            records=[AccessRecordView.of(r) for r in page.records], next_page_token=page.next_page_token
        )

    return router


def create_access_http_app(
    *,
    administration: PartnerAdministration,
    tokens: TokenService,
    key_ring: SigningKeyRing,
    audit_trail: AuditTrail,
    verifier: BearerTokenVerifier,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    guard: CallerGuard | None = None,
    token_limits: TokenLimits | None = None,
    listings: ConcurrencyLimit | None = None,
) -> FastAPI:
    """`guard` limits the bearer-token calls, `token_limits` the token endpoint, `listings` the audit
    listings running at once; none given: unlimited (tests)."""
    app = create_http_app(service="access", title="MRC Access", readiness_checks=readiness_checks, token_url=TOKEN_PATH)
    install_bearer_error_handlers(app)
    app.include_router(oauth_router(tokens, key_ring, token_limits))
    app.include_router(admin_router(administration, key_ring, verifier, guard))
    app.include_router(audit_router(audit_trail, verifier, guard, listings))
    return app
