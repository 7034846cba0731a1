"""Between domain objects and the published contracts (mrc.employer.v1): API messages and event envelopes.

Enums map by name: a domain value `semi_skilled` of `Foo` is `FOO_SEMI_SKILLED` in the contract, and
`FOO_UNSPECIFIED` is "not set" (None). Events carry ids and non-identifying facts only: no organisation
name, identifier, licence number or village, no worker reference, no evidence.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from google.protobuf.message import Message

from mrc.employer.v1 import (
    compliance_pb2,
    employer_pb2,
    events_pb2,
    minimum_wage_pb2,
    verification_service_pb2,
    worksite_pb2,
)
from mrc_employer.domain.compliance_history import (
    HistoryEvent,
    RiskFlag,
    RiskFlagCleared,
    RiskFlagRaised,
    ScoreChanged,
)
from mrc_employer.domain.compliance_records import (
    ComplianceRecorded,
    IloFinding,
    RecruitmentCostRecord,
    RecruitmentFeeFound,
    WorkingConditionsCheck,
)
from mrc_employer.domain.history_sheet import HistoryEntry
from mrc_employer.domain.licences import Licence
from mrc_employer.domain.minimum_wages import (
    MinimumWageEvent,
    MinimumWageRate,
    MinimumWageRateRecorded,
    MinimumWageRateSuperseded,
    MinimumWageRateWithdrawn,
)
from mrc_employer.domain.organisation import (
    LicenceRecorded,
    LicenceStatusChanged,
    Organisation,
    OrganisationEvent,
    OrganisationRegistered,
)
from mrc_employer.domain.recruitment_links import RecruitmentLink, RecruitmentLinkAdded
from mrc_employer.domain.score import ComplianceScore
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.verification import PublicVerification
from mrc_employer.domain.wages import WageAssessment, WageEvent, WageRecord, WageShortfallFound
from mrc_employer.domain.worksites import Worksite, WorksiteAdded
from mrc_employer.settings import EMPLOYERS_TOPIC, EVENT_SOURCE, MINIMUM_WAGES_TOPIC
from mrc_kernel.events import Event
from mrc_plumbing.protobuf import place_to_proto, timestamp

E = TypeVar("E", bound=enum.StrEnum)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _prefix(wrapper: Any) -> str:
    return _CAMEL.sub("_", str(wrapper.DESCRIPTOR.name)).upper()


def code(wrapper: Any, value: enum.StrEnum | str | None) -> Any:
    """The contract's enum number for a domain value (UNSPECIFIED for None or a value it lacks)."""
    if not value:
        return 0
    name = f"{_prefix(wrapper)}_{str(value).upper()}"
    return wrapper.Value(name) if name in wrapper.keys() else 0  # noqa: SIM118 - EnumTypeWrapper has no __contains__


def member(wrapper: Any, domain: type[E], number: int) -> E | None:
    """The domain value for a contract enum number; None for UNSPECIFIED or a number it does not know."""
    try:
        name = str(wrapper.Name(number))
    except ValueError:
        return None
    value = name.removeprefix(f"{_prefix(wrapper)}_").lower()
    try:
        return domain(value)
    except ValueError:
        return None


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def observation(value: bool | None) -> Any:
    if value is None:
        return compliance_pb2.OBSERVATION_UNSPECIFIED
    return compliance_pb2.OBSERVATION_YES if value else compliance_pb2.OBSERVATION_NO


def observed(value: int) -> bool | None:
    if value == compliance_pb2.OBSERVATION_YES:
        return True
    if value == compliance_pb2.OBSERVATION_NO:
        return False
    return None


# -- organisations ------------------------------------------------------------------------------------


def licence_to_proto(licence: Licence, *, for_event: bool = False) -> employer_pb2.Licence:
    return employer_pb2.Licence(
        kind=code(employer_pb2.LicenceKind, licence.kind),
        number="" if for_event else licence.number,
        issuing_authority=licence.issuing_authority,
        issuing_state_code=licence.issuing_state_code,
        valid_from=licence.valid_from.isoformat(),
        valid_until=licence.valid_until.isoformat(),
        max_workers=licence.max_workers or 0,
        status=code(employer_pb2.LicenceStatus, licence.status),
        status_reason="" if for_event else licence.status_reason,
    )


