"""REST API: the scheme catalogue, eligibility, declared facts, applications and deliveries, the funnel.

Every route needs a bearer token with its scope; reads of a worker's records declare their purpose in
`X-Purpose` (default `entitlement_linkage`). Errors are problem+json (mapped centrally from the kernel's
error codes); a record the caller may not reach answers 404 exactly like a missing one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from mrc_entitlements.domain.applications import Application, ApplicationStatus, DeliveryKind
from mrc_entitlements.domain.determinations import Determination
from mrc_entitlements.domain.federation import HomeStateStatus
from mrc_entitlements.domain.funnel import FunnelCell
from mrc_entitlements.domain.reevaluation import ReevaluationJob
from mrc_entitlements.domain.rules import ConditionSpec, Outcome
from mrc_entitlements.domain.schemes import RuleVersion, Scheme, SchemeKind
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_entitlements.service_layer.applications import ApplicationService, NewApplication, NewDelivery
from mrc_entitlements.service_layer.catalogue import READ_SCOPES, WRITE_SCOPE, CatalogueService
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_entitlements.service_layer.funnel import FunnelFilter, FunnelService
from mrc_geography.lgd import lgd
from mrc_kernel.caller import Caller
from mrc_kernel.errors import PermissionDenied
from mrc_kernel.privacy import SafeCounts
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.http_models import IdempotencyHeader, StrictModel

FactValue = int | bool | str | list[str]


def any_scope(auth: HttpAuth, scopes: tuple[Scope, ...]) -> Any:
    def dependency(request: Request) -> Caller:
        for scope in scopes[:-1]:
            try:
                return auth.caller(request, scope)
            except PermissionDenied:
                continue
        return auth.caller(request, scopes[-1])

    return Depends(dependency)


# -- views -------------------------------------------------------------------------------------------


class ConditionResultView(BaseModel):
    name: str
    status: str
    missing_facts: list[str]


class DeterminationView(BaseModel):
    scheme_code: str
    outcome: Outcome
    rule_version: int
    conditions: list[ConditionResultView]
    missing_facts: list[str]
    facts_snapshot: dict[str, Any]
    determined_at: datetime

    @classmethod
    def of(cls, d: Determination) -> DeterminationView:
        return cls(
            scheme_code=d.scheme_code,
            outcome=d.outcome,
            rule_version=d.rule_version,
            conditions=[
                ConditionResultView(name=c.name, status=c.status.value, missing_facts=list(c.missing_facts))
                for c in d.conditions
            ],
            missing_facts=list(d.missing_facts),
            facts_snapshot=dict(d.facts_snapshot),
            determined_at=d.determined_at,
        )


class HomeStateDeterminationView(BaseModel):
    scheme_code: str
    rule_version: int
    outcome: Outcome
    missing_facts: list[str]
    determined_at: datetime


class HomeStateApplicationView(BaseModel):
    application_id: str
    scheme_code: str
    status: ApplicationStatus
    state_code: str
    district_code: str
    updated_at: datetime
    last_delivery_kind: DeliveryKind | None
    last_delivered_on: date | None


class HomeStateStatusView(BaseModel):
    """Another state's entitlement status of a worker whose record here is a copy of that state's record:
    determined under that state's rules, read-only here (only that state changes it)."""

    home_state_code: str
    home_state_name: str
    read_only: Literal[True] = True
    version: int
    shared_at: datetime
    determinations: list[HomeStateDeterminationView]
    applications: list[HomeStateApplicationView]

    @classmethod
    def of(cls, status: HomeStateStatus) -> HomeStateStatusView:
        state = lgd().states.get(status.home_state_code)
        return cls(
            home_state_code=status.home_state_code,
            home_state_name=state.name if state else "",
            version=status.version,
            shared_at=status.shared_at,
            determinations=[
                HomeStateDeterminationView(
                    scheme_code=d.scheme_code,
                    rule_version=d.rule_version,
                    outcome=d.outcome,
                    missing_facts=list(d.missing_facts),
                    determined_at=d.determined_at,
                )
                for d in status.determinations
            ],
            applications=[
                HomeStateApplicationView(
                    application_id=a.application_id,
                    scheme_code=a.scheme_code,
                    status=a.status,
                    state_code=a.state_code,
                    district_code=a.district_code,
                    updated_at=a.updated_at,
                    last_delivery_kind=a.last_delivery_kind,
                    last_delivered_on=a.last_delivered_on,
                )
                for a in status.applications
            ],
        )


