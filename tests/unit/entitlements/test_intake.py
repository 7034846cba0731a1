"""The consumer's use cases: registry events keep each worker's determinations current, once per event."""

from __future__ import annotations

from mrc.entitlements.v1 import determination_pb2
from mrc.entitlements.v1 import events_pb2 as ent_events
from mrc_entitlements.domain.worker_record import RecordStatus
from tests.unit.entitlements.fakes import (
    ERNAKULAM,
    KERALA,
    LINKAGE,
    REGISTRATION,
    World,
    consent_changed,
    erased,
    household_changed,
    merged,
    migrated,
    registered,
    updated,
    worker_facts,
)

SHIPPED = {
    "e-shram",
    "bocw-welfare-board",
    "onorc-ration-portability",
    "pm-jay",
    "pm-sym",
    "pmjjby",
    "pmsby",
    "bihar-migrant-accident-grant",
    "kerala-aawaz",
}


def test_a_registered_construction_worker_aged_30_is_determined_for_every_published_scheme() -> None:
    world = World()
    world.deliver(registered(birth_year=1996))
    record = world.service.records.get("w-1")
    assert record is not None
    assert set(record.eligibility.determinations) == SHIPPED
    bocw = record.eligibility.determinations["bocw-welfare-board"]
    statuses = {c.name: c.status.value for c in bocw.conditions}
    assert statuses["aged_18_to_59"] == "passed"
    assert statuses["building_or_construction_worker"] == "passed"
    assert statuses["ninety_days_in_last_twelve_months"] == "unknown"
    assert bocw.outcome.value == "undetermined"
    assert bocw.missing_facts == ("construction_days_last_12_months",)
    eshram = record.eligibility.determinations["e-shram"]
    assert {c.name: c.status.value for c in eshram.conditions}["aged_16_to_59"] == "passed"
    determined = world.messages(kinds=(ent_events.EligibilityDetermined,))
    assert {m.scheme_code for m in determined} == SHIPPED
    assert all(m.worker_id == "w-1" for m in determined)


def test_events_carry_no_facts_snapshot() -> None:
    world = World()
    world.deliver(registered())
    for event in world.outbox():
        assert b"mason" not in event.data


def test_a_redelivered_event_changes_nothing_and_publishes_nothing() -> None:
    world = World()
    event = registered()
    world.deliver(event)
    before = world.service.records.get("w-1")
    world.clear_outboxes()
    world.deliver(event, event)
    after = world.service.records.get("w-1")
    assert world.outbox() == []
    assert before is not None and after is not None
    assert after.version == before.version


def test_no_consent_to_entitlement_linkage_no_determination() -> None:
    world = World()
    world.deliver(registered(purposes=(REGISTRATION,)))
    assert world.outcomes() == {}
    assert world.messages() == []


def test_revoking_consent_removes_every_determination_and_restoring_it_brings_them_back() -> None:
    world = World()
    world.deliver(registered())
    world.clear_outboxes()
    world.deliver(consent_changed(worker_facts(purposes=(REGISTRATION,), version=2)))
    assert world.outcomes() == {}
    (removed,) = world.messages()
    assert isinstance(removed, ent_events.EligibilityRemoved)
    assert removed.reason == ent_events.REMOVAL_REASON_CONSENT_REVOKED
    assert set(removed.scheme_codes) == SHIPPED
    world.deliver(consent_changed(worker_facts(purposes=(REGISTRATION, LINKAGE), version=3)))
    assert set(world.outcomes()) == SHIPPED


def test_an_older_update_arriving_late_is_ignored() -> None:
    world = World()
    world.deliver(registered(version=1))
    world.deliver(updated(worker_facts(sector="agriculture", version=3)))
    world.deliver(updated(worker_facts(sector="construction", version=2)))
    assert world.outcomes()["bocw-welfare-board"] == "not_eligible"