def worksite_to_proto(worksite: Worksite, *, for_event: bool = False) -> worksite_pb2.Worksite:
    return worksite_pb2.Worksite(
        worksite_id=worksite.worksite_id,
        employer_id=worksite.organisation_id,
        kind=code(worksite_pb2.WorksiteKind, worksite.kind),
        sector=worksite.sector.value,
        location=place_to_proto(worksite.place, with_village=not for_event),
        wage_basis=worksite_pb2.WageBasis(
            sphere=code(worksite_pb2.WageSphere, worksite.wage_basis.sphere),
            scheduled_employment=worksite.wage_basis.scheduled_employment,
            area=worksite.wage_basis.area,
        ),
        name=worksite.name,
        added_at=timestamp(worksite.added_at),
        version=worksite.version,
    )


def link_to_proto(link: RecruitmentLink) -> worksite_pb2.RecruitmentLink:
    message = worksite_pb2.RecruitmentLink(
        link_id=link.link_id,
        recruiter_id=link.recruiter_id,
        client_id=link.client_id,
        worksite_id=link.worksite_id,
        since=link.since.isoformat(),
        until=_day(link.until),
    )
    if link.recorded_at:
        message.recorded_at.CopyFrom(timestamp(link.recorded_at))
    return message


def organisation_to_proto(organisation: Organisation, *, for_event: bool = False) -> employer_pb2.Employer:
    """The organisation as the API shows it; `for_event` leaves out its name, identifiers, licence numbers
    and village (events carry no names or identifying text)."""
    return employer_pb2.Employer(
        employer_id=organisation.organisation_id,
        legal_name="" if for_event else organisation.legal_name,
        kind=code(employer_pb2.EmployerKind, organisation.legacy_kind),
        sector=organisation.sector.value,
        location=place_to_proto(organisation.location, with_village=not for_event),
        registration_number="" if for_event else organisation.registration_number,
        registered_at=timestamp(organisation.registered_at),
        roles=sorted(code(employer_pb2.OrganisationRole, r) for r in organisation.roles),
        identifiers=[]
        if for_event
        else [
            employer_pb2.OrganisationIdentifier(kind=code(employer_pb2.IdentifierKind, i.kind), value=i.value)
            for i in organisation.identifiers
        ],
        licences=[licence_to_proto(licence, for_event=for_event) for licence in organisation.licences],
        version=organisation.version,
        updated_at=timestamp(organisation.updated_at),
        worksites=[worksite_to_proto(w, for_event=for_event) for w in organisation.worksites],
        recruits_for=[link_to_proto(link) for link in organisation.recruits_for],
        recruited_by=sorted(organisation.recruited_by),
    )


def _envelope(message: Message, subject: str, topic: str = EMPLOYERS_TOPIC) -> Event:
    return Event.from_message(message, source=EVENT_SOURCE, subject=subject, topic=topic)


def organisation_event_envelope(event: OrganisationEvent) -> Event:
    match event:
        case OrganisationRegistered(organisation=organisation):
            message: Message = events_pb2.EmployerRegistered(
                employer=organisation_to_proto(organisation, for_event=True)
            )
            return _envelope(message, organisation.organisation_id)
        case LicenceRecorded(organisation_id=organisation_id):
            message = events_pb2.LicenceRecorded(
                employer_id=organisation_id,
                licence=licence_to_proto(event.licence, for_event=True),
                version=event.version,
            )
            return _envelope(message, organisation_id)
        case LicenceStatusChanged(organisation_id=organisation_id):
            message = events_pb2.LicenceStatusChanged(
                employer_id=organisation_id,
                licence=licence_to_proto(event.licence, for_event=True),
                previous_status=code(employer_pb2.LicenceStatus, event.previous_status),
                version=event.version,
            )
            return _envelope(message, organisation_id)
        case WorksiteAdded(worksite=worksite):
            message = events_pb2.WorksiteAdded(worksite=worksite_to_proto(worksite, for_event=True))
            return _envelope(message, worksite.organisation_id)
        case RecruitmentLinkAdded(link=link):
            return _envelope(events_pb2.RecruitmentLinkAdded(link=link_to_proto(link)), link.recruiter_id)


# -- compliance records -------------------------------------------------------------------------------


def worker_to_proto(worker: WorkerRef | None) -> compliance_pb2.WorkerReference:
    if worker is None:
        return compliance_pb2.WorkerReference()
    if worker.registry_worker_id:
        return compliance_pb2.WorkerReference(registry_worker_id=worker.registry_worker_id)
    return compliance_pb2.WorkerReference(employer_worker_code=worker.employer_worker_code)


