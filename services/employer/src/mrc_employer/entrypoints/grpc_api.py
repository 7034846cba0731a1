"""gRPC API of mrc.employer.v1: EmployerService, EmployerDetailsService, ComplianceService,
MinimumWagesService and VerificationService.

Every RPC needs `authorization: Bearer <token>` metadata with its scope and calls the same use cases as
REST, so the access policy answers both alike (an organisation out of reach is NOT_FOUND). Error
messages never echo the input.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from mrc.common.v1 import common_pb2
from mrc.employer.v1 import (
    compliance_pb2,
    compliance_service_pb2,
    compliance_service_pb2_grpc,
    employer_details_service_pb2,
    employer_details_service_pb2_grpc,
    employer_pb2,
    employer_service_pb2,
    employer_service_pb2_grpc,
    minimum_wage_pb2,
    minimum_wages_service_pb2,
    minimum_wages_service_pb2_grpc,
    verification_service_pb2,
    verification_service_pb2_grpc,
    worksite_pb2,
)
from mrc_employer.adapters.protobuf_mapping import (
    code,
    conditions_to_proto,
    flag_to_proto,
    history_entry_to_proto,
    ilo_finding_to_proto,
    link_to_proto,
    member,
    observed,
    organisation_to_proto,
    rate_to_proto,
    recruitment_cost_to_proto,
    score_to_proto,
    verification_to_proto,
    wage_to_proto,
    worksite_to_proto,
)
from mrc_employer.domain.compliance_records import (
    AccommodationStatus,
    ContractStatus,
    IloFinding,
    IloIndicator,
    RecruitmentCostKind,
    RecruitmentCostRecord,
    WorkingConditionsCheck,
)
from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.licences import LicenceInput, LicenceKind, LicenceStatus
from mrc_employer.domain.minimum_wages import RateCaveat, RateInput, RateUnit, ValueStatus, WageSphere
from mrc_employer.domain.organisation import EmployerKind, IdentifierInput, OrganisationRole
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.wage_register_job import WageRegisterJob
from mrc_employer.domain.wages import DeductionKind, WageRecord
from mrc_employer.domain.worksites import WorksiteKind
from mrc_employer.entrypoints.http_wage_registers import background_imports, run_logged
from mrc_employer.service_layer.access import READING_SCOPES, RECORD_WRITING_SCOPES
from mrc_employer.service_layer.compliance import (
    ComplianceService,
    GrievanceCell,
    RecordConditionsCheck,
    RecordIloFinding,
    RecordRecruitmentCost,
    RecordWage,
)
from mrc_employer.service_layer.minimum_wages import LISTING_SCOPES, MinimumWageService
from mrc_employer.service_layer.organisations import (
    AddRecruitmentLink,
    AddWorksite,
    ChangeLicenceStatus,
    OrganisationService,
    RecordLicence,
    RegisterOrganisation,
)
from mrc_employer.service_layer.verification import VERIFYING_SCOPES, VerificationService
from mrc_employer.service_layer.wage_registers import WageRegisterImporter
from mrc_kernel.caller import Caller
from mrc_kernel.errors import FieldViolation, InvalidArgument, PermissionDenied
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.client_address import limit_key
from mrc_plumbing.auth.grpc import GrpcAuth, grpc_client_address
from mrc_plumbing.auth.rate_limit import Limiter
from mrc_plumbing.protobuf import place_from_proto, timestamp

MAX_ID_LENGTH = 64


def _any_scope(auth: GrpcAuth, context: grpc.ServicerContext, scopes: Sequence[Scope]) -> Caller:
    for scope in scopes[:-1]:
        try:
            return auth.require(context, scope)
        except PermissionDenied:
            continue
    try:
        return auth.require(context, scopes[-1])
    except PermissionDenied:
        raise PermissionDenied(f"this operation needs one of the scopes {', '.join(s.value for s in scopes)}") from None


def _id(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidArgument.for_field(field, "must be set")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument.for_field(field, f"must be at most {MAX_ID_LENGTH} characters")
    return value.strip()


def _worker(message: compliance_pb2.WorkerReference) -> WorkerRef:
    return WorkerRef(message.registry_worker_id, message.employer_worker_code)


def _licence_input(message: employer_pb2.LicenceInput) -> LicenceInput:
    return LicenceInput(
        kind=member(employer_pb2.LicenceKind, LicenceKind, message.kind),
        number=message.number,
        issuing_authority=message.issuing_authority,
        valid_from=message.valid_from,
        valid_until=message.valid_until,
        issuing_state_code=message.issuing_state_code,
        max_workers=message.max_workers or None,
    )


def _page(page: common_pb2.PageRequest, default: int = 100) -> tuple[int, str]:
    return (page.page_size or default), page.page_token


class EmployerServicer(employer_service_pb2_grpc.EmployerServiceServicer):
    def __init__(self, organisations: OrganisationService, auth: GrpcAuth) -> None:
        self._organisations = organisations
        self._auth = auth

    def RegisterEmployer(  # noqa: N802 - the RPC's name
        self, request: employer_service_pb2.RegisterEmployerRequest, context: grpc.ServicerContext
    ) -> employer_service_pb2.RegisterEmployerResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        roles = [member(employer_pb2.OrganisationRole, OrganisationRole, r) for r in request.roles]
        if any(role is None for role in roles):
            raise InvalidArgument.for_field("roles", "holds an unknown role")
        result = self._organisations.register(
            RegisterOrganisation(
                legal_name=request.legal_name,
                sector=request.sector,
                location=place_from_proto(request.location),
                roles=frozenset(r for r in roles if r is not None),
                kind=member(employer_pb2.EmployerKind, EmployerKind, request.kind),
                identifiers=tuple(
                    IdentifierInput(member(employer_pb2.IdentifierKind, IdentifierKind, i.kind), i.value)
                    for i in request.identifiers
                ),
                licences=tuple(_licence_input(licence) for licence in request.licences),
                registration_number=request.registration_number,
                idempotency_key=request.idempotency_key,
            ),
            caller,
        )
        return employer_service_pb2.RegisterEmployerResponse(employer=organisation_to_proto(result.organisation))

    def GetEmployer(  # noqa: N802
        self, request: employer_service_pb2.GetEmployerRequest, context: grpc.ServicerContext
    ) -> employer_service_pb2.GetEmployerResponse:
        caller = _any_scope(self._auth, context, READING_SCOPES)
        view = self._organisations.get(_id(request.employer_id, "employer_id"), caller)
        return employer_service_pb2.GetEmployerResponse(
            employer=organisation_to_proto(view.organisation), risk_flag=flag_to_proto(view.risk_flag)
        )


class EmployerDetailsServicer(employer_details_service_pb2_grpc.EmployerDetailsServiceServicer):
    def __init__(self, organisations: OrganisationService, auth: GrpcAuth) -> None:
        self._organisations = organisations
        self._auth = auth

    def CheckEmployerReference(  # noqa: N802
        self, request: employer_details_service_pb2.CheckEmployerReferenceRequest, context: grpc.ServicerContext
    ) -> employer_details_service_pb2.CheckEmployerReferenceResponse:
        caller = _any_scope(self._auth, context, READING_SCOPES)
        organisation = self._organisations.check_reference(_id(request.employer_id, "employer_id"), caller)
        return employer_details_service_pb2.CheckEmployerReferenceResponse(
            employer_id=organisation.organisation_id,
            legal_name=organisation.legal_name,
            roles=sorted(code(employer_pb2.OrganisationRole, r) for r in organisation.roles),
            state_code=organisation.location.state_code,
            district_code=organisation.location.district_code,
        )

    def RecordLicence(  # noqa: N802
        self, request: employer_details_service_pb2.RecordLicenceRequest, context: grpc.ServicerContext
    ) -> employer_details_service_pb2.RecordLicenceResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        result = self._organisations.record_licence(
            RecordLicence(
                _id(request.employer_id, "employer_id"),
                _licence_input(request.licence),
                expected_version=request.expected_version,
            ),
            caller,
        )
        return employer_details_service_pb2.RecordLicenceResponse(employer=organisation_to_proto(result.organisation))

    def ChangeLicenceStatus(  # noqa: N802
        self, request: employer_details_service_pb2.ChangeLicenceStatusRequest, context: grpc.ServicerContext
    ) -> employer_details_service_pb2.ChangeLicenceStatusResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        organisation = self._organisations.change_licence_status(
            ChangeLicenceStatus(
                _id(request.employer_id, "employer_id"),
                request.licence_number,
                member(employer_pb2.LicenceStatus, LicenceStatus, request.status),
                request.reason,
                request.expected_version,
            ),
            caller,
        )
        return employer_details_service_pb2.ChangeLicenceStatusResponse(employer=organisation_to_proto(organisation))

    def AddWorksite(  # noqa: N802
        self, request: employer_details_service_pb2.AddWorksiteRequest, context: grpc.ServicerContext
    ) -> employer_details_service_pb2.AddWorksiteResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        worksite, _ = self._organisations.add_worksite(
            AddWorksite(
                organisation_id=_id(request.employer_id, "employer_id"),
                kind=member(worksite_pb2.WorksiteKind, WorksiteKind, request.kind),
                sector=request.sector,
                location=place_from_proto(request.location),
                sphere=member(worksite_pb2.WageSphere, WageSphere, request.wage_basis.sphere),
                scheduled_employment=request.wage_basis.scheduled_employment,
                area=request.wage_basis.area,
                name=request.name,
                idempotency_key=request.idempotency_key,
            ),
            caller,
        )
        return employer_details_service_pb2.AddWorksiteResponse(worksite=worksite_to_proto(worksite))

    def AddRecruitmentLink(  # noqa: N802
        self, request: employer_details_service_pb2.AddRecruitmentLinkRequest, context: grpc.ServicerContext
    ) -> employer_details_service_pb2.AddRecruitmentLinkResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        link, _ = self._organisations.add_recruitment_link(
            AddRecruitmentLink(
                recruiter_id=_id(request.employer_id, "employer_id"),
                client_id=request.client_id,
                since=request.since,
                until=request.until,
                worksite_id=request.worksite_id,
                idempotency_key=request.idempotency_key,
            ),
            caller,
        )
        return employer_details_service_pb2.AddRecruitmentLinkResponse(link=link_to_proto(link))


def _job_to_proto(job: WageRegisterJob) -> compliance_service_pb2.WageRegisterImport:
    return compliance_service_pb2.WageRegisterImport(
        job_id=job.job_id,
        employer_id=job.organisation_id,
        status=code(compliance_service_pb2.ImportStatus, job.status),
        rows_total=job.counts.total,
        rows_done=job.counts.done,
        rows_stored=job.counts.stored,
        rows_refused=job.counts.refused,
        rows_below_minimum=job.counts.below_minimum,
        rows_no_applicable_rate=job.counts.no_applicable_rate,
        file_name=job.file_name,
        sha256=job.sha256,
        error=job.error,
        created_at=timestamp(job.created_at),
        updated_at=timestamp(job.updated_at),
    )


def _counts(cells: list[GrievanceCell]) -> list[compliance_pb2.GrievanceCount]:
    return [
        compliance_pb2.GrievanceCount(category=c.category, count=c.count or 0, suppressed=c.count is None)
        for c in cells
    ]


class ComplianceServicer(compliance_service_pb2_grpc.ComplianceServiceServicer):
    def __init__(self, compliance: ComplianceService, importer: WageRegisterImporter, auth: GrpcAuth) -> None:
        self._compliance = compliance
        self._importer = importer
        self._auth = auth

    def _recorder(self, context: grpc.ServicerContext) -> Caller:
        return _any_scope(self._auth, context, RECORD_WRITING_SCOPES)

    def RecordWagePayment(  # noqa: N802
        self, request: compliance_service_pb2.RecordWagePaymentRequest, context: grpc.ServicerContext
    ) -> compliance_service_pb2.RecordWagePaymentResponse:
        caller = self._recorder(context)
        payment = request.payment
        deductions = tuple(
            (member(compliance_pb2.DeductionKind, DeductionKind, d.kind), d.amount_inr) for d in payment.deductions
        )
        result = self._compliance.record_wage(
            RecordWage(
                organisation_id=_id(request.employer_id, "employer_id"),
                worker=_worker(payment.worker),
                worksite_id=payment.worksite_id,
                period_start=payment.period_start,
                period_end=payment.period_end,
                days_worked=payment.days_worked,
                amount_paid=payment.amount_paid_inr,
                overtime_paid=payment.overtime_paid_inr,
                deductions=deductions,
                skill_category=payment.skill_category,
                sphere=member(worksite_pb2.WageSphere, WageSphere, payment.sphere),
                scheduled_employment=payment.scheduled_employment,
                area=payment.area,
                idempotency_key=request.idempotency_key,
            ),
            caller,
        )
        assert isinstance(result.record, WageRecord)
        return compliance_service_pb2.RecordWagePaymentResponse(wage_payment=wage_to_proto(result.record))

    def StartWageRegisterImport(  # noqa: N802
        self, request: compliance_service_pb2.StartWageRegisterImportRequest, context: grpc.ServicerContext
    ) -> compliance_service_pb2.StartWageRegisterImportResponse:
        caller = self._recorder(context)
        outcome, work = self._importer.start(
            request.employer_id, request.file_name, request.content, caller, idempotency_key=request.idempotency_key
        )
        if work is not None:
            background_imports.submit(run_logged, work, outcome.job.job_id)
        return compliance_service_pb2.StartWageRegisterImportResponse(job=_job_to_proto(outcome.job))

    def GetWageRegisterImport(  # noqa: N802
        self, request: compliance_service_pb2.GetWageRegisterImportRequest, context: grpc.ServicerContext
    ) -> compliance_service_pb2.GetWageRegisterImportResponse:
        caller = self._recorder(context)
        job = self._importer.job(_id(request.job_id, "job_id"), caller)
        return compliance_service_pb2.GetWageRegisterImportResponse(
            job=_job_to_proto(job),
            errors=[
                compliance_service_pb2.WageRegisterRowError(
                    row=p.row, row_key=p.row_key, column=p.column, problem=p.problem, code=p.code
                )
                for p in self._importer.report(job.job_id, caller)
            ],
        )

    def RecordRecruitmentCost(  # noqa: N802
        self, request: compliance_service_pb2.RecordRecruitmentCostRequest, context: grpc.ServicerContext
    ) -> compliance_service_pb2.RecordRecruitmentCostResponse:
        caller = self._recorder(context)
        result = self._compliance.record_recruitment_cost(
            RecordRecruitmentCost(
                organisation_id=_id(request.employer_id, "employer_id"),
                worker=_worker(request.worker),
                cost_kind=member(compliance_pb2.RecruitmentCostKind, RecruitmentCostKind, request.cost_kind),
                amount=request.amount_inr,
                reimbursed=request.reimbursed_inr,
                charged_on=request.charged_on,
                worksite_id=request.worksite_id,
                charged_by_organisation_id=request.charged_by_employer_id,
                idempotency_key=request.idempotency_key,
            ),
            caller,
        )
        assert isinstance(result.record, RecruitmentCostRecord)
        return compliance_service_pb2.RecordRecruitmentCostResponse(
            recruitment_cost=recruitment_cost_to_proto(result.record)
        )

    def RecordFinding(  # noqa: N802
        self, request: compliance_service_pb2.RecordFindingRequest, context: grpc.ServicerContext
    ) -> compliance_service_pb2.RecordFindingResponse:
        caller = self._recorder(context)
        employer_id = _id(request.employer_id, "employer_id")
        match request.WhichOneof("finding"):
            case "ilo_finding":
                found = request.ilo_finding
                result = self._compliance.record_ilo_finding(
                    RecordIloFinding(
                        organisation_id=employer_id,
                        indicator=member(compliance_pb2.IloIndicator, IloIndicator, found.indicator),
                        observed_on=found.observed_on,
                        workers_affected=found.workers_affected,
                        evidence=found.evidence,
                        worksite_id=found.worksite_id,
                        idempotency_key=request.idempotency_key,
                    ),
                    caller,
                )
                assert isinstance(result.record, IloFinding)
                return compliance_service_pb2.RecordFindingResponse(ilo_finding=ilo_finding_to_proto(result.record))
            case "working_conditions":
                check = request.working_conditions
                result = self._compliance.record_conditions_check(
                    RecordConditionsCheck(
                        organisation_id=employer_id,
                        worksite_id=check.worksite_id,
                        observed_on=check.observed_on,
                        workers_covered=check.workers_covered,
                        written_contract=member(compliance_pb2.ContractStatus, ContractStatus, check.written_contract)
                        or ContractStatus.UNKNOWN,
                        identity_documents_retained=observed(check.identity_documents_retained),
                        weekly_hours=check.weekly_hours,
                        overtime_paid_double=observed(check.overtime_paid_double),
                        accommodation=member(
                            compliance_pb2.AccommodationStatus, AccommodationStatus, check.accommodation
                        )
                        or AccommodationStatus.UNKNOWN,
                        free_to_leave=observed(check.free_to_leave),
                        worker=_worker(check.worker) if check.HasField("worker") else None,
                        idempotency_key=request.idempotency_key,
                    ),
                    caller,
                )
                assert isinstance(result.record, WorkingConditionsCheck)
                return compliance_service_pb2.RecordFindingResponse(
                    working_conditions=conditions_to_proto(result.record)
                )
        raise InvalidArgument(FieldViolation("finding", "give an ilo_finding or a working_conditions check"))

    def GetCompliance(  # noqa: N802
        self, request: compliance_service_pb2.GetComplianceRequest, context: grpc.ServicerContext
    ) -> compliance_service_pb2.GetComplianceResponse:
        caller = _any_scope(self._auth, context, READING_SCOPES)
        page_size, page_token = _page(request.page)
        view = self._compliance.compliance(
            _id(request.employer_id, "employer_id"), caller, page_size=page_size, page_token=page_token
        )
        return compliance_service_pb2.GetComplianceResponse(
            employer_id=view.organisation_id,
            score=score_to_proto(view.score),
            risk_flag=flag_to_proto(view.risk_flag),
            history=[history_entry_to_proto(e) for e in view.history],
            page=common_pb2.PageResponse(next_page_token=view.next_page_token),
            grievances_alleged=_counts(view.grievances_alleged),
            grievances_substantiated=_counts(view.grievances_substantiated),
            grievances_delayed_days=view.grievances_delayed_days,
            min_cell_size=view.min_cell_size,
        )


def _rate_input(message: minimum_wage_pb2.MinimumWageRateInput) -> RateInput:
    caveats = [member(minimum_wage_pb2.RateCaveat, RateCaveat, c) for c in message.caveats]
    return RateInput(
        sphere=member(worksite_pb2.WageSphere, WageSphere, message.sphere),
        state_code=message.state_code,
        scheduled_employment=message.scheduled_employment,
        skill_category=message.skill_category,
        area=message.area,
        unit=member(minimum_wage_pb2.RateUnit, RateUnit, message.unit),
        amount=message.amount_inr,
        effective_from=message.effective_from,
        notification_ref=message.notification_ref,
        source_urls=tuple(message.source_urls),
        effective_until=message.effective_until,
        basic=message.basic_inr,
        vda=message.vda_inr,
        scheduled_employment_key=message.scheduled_employment_key,
        value_status=member(minimum_wage_pb2.ValueStatus, ValueStatus, message.value_status) or ValueStatus.STATED,
        caveats=frozenset(c for c in caveats if c is not None),
        note=message.note,
    )


class MinimumWagesServicer(minimum_wages_service_pb2_grpc.MinimumWagesServiceServicer):
    def __init__(self, service: MinimumWageService, auth: GrpcAuth) -> None:
        self._service = service
        self._auth = auth

    def ListMinimumWages(  # noqa: N802
        self, request: minimum_wages_service_pb2.ListMinimumWagesRequest, context: grpc.ServicerContext
    ) -> minimum_wages_service_pb2.ListMinimumWagesResponse:
        caller = _any_scope(self._auth, context, LISTING_SCOPES)
        page_size, page_token = _page(request.page)
        listing = self._service.list(
            caller,
            sphere=member(worksite_pb2.WageSphere, WageSphere, request.sphere),
            state_code=request.state_code,
            scheduled_employment=request.scheduled_employment,
            include_inactive=request.include_inactive,
            page_size=page_size,
            page_token=page_token,
        )
        return minimum_wages_service_pb2.ListMinimumWagesResponse(
            rates=[rate_to_proto(r) for r in listing.rates],
            page=common_pb2.PageResponse(next_page_token=listing.next_page_token),
        )

    def AddMinimumWageRate(  # noqa: N802
        self, request: minimum_wages_service_pb2.AddMinimumWageRateRequest, context: grpc.ServicerContext
    ) -> minimum_wages_service_pb2.AddMinimumWageRateResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        rate, _ = self._service.add(_rate_input(request.rate), caller, idempotency_key=request.idempotency_key)
        return minimum_wages_service_pb2.AddMinimumWageRateResponse(rate=rate_to_proto(rate))

    def SupersedeMinimumWageRate(  # noqa: N802
        self, request: minimum_wages_service_pb2.SupersedeMinimumWageRateRequest, context: grpc.ServicerContext
    ) -> minimum_wages_service_pb2.SupersedeMinimumWageRateResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        old, new = self._service.supersede(
            _id(request.rate_id, "rate_id"),
            _rate_input(request.replacement),
            request.reason,
            caller,
            expected_version=request.expected_version,
            idempotency_key=request.idempotency_key,
        )
        return minimum_wages_service_pb2.SupersedeMinimumWageRateResponse(
            superseded=rate_to_proto(old), replacement=rate_to_proto(new)
        )

    def WithdrawMinimumWageRate(  # noqa: N802
        self, request: minimum_wages_service_pb2.WithdrawMinimumWageRateRequest, context: grpc.ServicerContext
    ) -> minimum_wages_service_pb2.WithdrawMinimumWageRateResponse:
        caller = self._auth.require(context, Scope.EMPLOYERS_WRITE)
        rate = self._service.withdraw(
            _id(request.rate_id, "rate_id"), request.reason, caller, expected_version=request.expected_version
        )
        return minimum_wages_service_pb2.WithdrawMinimumWageRateResponse(rate=rate_to_proto(rate))


class VerificationServicer(verification_service_pb2_grpc.VerificationServiceServicer):
    def __init__(self, service: VerificationService, auth: GrpcAuth, per_client: Limiter, per_address: Limiter) -> None:
        self._service = service
        self._auth = auth
        self._per_client = per_client
        self._per_address = per_address

    def VerifyIdentifier(  # noqa: N802
        self, request: verification_service_pb2.VerifyIdentifierRequest, context: grpc.ServicerContext
    ) -> verification_service_pb2.VerifyIdentifierResponse:
        self._per_address.check(limit_key(grpc_client_address(context, self._auth.guard.proxies)))
        caller = _any_scope(self._auth, context, VERIFYING_SCOPES)
        self._per_client.check(caller.client_id)
        return verification_to_proto(self._service.verify(request.identifier, caller))