def test_an_update_that_changes_an_outcome_publishes_eligibility_changed() -> None:
    world = World()
    world.deliver(registered())
    world.clear_outboxes()
    world.deliver(updated(worker_facts(sector="agriculture", version=2)))
    changed = [m for m in world.messages() if isinstance(m, ent_events.EligibilityChanged)]
    assert "bocw-welfare-board" in {m.scheme_code for m in changed}
    bocw = next(m for m in changed if m.scheme_code == "bocw-welfare-board")
    assert bocw.previous_outcome == determination_pb2.OUTCOME_UNDETERMINED
    assert bocw.outcome == determination_pb2.OUTCOME_NOT_ELIGIBLE


def test_a_migration_to_another_state_brings_ration_portability() -> None:
    world = World()
    world.deliver(household_changed(), registered())
    assert world.outcomes()["onorc-ration-portability"] == "not_eligible"
    world.deliver(migrated(to=(KERALA, ERNAKULAM)))
    record = world.service.records.get("w-1")
    assert record is not None
    onorc = record.eligibility.determinations["onorc-ration-portability"]
    assert onorc.outcome.value == "undetermined"
    assert {c.name: c.status.value for c in onorc.conditions}["working_away_from_card_state"] == "passed"
    assert onorc.missing_facts == ("nfsa_ration_card",)
    assert record.places == (("10", "212"), (KERALA, ERNAKULAM))


def test_a_household_change_reaches_its_members_and_leaves_those_it_no_longer_lists() -> None:
    world = World()
    world.deliver(registered(), registered(worker_id="w-2"))
    world.deliver(household_changed(("w-1", "w-2")))
    both = [world.service.records.get(w) for w in ("w-1", "w-2")]
    assert all(r is not None and r.profile.household is not None for r in both)
    world.deliver(household_changed(("w-1",), version=2))
    w2 = world.service.records.get("w-2")
    assert w2 is not None and w2.profile.household is None
    world.deliver(household_changed(("w-1", "w-2"), version=1))  # older, late: ignored
    w2 = world.service.records.get("w-2")
    assert w2 is not None and w2.profile.household is None


def test_erasure_leaves_a_tombstone_that_no_redelivery_revives() -> None:
    world = World()
    registration = registered()
    world.deliver(registration, erased())
    record = world.service.records.get("w-1")
    assert record is not None
    assert record.status is RecordStatus.ERASED
    assert record.profile.worker is None and record.eligibility.determinations == {} and record.grants == ()
    world.deliver(registration, updated(worker_facts(version=5)), migrated())
    record = world.service.records.get("w-1")
    assert record is not None and record.status is RecordStatus.ERASED and record.eligibility.determinations == {}


def test_a_merge_moves_the_record_to_the_survivor() -> None:
    world = World()
    world.deliver(registered(worker_id="w-old"), migrated("w-old"))
    world.deliver(merged("w-old", "w-new"))
    survivor = world.service.records.get("w-new")
    old = world.service.records.get("w-old")
    assert survivor is not None and old is not None
    assert old.status is RecordStatus.MERGED and old.merged_into == "w-new"
    assert set(survivor.eligibility.determinations) == SHIPPED
    assert "e-1" in survivor.profile.episodes
    world.clear_outboxes()
    world.deliver(merged("w-old", "w-new"))  # redelivered: nothing more
    again = world.service.records.get("w-new")
    assert again is not None and again.version == survivor.version
    assert world.outbox() == []


def test_merged_into_an_erased_worker_is_erased_too() -> None:
    world = World()
    world.deliver(registered(worker_id="w-new"), registered(worker_id="w-old"), erased("w-new"))
    world.deliver(merged("w-old", "w-new"))
    old = world.service.records.get("w-old")
    assert old is not None and old.status is RecordStatus.ERASED


def test_a_stored_record_reads_back_as_it_was_assessed() -> None:
    from mrc_entitlements.adapters.store import record_from, record_state

    world = World()
    world.deliver(household_changed(), registered(), migrated())
    record = world.service.records.get("w-1")
    assert record is not None
    again = record_from({"_id": "w-1", **record_state(record)})
    assert again.eligibility.determinations == record.eligibility.determinations
    assert again.profile == record.profile and again.grants == record.grants
    undetermined = [d for d in again.eligibility.determinations.values() if d.outcome.value == "undetermined"]
    assert undetermined and all(d.missing_facts for d in undetermined)
