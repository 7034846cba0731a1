"""The minimum-wage table as operators maintain it (seeded, listed, added, superseded, withdrawn, each change
an event), and the public verification (licensed and in good standing, nothing personal)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from mrc.employer.v1 import events_pb2
from mrc_employer.domain.grievance_signals import GrievanceSignal, GrievanceSignalKind
from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.minimum_wage_seed import seed_rows
from mrc_employer.domain.minimum_wages import RateInput, RateStatus, RateUnit, WageSphere
from mrc_employer.domain.organisation import IdentifierInput, OrganisationRole
from mrc_kernel.errors import Conflict, IdempotencyKeyReused, InvalidArgument, PermissionDenied

from .fakes import (
    CASEWORKER,
    EMPLOYER,
    NOW,
    OPERATOR,
    PUBLIC,
    RELIANCE_GSTIN,
    RELIANCE_PAN,
    employer_with_site,
    make_service,
    registration,
    wage_command,
)


def bihar_rate(**overrides: object) -> RateInput:
    values: dict[str, object] = {
        "sphere": WageSphere.STATE,
        "state_code": "10",
        "scheduled_employment": "All scheduled employments",
        "skill_category": "Unskilled",
        "area": "",
        "unit": RateUnit.PER_DAY,
        "amount": "412",
        "effective_from": "2024-10-01",
        "notification_ref": "Bihar Labour Resources Dept. notification of 2024-09-30",
    }
    values.update(overrides)
    return RateInput(**values)  # type: ignore[arg-type]


def test_the_table_is_seeded_once_from_the_bundled_transcription() -> None:
    service = make_service()
    listing = service.minimum_wages.list(PUBLIC, include_inactive=True, page_size=500)
    assert len(listing.rates) == len(seed_rows())
    assert service.minimum_wages.seed() == 0


def test_listing_filters_and_pages() -> None:
    service = make_service()
    delhi = service.minimum_wages.list(CASEWORKER, sphere=WageSphere.STATE, state_code="7", page_size=500).rates
    assert delhi and all(r.state_code == "7" for r in delhi)
    first = service.minimum_wages.list(CASEWORKER, page_size=3)
    second = service.minimum_wages.list(CASEWORKER, page_size=3, page_token=first.next_page_token)
    assert {r.rate_id for r in first.rates}.isdisjoint(r.rate_id for r in second.rates)
    with pytest.raises(InvalidArgument):
        service.minimum_wages.list(CASEWORKER, page_size=0)


def test_only_operators_change_the_table_and_each_change_is_an_event_with_its_audit() -> None:
    service = make_service()
    with pytest.raises(PermissionDenied):
        service.minimum_wages.add(bihar_rate(), EMPLOYER, idempotency_key="k")
    rate, created = service.minimum_wages.add(bihar_rate(), OPERATOR, idempotency_key="k")
    again, created_again = service.minimum_wages.add(bihar_rate(), OPERATOR, idempotency_key="k")
    assert created and not created_again and again.rate_id == rate.rate_id
    with pytest.raises(IdempotencyKeyReused):
        service.minimum_wages.add(bihar_rate(amount="500"), OPERATOR, idempotency_key="k")
    assert [type(m).__name__ for m in service.events("minimum_wage_rates", rate.rate_id)] == [
        "MinimumWageRateRecorded",
        "DataAccessed",
    ]
    (event, _) = service.outbox("minimum_wage_rates", rate.rate_id)
    assert event.topic == "mrc.employer.minimum-wages.v1"
    with pytest.raises(Conflict):  # the same rate for the same day twice
        service.minimum_wages.add(bihar_rate(), OPERATOR, idempotency_key="k2")


def test_a_correction_supersedes_the_row_and_the_old_one_is_kept() -> None:
    service = make_service()
    rate, _ = service.minimum_wages.add(bihar_rate(), OPERATOR, idempotency_key="k")
    old, new = service.minimum_wages.supersede(
        rate.rate_id, bihar_rate(amount="421"), "typo in the amount", OPERATOR, idempotency_key="fix"
    )
    assert old.status is RateStatus.SUPERSEDED and old.superseded_by == new.rate_id
    assert new.revision == 2 and new.amount == 421
    _, again_new = service.minimum_wages.supersede(
        rate.rate_id, bihar_rate(amount="421"), "typo in the amount", OPERATOR, idempotency_key="fix"
    )
    assert again_new.rate_id == new.rate_id
    (superseded, _) = service.events("minimum_wage_rates", new.rate_id)
    assert isinstance(superseded, events_pb2.MinimumWageRateSuperseded)
    active = {r.rate_id for r in service.minimum_wages.list(PUBLIC, state_code="10", page_size=500).rates}
    assert new.rate_id in active and rate.rate_id not in active


def test_a_correction_that_stopped_half_way_is_finished_by_its_retry() -> None:
    service = make_service()
    rate, _ = service.minimum_wages.add(bihar_rate(), OPERATOR, idempotency_key="k")
    real_add = service.minimum_wages._rates.add  # type: ignore[attr-defined]

    def crash(*args: object, **kwargs: object) -> object:
        raise RuntimeError("process died")

    service.minimum_wages._rates.add = crash  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        service.minimum_wages.supersede(rate.rate_id, bihar_rate(amount="421"), "fix", OPERATOR, idempotency_key="f")
    service.minimum_wages._rates.add = real_add  # type: ignore[attr-defined]
    _, new = service.minimum_wages.supersede(
        rate.rate_id, bihar_rate(amount="421"), "fix", OPERATOR, idempotency_key="f"
    )
    assert new.amount == 421


def test_a_withdrawn_row_is_never_applied_again() -> None:
    service = make_service()
    organisation_id, site = employer_with_site(service)
    rate, _ = service.minimum_wages.add(
        bihar_rate(
            state_code="7",
            scheduled_employment="Construction",
            scheduled_employment_key="construction",
            area="A",
            amount="900",
            effective_from="2024-11-01",
        ),
        OPERATOR,
        idempotency_key="k",
    )
    # Delhi's own construction row would not apply to a central-sphere site; check on the table itself.
    withdrawn = service.minimum_wages.withdraw(rate.rate_id, "entered by mistake", OPERATOR)
    assert withdrawn.status is RateStatus.WITHDRAWN
    assert service.minimum_wages.withdraw(rate.rate_id, "entered by mistake", OPERATOR) == withdrawn
    assert rate.rate_id not in {r.rate_id for r in service.minimum_wages.list(PUBLIC, page_size=500).rates}
    record = service.compliance.record_wage(wage_command(organisation_id, site), OPERATOR).record
    assert rate.rate_id not in {r.rate_id for r in record.assessment.rates}  # type: ignore[union-attr]


# -- the public verification --------------------------------------------------------------------------


def test_the_public_verification_answers_by_gstin_or_licence_number_and_never_by_pan() -> None:
    service = make_service()
    service.organisations.register(registration(), EMPLOYER)

    by_gstin = service.verification.verify(RELIANCE_GSTIN, PUBLIC)
    by_licence = service.verification.verify("osh/br/2024/0042", PUBLIC)
    by_pan = service.verification.verify(RELIANCE_PAN, PUBLIC)

    assert by_gstin.found and by_gstin.licensed and by_gstin.in_good_standing
    assert by_gstin.holder_name == "Kaveri Constructions Pvt Ltd"  # a company (PAN type C): not a person's name
    assert by_licence.found and any(s.matches_query for s in by_licence.licences)
    assert not by_pan.found and by_pan.holder_name == ""


def test_a_proprietors_name_is_never_shown() -> None:
    service = make_service()
    proprietor = registration(
        legal_name="Ramesh Kumar",
        roles=frozenset({OrganisationRole.LABOUR_AGENT}),
        identifiers=(IdentifierInput(IdentifierKind.LIN, "1-2345-6789-0"),),
        licences=(),
    )
    service.organisations.register(proprietor, OPERATOR)
    answer = service.verification.verify("1234567890", PUBLIC)
    assert answer.found and answer.holder_name == "" and not answer.licensed and not answer.in_good_standing


def test_a_raised_risk_flag_takes_the_good_standing_away() -> None:
    service = make_service()
    service.organisations.register(registration(), EMPLOYER)
    for n in range(3):
        day = NOW - timedelta(days=100 * n + 1)
        service.updates.grievance_signalled(
            "brick-co", GrievanceSignal(f"f{n}", f"g{n}", GrievanceSignalKind.FILED, day, "wage_theft", "high")
        )
        service.updates.grievance_signalled(
            "brick-co",
            GrievanceSignal(
                f"r{n}", f"g{n}", GrievanceSignalKind.RESOLVED, day, "wage_theft", "high", substantiated=True
            ),
        )
    answer = service.verification.verify(RELIANCE_GSTIN, PUBLIC)
    assert answer.risk_flag_raised and not answer.in_good_standing


def test_a_query_that_is_no_identifier_is_refused_without_echoing_it() -> None:
    service = make_service()
    with pytest.raises(InvalidArgument) as caught:
        service.verification.verify("x" * 500, PUBLIC)
    assert "xxx" not in caught.value.detail
    with pytest.raises(PermissionDenied):
        service.verification.verify(RELIANCE_GSTIN, dataclasses.replace(PUBLIC, scopes=frozenset()))