class EligibilityView(BaseModel):
    worker_id: str
    status: Literal["pending_assessment", "assessed"]
    eligible_scheme_codes: list[str]
    schemes: list[DeterminationView]
    recorded_at: datetime | None
    source_event_id: str
    # For a read-only copy of another state's worker: that state's status, beside this state's own.
    home_state_status: HomeStateStatusView | None = None

    @classmethod
    def of(cls, record: WorkerRecord) -> EligibilityView:
        found = sorted(record.eligibility.determinations.values(), key=lambda d: d.scheme_code)
        return cls(
            worker_id=record.worker_id,
            status="assessed" if found else "pending_assessment",
            eligible_scheme_codes=[d.scheme_code for d in found if d.outcome is Outcome.ELIGIBLE],
            schemes=[DeterminationView.of(d) for d in found],
            recorded_at=record.recorded_at,
            source_event_id=record.source_event_id,
            home_state_status=HomeStateStatusView.of(record.home_state_status)
            if record.home_state_status is not None and record.federated_from
            else None,
        )


class ConditionBody(StrictModel):
    name: str = Field(max_length=63)
    expression: str = Field(max_length=2000)
    description: str = Field(max_length=500)
    reads: list[str] = Field(max_length=20)


class RuleVersionView(BaseModel):
    scheme_code: str
    version: int
    status: str
    conditions: list[ConditionBody]
    note: str
    drafted_by: str
    drafted_at: datetime
    published_at: datetime | None
    published_by: str
    retired_at: datetime | None
    superseded_by: int

    @classmethod
    def of(cls, r: RuleVersion) -> RuleVersionView:
        return cls(
            scheme_code=r.scheme_code,
            version=r.version,
            status=r.status.value,
            conditions=[
                ConditionBody(name=c.name, expression=c.expression, description=c.description, reads=list(c.reads))
                for c in r.conditions
            ],
            note=r.note,
            drafted_by=r.drafted_by,
            drafted_at=r.drafted_at,
            published_at=r.published_at,
            published_by=r.published_by,
            retired_at=r.retired_at,
            superseded_by=r.superseded_by,
        )


class SchemeView(BaseModel):
    code: str
    name: str
    local_names: dict[str, str]
    kind: SchemeKind
    administering_state: str
    summary: str
    benefits: list[dict[str, Any]]
    required_documents: list[dict[str, Any]]
    where_to_apply: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    renewable: bool
    rule_versions: list[RuleVersionView]
    version: int

    @classmethod
    def of(cls, s: Scheme) -> SchemeView:
        d = s.details
        return cls(
            code=s.code,
            name=d.name,
            local_names=dict(d.local_names),
            kind=d.kind,
            administering_state=d.administering_state,
            summary=d.summary,
            benefits=[
                {"kind": b.kind.value, "description": b.description, "amount_inr": b.amount_inr} for b in d.benefits
            ],
            required_documents=[
                {"description": r.description, "document_kind": r.document_kind} for r in d.required_documents
            ],
            where_to_apply=[{"description": w.description, "url": w.url} for w in d.where_to_apply],
            citations=[
                {
                    "title": c.title,
                    "authority": c.authority,
                    "reference": c.reference,
                    "issued_on": c.issued_on.isoformat() if c.issued_on else "",
                    "url": c.url,
                }
                for c in d.citations
            ],
            renewable=d.renewable,
            rule_versions=[RuleVersionView.of(r) for r in s.rule_versions],
            version=s.version,
        )


class SchemeList(BaseModel):
    schemes: list[SchemeView]


class JobView(BaseModel):
    job_id: str
    scheme_code: str
    rule_version: int
    status: str
    total: int
    processed: int
    changed: int
    progress: float
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, j: ReevaluationJob) -> JobView:
        return cls(
            job_id=j.job_id,
            scheme_code=j.scheme_code,
            rule_version=j.rule_version,
            status=j.status.value,
            total=j.total,
            processed=j.processed,
            changed=j.changed,
            progress=j.progress,
            created_at=j.created_at,
            updated_at=j.updated_at,
            completed_at=j.completed_at,
        )


class DraftBody(StrictModel):
    conditions: list[ConditionBody] = Field(min_length=1, max_length=30)
    note: str = Field(default="", max_length=500)
    expected_version: int = Field(default=0, ge=0)


class VersionBody(StrictModel):
    expected_version: int = Field(default=0, ge=0)


class DraftResponse(BaseModel):
    rule_version: RuleVersionView
    scheme_version: int


class PublishResponse(BaseModel):
    rule_version: RuleVersionView
    job: JobView


class DeclareBody(StrictModel):
    facts: dict[str, FactValue] = Field(min_length=1, max_length=20)


class TransitionView(BaseModel):
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    by_partner_id: str
    by_client_id: str
    at: datetime
    reason: str
    eligibility_outcome: Outcome | None


