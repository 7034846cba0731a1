"""Use cases on compliance records (wage payments, recruitment costs, findings) and the compliance history.

A record is written for an organisation the caller may use (the access policy; an employer only for
itself) and, when it names a worksite, one in the caller's geography. Who wrote it decides how much it
weighs (`organisation_access.source_of`). The record, its events (`ComplianceRecorded`,
`WageShortfallFound`, `RecruitmentFeeFound`) and its audit event are stored in one write; the faust
worker then folds it into the organisation's compliance history (`history_updates`), which recomputes
the score and the risk flag. Evidence text is encrypted before it is stored and is never shown back.

Reading the compliance history is an audited read. An employer reading its own sees grievances only as
counts by category, small cells suppressed and the last `GRIEVANCE_DELAY_DAYS` left out (also from its
score), and no grievance lines; everyone else admitted sees the history sheet in full (it names no
worker).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from mrc_employer.domain.compliance_history import ComplianceHistory, RiskFlag
from mrc_employer.domain.compliance_records import (
    AccommodationStatus,
    ContractStatus,
    IloFinding,
    IloIndicator,
    ProtectedEvidence,
    RecruitmentCostKind,
    RecruitmentCostRecord,
    WorkingConditionsCheck,
)
from mrc_employer.domain.history_sheet import HistoryEntry
from mrc_employer.domain.minimum_wages import MinimumWageKey, WageSphere
from mrc_employer.domain.organisation import Organisation
from mrc_employer.domain.organisation_access import (
    GRIEVANCE_DELAY_DAYS,
    HISTORY_RESOURCE,
    RECORD_RESOURCE,
    sees_grievance_detail,
    source_of,
)
from mrc_employer.domain.score import ComplianceScore
from mrc_employer.domain.values import ZERO, WorkerRef, key_of, parse_amount, parse_date, parse_days, parse_hours
from mrc_employer.domain.wages import Deduction, DeductionKind, WageInput, WageRecord
from mrc_employer.domain.worksites import Worksite
from mrc_employer.service_layer.access import (
    READING_SCOPES,
    RECORD_WRITING_SCOPES,
    OrganisationAccess,
    require_any,
    with_purpose,
)
from mrc_employer.service_layer.minimum_wages import MinimumWageTables
from mrc_employer.service_layer.ports import (
    ComplianceRecord,
    ComplianceRecords,
    EvidenceProtector,
    Histories,
    Organisations,
)
from mrc_kernel.audit import Action, AuditRecorder
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.idempotency import IdDeriver, request_fingerprint, scoped_key
from mrc_kernel.privacy import DEFAULT_MIN_CELL_SIZE, SafeCounts

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_EVIDENCE_LENGTH = 20_000


@dataclass(frozen=True)
class RecordWage:
    organisation_id: str
    worker: WorkerRef
    worksite_id: str
    period_start: str
    period_end: str
    days_worked: str
    amount_paid: str
    skill_category: str
    overtime_paid: str = ""
    deductions: tuple[tuple[DeductionKind | None, str], ...] = ()
    # Override the worksite's wage basis; unset keeps the worksite's.
    sphere: WageSphere | None = None
    scheduled_employment: str = ""
    area: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class RecordRecruitmentCost:
    organisation_id: str
    worker: WorkerRef
    cost_kind: RecruitmentCostKind | None
    amount: str
    charged_on: str
    reimbursed: str = ""
    worksite_id: str = ""
    charged_by_organisation_id: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class RecordIloFinding:
    organisation_id: str
    indicator: IloIndicator | None
    observed_on: str
    workers_affected: int
    evidence: str
    worksite_id: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class RecordConditionsCheck:
    organisation_id: str
    worksite_id: str
    observed_on: str
    workers_covered: int
    written_contract: ContractStatus = ContractStatus.UNKNOWN
    identity_documents_retained: bool | None = None
    weekly_hours: str = ""
    overtime_paid_double: bool | None = None
    accommodation: AccommodationStatus = AccommodationStatus.UNKNOWN
    free_to_leave: bool | None = None
    worker: WorkerRef | None = None
    idempotency_key: str = ""


@dataclass(frozen=True)
class Recorded:
    record: ComplianceRecord
    created: bool


@dataclass(frozen=True)
class GrievanceCell:
    category: str
    count: int | None  # None: suppressed (fewer than the minimum cell size, but not none)


@dataclass(frozen=True)
class ComplianceView:
    organisation_id: str
    score: ComplianceScore
    risk_flag: RiskFlag
    history: list[HistoryEntry]
    next_page_token: str
    grievances_alleged: list[GrievanceCell]
    grievances_substantiated: list[GrievanceCell]
    # The caller sees grievances signalled before this many days ago only (0: up to now).
    grievances_delayed_days: int
    min_cell_size: int


def _cells(counts: SafeCounts[str]) -> list[GrievanceCell]:
    return [GrievanceCell(category, count) for category, count in sorted(counts.cells.items())]


class ComplianceService:
    def __init__(
        self,
        organisations: Organisations,
        records: ComplianceRecords,
        histories: Histories,
        tables: MinimumWageTables,
        protector: EvidenceProtector,
        audit: AuditRecorder,
        ids: IdDeriver,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    ) -> None:
        self._records = records
        self._histories = histories
        self._tables = tables
        self._protector = protector
        self._audit = audit
        self._ids = ids
        self._clock = clock
        self._new_id = new_id
        self._min_cell_size = min_cell_size
        self.access = OrganisationAccess(organisations, audit)

    # -- writing records -----------------------------------------------------------------------------

    def _writable(self, organisation_id: str, caller: Caller) -> tuple[Organisation, Caller]:
        require_any(caller, RECORD_WRITING_SCOPES)
        caller = with_purpose(caller)
        return self.access.load(organisation_id, caller, action=Action.CREATE), caller

    @staticmethod
    def _worksite(
        organisation: Organisation,
        worksite_id: str,
        caller: Caller,
        violations: list[FieldViolation],
        *,
        required: bool,
    ) -> Worksite | None:
        worksite_id = worksite_id.strip()
        if not worksite_id:
            if required:
                violations.append(FieldViolation("worksite_id", "must be set"))
            return None
        worksite = organisation.worksite(worksite_id)
        if worksite is None:
            violations.append(FieldViolation("worksite_id", "is not a worksite of this organisation"))
        elif not caller.covers_place(*worksite.place.scope):
            violations.append(FieldViolation("worksite_id", "is outside your partner's geography"))
            return None
        return worksite

    def _store(
        self,
        record: ComplianceRecord,
        command: object,
        caller: Caller,
        key: str,
        fields: Sequence[str],
        state_code: str,
    ) -> Recorded:
        payload = asdict(command)  # type: ignore[call-overload]
        payload.pop("idempotency_key")
        audit = self._audit.event(
            caller, Action.CREATE, RECORD_RESOURCE, record.record_id, fields, state_code=state_code
        )
        stored, created = self._records.add(
            record,
            recorded_by_partner_id=caller.partner_id,
            idempotency_key=scoped_key(caller.partner_id, key),
            fingerprint=request_fingerprint(payload),
            also_publish=[audit],
        )
        return Recorded(stored, created)

    def _record_id(self, kind: str, caller: Caller, key: str) -> str:
        return self._ids.derive(kind, scoped_key(caller.partner_id, key))

    def record_wage(self, command: RecordWage, caller: Caller) -> Recorded:
        organisation, caller = self._writable(command.organisation_id, caller)
        key = command.idempotency_key or self._new_id()
        violations: list[FieldViolation] = []
        worksite = self._worksite(organisation, command.worksite_id, caller, violations, required=True)
        start = parse_date("period_start", command.period_start, violations)
        end = parse_date("period_end", command.period_end, violations)
        days = parse_days("days_worked", command.days_worked, violations)
        paid = parse_amount("amount_paid", command.amount_paid, violations)
        overtime = parse_amount("overtime_paid", command.overtime_paid, violations, required=False)
        deductions: list[Deduction] = []
        for position, (kind, amount_text) in enumerate(command.deductions):
            if kind is None:
                violations.append(
                    FieldViolation(f"deductions.{position}.kind", f"must be one of {', '.join(DeductionKind)}")
                )
            amount = parse_amount(f"deductions.{position}.amount", amount_text, violations, positive=True)
            if kind is not None and amount is not None:
                deductions.append(Deduction(kind, amount))
        skill = key_of(command.skill_category)
        if not skill:
            violations.append(FieldViolation("skill_category", "must be set, e.g. unskilled or semi_skilled"))
        if violations or worksite is None or start is None or end is None or days is None or paid is None:
            raise InvalidArgument(violations)
        basis = worksite.wage_basis
        given = WageInput(
            worker=command.worker,
            worksite_id=worksite.worksite_id,
            period_start=start,
            period_end=end,
            days_worked=days,
            amount_paid=paid,
            overtime_paid=overtime or ZERO,
            deductions=tuple(deductions),
            key=MinimumWageKey(
                sphere=command.sphere or basis.sphere,
                state_code=worksite.place.state_code,
                scheduled_employment=key_of(command.scheduled_employment) or basis.scheduled_employment,
                skill_category=skill,
                area=key_of(command.area) or basis.area,
            ),
        )
        record = WageRecord.record(
            record_id=self._record_id("wage-record", caller, key),
            organisation_id=organisation.organisation_id,
            given=given,
            table=self._tables.current(),
            source=source_of(caller),
            now=self._clock(),
        )
        fields = ("worker", "period", "days_worked", "amount_paid", "deductions")
        return self._store(record, command, caller, key, fields, worksite.place.state_code)

    def record_recruitment_cost(self, command: RecordRecruitmentCost, caller: Caller) -> Recorded:
        organisation, caller = self._writable(command.organisation_id, caller)
        key = command.idempotency_key or self._new_id()
        violations: list[FieldViolation] = []
        worksite = self._worksite(organisation, command.worksite_id, caller, violations, required=False)
        amount = parse_amount("amount", command.amount, violations, positive=True)
        reimbursed = parse_amount("reimbursed", command.reimbursed, violations, required=False)
        charged_on = parse_date("charged_on", command.charged_on, violations)
        charged_by = command.charged_by_organisation_id.strip()
        chain = {
            organisation.organisation_id,
            *organisation.recruited_by,
            *(link.client_id for link in organisation.recruits_for),
        }
        if charged_by and charged_by not in chain:
            violations.append(
                FieldViolation("charged_by_employer_id", "must be this organisation or one in its recruitment chain")
            )
        if violations or amount is None or charged_on is None:
            raise InvalidArgument(violations)
        record = RecruitmentCostRecord.record(
            record_id=self._record_id("recruitment-cost", caller, key),
            organisation_id=organisation.organisation_id,
            worksite_id=worksite.worksite_id if worksite else "",
            worker=command.worker,
            cost_kind=command.cost_kind,
            amount=amount,
            reimbursed=reimbursed or ZERO,
            charged_on=charged_on,
            charged_by_organisation_id=charged_by,
            source=source_of(caller),
            now=self._clock(),
        )
        state = worksite.place.state_code if worksite else organisation.location.state_code
        fields = ("worker", "cost_kind", "amount", "reimbursed", "charged_on")
        return self._store(record, command, caller, key, fields, state)

    def record_ilo_finding(self, command: RecordIloFinding, caller: Caller) -> Recorded:
        organisation, caller = self._writable(command.organisation_id, caller)
        key = command.idempotency_key or self._new_id()
        violations: list[FieldViolation] = []
        worksite = self._worksite(organisation, command.worksite_id, caller, violations, required=False)
        observed_on = parse_date("observed_on", command.observed_on, violations)
        evidence = command.evidence.strip()
        if not evidence:
            violations.append(FieldViolation("evidence", "must describe what was found"))
        elif len(evidence) > MAX_EVIDENCE_LENGTH:
            violations.append(FieldViolation("evidence", f"must be at most {MAX_EVIDENCE_LENGTH} characters"))
        if violations or observed_on is None:
            raise InvalidArgument(violations)
        state = worksite.place.state_code if worksite else organisation.location.state_code
        record = IloFinding.record(
            record_id=self._record_id("ilo-finding", caller, key),
            organisation_id=organisation.organisation_id,
            worksite_id=worksite.worksite_id if worksite else "",
            indicator=command.indicator,
            observed_on=observed_on,
            workers_affected=command.workers_affected,
            evidence=ProtectedEvidence(self._protector.protect(state, evidence)),
            source=source_of(caller),
            now=self._clock(),
        )
        fields = ("indicator", "observed_on", "workers_affected", "evidence")
        return self._store(record, command, caller, key, fields, state)

    def record_conditions_check(self, command: RecordConditionsCheck, caller: Caller) -> Recorded:
        organisation, caller = self._writable(command.organisation_id, caller)
        key = command.idempotency_key or self._new_id()
        violations: list[FieldViolation] = []
        worksite = self._worksite(organisation, command.worksite_id, caller, violations, required=True)
        observed_on = parse_date("observed_on", command.observed_on, violations)
        hours = parse_hours("weekly_hours", command.weekly_hours, violations)
        if violations or worksite is None or observed_on is None:
            raise InvalidArgument(violations)
        record = WorkingConditionsCheck.record(
            record_id=self._record_id("conditions-check", caller, key),
            organisation_id=organisation.organisation_id,
            worksite_id=worksite.worksite_id,
            observed_on=observed_on,
            workers_covered=command.workers_covered,
            written_contract=command.written_contract,
            identity_documents_retained=command.identity_documents_retained,
            weekly_hours=hours,
            overtime_paid_double=command.overtime_paid_double,
            accommodation=command.accommodation,
            free_to_leave=command.free_to_leave,
            worker=command.worker,
            source=source_of(caller),
            now=self._clock(),
        )
        fields = ("observed_on", "workers_covered", "written_contract", "identity_documents", "hours")
        return self._store(record, command, caller, key, fields, worksite.place.state_code)

    # -- reading the history -------------------------------------------------------------------------

    def compliance(
        self, organisation_id: str, caller: Caller, *, page_size: int = DEFAULT_PAGE_SIZE, page_token: str = ""
    ) -> ComplianceView:
        require_any(caller, READING_SCOPES)
        caller = with_purpose(caller)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument.for_field("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
        start = _offset(page_token)
        organisation = self.access.load(organisation_id, caller)
        history = self._histories.get(organisation.organisation_id) or ComplianceHistory(organisation.organisation_id)
        today = self._clock().date()
        if sees_grievance_detail(caller):
            score = history.compute(today)
            lines = history.history_sheet()
            alleged, substantiated = history.safe_grievance_counts(min_cell_size=1)
            delay, cell_size = 0, 1
        else:
            cutoff: date = today - timedelta(days=GRIEVANCE_DELAY_DAYS)
            score = history.compute(today, grievances_known_before=cutoff)
            lines = history.history_sheet(with_grievances=False)
            alleged, substantiated = history.safe_grievance_counts(
                known_before=cutoff, min_cell_size=self._min_cell_size
            )
            delay, cell_size = GRIEVANCE_DELAY_DAYS, self._min_cell_size
        self._audit.record(
            caller,
            Action.READ,
            HISTORY_RESOURCE,
            organisation.organisation_id,
            ("score", "history", "grievance_counts"),
            state_code=organisation.location.state_code,
        )
        page = lines[start : start + page_size]
        more = start + page_size < len(lines)
        return ComplianceView(
            organisation_id=organisation.organisation_id,
            score=score,
            risk_flag=history.flag,
            history=page,
            next_page_token=str(start + page_size) if more else "",
            grievances_alleged=_cells(alleged),
            grievances_substantiated=_cells(substantiated),
            grievances_delayed_days=delay,
            min_cell_size=cell_size,
        )


def _offset(page_token: str) -> int:
    if not page_token:
        return 0
    if not page_token.isdigit() or len(page_token) > 9:
        raise InvalidArgument(FieldViolation("page_token", "is not a token this listing gave"))
    return int(page_token)
