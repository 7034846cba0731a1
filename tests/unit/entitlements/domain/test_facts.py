"""Facts from the registry's events: the current destination, households, consent, declared facts."""

from __future__ import annotations

from datetime import date

import pytest

from mrc_entitlements.domain.facts import (
    ConsentPurpose,
    MigrationStatus,
    WorkerProfile,
    age_range,
    current_episode,
)
from mrc_kernel.errors import InvalidArgument

from .builders import BIHAR, KERALA, MAHARASHTRA, TODAY, episode, household, profile, worker_facts


def test_the_current_destination_is_the_latest_ongoing_episode() -> None:
    older = episode("e-1", destination_state=MAHARASHTRA, start=date(2025, 1, 1))
    newer = episode("e-2", destination_state=KERALA, start=date(2026, 5, 1))
    returned = episode("e-3", destination_state="33", status=MigrationStatus.RETURNED, start=date(2026, 9, 1))
    planned = episode("e-4", destination_state="7", status=MigrationStatus.PLANNED, start=date(2026, 11, 1))

    assert current_episode([older, newer, returned, planned]) == newer
    assert current_episode([returned, planned]) is None


def test_a_migrating_worker_has_destination_facts() -> None:
    worker = profile(migrating_to=KERALA)

    values = worker.snapshot(TODAY).values

    assert (values["migration_status"], values["destination_state"], values["interstate_migrant"]) == (
        "ongoing",
        KERALA,
        True,
    )


def test_a_worker_who_returned_has_no_destination_and_is_not_away() -> None:
    worker = profile()
    worker.record_episode(episode(status=MigrationStatus.RETURNED, end=date(2026, 10, 1)))

    values = worker.snapshot(TODAY).values

    assert values["migration_status"] == "returned"
    assert values["interstate_migrant"] is False
    assert "destination_state" not in values


def test_a_worker_never_recorded_migrating_is_not_an_interstate_migrant() -> None:
    values = profile().snapshot(TODAY).values

    assert (values["migration_status"], values["interstate_migrant"]) == ("none", False)


def test_a_worker_abroad_has_a_destination_country_and_no_destination_state() -> None:
    worker = profile()
    worker.record_episode(episode(abroad="AE"))

    values = worker.snapshot(TODAY).values

    assert values["destination_country"] == "AE"
    assert "destination_state" not in values
    assert values["interstate_migrant"] is False


def test_household_facts_follow_the_household_the_worker_is_in() -> None:
    worker = profile(home_household=household(card_state=BIHAR))
    assert worker.snapshot(TODAY).values["ration_card_state"] == BIHAR

    assert worker.record_household(household(members=("w-2",))) is True  # the worker left the household

    values = worker.snapshot(TODAY).values
    assert "household_size" not in values and "household_has_ration_card" not in values
    assert worker.record_household(household(members=("w-2",))) is False


def test_undisclosed_gender_and_empty_fields_are_unknown_not_defaulted() -> None:
    worker = profile(gender="undisclosed", sector="", birth_year=0)

    values = worker.snapshot(TODAY).values

    assert not {"gender", "sector", "age", "birth_year"} & set(values)
    assert values["documents"] == ["aadhaar"]


def test_age_is_open_by_a_year_until_the_date_of_birth_is_declared() -> None:
    assert age_range(1996, TODAY) == (29, 30)
    assert age_range(0, TODAY) is None

    worker = profile(declared={"date_of_birth": "1996-12-31"})

    snapshot = worker.snapshot(TODAY)
    assert snapshot.age_range == (29, 29)


def test_only_facts_the_registry_never_holds_can_be_declared_and_must_have_their_type() -> None:
    worker = profile()
    for name, value, problem in [
        ("sector", "agriculture", "comes from the registry"),
        ("salary", 1, "not a fact"),
        ("monthly_income", "9000", "must be int"),
        ("monthly_income", True, "whole number"),
        ("bank_account", 1, "must be bool"),
        ("date_of_birth", "1995-01-01", "birth year the registry holds"),
        ("date_of_birth", "1996-02-30", "YYYY-MM-DD"),
    ]:
        with pytest.raises(InvalidArgument, match=problem):
            worker.declare(name, value, TODAY)
    assert worker.declare("monthly_income", 9000, TODAY) is True
    assert worker.declare("monthly_income", 9000, TODAY) is False


def test_consent_to_entitlement_linkage_is_followed() -> None:
    worker = WorkerProfile("w-1")
    before = worker.consents_to_linkage
    ignored = worker.record_consent(frozenset({ConsentPurpose.REGISTRATION}))  # no facts yet
    worker.record_worker(worker_facts())
    registered = worker.consents_to_linkage
    revoked = worker.record_consent(frozenset({ConsentPurpose.REGISTRATION}))
    after = worker.consents_to_linkage
    repeated = worker.record_consent(frozenset({ConsentPurpose.REGISTRATION}))

    assert (before, ignored, registered, revoked, after, repeated) == (False, False, True, True, False, False)


def test_a_redelivered_event_changes_nothing() -> None:
    worker = profile(migrating_to=KERALA, home_household=household())

    assert worker.record_worker(worker_facts()) is False
    assert worker.record_episode(episode(destination_state=KERALA)) is False
    assert worker.record_household(household()) is False