class DeliveryView(BaseModel):
    external_reference: str
    kind: DeliveryKind
    delivered_on: date
    amount_paise: int
    quantity: str
    state_code: str
    district_code: str
    recorded_at: datetime


class ApplicationView(BaseModel):
    application_id: str
    worker_id: str
    scheme_code: str
    state_code: str
    district_code: str
    status: ApplicationStatus
    history: list[TransitionView]
    deliveries: list[DeliveryView]
    version: int

    @classmethod
    def of(cls, a: Application) -> ApplicationView:
        return cls(
            application_id=a.application_id,
            worker_id=a.worker_id,
            scheme_code=a.scheme_code,
            state_code=a.state_code,
            district_code=a.district_code,
            status=a.status,
            history=[
                TransitionView(
                    from_status=t.from_status,
                    to_status=t.to_status,
                    by_partner_id=t.by.partner_id,
                    by_client_id=t.by.client_id,
                    at=t.at,
                    reason=t.reason,
                    eligibility_outcome=t.eligibility_outcome,
                )
                for t in a.history
            ],
            deliveries=[
                DeliveryView(
                    external_reference=d.external_reference,
                    kind=d.kind,
                    delivered_on=d.delivered_on,
                    amount_paise=d.amount_paise,
                    quantity=d.quantity,
                    state_code=d.state_code,
                    district_code=d.district_code,
                    recorded_at=d.recorded_at,
                )
                for d in a.deliveries
            ],
            version=a.version,
        )


class ApplicationBody(StrictModel):
    worker_id: str = Field(min_length=1, max_length=64)
    scheme_code: str = Field(min_length=1, max_length=40)
    state_code: str = Field(default="", pattern=r"^(\d{1,3})?$")
    district_code: str = Field(default="", pattern=r"^(\d{1,4})?$")
    reason: str = Field(default="", max_length=500)


class TransitionBody(StrictModel):
    to_status: ApplicationStatus
    reason: str = Field(default="", max_length=500)
    expected_version: int = Field(default=0, ge=0)


class DeliveryBody(StrictModel):
    external_reference: str = Field(min_length=1, max_length=128)
    kind: DeliveryKind
    delivered_on: date
    amount_paise: int = Field(default=0, ge=0)
    quantity: str = Field(default="", max_length=100)
    state_code: str = Field(default="", pattern=r"^(\d{1,3})?$")
    district_code: str = Field(default="", pattern=r"^(\d{1,4})?$")


class FunnelCellView(BaseModel):
    state_code: str
    district_code: str
    scheme_code: str
    stage: str
    count: int | None  # None: suppressed
    suppressed: bool


class FunnelView(BaseModel):
    cells: list[FunnelCellView]
    total: int | None
    min_cell_size: int

    @classmethod
    def of(cls, counts: SafeCounts[FunnelCell]) -> FunnelView:
        cells = [
            FunnelCellView(
                state_code=c.state_code,
                district_code=c.district_code,
                scheme_code=c.scheme_code,
                stage=c.stage.value,
                count=n,
                suppressed=n is None,
            )
            for c, n in sorted(
                counts.cells.items(),
                key=lambda i: (i[0].state_code, i[0].district_code, i[0].scheme_code, i[0].stage.value),
            )
        ]
        return cls(cells=cells, total=counts.total, min_cell_size=counts.min_cell_size)


# -- routes ------------------------------------------------------------------------------------------


