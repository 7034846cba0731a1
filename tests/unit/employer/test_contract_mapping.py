"""The domain's words and the published contracts agree: every domain enum value has its contract value and
back, the grievance events' categories, severities and outcomes read as the keys the score weighs, and
events built from the domain carry no name, identifier, worker or evidence."""

from __future__ import annotations

import enum
from typing import Any

import pytest

from mrc.employer.v1 import compliance_pb2, employer_pb2, minimum_wage_pb2, worksite_pb2
from mrc.grievance.v1 import grievance_pb2
from mrc_employer.adapters.grievance_events import category_key, outcome_key, severity_key
from mrc_employer.adapters.protobuf_mapping import code, member
from mrc_employer.domain.compliance_history import Recommendation
from mrc_employer.domain.compliance_records import (
    AccommodationStatus,
    ConditionBreach,
    ContractStatus,
    IloIndicator,
    RecordSource,
    RecruitmentCostKind,
)
from mrc_employer.domain.grievance_signals import Severity
from mrc_employer.domain.history_sheet import EntryKind
from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.licences import LicenceKind, LicenceStatus
from mrc_employer.domain.minimum_wages import RateCaveat, RateStatus, RateUnit, ValueStatus, WageSphere
from mrc_employer.domain.organisation import EmployerKind, OrganisationRole
from mrc_employer.domain.score import DEFAULT_WEIGHTS, Component, FlagReason
from mrc_employer.domain.wages import AssessmentOutcome, DeductionKind
from mrc_employer.domain.worksites import WorksiteKind
from mrc_grievance.domain.vocabulary import Category, Outcome
from mrc_grievance.domain.vocabulary import Severity as GrievanceSeverity

# Domain values that mean "not known", which the contract spells UNSPECIFIED.
UNSPECIFIED = {ContractStatus.UNKNOWN, AccommodationStatus.UNKNOWN}

PAIRS: list[tuple[type[enum.StrEnum], Any]] = [
    (OrganisationRole, employer_pb2.OrganisationRole),
    (EmployerKind, employer_pb2.EmployerKind),
    (IdentifierKind, employer_pb2.IdentifierKind),
    (LicenceKind, employer_pb2.LicenceKind),
    (LicenceStatus, employer_pb2.LicenceStatus),
    (WorksiteKind, worksite_pb2.WorksiteKind),
    (WageSphere, worksite_pb2.WageSphere),
    (RateUnit, minimum_wage_pb2.RateUnit),
    (ValueStatus, minimum_wage_pb2.ValueStatus),
    (RateCaveat, minimum_wage_pb2.RateCaveat),
    (RateStatus, minimum_wage_pb2.RateStatus),
    (RecordSource, compliance_pb2.RecordSource),
    (DeductionKind, compliance_pb2.DeductionKind),
    (AssessmentOutcome, compliance_pb2.AssessmentOutcome),
    (RecruitmentCostKind, compliance_pb2.RecruitmentCostKind),
    (ContractStatus, compliance_pb2.ContractStatus),
    (AccommodationStatus, compliance_pb2.AccommodationStatus),
    (ConditionBreach, compliance_pb2.ConditionBreach),
    (IloIndicator, compliance_pb2.IloIndicator),
    (Component, compliance_pb2.ScoreComponentKind),
    (EntryKind, compliance_pb2.HistoryEntryKind),
    (FlagReason, compliance_pb2.FlagReason),
    (Recommendation, compliance_pb2.Recommendation),
]


@pytest.mark.parametrize(("domain", "wrapper"), PAIRS, ids=[d.__name__ for d, _ in PAIRS])
def test_every_domain_value_has_its_contract_value_and_back(domain: type[enum.StrEnum], wrapper: Any) -> None:
    for value in domain:
        number = code(wrapper, value)
        if value in UNSPECIFIED:
            assert number == 0
            continue
        assert number != 0, f"{domain.__name__}.{value.name} has no contract value"
        assert member(wrapper, domain, number) is value
    assert member(wrapper, domain, 0) is None
    assert member(wrapper, domain, 9999) is None


def test_grievance_categories_read_as_the_grievance_services_keys() -> None:
    keys = {category_key(number) for number in grievance_pb2.GrievanceCategory.values()} - {""}
    assert {c.value for c in Category} <= keys
    # The categories the score counts half are the grievance service's own keys.
    assert set(DEFAULT_WEIGHTS.category_factors) <= {c.value for c in Category}


def test_grievance_severities_and_outcomes_read_as_keys() -> None:
    assert {severity_key(n) for n in grievance_pb2.Severity.values()} - {""} == {s.value for s in GrievanceSeverity}
    assert {s.value for s in GrievanceSeverity} == {s.value for s in Severity}
    assert {outcome_key(n) for n in grievance_pb2.Outcome.values()} - {""} == {o.value for o in Outcome}