def assessment_to_proto(assessment: WageAssessment) -> compliance_pb2.WageAssessment:
    return compliance_pb2.WageAssessment(
        outcome=code(compliance_pb2.AssessmentOutcome, assessment.outcome),
        due_inr=_money(assessment.due),
        received_inr=_money(assessment.received),
        shortfall_inr=_money(assessment.shortfall),
        shortfall_per_day_inr=_money(assessment.shortfall_per_day),
        counted_deductions_inr=_money(assessment.counted_deductions),
        uncounted_deductions_inr=_money(assessment.uncounted_deductions),
        recruitment_fee_deducted_inr=_money(assessment.recruitment_fee_deducted),
        rates=[
            compliance_pb2.AppliedRate(
                rate_id=r.rate_id,
                revision=r.revision,
                start=r.start.isoformat(),
                end=r.end.isoformat(),
                per_day_inr=_money(r.per_day.quantize(Decimal("0.01"))),
                caveats=sorted(code(minimum_wage_pb2.RateCaveat, c) for c in r.caveats),
            )
            for r in assessment.rates
        ],
        provisional=assessment.provisional,
    )


def wage_to_proto(record: WageRecord) -> compliance_pb2.WagePayment:
    return compliance_pb2.WagePayment(
        record_id=record.record_id,
        employer_id=record.organisation_id,
        payment=compliance_pb2.WagePaymentInput(
            worker=worker_to_proto(record.worker),
            worksite_id=record.worksite_id,
            period_start=record.period_start.isoformat(),
            period_end=record.period_end.isoformat(),
            days_worked=f"{record.days_worked:f}",
            amount_paid_inr=_money(record.amount_paid),
            overtime_paid_inr=_money(record.overtime_paid),
            deductions=[
                compliance_pb2.Deduction(kind=code(compliance_pb2.DeductionKind, d.kind), amount_inr=_money(d.amount))
                for d in record.deductions
            ],
            skill_category=record.key.skill_category,
            sphere=code(worksite_pb2.WageSphere, record.key.sphere),
            scheduled_employment=record.key.scheduled_employment,
            area=record.key.area,
        ),
        assessment=assessment_to_proto(record.assessment),
        source=code(compliance_pb2.RecordSource, record.source),
        recorded_at=timestamp(record.recorded_at),
    )


def recruitment_cost_to_proto(record: RecruitmentCostRecord) -> compliance_pb2.RecruitmentCost:
    return compliance_pb2.RecruitmentCost(
        record_id=record.record_id,
        employer_id=record.organisation_id,
        worksite_id=record.worksite_id,
        worker=worker_to_proto(record.worker),
        cost_kind=code(compliance_pb2.RecruitmentCostKind, record.cost_kind),
        amount_inr=_money(record.amount),
        reimbursed_inr=_money(record.reimbursed),
        charged_on=record.charged_on.isoformat(),
        charged_by_employer_id=record.charged_by_organisation_id,
        source=code(compliance_pb2.RecordSource, record.source),
        recorded_at=timestamp(record.recorded_at),
    )


def conditions_to_proto(check: WorkingConditionsCheck) -> compliance_pb2.WorkingConditionsCheck:
    message = compliance_pb2.WorkingConditionsCheck(
        record_id=check.record_id,
        employer_id=check.organisation_id,
        worksite_id=check.worksite_id,
        observed_on=check.observed_on.isoformat(),
        workers_covered=check.workers_covered,
        written_contract=code(compliance_pb2.ContractStatus, check.written_contract),
        identity_documents_retained=observation(check.identity_documents_retained),
        weekly_hours="" if check.weekly_hours is None else f"{check.weekly_hours:f}",
        overtime_paid_double=observation(check.overtime_paid_double),
        accommodation=code(compliance_pb2.AccommodationStatus, check.accommodation),
        free_to_leave=observation(check.free_to_leave),
        source=code(compliance_pb2.RecordSource, check.source),
        breaches=[code(compliance_pb2.ConditionBreach, b) for b in check.breaches()],
        recorded_at=timestamp(check.recorded_at),
    )
    if check.worker is not None:
        message.worker.CopyFrom(worker_to_proto(check.worker))
    return message


