"""Compliance records other than wages: recruitment costs charged to workers, working conditions
observed, and findings against the ILO indicators of forced labour.

Records come from the employer itself (self-reported), from auditors, or from partner CSOs. What an
employer reports against itself or an auditor finds is taken as established; what a partner reports is
an allegation until an auditor confirms it (the score weighs it half).

Records name workers by reference only (`WorkerRef`). Evidence behind a finding (what a worker said,
what an auditor saw) is case text: the service layer encrypts it and the domain holds only the token.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from mrc_employer.domain.values import ZERO, WorkerRef, check_id
from mrc_kernel.errors import FieldViolation, InvalidArgument

MAX_WORKERS_PER_RECORD = 10_000
MAX_EVIDENCE_TOKEN_LENGTH = 200_000
MAX_WEEKLY_HOURS = Decimal(168)
# OSH Code 2020 s. 25: at most 8 hours a day; with the weekly limit of six such days, 48 hours.
WEEKLY_HOURS_LIMIT = Decimal(48)


class RecordSource(enum.StrEnum):
    SELF_REPORTED = "self_reported"  # by the employer about itself
    AUDITOR = "auditor"  # a social auditor or labour inspector
    PARTNER = "partner"  # a partner CSO's field observation

    @property
    def establishes(self) -> bool:
        """An employer's admission or an auditor's finding stands; a partner's report is an allegation."""
        return self is not RecordSource.PARTNER


@dataclass(frozen=True)
class ProtectedEvidence:
    """Evidence text encrypted by the service layer (field cipher token); the domain never sees it."""

    token: str

    def violations(self, path: str) -> list[FieldViolation]:
        if not self.token or len(self.token) > MAX_EVIDENCE_TOKEN_LENGTH:
            return [FieldViolation(path, "evidence is missing or too long")]
        return []


@dataclass(frozen=True)
class ComplianceRecorded:
    record_id: str
    organisation_id: str
    record_kind: str  # wage, recruitment_cost, working_conditions, ilo_indicator
    worksite_id: str
    source: RecordSource
    occurred_on: date
    recorded_at: datetime


@dataclass(frozen=True)
class RecruitmentFeeFound:
    record_id: str
    organisation_id: str
    cost_kind: str
    amount: Decimal
    reimbursed: Decimal
    charged_by_organisation_id: str
    charged_on: date
    workers_affected: int = 1


RecordEvent = ComplianceRecorded | RecruitmentFeeFound


class RecruitmentCostKind(enum.StrEnum):
    """Recruitment fees and related costs, after the ILO definition (2019) to be read with the General
    principles and operational guidelines for fair recruitment: none of them is for the worker to pay."""

    RECRUITMENT_FEE = "recruitment_fee"
    MEDICAL = "medical"
    INSURANCE = "insurance"
    SKILLS_TESTING = "skills_testing"
    TRAINING = "training"
    EQUIPMENT = "equipment"
    TRAVEL_AND_LODGING = "travel_and_lodging"
    DOCUMENTS_AND_ADMINISTRATION = "documents_and_administration"
    # Never legitimate: deposits or bonds a worker forfeits on leaving.
    DEPOSIT_OR_BOND = "deposit_or_bond"
    OTHER = "other"


