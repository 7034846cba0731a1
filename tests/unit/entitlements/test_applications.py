"""Applications, deliveries, refusals of eligible workers and the funnel, through the access policy."""

from __future__ import annotations

from datetime import date

import pytest

from mrc.entitlements.v1 import events_pb2 as ent_events
from mrc_entitlements.domain.applications import ApplicationStatus, DeliveryKind
from mrc_entitlements.domain.funnel import FunnelStage
from mrc_entitlements.service_layer.applications import NewApplication, NewDelivery
from mrc_entitlements.service_layer.funnel import FunnelFilter
from mrc_kernel.errors import Conflict, IdempotencyKeyReused, InvalidArgument, NotFound
from mrc_kernel.roles import Role
from tests.support.auth import caller_for
from tests.unit.entitlements.fakes import BIHAR, PARTNER_B, PATNA, UP, World, caseworker, erased, merged, registered

S = ApplicationStatus


def _world() -> World:
    world = World()
    world.deliver(registered())
    return world


def _apply(world: World, key: str = "k-1", scheme: str = "bocw-welfare-board") -> str:
    application, created = world.service.applications.create(
        NewApplication("w-1", scheme, idempotency_key=key, reason="helped at the camp"), caseworker()
    )
    assert created
    return application.application_id


def _ration(reference: str = "epos-1") -> NewDelivery:
    return NewDelivery(reference, DeliveryKind.CASH_TRANSFER, date(2026, 12, 1), amount_paise=100_000)


def _approve(world: World, application_id: str) -> None:
    for status in (S.APPLIED, S.SUBMITTED, S.APPROVED):
        world.service.applications.transition(application_id, status, caseworker())


def test_an_application_is_created_once_per_idempotency_key_where_the_worker_is() -> None:
    world = _world()
    first = _apply(world)
    again, created = world.service.applications.create(
        NewApplication("w-1", "bocw-welfare-board", idempotency_key="k-1", reason="helped at the camp"), caseworker()
    )
    assert not created and again.application_id == first
    assert (again.state_code, again.district_code) == (BIHAR, PATNA)
    with pytest.raises(IdempotencyKeyReused):
        world.service.applications.create(NewApplication("w-1", "pmsby", idempotency_key="k-1"), caseworker())
    assert world.messages("applications", (ent_events.ApplicationTransitioned,))[0].application_id == first


def test_another_partner_can_neither_create_nor_read_nor_move_it() -> None:
    world = _world()
    application_id = _apply(world)
    other = caseworker(PARTNER_B)
    with pytest.raises(NotFound, match="no such worker"):
        world.service.applications.create(NewApplication("w-1", "pmsby"), other)
    with pytest.raises(NotFound, match="no such application"):
        world.service.applications.get(application_id, other)
    with pytest.raises(NotFound, match="no such application"):
        world.service.applications.transition(application_id, S.APPLIED, other)
    with pytest.raises(NotFound, match="no such application"):
        world.service.applications.get("random-id", other)


def test_an_application_outside_the_callers_geography_is_refused_naming_the_field() -> None:
    world = _world()
    with pytest.raises(InvalidArgument) as refused:
        world.service.applications.create(
            NewApplication("w-1", "pmsby", state_code=UP, district_code="162"), caseworker(states=(BIHAR,))
        )
    assert refused.value.violations[0].field == "state_code"


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        _apply(_world(), scheme="no-such")


def test_an_illegal_transition_is_a_conflict_naming_both_states() -> None:
    world = _world()
    application_id = _apply(world)
    with pytest.raises(Conflict, match="from identified to approved"):
        world.service.applications.transition(application_id, S.APPROVED, caseworker())


def test_a_retried_transition_is_answered_as_it_was() -> None:
    world = _world()
    application_id = _apply(world)
    moved, replayed = world.service.applications.transition(application_id, S.APPLIED, caseworker())
    again, replayed_again = world.service.applications.transition(application_id, S.APPLIED, caseworker())
    assert not replayed and replayed_again and again.version == moved.version


def test_deliveries_count_once_per_external_reference() -> None:
    world = _world()
    application_id = _apply(world)
    _approve(world, application_id)
    delivered, replayed = world.service.applications.record_delivery(application_id, _ration(), caseworker())
    assert not replayed and delivered.status is S.DELIVERED
    again, replayed = world.service.applications.record_delivery(application_id, _ration(), caseworker())
    assert replayed and len(again.deliveries) == 1
    assert len(world.messages("applications", (ent_events.BenefitDelivered,))) == 1
    actions = [(c.action.value, c.resource_type) for c in world.audit.events]
    assert actions.count(("update", "application")) == 4


def test_the_grievance_service_learns_of_a_refusal_while_eligible() -> None:
    world = _world()
    world.service.eligibility.declare_facts("w-1", {"construction_days_last_12_months": 200}, caseworker())
    application_id = _apply(world)
    for status in (S.APPLIED, S.SUBMITTED):
        world.service.applications.transition(application_id, status, caseworker())
    world.service.applications.transition(application_id, S.REJECTED, caseworker(), reason="no board card")
    found = world.service.eligibility.refusals("w-1", caseworker())
    (refusal,) = found.refusals
    assert refusal.scheme_code == "bocw-welfare-board" and refusal.outcome_at_refusal is not None
    # The worker never consented to grievance follow-up: asked for that purpose, there is no such worker.
    with pytest.raises(NotFound):
        world.service.eligibility.refusals("w-1", caseworker(purpose="grievance_follow_up"))
    with pytest.raises(NotFound):
        world.service.eligibility.refusals("w-1", caseworker(PARTNER_B, purpose="grievance_follow_up"))


def test_erasure_deletes_applications_and_a_merge_rekeys_them() -> None:
    world = _world()
    world.deliver(registered(worker_id="w-2"))
    application_id = _apply(world)
    world.deliver(merged("w-1", "w-2"))
    moved = world.service.applications_store.get(application_id)
    assert moved is not None and moved.worker_id == "w-2"
    world.deliver(erased("w-2"))
    assert world.service.applications_store.get(application_id) is None


def test_the_funnel_is_limited_to_the_callers_geography_with_small_cells_suppressed() -> None:
    world = World()
    world.deliver(*(registered(worker_id=f"w-{i}", birth_year=1990) for i in range(6)))
    world.deliver(registered(worker_id="w-up", home=(UP, "162")))
    for worker_id in [*(f"w-{i}" for i in range(6)), "w-up"]:
        world.service.eligibility.declare_facts(worker_id, {"bank_account": True}, caseworker())
    auditor = caller_for(Role.AUDITOR, states=(BIHAR,))
    counts = world.service.funnel.funnel(FunnelFilter(scheme_code="pmsby"), auditor)
    assert {(c.state_code, c.stage) for c in counts.cells} == {(BIHAR, FunnelStage.ELIGIBLE)}
    (count,) = counts.cells.values()
    assert count == 6
    every = world.service.funnel.funnel(FunnelFilter(scheme_code="pmsby"), caller_for(Role.AUDITOR))
    assert None in every.cells.values() and every.total is None  # the single worker of state 9 is suppressed
    with pytest.raises(InvalidArgument):
        world.service.funnel.funnel(FunnelFilter(state_code=UP), auditor)
