"""Determinations and change detection: events go out only when something changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from mrc_entitlements.domain.determinations import (
    Change,
    EligibilityChanged,
    EligibilityDetermined,
    EligibilityRemoved,
    RemovalReason,
    WorkerEligibility,
    detect_change,
    determine,
)
from mrc_entitlements.domain.rules import Outcome
from mrc_entitlements.domain.schemes import RuleVersion

from .builders import KERALA, NOW, TODAY, catalogue, determination, profile

LATER = NOW + timedelta(hours=1)


def published_rules() -> list[RuleVersion]:
    return [rule for scheme in catalogue() if (rule := scheme.published_rule) is not None]


def test_a_worker_is_determined_for_every_published_scheme() -> None:
    found = determine("w-1", published_rules(), profile().snapshot(TODAY), NOW)

    assert len(found) == 9
    assert {d.worker_id for d in found} == {"w-1"}
    assert all(d.determined_at == NOW and d.rule_version == 1 for d in found)


def test_the_first_determination_is_announced_and_a_repeat_is_not() -> None:
    eligibility = WorkerEligibility("w-1")
    first = determine("w-1", published_rules(), profile().snapshot(TODAY), NOW)

    assert set(eligibility.record(first).values()) == {Change.FIRST}
    assert len(eligibility.pending_events) == 9
    assert all(isinstance(e, EligibilityDetermined) for e in eligibility.pending_events)
    eligibility.pending_events.clear()

    again = determine("w-1", published_rules(), profile().snapshot(TODAY), LATER)
    assert set(eligibility.record(again).values()) == {Change.UNCHANGED}
    assert eligibility.pending_events == []
    assert eligibility.determinations["pm-jay"].determined_at == LATER  # kept, silently


def test_a_change_of_outcome_is_announced_with_the_previous_outcome() -> None:
    eligibility = WorkerEligibility("w-1")
    eligibility.record([determination("kerala-aawaz", profile())])
    eligibility.pending_events.clear()

    changes = eligibility.record([determination("kerala-aawaz", profile(migrating_to=KERALA))])

    assert changes == {"kerala-aawaz": Change.CHANGED}
    (event,) = eligibility.pending_events
    assert isinstance(event, EligibilityChanged)
    assert (event.previous_outcome, event.determination.outcome) == (Outcome.NOT_ELIGIBLE, Outcome.ELIGIBLE)


def test_a_condition_changing_under_the_same_outcome_is_a_change() -> None:
    # Not eligible for Aawaz at home (not in Kerala), then not eligible in Kerala at 65 (too old):
    # the outcome stays, the reason does not.
    at_home = determination("kerala-aawaz", profile(birth_year=1961))
    in_kerala = determination("kerala-aawaz", profile(birth_year=1961, migrating_to=KERALA))

    assert at_home.outcome is in_kerala.outcome is Outcome.NOT_ELIGIBLE
    assert detect_change(at_home, in_kerala) is Change.CHANGED


def test_a_new_rule_version_or_new_facts_with_the_same_results_are_not_a_change() -> None:
    before = determination("pmjjby", profile())
    after = replace(determination("pmjjby", profile(birth_year=1990)), rule_version=2, determined_at=LATER)

    assert before.facts_snapshot != after.facts_snapshot
    assert detect_change(None, before) is Change.FIRST
    assert detect_change(before, after) is Change.UNCHANGED


def test_a_re_evaluation_job_skips_a_worker_already_at_the_rule_version() -> None:
    eligibility = WorkerEligibility("w-1")
    eligibility.record([determination("pmsby", profile())])

    assert eligibility.is_current("pmsby", 1)
    assert not eligibility.is_current("pmsby", 2)
    assert not eligibility.is_current("pm-jay", 1)


def test_revoked_consent_withdraws_every_determination_once() -> None:
    eligibility = WorkerEligibility("w-1")
    eligibility.record(determine("w-1", published_rules(), profile().snapshot(TODAY), NOW))
    eligibility.pending_events.clear()

    assert eligibility.withdraw(RemovalReason.CONSENT_REVOKED, LATER) is True
    assert eligibility.withdraw(RemovalReason.CONSENT_REVOKED, LATER) is False

    assert eligibility.determinations == {}
    (event,) = eligibility.pending_events
    assert isinstance(event, EligibilityRemoved)
    assert len(event.scheme_codes) == 9


def test_a_retired_rule_withdraws_only_its_scheme() -> None:
    eligibility = WorkerEligibility("w-1")
    eligibility.record(determine("w-1", published_rules(), profile().snapshot(TODAY), NOW))

    eligibility.withdraw(RemovalReason.RULE_RETIRED, LATER, ["pmsby"])

    assert "pmsby" not in eligibility.determinations
    assert len(eligibility.determinations) == 8


def test_a_merge_moves_the_determinations_to_the_survivor() -> None:
    eligibility = WorkerEligibility("w-dup")
    eligibility.record([replace(determination("pmsby", profile()), worker_id="w-dup")])

    moved = eligibility.moved_to("w-1")

    assert moved.worker_id == "w-1"
    assert moved.determinations["pmsby"].worker_id == "w-1"
    assert moved.version == 0 and moved.pending_events == []
