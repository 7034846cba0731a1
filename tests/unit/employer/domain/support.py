"""Builders shared by the employer domain tests: a clock, places, organisations, worksites, the table."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from mrc_employer.domain.compliance_records import RecordSource
from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.licences import LicenceInput, LicenceKind
from mrc_employer.domain.minimum_wage_seed import seed_rates
from mrc_employer.domain.minimum_wages import MinimumWageKey, MinimumWageRate, MinimumWageTable, WageSphere
from mrc_employer.domain.organisation import IdentifierInput, Organisation, OrganisationRole
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.wages import Deduction, WageInput, WageRecord
from mrc_employer.domain.worksites import WageBasis, Worksite, WorksiteKind
from mrc_kernel.place import Place

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SEEDED_AT = datetime(2025, 1, 1, tzinfo=UTC)
# Bihar / Araria / Araria sub-district: a valid LGD triple.
ARARIA = Place(state_code="10", district_code="188", subdistrict_code="1116", village_name="Kusiyargaon")
NEW_DELHI = Place(state_code="7", district_code="79")

# Real GSTINs, as their holders publish them (see test_identifiers for the sources).
RELIANCE_GSTIN = "27AAACR5055K1Z7"
RELIANCE_PAN = "AAACR5055K"
RA_CERTIFICATE = "B-1794/PUN/PER/100/5/10094/2022"


@functools.cache
def seeded() -> tuple[MinimumWageRate, ...]:
    return tuple(seed_rates(SEEDED_AT))


def seeded_table() -> MinimumWageTable:
    return MinimumWageTable(seeded())


def licence(**overrides: Any) -> LicenceInput:
    values: dict[str, Any] = {
        "kind": LicenceKind.OSH_CONTRACTOR,
        "number": "OSH/BR/2024/0042",
        "issuing_authority": "Labour Commissioner, Bihar",
        "valid_from": "2024-01-01",
        "valid_until": "2028-12-31",
        "issuing_state_code": "10",
    }
    values.update(overrides)
    return LicenceInput(**values)


def organisation(**overrides: Any) -> Organisation:
    values: dict[str, Any] = {
        "organisation_id": "org-1",
        "legal_name": "Kaveri Constructions Pvt Ltd",
        "roles": {OrganisationRole.CONTRACTOR},
        "sector": "construction",
        "location": ARARIA,
        "identifiers": [
            IdentifierInput(IdentifierKind.GSTIN, RELIANCE_GSTIN),
            IdentifierInput(IdentifierKind.PAN, RELIANCE_PAN),
        ],
        "licences": [licence()],
        "now": NOW,
    }
    values.update(overrides)
    return Organisation.register(**values)


def worksite(**overrides: Any) -> Worksite:
    values: dict[str, Any] = {
        "worksite_id": "site-1",
        "organisation_id": "org-1",
        "kind": WorksiteKind.CONSTRUCTION_SITE,
        "sector": "construction",
        "place": NEW_DELHI,
        "wage_basis": WageBasis(WageSphere.CENTRAL, "construction", "a"),
        "name": "Metro depot block C",
        "now": NOW,
    }
    values.update(overrides)
    return Worksite.add(**values)


CENTRAL_CONSTRUCTION_A = MinimumWageKey(WageSphere.CENTRAL, "7", "construction", "unskilled", "a")


def wage_input(**overrides: Any) -> WageInput:
    values: dict[str, Any] = {
        "worker": WorkerRef(employer_worker_code="EMP-0001"),
        "worksite_id": "site-1",
        "period_start": date(2024, 11, 1),
        "period_end": date(2024, 11, 30),
        "days_worked": Decimal(26),
        "amount_paid": Decimal("20358.00"),  # 26 x 783, the Area A unskilled rate from 1 October 2024
        "key": CENTRAL_CONSTRUCTION_A,
    }
    values.update(overrides)
    return WageInput(**values)


def wage_record(
    record_id: str = "wage-1",
    *,
    table: MinimumWageTable | None = None,
    source: RecordSource = RecordSource.SELF_REPORTED,
    deductions: Sequence[Deduction] = (),
    **overrides: Any,
) -> WageRecord:
    return WageRecord.record(
        record_id=record_id,
        organisation_id="org-1",
        given=wage_input(deductions=tuple(deductions), **overrides),
        table=table or seeded_table(),
        source=source,
        now=NOW,
    )
