"""Compliance records and the compliance history on the real adapters: who may record what, the events and
the audit stored with a record, encrypted evidence, and what each reader sees of the history."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from mrc.employer.v1 import compliance_pb2, events_pb2
from mrc_employer.domain.compliance_records import (
    ContractStatus,
    IloFinding,
    IloIndicator,
    RecordSource,
    RecruitmentCostKind,
)
from mrc_employer.domain.grievance_signals import GrievanceSignal, GrievanceSignalKind
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.wages import AssessmentOutcome, DeductionKind, WageRecord
from mrc_employer.service_layer.compliance import (
    RecordConditionsCheck,
    RecordIloFinding,
    RecordRecruitmentCost,
)
from mrc_kernel.errors import IdempotencyKeyReused, InvalidArgument, NotFound, PermissionDenied

from .fakes import (
    AUDITOR,
    BIHAR_LABOUR,
    BRICK_CO,
    CASEWORKER,
    EMPLOYER,
    NOW,
    OPERATOR,
    OTHER_EMPLOYER,
    PUBLIC,
    Service,
    employer_with_site,
    make_service,
    registration,
    types,
    wage_command,
)


def test_a_wage_below_the_minimum_raises_a_shortfall_stored_with_the_record_and_its_audit() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    result = service.compliance.record_wage(wage_command(organisation_id, site, amount_paid="13000"), OPERATOR)

    record = result.record
    assert isinstance(record, WageRecord)
    assert record.assessment.outcome is AssessmentOutcome.BELOW_MINIMUM
    assert record.assessment.due == 20358 and record.assessment.shortfall == 7358
    messages = service.events("compliance_records", record.record_id)
    assert types(messages) == ["ComplianceRecorded", "WageShortfallFound", "DataAccessed"]
    shortfall = messages[1]
    assert isinstance(shortfall, events_pb2.WageShortfallFound)
    assert shortfall.assessment.shortfall_inr == "7358.00"
    assert b"EMP-0001" not in shortfall.SerializeToString()
    recorded = messages[0]
    assert isinstance(recorded, events_pb2.ComplianceRecorded)
    assert recorded.record_kind == compliance_pb2.COMPLIANCE_RECORD_KIND_WAGE
    assert recorded.batch_id == ""


def test_a_wage_paid_at_the_minimum_raises_no_shortfall() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    record = service.compliance.record_wage(wage_command(organisation_id, site), OPERATOR).record
    assert types(service.events("compliance_records", record.record_id)) == ["ComplianceRecorded", "DataAccessed"]


def test_a_recruitment_fee_deducted_from_wages_is_also_a_recruitment_fee_found() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    command = wage_command(organisation_id, site, deductions=((DeductionKind.RECRUITMENT_FEE, "2000"),))
    record = service.compliance.record_wage(command, OPERATOR).record
    assert "RecruitmentFeeFound" in types(service.events("compliance_records", record.record_id))


def test_every_bad_field_of_a_wage_record_is_named() -> None:
    service = make_service()
    organisation_id, _ = employer_with_site(service)
    command = wage_command(
        organisation_id,
        "not-a-site",
        period_start="2024-13-01",
        days_worked="two",
        amount_paid="1,000",
        skill_category="",
        deductions=((None, "5"),),
    )
    with pytest.raises(InvalidArgument) as caught:
        service.compliance.record_wage(command, OPERATOR)
    assert [v.field for v in caught.value.violations] == [
        "worksite_id",
        "period_start",
        "days_worked",
        "amount_paid",
        "deductions.0.kind",
        "skill_category",
    ]


def test_a_retry_returns_the_first_record_and_another_request_under_the_key_is_refused() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    first = service.compliance.record_wage(wage_command(organisation_id, site), OPERATOR)
    again = service.compliance.record_wage(wage_command(organisation_id, site), OPERATOR)
    assert first.created and not again.created
    assert again.record.record_id == first.record.record_id
    with pytest.raises(IdempotencyKeyReused):
        service.compliance.record_wage(wage_command(organisation_id, site, amount_paid="100"), OPERATOR)


def test_an_employer_records_for_itself_only_and_its_records_are_self_reported() -> None:
    service = make_service()
    employer_with_site(service, EMPLOYER)
    other_id, other_site = employer_with_site(service, OTHER_EMPLOYER, identifiers=(), licences=())

    own = service.compliance.record_wage(wage_command(BRICK_CO, _site(service, BRICK_CO)), EMPLOYER).record
    assert own.source is RecordSource.SELF_REPORTED
    with pytest.raises(NotFound):
        service.compliance.record_wage(wage_command(other_id, other_site), EMPLOYER)


def _site(service: Service, organisation_id: str) -> str:
    organisation = service.repository.get(organisation_id)
    assert organisation is not None
    return organisation.worksites[0].worksite_id


@pytest.mark.parametrize(
    ("caller", "source"),
    [(CASEWORKER, RecordSource.PARTNER), (BIHAR_LABOUR, RecordSource.AUDITOR), (OPERATOR, RecordSource.AUDITOR)],
)
def test_who_records_decides_how_much_it_weighs(caller: object, source: RecordSource) -> None:
    service = make_service()
    organisation_id, _ = employer_with_site(service)
    record = service.compliance.record_recruitment_cost(
        RecordRecruitmentCost(
            organisation_id,
            WorkerRef(registry_worker_id="w-1"),
            RecruitmentCostKind.RECRUITMENT_FEE,
            "15000",
            "2025-01-10",
            idempotency_key="fee",
        ),
        caller,  # type: ignore[arg-type]
    ).record
    assert record.source is source
    assert types(service.events("compliance_records", record.record_id)) == [
        "ComplianceRecorded",
        "RecruitmentFeeFound",
        "DataAccessed",
    ]


@pytest.mark.parametrize("caller", [AUDITOR, PUBLIC])
def test_readers_without_a_writing_scope_record_nothing(caller: object) -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    with pytest.raises(PermissionDenied):
        service.compliance.record_wage(wage_command(organisation_id, site), caller)  # type: ignore[arg-type]


def test_a_worksite_outside_the_callers_geography_is_refused_for_records() -> None:
    service = make_service()
    organisation_id, delhi_site = employer_with_site(service)  # the office in Bihar, the site in Delhi
    with pytest.raises(InvalidArgument) as caught:
        service.compliance.record_wage(wage_command(organisation_id, delhi_site), CASEWORKER)
    assert caught.value.violations[0].description == "is outside your partner's geography"


def test_evidence_is_stored_encrypted_and_never_in_events() -> None:
    service = make_service()
    organisation_id, _ = employer_with_site(service)
    result = service.compliance.record_ilo_finding(
        RecordIloFinding(
            organisation_id,
            IloIndicator.RETENTION_OF_IDENTITY_DOCUMENTS,
            "2025-03-01",
            12,
            "Supervisor keeps Aadhaar cards of 12 workers in the office safe",
            idempotency_key="f1",
        ),
        BIHAR_LABOUR,
    )
    assert isinstance(result.record, IloFinding)
    stored = service.store.collection("compliance_records").documents[result.record.record_id]
    assert (
        json.loads(stored["body"])["evidence"]
        == "enc:10:Supervisor keeps Aadhaar cards of 12 workers in the office safe"
    )
    for event in service.outbox("compliance_records", result.record.record_id):
        assert b"Aadhaar" not in event.data


def test_a_conditions_check_records_what_was_observed() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    result = service.compliance.record_conditions_check(
        RecordConditionsCheck(
            organisation_id,
            site,
            "2025-03-01",
            30,
            written_contract=ContractStatus.NOT_GIVEN,
            weekly_hours="72",
            free_to_leave=False,
            idempotency_key="c1",
        ),
        OPERATOR,
    )
    assert types(service.events("compliance_records", result.record.record_id)) == [
        "ComplianceRecorded",
        "DataAccessed",
    ]
    with pytest.raises(InvalidArgument):
        service.compliance.record_conditions_check(
            RecordConditionsCheck(organisation_id, site, "2025-03-01", 30, weekly_hours="lots", idempotency_key="c2"),
            OPERATOR,
        )


# -- the history as each reader sees it ---------------------------------------------------------------


def _grievances(service: Service, organisation_id: str, count: int, *, days_ago: int) -> None:
    for n in range(count):
        service.updates.grievance_signalled(
            organisation_id,
            GrievanceSignal(
                event_id=f"e-{days_ago}-{n}",
                grievance_id=f"g-{days_ago}-{n}",
                kind=GrievanceSignalKind.FILED,
                occurred_at=NOW - timedelta(days=days_ago),
                category="wage_theft",
                severity="medium",
            ),
        )


def test_the_compliance_view_moves_with_recorded_records() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    service.compliance.record_wage(wage_command(organisation_id, site, amount_paid="13000"), OPERATOR)
    service.relay()

    view = service.compliance.compliance(organisation_id, AUDITOR)
    assert view.score.value < 100
    assert [e.kind.value for e in view.history] == ["wage_shortfall"]
    assert service.audit.records[-1].resource_type == "compliance_history"


def test_an_employer_sees_grievances_only_as_delayed_counts_with_small_cells_suppressed() -> None:
    service = make_service()
    service.organisations.register(registration(), EMPLOYER)
    _grievances(service, BRICK_CO, 6, days_ago=40)
    _grievances(service, BRICK_CO, 2, days_ago=3)

    own = service.compliance.compliance(BRICK_CO, EMPLOYER)
    full = service.compliance.compliance(BRICK_CO, OPERATOR)

    assert [(c.category, c.count) for c in full.grievances_alleged] == [("wage_theft", 8)]
    assert [(c.category, c.count) for c in own.grievances_alleged] == [("wage_theft", 6)]
    assert own.grievances_delayed_days == 30 and own.min_cell_size == 5
    assert own.score.value > full.score.value  # the last 30 days' allegations do not show in its score yet

    service.clock[0] = NOW + timedelta(days=45)
    later = service.compliance.compliance(BRICK_CO, EMPLOYER)
    assert [(c.category, c.count) for c in later.grievances_alleged] == [("wage_theft", 8)]


def test_a_single_complaint_shows_to_the_employer_only_as_a_suppressed_cell() -> None:
    service = make_service()
    service.organisations.register(registration(), EMPLOYER)
    _grievances(service, BRICK_CO, 1, days_ago=60)
    assert [(c.category, c.count) for c in service.compliance.compliance(BRICK_CO, EMPLOYER).grievances_alleged] == [
        ("wage_theft", None)
    ]


def test_an_employer_never_sees_grievance_lines_that_others_see() -> None:
    service = make_service()
    service.organisations.register(registration(), EMPLOYER)
    service.updates.grievance_signalled(
        BRICK_CO,
        GrievanceSignal("e-1", "g-1", GrievanceSignalKind.FILED, NOW - timedelta(days=90), "trafficking", "critical"),
    )
    service.updates.grievance_signalled(
        BRICK_CO,
        GrievanceSignal(
            "e-2",
            "g-1",
            GrievanceSignalKind.RESOLVED,
            NOW - timedelta(days=60),
            "trafficking",
            "critical",
            substantiated=True,
            outcome="rescued",
        ),
    )
    assert [e.kind.value for e in service.compliance.compliance(BRICK_CO, OPERATOR).history] == [
        "grievance_substantiated"
    ]
    assert service.compliance.compliance(BRICK_CO, EMPLOYER).history == []


def test_the_history_sheet_is_paged() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    for month in range(1, 4):
        service.compliance.record_wage(
            wage_command(
                organisation_id,
                site,
                period_start=f"2024-0{month}-01",
                period_end=f"2024-0{month}-28",
                days_worked="20",
                amount_paid="1000",
                idempotency_key=f"m{month}",
            ),
            OPERATOR,
        )
    service.relay()
    first = service.compliance.compliance(organisation_id, OPERATOR, page_size=2)
    second = service.compliance.compliance(organisation_id, OPERATOR, page_size=2, page_token=first.next_page_token)
    assert len(first.history) == 2 and len(second.history) == 1 and second.next_page_token == ""
    with pytest.raises(InvalidArgument):
        service.compliance.compliance(organisation_id, OPERATOR, page_token="abc")


def test_a_history_nobody_has_written_reads_as_a_clean_sheet() -> None:
    service = make_service()
    organisation_id, _ = employer_with_site(service)
    view = service.compliance.compliance(organisation_id, CASEWORKER)
    assert view.score.value == 100 and not view.risk_flag.raised and view.history == []