def entitlements_router(
    catalogue: CatalogueService,
    eligibility: EligibilityService,
    applications: ApplicationService,
    funnel: FunnelService,
    auth: HttpAuth,
) -> APIRouter:
    router = APIRouter(tags=["entitlements"])
    # Dependencies as defaults: with postponed annotations FastAPI cannot see these locals in `Annotated`.
    catalogue_reader = any_scope(auth, READ_SCOPES)
    operator = auth.requires(WRITE_SCOPE)
    reader = auth.requires(Scope.ELIGIBILITY_READ)
    writer = auth.requires(Scope.ELIGIBILITY_WRITE)
    aggregates = auth.requires(Scope.AGGREGATES_READ)

    @router.get("/v1/schemes", response_model=SchemeList)
    def list_schemes(
        kind: SchemeKind | None = None, state_code: str = "", caller: Caller = catalogue_reader
    ) -> SchemeList:
        return SchemeList(
            schemes=[SchemeView.of(s) for s in catalogue.schemes(caller, kind=kind, state_code=state_code[:3])]
        )

    @router.get("/v1/schemes/{scheme_code}", response_model=SchemeView)
    def get_scheme(scheme_code: str, caller: Caller = catalogue_reader) -> SchemeView:
        return SchemeView.of(catalogue.get(scheme_code[:40], caller))

    @router.post("/v1/schemes/{scheme_code}/versions", status_code=201, response_model=DraftResponse)
    def draft_rule_version(scheme_code: str, body: DraftBody, caller: Caller = operator) -> DraftResponse:
        specs = [ConditionSpec(c.name, c.expression, c.description, tuple(c.reads)) for c in body.conditions]
        rule, scheme = catalogue.draft(
            scheme_code[:40], specs, note=body.note, expected_version=body.expected_version, caller=caller
        )
        return DraftResponse(rule_version=RuleVersionView.of(rule), scheme_version=scheme.version)

    @router.post(
        "/v1/schemes/{scheme_code}/versions/{version}:publish", status_code=202, response_model=PublishResponse
    )
    def publish_rule_version(
        scheme_code: str, version: int, body: VersionBody | None = None, caller: Caller = operator
    ) -> PublishResponse:
        published = catalogue.publish(
            scheme_code[:40], version, expected_version=body.expected_version if body else 0, caller=caller
        )
        return PublishResponse(rule_version=RuleVersionView.of(published.rule), job=JobView.of(published.job))

    @router.post("/v1/schemes/{scheme_code}/versions/{version}:retire", response_model=RuleVersionView)
    def retire_rule_version(
        scheme_code: str, version: int, body: VersionBody | None = None, caller: Caller = operator
    ) -> RuleVersionView:
        rule = catalogue.retire(
            scheme_code[:40], version, expected_version=body.expected_version if body else 0, caller=caller
        )
        return RuleVersionView.of(rule)

    @router.get("/v1/reevaluations/{job_id}", response_model=JobView)
    def get_reevaluation(job_id: str, caller: Caller = catalogue_reader) -> JobView:
        return JobView.of(catalogue.job(job_id[:80], caller))

    @router.get("/v1/eligibility/{worker_id}", response_model=EligibilityView)
    def get_eligibility(worker_id: str, caller: Caller = reader) -> EligibilityView:
        return EligibilityView.of(eligibility.get(worker_id[:64], caller))

    @router.post("/v1/workers/{worker_id}/facts", response_model=EligibilityView)
    def declare_facts(
        worker_id: str, body: DeclareBody, caller: Caller = writer, idempotency_key: IdempotencyHeader = ""
    ) -> EligibilityView:
        # Declaring the same facts again changes nothing, so a retry needs no key; it is accepted like on every write.
        return EligibilityView.of(eligibility.declare_facts(worker_id[:64], body.facts, caller))

    @router.post("/v1/applications", status_code=201, response_model=ApplicationView)
    def create_application(
        body: ApplicationBody, response: Response, caller: Caller = writer, idempotency_key: IdempotencyHeader = ""
    ) -> ApplicationView:
        application, created = applications.create(
            NewApplication(
                worker_id=body.worker_id,
                scheme_code=body.scheme_code,
                state_code=body.state_code,
                district_code=body.district_code,
                reason=body.reason,
                idempotency_key=idempotency_key,
            ),
            caller,
        )
        if not created:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        return ApplicationView.of(application)

    @router.get("/v1/applications/{application_id}", response_model=ApplicationView)
    def get_application(application_id: str, caller: Caller = reader) -> ApplicationView:
        return ApplicationView.of(applications.get(application_id[:64], caller))

    @router.post("/v1/applications/{application_id}:transition", response_model=ApplicationView)
    def transition_application(
        application_id: str, body: TransitionBody, response: Response, caller: Caller = writer
    ) -> ApplicationView:
        application, replayed = applications.transition(
            application_id[:64], body.to_status, caller, reason=body.reason, expected_version=body.expected_version
        )
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return ApplicationView.of(application)

    @router.post("/v1/applications/{application_id}/deliveries", status_code=201, response_model=ApplicationView)
    def record_delivery(
        application_id: str,
        body: DeliveryBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> ApplicationView:
        # Idempotent by the external reference: the key is accepted, the reference decides.
        application, replayed = applications.record_delivery(
            application_id[:64],
            NewDelivery(
                external_reference=body.external_reference,
                kind=body.kind,
                delivered_on=body.delivered_on,
                amount_paise=body.amount_paise,
                quantity=body.quantity,
                state_code=body.state_code,
                district_code=body.district_code,
            ),
            caller,
        )
        if replayed:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        return ApplicationView.of(application)

    @router.get("/v1/statistics/funnel", response_model=FunnelView)
    def get_funnel(
        state_code: str = "", district_code: str = "", scheme_code: str = "", caller: Caller = aggregates
    ) -> FunnelView:
        return FunnelView.of(funnel.funnel(FunnelFilter(state_code[:3], district_code[:4], scheme_code[:40]), caller))

    return router