@dataclass
class RecruitmentCostRecord:
    record_id: str
    organisation_id: str
    worksite_id: str
    worker: WorkerRef
    cost_kind: RecruitmentCostKind
    amount: Decimal
    reimbursed: Decimal
    charged_on: date
    # Who took the money, when known: this organisation or one in its recruitment chain.
    charged_by_organisation_id: str
    source: RecordSource
    recorded_at: datetime
    pending_events: list[RecordEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(
        cls,
        *,
        record_id: str,
        organisation_id: str,
        worksite_id: str,
        worker: WorkerRef,
        cost_kind: RecruitmentCostKind | None,
        amount: Decimal,
        reimbursed: Decimal,
        charged_on: date,
        charged_by_organisation_id: str = "",
        source: RecordSource,
        now: datetime,
    ) -> RecruitmentCostRecord:
        violations = worker.violations("worker")
        worksite_id = check_id("worksite_id", worksite_id, violations, required=False)
        charged_by = check_id("charged_by_organisation_id", charged_by_organisation_id, violations, required=False)
        if cost_kind is None:
            violations.append(
                FieldViolation("cost_kind", f"must be one of {', '.join(k.value for k in RecruitmentCostKind)}")
            )
        if amount <= ZERO:
            violations.append(FieldViolation("amount", "must be more than 0"))
        if reimbursed < ZERO:
            violations.append(FieldViolation("reimbursed", "must not be negative"))
        elif reimbursed > amount:
            violations.append(FieldViolation("reimbursed", "must not exceed the amount charged"))
        if charged_on > now.date():
            violations.append(FieldViolation("charged_on", "must not be in the future"))
        if violations or cost_kind is None:
            raise InvalidArgument(violations)
        record = cls(
            record_id=record_id,
            organisation_id=organisation_id,
            worksite_id=worksite_id,
            worker=worker.tidy(),
            cost_kind=cost_kind,
            amount=amount,
            reimbursed=reimbursed,
            charged_on=charged_on,
            charged_by_organisation_id=charged_by,
            source=source,
            recorded_at=now,
        )
        record.pending_events += [
            ComplianceRecorded(record_id, organisation_id, "recruitment_cost", worksite_id, source, charged_on, now),
            RecruitmentFeeFound(
                record_id,
                organisation_id,
                cost_kind.value,
                amount,
                reimbursed,
                charged_by or organisation_id,
                charged_on,
            ),
        ]
        return record

    @property
    def remediated(self) -> bool:
        return self.reimbursed >= self.amount


class ContractStatus(enum.StrEnum):
    GIVEN_BEFORE_WORK_IN_WORKERS_LANGUAGE = "given_before_work_in_workers_language"
    GIVEN_LATE = "given_late"
    NOT_IN_WORKERS_LANGUAGE = "not_in_workers_language"
    NOT_GIVEN = "not_given"
    UNKNOWN = "unknown"


class AccommodationStatus(enum.StrEnum):
    NOT_PROVIDED = "not_provided"  # workers live elsewhere: nothing to judge
    ADEQUATE = "adequate"
    INADEQUATE = "inadequate"
    UNKNOWN = "unknown"


class ConditionBreach(enum.StrEnum):
    NO_WRITTEN_CONTRACT_BEFORE_WORK = "no_written_contract_before_work"
    IDENTITY_DOCUMENTS_RETAINED = "identity_documents_retained"
    EXCESSIVE_HOURS = "excessive_hours"
    OVERTIME_NOT_PAID_DOUBLE = "overtime_not_paid_double"
    INADEQUATE_ACCOMMODATION = "inadequate_accommodation"
    NOT_FREE_TO_LEAVE = "not_free_to_leave"


@dataclass
class WorkingConditionsCheck:
    """What was observed of working conditions at a worksite, for one worker or a group.

    `None` means not observed: only what was seen is judged.
    """

    record_id: str
    organisation_id: str
    worksite_id: str
    observed_on: date
    workers_covered: int
    written_contract: ContractStatus
    identity_documents_retained: bool | None
    weekly_hours: Decimal | None
    overtime_paid_double: bool | None
    accommodation: AccommodationStatus
    free_to_leave: bool | None
    source: RecordSource
    recorded_at: datetime
    worker: WorkerRef | None = None
    pending_events: list[RecordEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(
        cls,
        *,
        record_id: str,
        organisation_id: str,
        worksite_id: str,
        observed_on: date,
        workers_covered: int,
        written_contract: ContractStatus = ContractStatus.UNKNOWN,
        identity_documents_retained: bool | None = None,
        weekly_hours: Decimal | None = None,
        overtime_paid_double: bool | None = None,
        accommodation: AccommodationStatus = AccommodationStatus.UNKNOWN,
        free_to_leave: bool | None = None,
        worker: WorkerRef | None = None,
        source: RecordSource,
        now: datetime,
    ) -> WorkingConditionsCheck:
        violations: list[FieldViolation] = []
        worksite_id = check_id("worksite_id", worksite_id, violations)
        if not 1 <= workers_covered <= MAX_WORKERS_PER_RECORD:
            violations.append(FieldViolation("workers_covered", f"must be between 1 and {MAX_WORKERS_PER_RECORD}"))
        if worker is not None:
            violations += worker.violations("worker")
            if workers_covered != 1:
                violations.append(FieldViolation("workers_covered", "must be 1 when the check names a worker"))
        if weekly_hours is not None and not ZERO <= weekly_hours <= MAX_WEEKLY_HOURS:
            violations.append(FieldViolation("weekly_hours", f"must be between 0 and {MAX_WEEKLY_HOURS}"))
        if observed_on > now.date():
            violations.append(FieldViolation("observed_on", "must not be in the future"))
        if violations:
            raise InvalidArgument(violations)
        check = cls(
            record_id=record_id,
            organisation_id=organisation_id,
            worksite_id=worksite_id,
            observed_on=observed_on,
            workers_covered=workers_covered,
            written_contract=written_contract,
            identity_documents_retained=identity_documents_retained,
            weekly_hours=weekly_hours,
            overtime_paid_double=overtime_paid_double,
            accommodation=accommodation,
            free_to_leave=free_to_leave,
            worker=worker.tidy() if worker else None,
            source=source,
            recorded_at=now,
        )
        check.pending_events.append(
            ComplianceRecorded(record_id, organisation_id, "working_conditions", worksite_id, source, observed_on, now)
        )
        return check

    def breaches(self) -> tuple[ConditionBreach, ...]:
        found = []
        if self.written_contract in (
            ContractStatus.GIVEN_LATE,
            ContractStatus.NOT_IN_WORKERS_LANGUAGE,
            ContractStatus.NOT_GIVEN,
        ):
            found.append(ConditionBreach.NO_WRITTEN_CONTRACT_BEFORE_WORK)
        if self.identity_documents_retained:
            found.append(ConditionBreach.IDENTITY_DOCUMENTS_RETAINED)
        if self.weekly_hours is not None and self.weekly_hours > WEEKLY_HOURS_LIMIT:
            found.append(ConditionBreach.EXCESSIVE_HOURS)
        if self.overtime_paid_double is False:
            found.append(ConditionBreach.OVERTIME_NOT_PAID_DOUBLE)
        if self.accommodation is AccommodationStatus.INADEQUATE:
            found.append(ConditionBreach.INADEQUATE_ACCOMMODATION)
        if self.free_to_leave is False:
            found.append(ConditionBreach.NOT_FREE_TO_LEAVE)
        return tuple(found)


class IloIndicator(enum.StrEnum):
    """The eleven ILO indicators of forced labour (ILO Special Action Programme to Combat Forced Labour, 2012)."""

    ABUSE_OF_VULNERABILITY = "abuse_of_vulnerability"
    DECEPTION = "deception"
    RESTRICTION_OF_MOVEMENT = "restriction_of_movement"
    ISOLATION = "isolation"
    PHYSICAL_AND_SEXUAL_VIOLENCE = "physical_and_sexual_violence"
    INTIMIDATION_AND_THREATS = "intimidation_and_threats"
    RETENTION_OF_IDENTITY_DOCUMENTS = "retention_of_identity_documents"
    WITHHOLDING_OF_WAGES = "withholding_of_wages"
    DEBT_BONDAGE = "debt_bondage"
    ABUSIVE_WORKING_AND_LIVING_CONDITIONS = "abusive_working_and_living_conditions"
    EXCESSIVE_OVERTIME = "excessive_overtime"


@dataclass
class IloFinding:
    record_id: str
    organisation_id: str
    worksite_id: str
    indicator: IloIndicator
    observed_on: date
    workers_affected: int
    evidence: ProtectedEvidence
    source: RecordSource
    recorded_at: datetime
    pending_events: list[RecordEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(
        cls,
        *,
        record_id: str,
        organisation_id: str,
        worksite_id: str,
        indicator: IloIndicator | None,
        observed_on: date,
        workers_affected: int,
        evidence: ProtectedEvidence,
        source: RecordSource,
        now: datetime,
    ) -> IloFinding:
        violations: list[FieldViolation] = []
        worksite_id = check_id("worksite_id", worksite_id, violations, required=False)
        if indicator is None:
            violations.append(FieldViolation("indicator", f"must be one of {', '.join(i.value for i in IloIndicator)}"))
        if not 1 <= workers_affected <= MAX_WORKERS_PER_RECORD:
            violations.append(FieldViolation("workers_affected", f"must be between 1 and {MAX_WORKERS_PER_RECORD}"))
        violations += evidence.violations("evidence")
        if observed_on > now.date():
            violations.append(FieldViolation("observed_on", "must not be in the future"))
        if violations or indicator is None:
            raise InvalidArgument(violations)
        finding = cls(
            record_id=record_id,
            organisation_id=organisation_id,
            worksite_id=worksite_id,
            indicator=indicator,
            observed_on=observed_on,
            workers_affected=workers_affected,
            evidence=evidence,
            source=source,
            recorded_at=now,
        )
        finding.pending_events.append(
            ComplianceRecorded(record_id, organisation_id, "ilo_indicator", worksite_id, source, observed_on, now)
        )
        return finding