def ilo_finding_to_proto(finding: IloFinding) -> compliance_pb2.IloFinding:
    """Without its evidence: the text is stored encrypted and never shown back through this API."""
    return compliance_pb2.IloFinding(
        record_id=finding.record_id,
        employer_id=finding.organisation_id,
        worksite_id=finding.worksite_id,
        indicator=code(compliance_pb2.IloIndicator, finding.indicator),
        observed_on=finding.observed_on.isoformat(),
        workers_affected=finding.workers_affected,
        source=code(compliance_pb2.RecordSource, finding.source),
        recorded_at=timestamp(finding.recorded_at),
    )


def record_event_envelope(event: WageEvent) -> Event:
    match event:
        case ComplianceRecorded():
            message: Message = events_pb2.ComplianceRecorded(
                record_id=event.record_id,
                employer_id=event.organisation_id,
                record_kind=code(compliance_pb2.ComplianceRecordKind, event.record_kind),
                worksite_id=event.worksite_id,
                source=code(compliance_pb2.RecordSource, event.source),
                occurred_on=event.occurred_on.isoformat(),
                recorded_at=timestamp(event.recorded_at),
            )
            return _envelope(message, event.organisation_id)
        case WageShortfallFound():
            message = events_pb2.WageShortfallFound(
                record_id=event.record_id,
                employer_id=event.organisation_id,
                worksite_id=event.worksite_id,
                period_start=event.period_start.isoformat(),
                period_end=event.period_end.isoformat(),
                days_worked=f"{event.days_worked:f}",
                assessment=assessment_to_proto(event.assessment),
            )
            return _envelope(message, event.organisation_id)
        case RecruitmentFeeFound():
            message = events_pb2.RecruitmentFeeFound(
                record_id=event.record_id,
                employer_id=event.organisation_id,
                cost_kind=code(compliance_pb2.RecruitmentCostKind, event.cost_kind),
                amount_inr=_money(event.amount),
                reimbursed_inr=_money(event.reimbursed),
                charged_by_employer_id=event.charged_by_organisation_id,
                charged_on=event.charged_on.isoformat(),
                workers_affected=event.workers_affected,
            )
            return _envelope(message, event.organisation_id)


def wage_batch_envelope(
    batch_id: str, organisation_id: str, job_id: str, record_ids: Sequence[str], below: int, stored_at: Any
) -> Event:
    message = events_pb2.WageRecordsBatched(
        batch_id=batch_id,
        employer_id=organisation_id,
        job_id=job_id,
        records=len(record_ids),
        record_ids=list(record_ids),
        records_below_minimum=below,
        stored_at=timestamp(stored_at),
    )
    return _envelope(message, organisation_id)


# -- the compliance history -----------------------------------------------------------------------------


def score_to_proto(score: ComplianceScore) -> compliance_pb2.ComplianceScore:
    return compliance_pb2.ComplianceScore(
        value=f"{score.value:f}",
        components=[
            compliance_pb2.ScoreComponent(
                component=code(compliance_pb2.ScoreComponentKind, c.component),
                penalty=f"{c.penalty:f}",
                cap=f"{c.cap:f}",
                uncapped=f"{c.uncapped:f}",
                findings=c.findings,
            )
            for c in score.components
        ],
        as_of=score.as_of.isoformat(),
        established_occasions=score.established_occasions,
    )


def flag_to_proto(flag: RiskFlag) -> compliance_pb2.RiskFlag:
    message = compliance_pb2.RiskFlag(
        raised=flag.raised,
        crossings=flag.crossings,
        reasons=[code(compliance_pb2.FlagReason, r) for r in flag.reasons],
    )
    if flag.changed_at:
        message.changed_at.CopyFrom(timestamp(flag.changed_at))
    return message


def history_entry_to_proto(entry: HistoryEntry) -> compliance_pb2.HistoryEntry:
    return compliance_pb2.HistoryEntry(
        entry_id=entry.entry_id,
        kind=code(compliance_pb2.HistoryEntryKind, entry.kind),
        occurred_on=entry.occurred_on.isoformat(),
        detail=entry.detail,
        established=entry.established,
        workers_affected=entry.workers_affected,
        amount_inr=_money(entry.amount),
        provisional=entry.provisional,
        remediated=entry.remediated,
        severity=entry.severity,
        recorded_at=timestamp(entry.recorded_at),
    )


