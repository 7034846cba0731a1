"""REST API of organisations and their records: /v1/employers...

Every route needs a bearer token with its scope (401 without one, 403 without the scope); what the
caller may then reach is the access policy's (an organisation out of reach answers 404 like a missing
one). Creates take an `Idempotency-Key` (a retry answers 200 with `Idempotent-Replayed: true`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from mrc_employer.domain.compliance_history import RiskFlag
from mrc_employer.domain.compliance_records import (
    AccommodationStatus,
    ConditionBreach,
    ContractStatus,
    IloFinding,
    IloIndicator,
    RecordSource,
    RecruitmentCostKind,
    RecruitmentCostRecord,
    WorkingConditionsCheck,
)
from mrc_employer.domain.history_sheet import EntryKind, HistoryEntry
from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.licences import Licence, LicenceInput, LicenceKind, LicenceStatus
from mrc_employer.domain.minimum_wages import WageSphere
from mrc_employer.domain.organisation import (
    MAX_LEGAL_NAME_LENGTH,
    MAX_REGISTRATION_NUMBER_LENGTH,
    EmployerKind,
    IdentifierInput,
    Organisation,
    OrganisationRole,
)
from mrc_employer.domain.recruitment_links import RecruitmentLink
from mrc_employer.domain.score import ComplianceScore, Component, FlagReason
from mrc_employer.domain.values import PAISA
from mrc_employer.domain.wages import AssessmentOutcome, DeductionKind, WageRecord
from mrc_employer.domain.worksites import Worksite, WorksiteKind
from mrc_employer.entrypoints.http_common import (
    Amount,
    Day,
    OptionalAmount,
    WorkerBody,
    any_scope,
)
from mrc_employer.service_layer.access import READING_SCOPES, RECORD_WRITING_SCOPES
from mrc_employer.service_layer.compliance import (
    ComplianceService,
    ComplianceView,
    GrievanceCell,
    RecordConditionsCheck,
    RecordIloFinding,
    RecordRecruitmentCost,
    RecordWage,
)
from mrc_employer.service_layer.organisations import (
    AddRecruitmentLink,
    AddWorksite,
    ChangeLicenceStatus,
    OrganisationService,
    RecordLicence,
    RegisterOrganisation,
)
from mrc_kernel.caller import Caller
from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.roles import Scope
from mrc_kernel.vocabulary import Sector
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.http_models import IdempotencyHeader, IfMatchHeader, PlaceBody, StrictModel

# -- bodies -------------------------------------------------------------------------------------------


class IdentifierBody(StrictModel):
    kind: IdentifierKind
    value: str = Field(max_length=40, description="as printed; spaces and hyphens are ignored")


class LicenceBody(StrictModel):
    kind: LicenceKind
    number: str = Field(max_length=80, description="as printed by the authority")
    issuing_authority: str = Field(max_length=200)
    valid_from: Day
    valid_until: Day
    issuing_state_code: str = Field(default="", max_length=3, description="LGD; empty for a central authority")
    max_workers: int | None = Field(default=None, ge=1, le=100_000)

    def input(self) -> LicenceInput:
        return LicenceInput(
            kind=self.kind,
            number=self.number,
            issuing_authority=self.issuing_authority,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            issuing_state_code=self.issuing_state_code,
            max_workers=self.max_workers,
        )


class RegisterEmployerBody(StrictModel):
    legal_name: str = Field(min_length=1, max_length=MAX_LEGAL_NAME_LENGTH, description="as registered")
    roles: list[OrganisationRole] = Field(default_factory=list, max_length=5)
    kind: EmployerKind | None = Field(default=None, description="v1.0 clients: the kind alone becomes the one role")
    sector: Sector
    location: PlaceBody
    identifiers: list[IdentifierBody] = Field(default_factory=list, max_length=40)
    licences: list[LicenceBody] = Field(default_factory=list, max_length=40)
    registration_number: str = Field(
        default="", max_length=MAX_REGISTRATION_NUMBER_LENGTH, description="deprecated: use identifiers and licences"
    )


class WageBasisBody(StrictModel):
    sphere: WageSphere
    scheduled_employment: str = Field(max_length=100, description="key, e.g. construction")
    area: str = Field(default="", max_length=50, description="key, e.g. a, b, c; empty where the state has one rate")


class AddWorksiteBody(StrictModel):
    kind: WorksiteKind
    sector: Sector
    location: PlaceBody
    wage_basis: WageBasisBody
    name: str = Field(default="", max_length=200, description="none for a household")


class LicenceStatusBody(StrictModel):
    licence_number: str = Field(max_length=80)
    status: LicenceStatus
    reason: str = Field(max_length=500)


class RecruitmentLinkBody(StrictModel):
    client_id: str = Field(max_length=64, description="the organisation this one brings workers to")
    since: Day
    until: Day = ""
    worksite_id: str = Field(default="", max_length=64)


class DeductionBody(StrictModel):
    kind: DeductionKind
    amount: Amount


class WageRecordBody(StrictModel):
    worker: WorkerBody
    worksite_id: str = Field(max_length=64)
    period_start: Day
    period_end: Day
    days_worked: Amount
    amount_paid: Amount
    overtime_paid: OptionalAmount = ""
    deductions: list[DeductionBody] = Field(default_factory=list, max_length=20)
    skill_category: str = Field(max_length=100, description="e.g. unskilled, semi_skilled, skilled")
    sphere: WageSphere | None = Field(default=None, description="overrides the worksite's wage basis")
    scheduled_employment: str = Field(default="", max_length=100)
    area: str = Field(default="", max_length=50)


class RecruitmentRecordBody(StrictModel):
    worker: WorkerBody
    cost_kind: RecruitmentCostKind
    amount: Amount
    reimbursed: OptionalAmount = ""
    charged_on: Day
    worksite_id: str = Field(default="", max_length=64)
    charged_by_employer_id: str = Field(default="", max_length=64)


class IloFindingBody(StrictModel):
    indicator: IloIndicator
    observed_on: Day
    workers_affected: int = Field(ge=1, le=10_000)
    evidence: str = Field(max_length=20_000, description="what was found; stored encrypted, never shown back")
    worksite_id: str = Field(default="", max_length=64)


class WorkingConditionsBody(StrictModel):
    worksite_id: str = Field(max_length=64)
    observed_on: Day
    workers_covered: int = Field(ge=1, le=10_000)
    worker: WorkerBody | None = None
    written_contract: ContractStatus = ContractStatus.UNKNOWN
    identity_documents_retained: bool | None = None
    weekly_hours: OptionalAmount = ""
    overtime_paid_double: bool | None = None
    accommodation: AccommodationStatus = AccommodationStatus.UNKNOWN
    free_to_leave: bool | None = None


class FindingBody(StrictModel):
    """Exactly one of the two."""

    ilo_indicator: IloFindingBody | None = None
    working_conditions: WorkingConditionsBody | None = None


# -- views --------------------------------------------------------------------------------------------


class LicenceView(BaseModel):
    kind: LicenceKind
    number: str
    issuing_authority: str
    issuing_state_code: str
    valid_from: date
    valid_until: date
    max_workers: int | None
    status: LicenceStatus
    status_reason: str

    @classmethod
    def of(cls, licence: Licence) -> LicenceView:
        return cls(**{name: getattr(licence, name) for name in cls.model_fields})


class WorksiteView(BaseModel):
    worksite_id: str
    employer_id: str
    kind: WorksiteKind
    sector: Sector
    location: PlaceBody
    wage_basis: WageBasisBody
    name: str
    added_at: datetime

    @classmethod
    def of(cls, worksite: Worksite) -> WorksiteView:
        basis = worksite.wage_basis
        return cls(
            worksite_id=worksite.worksite_id,
            employer_id=worksite.organisation_id,
            kind=worksite.kind,
            sector=worksite.sector,
            location=PlaceBody.of(worksite.place),
            wage_basis=WageBasisBody.model_construct(
                sphere=basis.sphere, scheduled_employment=basis.scheduled_employment, area=basis.area
            ),
            name=worksite.name,
            added_at=worksite.added_at,
        )


class LinkView(BaseModel):
    link_id: str
    recruiter_id: str
    client_id: str
    worksite_id: str
    since: date
    until: date | None

    @classmethod
    def of(cls, link: RecruitmentLink) -> LinkView:
        return cls(
            link_id=link.link_id,
            recruiter_id=link.recruiter_id,
            client_id=link.client_id,
            worksite_id=link.worksite_id,
            since=link.since,
            until=link.until,
        )


class RiskFlagView(BaseModel):
    raised: bool
    crossings: int
    reasons: list[FlagReason]
    changed_at: datetime | None

    @classmethod
    def of(cls, flag: RiskFlag) -> RiskFlagView:
        return cls(raised=flag.raised, crossings=flag.crossings, reasons=list(flag.reasons), changed_at=flag.changed_at)


class EmployerView(BaseModel):
    employer_id: str
    legal_name: str
    roles: list[OrganisationRole]
    kind: EmployerKind
    sector: Sector
    location: PlaceBody
    identifiers: list[IdentifierBody]
    licences: list[LicenceView]
    registration_number: str
    worksites: list[WorksiteView]
    recruits_for: list[LinkView]
    recruited_by: list[str]
    version: int
    registered_at: datetime
    updated_at: datetime
    risk_flag: RiskFlagView | None = None

    @classmethod
    def of(cls, organisation: Organisation, flag: RiskFlag | None = None) -> EmployerView:
        return cls(
            employer_id=organisation.organisation_id,
            legal_name=organisation.legal_name,
            roles=sorted(organisation.roles),
            kind=organisation.legacy_kind,
            sector=organisation.sector,
            location=PlaceBody.of(organisation.location),
            identifiers=[IdentifierBody.model_construct(kind=i.kind, value=i.value) for i in organisation.identifiers],
            licences=[LicenceView.of(licence) for licence in organisation.licences],
            registration_number=organisation.registration_number,
            worksites=[WorksiteView.of(w) for w in organisation.worksites],
            recruits_for=[LinkView.of(link) for link in organisation.recruits_for],
            recruited_by=sorted(organisation.recruited_by),
            version=organisation.version,
            registered_at=organisation.registered_at,
            updated_at=organisation.updated_at,
            risk_flag=RiskFlagView.of(flag) if flag is not None else None,
        )


class AppliedRateView(BaseModel):
    rate_id: str
    revision: int
    start: date
    end: date
    per_day: str
    caveats: list[str]


class AssessmentView(BaseModel):
    outcome: AssessmentOutcome
    due: str
    received: str
    shortfall: str
    shortfall_per_day: str
    counted_deductions: str
    uncounted_deductions: str
    recruitment_fee_deducted: str
    rates: list[AppliedRateView]
    provisional: bool


class WageRecordView(BaseModel):
    record_id: str
    employer_id: str
    worksite_id: str
    worker: WorkerBody
    period_start: date
    period_end: date
    days_worked: str
    amount_paid: str
    assessment: AssessmentView
    source: RecordSource
    recorded_at: datetime

    @classmethod
    def of(cls, record: WageRecord) -> WageRecordView:
        a = record.assessment
        worker = WorkerBody.of(record.worker)
        assert worker is not None
        return cls(
            record_id=record.record_id,
            employer_id=record.organisation_id,
            worksite_id=record.worksite_id,
            worker=worker,
            period_start=record.period_start,
            period_end=record.period_end,
            days_worked=f"{record.days_worked:f}",
            amount_paid=f"{record.amount_paid:f}",
            assessment=AssessmentView(
                outcome=a.outcome,
                due=f"{a.due:f}",
                received=f"{a.received:f}",
                shortfall=f"{a.shortfall:f}",
                shortfall_per_day=f"{a.shortfall_per_day:f}",
                counted_deductions=f"{a.counted_deductions:f}",
                uncounted_deductions=f"{a.uncounted_deductions:f}",
                recruitment_fee_deducted=f"{a.recruitment_fee_deducted:f}",
                rates=[
                    AppliedRateView(
                        rate_id=r.rate_id,
                        revision=r.revision,
                        start=r.start,
                        end=r.end,
                        per_day=f"{r.per_day.quantize(PAISA):f}",
                        caveats=sorted(c.value for c in r.caveats),
                    )
                    for r in a.rates
                ],
                provisional=a.provisional,
            ),
            source=record.source,
            recorded_at=record.recorded_at,
        )


class RecruitmentRecordView(BaseModel):
    record_id: str
    employer_id: str
    worksite_id: str
    worker: WorkerBody
    cost_kind: RecruitmentCostKind
    amount: str
    reimbursed: str
    charged_on: date
    charged_by_employer_id: str
    source: RecordSource
    recorded_at: datetime

    @classmethod
    def of(cls, record: RecruitmentCostRecord) -> RecruitmentRecordView:
        worker = WorkerBody.of(record.worker)
        assert worker is not None
        return cls(
            record_id=record.record_id,
            employer_id=record.organisation_id,
            worksite_id=record.worksite_id,
            worker=worker,
            cost_kind=record.cost_kind,
            amount=f"{record.amount:f}",
            reimbursed=f"{record.reimbursed:f}",
            charged_on=record.charged_on,
            charged_by_employer_id=record.charged_by_organisation_id,
            source=record.source,
            recorded_at=record.recorded_at,
        )


class FindingView(BaseModel):
    """The finding as stored, without its evidence (kept encrypted, never shown back)."""

    record_id: str
    employer_id: str
    worksite_id: str
    kind: str = Field(description="ilo_indicator or working_conditions")
    indicator: IloIndicator | None = None
    workers_affected: int
    breaches: list[ConditionBreach] = Field(default_factory=list)
    observed_on: date
    source: RecordSource
    recorded_at: datetime

    @classmethod
    def of(cls, record: IloFinding | WorkingConditionsCheck) -> FindingView:
        if isinstance(record, IloFinding):
            return cls(
                record_id=record.record_id,
                employer_id=record.organisation_id,
                worksite_id=record.worksite_id,
                kind="ilo_indicator",
                indicator=record.indicator,
                workers_affected=record.workers_affected,
                observed_on=record.observed_on,
                source=record.source,
                recorded_at=record.recorded_at,
            )
        return cls(
            record_id=record.record_id,
            employer_id=record.organisation_id,
            worksite_id=record.worksite_id,
            kind="working_conditions",
            workers_affected=record.workers_covered,
            breaches=list(record.breaches()),
            observed_on=record.observed_on,
            source=record.source,
            recorded_at=record.recorded_at,
        )


class ComponentView(BaseModel):
    component: Component
    penalty: str
    cap: str
    uncapped: str
    findings: int


class ScoreView(BaseModel):
    value: str = Field(description="0 to 100, to the tenth; 100 = nothing adverse on record")
    as_of: date
    established_occasions: int
    components: list[ComponentView]

    @classmethod
    def of(cls, score: ComplianceScore) -> ScoreView:
        return cls(
            value=f"{score.value:f}",
            as_of=score.as_of,
            established_occasions=score.established_occasions,
            components=[
                ComponentView(
                    component=c.component,
                    penalty=f"{c.penalty:f}",
                    cap=f"{c.cap:f}",
                    uncapped=f"{c.uncapped:f}",
                    findings=c.findings,
                )
                for c in score.components
            ],
        )


class HistoryEntryView(BaseModel):
    entry_id: str
    kind: EntryKind
    occurred_on: date
    detail: str
    established: bool
    workers_affected: int
    amount: str | None
    provisional: bool
    remediated: bool
    severity: str

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryView:
        return cls(
            entry_id=entry.entry_id,
            kind=entry.kind,
            occurred_on=entry.occurred_on,
            detail=entry.detail,
            established=entry.established,
            workers_affected=entry.workers_affected,
            amount=None if entry.amount is None else f"{entry.amount:f}",
            provisional=entry.provisional,
            remediated=entry.remediated,
            severity=entry.severity,
        )


class GrievanceCountView(BaseModel):
    category: str
    count: int | None = Field(description="null: fewer than min_cell_size (suppressed)")

    @classmethod
    def of(cls, cell: GrievanceCell) -> GrievanceCountView:
        return cls(category=cell.category, count=cell.count)


class ComplianceResponse(BaseModel):
    employer_id: str
    score: ScoreView
    risk_flag: RiskFlagView
    history: list[HistoryEntryView]
    next_page_token: str
    grievances_alleged: list[GrievanceCountView]
    grievances_substantiated: list[GrievanceCountView]
    grievances_delayed_days: int = Field(description="grievances signalled in the last this many days are left out")
    min_cell_size: int

    @classmethod
    def of(cls, view: ComplianceView) -> ComplianceResponse:
        return cls(
            employer_id=view.organisation_id,
            score=ScoreView.of(view.score),
            risk_flag=RiskFlagView.of(view.risk_flag),
            history=[HistoryEntryView.of(e) for e in view.history],
            next_page_token=view.next_page_token,
            grievances_alleged=[GrievanceCountView.of(c) for c in view.grievances_alleged],
            grievances_substantiated=[GrievanceCountView.of(c) for c in view.grievances_substantiated],
            grievances_delayed_days=view.grievances_delayed_days,
            min_cell_size=view.min_cell_size,
        )


def _created(response: Response, location: str, created: bool) -> None:
    response.headers["Location"] = location
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"


def _version(if_match: str) -> int:
    value = if_match.strip().strip('"').removeprefix("W/").strip('"')
    if not value:
        return 0
    if not value.isdigit():
        raise InvalidArgument(FieldViolation("If-Match", 'must be the version read, e.g. "3"'))
    return int(value)


# -- routes -------------------------------------------------------------------------------------------


def employers_router(organisations: OrganisationService, compliance: ComplianceService, auth: HttpAuth) -> APIRouter:
    router = APIRouter(prefix="/v1/employers", tags=["employers"])
    writer = auth.requires(Scope.EMPLOYERS_WRITE)
    reader = any_scope(auth, *READING_SCOPES)
    recorder = any_scope(auth, *RECORD_WRITING_SCOPES)

    @router.post("", status_code=201, response_model=EmployerView, summary="Register an organisation")
    def register_employer(
        body: RegisterEmployerBody, response: Response, caller: Caller = writer, idempotency_key: IdempotencyHeader = ""
    ) -> EmployerView:
        result = organisations.register(
            RegisterOrganisation(
                legal_name=body.legal_name,
                sector=body.sector.value,
                location=body.location.place(),
                roles=frozenset(body.roles),
                kind=body.kind,
                identifiers=tuple(IdentifierInput(i.kind, i.value) for i in body.identifiers),
                licences=tuple(licence.input() for licence in body.licences),
                registration_number=body.registration_number,
                idempotency_key=idempotency_key.strip(),
            ),
            caller,
        )
        _created(response, f"/v1/employers/{result.organisation.organisation_id}", result.created)
        return EmployerView.of(result.organisation)

    @router.get("/{employer_id}", response_model=EmployerView, summary="An organisation, its worksites and links")
    def get_employer(employer_id: str, caller: Caller = reader) -> EmployerView:
        view = organisations.get(employer_id, caller)
        return EmployerView.of(view.organisation, view.risk_flag)

    @router.post("/{employer_id}/worksites", status_code=201, response_model=WorksiteView)
    def add_worksite(
        employer_id: str,
        body: AddWorksiteBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> WorksiteView:
        worksite, created = organisations.add_worksite(
            AddWorksite(
                organisation_id=employer_id,
                kind=body.kind,
                sector=body.sector.value,
                location=body.location.place(),
                sphere=body.wage_basis.sphere,
                scheduled_employment=body.wage_basis.scheduled_employment,
                area=body.wage_basis.area,
                name=body.name,
                idempotency_key=idempotency_key.strip(),
            ),
            caller,
        )
        _created(response, f"/v1/employers/{employer_id}", created)
        return WorksiteView.of(worksite)

    @router.post("/{employer_id}/licences", status_code=201, response_model=EmployerView)
    def record_licence(
        employer_id: str, body: LicenceBody, response: Response, caller: Caller = writer, if_match: IfMatchHeader = ""
    ) -> EmployerView:
        result = organisations.record_licence(
            RecordLicence(employer_id, body.input(), expected_version=_version(if_match)), caller
        )
        _created(response, f"/v1/employers/{employer_id}", result.created)
        return EmployerView.of(result.organisation)

    @router.post(
        "/{employer_id}/licence-status",
        response_model=EmployerView,
        summary="Record a licensing authority's decision (operators)",
    )
    def change_licence_status(
        employer_id: str, body: LicenceStatusBody, caller: Caller = writer, if_match: IfMatchHeader = ""
    ) -> EmployerView:
        organisation = organisations.change_licence_status(
            ChangeLicenceStatus(employer_id, body.licence_number, body.status, body.reason, _version(if_match)), caller
        )
        return EmployerView.of(organisation)

    @router.post("/{employer_id}/recruitment-links", status_code=201, response_model=LinkView)
    def add_recruitment_link(
        employer_id: str,
        body: RecruitmentLinkBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> LinkView:
        link, created = organisations.add_recruitment_link(
            AddRecruitmentLink(
                recruiter_id=employer_id,
                client_id=body.client_id,
                since=body.since,
                until=body.until,
                worksite_id=body.worksite_id,
                idempotency_key=idempotency_key.strip(),
            ),
            caller,
        )
        _created(response, f"/v1/employers/{employer_id}", created)
        return LinkView.of(link)

    @router.post(
        "/{employer_id}/wage-records",
        status_code=201,
        response_model=WageRecordView,
        summary="Record one wage payment, assessed against the minimum wage",
    )
    def record_wage(
        employer_id: str,
        body: WageRecordBody,
        response: Response,
        caller: Caller = recorder,
        idempotency_key: IdempotencyHeader = "",
    ) -> WageRecordView:
        result = compliance.record_wage(
            RecordWage(
                organisation_id=employer_id,
                worker=body.worker.ref(),
                worksite_id=body.worksite_id,
                period_start=body.period_start,
                period_end=body.period_end,
                days_worked=body.days_worked,
                amount_paid=body.amount_paid,
                overtime_paid=body.overtime_paid,
                deductions=tuple((d.kind, d.amount) for d in body.deductions),
                skill_category=body.skill_category,
                sphere=body.sphere,
                scheduled_employment=body.scheduled_employment,
                area=body.area,
                idempotency_key=idempotency_key.strip(),
            ),
            caller,
        )
        assert isinstance(result.record, WageRecord)
        _created(response, f"/v1/employers/{employer_id}/compliance", result.created)
        return WageRecordView.of(result.record)

    @router.post(
        "/{employer_id}/recruitment-records",
        status_code=201,
        response_model=RecruitmentRecordView,
        summary="Record a recruitment fee or related cost charged to a worker (Employer Pays)",
    )
    def record_recruitment_cost(
        employer_id: str,
        body: RecruitmentRecordBody,
        response: Response,
        caller: Caller = recorder,
        idempotency_key: IdempotencyHeader = "",
    ) -> RecruitmentRecordView:
        result = compliance.record_recruitment_cost(
            RecordRecruitmentCost(
                organisation_id=employer_id,
                worker=body.worker.ref(),
                cost_kind=body.cost_kind,
                amount=body.amount,
                reimbursed=body.reimbursed,
                charged_on=body.charged_on,
                worksite_id=body.worksite_id,
                charged_by_organisation_id=body.charged_by_employer_id,
                idempotency_key=idempotency_key.strip(),
            ),
            caller,
        )
        assert isinstance(result.record, RecruitmentCostRecord)
        _created(response, f"/v1/employers/{employer_id}/compliance", result.created)
        return RecruitmentRecordView.of(result.record)

    @router.post(
        "/{employer_id}/findings",
        status_code=201,
        response_model=FindingView,
        summary="Record an ILO forced-labour indicator finding or a working-conditions check",
    )
    def record_finding(
        employer_id: str,
        body: FindingBody,
        response: Response,
        caller: Caller = recorder,
        idempotency_key: IdempotencyHeader = "",
    ) -> FindingView:
        key = idempotency_key.strip()
        if (body.ilo_indicator is None) == (body.working_conditions is None):
            raise InvalidArgument(FieldViolation("finding", "give exactly one of ilo_indicator and working_conditions"))
        if body.ilo_indicator is not None:
            found = body.ilo_indicator
            result = compliance.record_ilo_finding(
                RecordIloFinding(
                    organisation_id=employer_id,
                    indicator=found.indicator,
                    observed_on=found.observed_on,
                    workers_affected=found.workers_affected,
                    evidence=found.evidence,
                    worksite_id=found.worksite_id,
                    idempotency_key=key,
                ),
                caller,
            )
        else:
            check = body.working_conditions
            assert check is not None
            result = compliance.record_conditions_check(
                RecordConditionsCheck(
                    organisation_id=employer_id,
                    worksite_id=check.worksite_id,
                    observed_on=check.observed_on,
                    workers_covered=check.workers_covered,
                    written_contract=check.written_contract,
                    identity_documents_retained=check.identity_documents_retained,
                    weekly_hours=check.weekly_hours,
                    overtime_paid_double=check.overtime_paid_double,
                    accommodation=check.accommodation,
                    free_to_leave=check.free_to_leave,
                    worker=check.worker.ref() if check.worker else None,
                    idempotency_key=key,
                ),
                caller,
            )
        assert isinstance(result.record, IloFinding | WorkingConditionsCheck)
        _created(response, f"/v1/employers/{employer_id}/compliance", result.created)
        return FindingView.of(result.record)

    @router.get(
        "/{employer_id}/compliance",
        response_model=ComplianceResponse,
        summary="The compliance score, its components, the risk flag, the history sheet and grievance counts",
    )
    def get_compliance(
        employer_id: str,
        caller: Caller = reader,
        page_size: Annotated[int, Query(ge=1, le=500)] = 100,
        page_token: Annotated[str, Query(max_length=12)] = "",
    ) -> ComplianceResponse:
        return ComplianceResponse.of(
            compliance.compliance(employer_id, caller, page_size=page_size, page_token=page_token)
        )

    return router
