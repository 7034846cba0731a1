"""Reading determinations and declaring facts through the shared access policy, audited."""

from __future__ import annotations

import dataclasses

import pytest

from mrc_kernel.audit import Action
from mrc_kernel.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from mrc_kernel.roles import Role
from tests.support.auth import caller_for
from tests.unit.entitlements.fakes import (
    BIHAR,
    KERALA,
    PARTNER_B,
    REGISTRATION,
    UP,
    World,
    caseworker,
    migrated,
    registered,
)


def _world(**kwargs: object) -> World:
    world = World()
    world.deliver(registered(**kwargs))  # type: ignore[arg-type]
    return world


def test_the_consenting_partner_reads_the_determinations_and_the_read_is_audited() -> None:
    world = _world()
    record = world.service.eligibility.get("w-1", caseworker())
    assert len(record.eligibility.determinations) == 9
    (read,) = world.audit.records
    assert (read.action, read.resource_type, read.resource_id, read.allowed, read.state_code) == (
        Action.READ,
        "eligibility",
        "w-1",
        True,
        BIHAR,
    )


@pytest.mark.parametrize(
    "caller",
    [
        caseworker(PARTNER_B),  # another partner, no consent names it
        caseworker(states=(UP,)),  # the right partner, another state
        caseworker(districts=("999",)),  # the right partner, another district
        dataclasses.replace(caseworker(), partner_id=""),  # acting for no partner
    ],
)
def test_a_caller_the_policy_refuses_gets_exactly_what_a_missing_worker_gets(caller: object) -> None:
    world = _world()
    with pytest.raises(NotFound) as refused:
        world.service.eligibility.get("w-1", caller)  # type: ignore[arg-type]
    with pytest.raises(NotFound) as missing:
        world.service.eligibility.get("nobody", caller)  # type: ignore[arg-type]
    assert refused.value.detail == missing.value.detail == "no such worker"
    assert [r.allowed for r in world.audit.records] == [False]


def test_a_partner_named_by_the_consent_reads_and_the_destination_state_reaches_a_migrant() -> None:
    world = _world(shared_with=(PARTNER_B,))
    assert world.service.eligibility.get("w-1", caseworker(PARTNER_B))
    world.deliver(migrated())
    assert world.service.eligibility.get("w-1", caseworker(states=(KERALA,)))


def test_without_consent_to_linkage_there_is_nothing_to_read() -> None:
    world = _world(purposes=(REGISTRATION,))
    with pytest.raises(NotFound):
        world.service.eligibility.get("w-1", caseworker())


def test_reads_are_for_entitlement_linkage() -> None:
    world = _world()
    with pytest.raises(InvalidArgument) as refused:
        world.service.eligibility.get("w-1", caseworker(purpose="registration"))
    assert refused.value.violations[0].field == "purpose"


def test_a_read_the_audit_trail_cannot_take_is_not_served() -> None:
    world = _world()
    world.audit.failing = True
    with pytest.raises(Unavailable):
        world.service.eligibility.get("w-1", caseworker())


def test_an_auditor_cannot_read_eligibility() -> None:
    world = _world()
    with pytest.raises(PermissionDenied):
        world.service.eligibility.get("w-1", caller_for(Role.AUDITOR))


def test_declared_facts_decide_an_undetermined_outcome_and_never_travel_in_events() -> None:
    world = _world()
    world.clear_outboxes()
    record = world.service.eligibility.declare_facts("w-1", {"construction_days_last_12_months": 120}, caseworker())
    assert record.eligibility.determinations["bocw-welfare-board"].outcome.value == "eligible"
    (declaration,) = record.declarations
    assert (declaration.fact, declaration.by.partner_id) == ("construction_days_last_12_months", "partner-a")
    (write,) = world.audit.events
    assert write.fields == ("declared.construction_days_last_12_months",) and write.state_code == BIHAR
    assert all(b"construction_days" not in e.data for e in world.outbox() if "EligibilityChanged" in e.type)
    assert {e.type.rsplit(".", 1)[-1] for e in world.outbox()} >= {"EligibilityChanged"}


def test_a_fact_the_registry_holds_cannot_be_declared() -> None:
    world = _world()
    with pytest.raises(InvalidArgument) as refused:
        world.service.eligibility.declare_facts("w-1", {"sector": "construction"}, caseworker())
    assert refused.value.violations[0].field == "declared.sector"


def test_declaring_for_a_worker_out_of_reach_is_not_found() -> None:
    world = _world()
    with pytest.raises(NotFound):
        world.service.eligibility.declare_facts("w-1", {"epfo_member": False}, caseworker(PARTNER_B))