def history_event_envelope(event: HistoryEvent) -> Event:
    match event:
        case ScoreChanged():
            message: Message = events_pb2.ScoreChanged(
                employer_id=event.organisation_id,
                previous_score="" if event.previous is None else f"{event.previous:f}",
                score=score_to_proto(event.score),
                history_version=event.version,
            )
        case RiskFlagRaised():
            message = events_pb2.RiskFlagRaised(
                employer_id=event.organisation_id,
                crossing=event.crossing,
                score=score_to_proto(event.score),
                reasons=[code(compliance_pb2.FlagReason, r) for r in event.reasons],
                recommendation=code(compliance_pb2.Recommendation, event.recommendation),
                raised_at=timestamp(event.raised_at),
            )
        case RiskFlagCleared():
            message = events_pb2.RiskFlagCleared(
                employer_id=event.organisation_id,
                crossing=event.crossing,
                score=score_to_proto(event.score),
                cleared_at=timestamp(event.cleared_at),
            )
    return _envelope(message, event.organisation_id)


# -- the minimum-wage table -----------------------------------------------------------------------------


def rate_to_proto(rate: MinimumWageRate) -> minimum_wage_pb2.MinimumWageRate:
    return minimum_wage_pb2.MinimumWageRate(
        rate_id=rate.rate_id,
        sphere=code(worksite_pb2.WageSphere, rate.sphere),
        state_code=rate.state_code,
        scheduled_employment=rate.scheduled_employment,
        scheduled_employment_label=rate.scheduled_employment_label,
        skill_category=rate.skill_label,
        area=rate.area_label,
        unit=code(minimum_wage_pb2.RateUnit, rate.unit),
        amount_inr=_money(rate.amount),
        basic_inr=_money(rate.basic),
        vda_inr=_money(rate.vda),
        effective_from=_day(rate.effective_from),
        effective_until=_day(rate.effective_until),
        notification_ref=rate.notification_ref,
        source_urls=list(rate.source_urls),
        value_status=code(minimum_wage_pb2.ValueStatus, rate.value_status),
        caveats=sorted(code(minimum_wage_pb2.RateCaveat, c) for c in rate.caveats),
        note=rate.note,
        status=code(minimum_wage_pb2.RateStatus, rate.status),
        revision=rate.revision,
        supersedes=rate.supersedes,
        superseded_by=rate.superseded_by,
        change_reason=rate.change_reason,
        version=rate.version,
        recorded_at=timestamp(rate.recorded_at),
    )


def rate_event_envelope(event: MinimumWageEvent) -> Event:
    match event:
        case MinimumWageRateRecorded(rate=rate):
            message: Message = events_pb2.MinimumWageRateRecorded(rate=rate_to_proto(rate))
            subject = rate.rate_id
        case MinimumWageRateSuperseded(superseded=old, replacement=new):
            message = events_pb2.MinimumWageRateSuperseded(
                superseded=rate_to_proto(old), replacement=rate_to_proto(new)
            )
            subject = old.rate_id
        case MinimumWageRateWithdrawn(rate=rate):
            message = events_pb2.MinimumWageRateWithdrawn(rate=rate_to_proto(rate))
            subject = rate.rate_id
    return _envelope(message, subject, MINIMUM_WAGES_TOPIC)


# -- the public verification ----------------------------------------------------------------------------


def verification_to_proto(answer: PublicVerification) -> verification_service_pb2.VerifyIdentifierResponse:
    return verification_service_pb2.VerifyIdentifierResponse(
        query=answer.query,
        found=answer.found,
        checked_on=answer.checked_on.isoformat(),
        holder_name=answer.holder_name,
        roles=[employer_pb2.OrganisationRole.Value(f"ORGANISATION_ROLE_{r.upper()}") for r in answer.roles],
        needs_licence=answer.needs_licence,
        licensed=answer.licensed,
        licences=[
            verification_service_pb2.LicenceStanding(
                kind=code(employer_pb2.LicenceKind, s.kind),
                issuing_authority=s.issuing_authority,
                valid_from=s.valid_from.isoformat(),
                valid_until=s.valid_until.isoformat(),
                status=code(employer_pb2.LicenceStatus, s.status),
                valid_on_day=s.valid_on_day,
                matches_query=s.matches_query,
            )
            for s in answer.licences
        ],
        risk_flag_raised=answer.risk_flag_raised,
        in_good_standing=answer.in_good_standing,
    )
