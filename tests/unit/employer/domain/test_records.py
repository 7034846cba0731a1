"""Worksites, recruitment costs, working-conditions checks and ILO findings: validation and events."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from mrc_employer.domain.compliance_records import (
    AccommodationStatus,
    ComplianceRecorded,
    ConditionBreach,
    ContractStatus,
    IloFinding,
    IloIndicator,
    ProtectedEvidence,
    RecordSource,
    RecruitmentCostKind,
    RecruitmentCostRecord,
    RecruitmentFeeFound,
    WorkingConditionsCheck,
)
from mrc_employer.domain.minimum_wages import WageSphere
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.worksites import WageBasis, WorksiteAdded, WorksiteKind
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.vocabulary import Sector

from .support import ARARIA, NOW, worksite


def test_a_worksite_is_added_with_its_event() -> None:
    site = worksite()
    assert site.sector is Sector.CONSTRUCTION and site.scope == ("7", "79")
    assert site.pending_events == [WorksiteAdded(site)]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"kind": None}, ["kind"]),
        ({"sector": "software"}, ["sector"]),
        ({"place": replace(ARARIA, state_code="99")}, ["place.state_code"]),
        ({"kind": WorksiteKind.HOUSEHOLD, "sector": "domestic_work", "name": "Sharma residence"}, ["name"]),
        (
            {"wage_basis": WageBasis(WageSphere.STATE, "Brick kiln", "zone 1")},
            ["wage_basis.scheduled_employment", "wage_basis.area"],
        ),
        ({"organisation_id": ""}, ["organisation_id"]),
    ],
)
def test_worksite_violations_are_named(overrides: dict[str, object], fields: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        worksite(**overrides)
    assert [v.field for v in caught.value.violations] == fields


def test_a_household_worksite_has_no_name() -> None:
    household = worksite(kind=WorksiteKind.HOUSEHOLD, sector="domestic_work", name="")
    assert household.name == ""


def fee(**overrides: object) -> RecruitmentCostRecord:
    values: dict[str, object] = {
        "record_id": "fee-1",
        "organisation_id": "org-1",
        "worksite_id": "site-1",
        "worker": WorkerRef("wkr-1"),
        "cost_kind": RecruitmentCostKind.RECRUITMENT_FEE,
        "amount": Decimal(12000),
        "reimbursed": Decimal(0),
        "charged_on": date(2025, 1, 10),
        "charged_by_organisation_id": "agent-7",
        "source": RecordSource.PARTNER,
        "now": NOW,
    }
    values.update(overrides)
    return RecruitmentCostRecord.record(**values)  # type: ignore[arg-type]


def test_a_recruitment_fee_is_recorded_and_found() -> None:
    record = fee()
    assert record.pending_events == [
        ComplianceRecorded(
            "fee-1", "org-1", "recruitment_cost", "site-1", RecordSource.PARTNER, date(2025, 1, 10), NOW
        ),
        RecruitmentFeeFound(
            "fee-1", "org-1", "recruitment_fee", Decimal(12000), Decimal(0), "agent-7", date(2025, 1, 10)
        ),
    ]
    assert not record.remediated
    assert fee(reimbursed=Decimal(12000)).remediated


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cost_kind": None}, "cost_kind"),
        ({"amount": Decimal(0)}, "amount"),
        ({"reimbursed": Decimal(-1)}, "reimbursed"),
        ({"reimbursed": Decimal(13000)}, "reimbursed"),
        ({"charged_on": NOW.date() + timedelta(days=1)}, "charged_on"),
        ({"worker": WorkerRef(employer_worker_code="919876543210")}, "worker.employer_worker_code"),
    ],
)
def test_recruitment_cost_violations_are_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        fee(**overrides)
    assert [v.field for v in caught.value.violations] == [field]


def check(**overrides: object) -> WorkingConditionsCheck:
    values: dict[str, object] = {
        "record_id": "wc-1",
        "organisation_id": "org-1",
        "worksite_id": "site-1",
        "observed_on": date(2025, 3, 1),
        "workers_covered": 30,
        "source": RecordSource.AUDITOR,
        "now": NOW,
    }
    values.update(overrides)
    return WorkingConditionsCheck.record(**values)  # type: ignore[arg-type]


def test_only_what_was_observed_is_judged() -> None:
    assert check().breaches() == ()
    assert (
        check(
            written_contract=ContractStatus.GIVEN_BEFORE_WORK_IN_WORKERS_LANGUAGE,
            identity_documents_retained=False,
            weekly_hours=Decimal(48),
            overtime_paid_double=True,
            accommodation=AccommodationStatus.ADEQUATE,
            free_to_leave=True,
        ).breaches()
        == ()
    )
    assert check(
        written_contract=ContractStatus.NOT_IN_WORKERS_LANGUAGE,
        identity_documents_retained=True,
        weekly_hours=Decimal("48.5"),
        overtime_paid_double=False,
        accommodation=AccommodationStatus.INADEQUATE,
        free_to_leave=False,
    ).breaches() == tuple(ConditionBreach)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"workers_covered": 0}, "workers_covered"),
        ({"worker": WorkerRef("wkr-1")}, "workers_covered"),  # a named worker: a check of one
        ({"weekly_hours": Decimal(200)}, "weekly_hours"),
        ({"observed_on": NOW.date() + timedelta(days=1)}, "observed_on"),
        ({"worksite_id": ""}, "worksite_id"),
    ],
)
def test_conditions_check_violations_are_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check(**overrides)
    assert [v.field for v in caught.value.violations] == [field]


def test_an_ilo_finding_holds_only_a_protected_evidence_token() -> None:
    finding = IloFinding.record(
        record_id="ilo-1",
        organisation_id="org-1",
        worksite_id="site-1",
        indicator=IloIndicator.RETENTION_OF_IDENTITY_DOCUMENTS,
        observed_on=date(2025, 3, 1),
        workers_affected=14,
        evidence=ProtectedEvidence("v1:bihar-2025:AbCdEf=="),
        source=RecordSource.AUDITOR,
        now=NOW,
    )
    assert finding.evidence.token == "v1:bihar-2025:AbCdEf=="
    assert finding.pending_events[0].record_kind == "ilo_indicator"  # type: ignore[union-attr]
    with pytest.raises(InvalidArgument) as caught:
        IloFinding.record(
            record_id="ilo-2",
            organisation_id="org-1",
            worksite_id="",
            indicator=None,
            observed_on=date(2025, 3, 1),
            workers_affected=0,
            evidence=ProtectedEvidence(""),
            source=RecordSource.PARTNER,
            now=NOW,
        )
    assert [v.field for v in caught.value.violations] == ["indicator", "workers_affected", "evidence"]
    assert len(IloIndicator) == 11
