"""Households: the aggregate's rules and the use cases on the real adapters (in-memory store). A household
has a home; every registered member must be a worker the caller reaches; reads are scoped by the partner
that recorded it and by geography."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mrc.audit.v1 import audit_pb2
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Conflict, IdempotencyKeyReused, InvalidArgument, NotFound, PermissionDenied, Unavailable
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_registry.adapters.households_mapping import HOUSEHOLDS_TOPIC
from mrc_registry.domain.household import Household, Member, Relationship
from mrc_registry.service_layer.households import CreateHousehold, ReplaceMembers
from tests.support.auth import AuditCall, caller_for

from .fakes import (
    ARARIA,
    CASEWORKER_A,
    CASEWORKER_B,
    PUNE,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_A,
    Registry,
    acting_for,
    make_registry,
    registered,
)

CHANGED = "mrc.registry.v1.HouseholdChanged"
HOUSEHOLDS = "households"
SPOUSE = Member(relationship=Relationship.SPOUSE, name="  Sunita   Devi ", birth_year=1988, left_behind=True)
CHILD = Member(relationship=Relationship.CHILD, name="Amit", birth_year=2015, left_behind=True, in_school=True)


@pytest.fixture
def registry() -> Registry:
    return make_registry()


@pytest.fixture
def head(registry: Registry) -> Member:
    """Partner A's worker Ravi Kumar (home in Patna) as the head of the household."""
    worker_id = registered(registry).worker_id
    return Member(relationship=Relationship.HEAD, worker_id=worker_id, birth_year=1990)


def create(
    registry: Registry,
    members: tuple[Member, ...],
    caller: Caller = REGISTRAR_A,
    *,
    ration_card_number: str = "BR 1234-5678/90",
    key: str = "key-1",
    home: object = None,
) -> Household:
    command = CreateHousehold(
        members=members,
        ration_card_number=ration_card_number,
        idempotency_key=key,
        home=home,  # type: ignore[arg-type]
    )
    return registry.households.create(caller, command).household


def stored(registry: Registry, household_id: str) -> Household:
    household = registry.households._repo.get(household_id)
    assert household is not None
    return household


# -- creating ------------------------------------------------------------------------------------


def test_create_stores_the_household_with_a_masked_and_an_encrypted_ration_card(
    registry: Registry, head: Member
) -> None:
    household = create(registry, (head, SPOUSE, CHILD))

    assert household.masked_ration_card == "XXXXXX7890"
    assert household.ration_card_token == f"enc:households/{household.household_id}/ration_card:BR1234567890"
    assert household.members[1].name == "Sunita Devi"
    assert household.registering_partner_id == "partner-a"
    assert household.version == 1
    assert household.home is not None and household.home.district_code == "212"  # the head's home
    assert stored(registry, household.household_id) == household


def test_create_publishes_household_changed_with_facts_only_and_an_audit_event(
    registry: Registry, head: Member
) -> None:
    household = create(registry, (head, SPOUSE, CHILD))

    [changed] = [e for e in registry.outbox_of(HOUSEHOLDS) if e.type == CHANGED]
    assert changed.topic == HOUSEHOLDS_TOPIC == "mrc.registry.households.v1"
    assert changed.key == household.household_id.encode()
    message = EventDecoder().decode(changed)
    assert list(message.facts.member_worker_ids) == [head.worker_id]
    assert (message.facts.size, message.facts.holds_ration_card) == (3, True)
    assert message.facts.home.district_code == "212" and message.facts.home.village_name == ""
    for secret in (b"BR1234567890", b"7890", b"Sunita", b"Amit", b"Phulwari"):
        assert secret not in changed.data  # neither names, villages nor the card leave the store

    [audit] = [a for a in registry.audit.events if a.resource_type == "household"]
    assert (audit.action, audit.resource_id, audit.state_code) == (Action.CREATE, household.household_id, "10")
    assert audit.fields == ("members", "ration_card")
    assert audit.caller.purpose == "registration"
    [stored_audit] = registry.decoded(HOUSEHOLDS, "mrc.audit.v1.DataAccessed")
    assert isinstance(stored_audit, audit_pb2.DataAccessed)


def test_without_a_ration_card_nothing_is_encrypted(registry: Registry, head: Member) -> None:
    household = create(registry, (head, CHILD), ration_card_number="  ")

    assert (household.masked_ration_card, household.ration_card_token) == ("", "")
    assert registry.audit.events[-1].fields == ("members",)


def test_a_household_of_unregistered_people_needs_a_home(registry: Registry) -> None:
    head = Member(relationship=Relationship.HEAD, name="Kamla Devi")

    with pytest.raises(InvalidArgument) as caught:
        create(registry, (head, CHILD))
    household = create(registry, (head, CHILD), home=ARARIA)

    assert [v.field for v in caught.value.violations] == ["home"]
    assert household.home == ARARIA


def test_a_retry_returns_the_first_household_without_a_second_event_and_is_audited_as_a_read(
    registry: Registry, head: Member
) -> None:
    first = create(registry, (head, SPOUSE, CHILD))
    again = registry.households.create(
        REGISTRAR_A,
        CreateHousehold(members=(head, SPOUSE, CHILD), ration_card_number="BR1234567890", idempotency_key="key-1"),
    )

    assert not again.created
    assert again.household == first
    assert len(registry.store.collection(HOUSEHOLDS).documents) == 1
    assert [e.type for e in registry.outbox_of(HOUSEHOLDS)].count(CHANGED) == 1
    assert [(r.action, r.resource_id) for r in registry.audit.records] == [(Action.READ, first.household_id)]


def test_the_same_key_with_another_body_is_refused_and_another_partner_has_its_own_keys(
    registry: Registry, head: Member
) -> None:
    create(registry, (head, CHILD))
    with pytest.raises(IdempotencyKeyReused):
        create(registry, (head,))
    theirs = Member(relationship=Relationship.HEAD, worker_id=registered(registry, REGISTRAR_B, "b-1").worker_id)
    create(registry, (theirs,), REGISTRAR_B)

    assert len(registry.store.collection(HOUSEHOLDS).documents) == 2


def test_every_invalid_field_is_named_and_nothing_is_stored(registry: Registry) -> None:
    members = (
        Member(relationship=Relationship.HEAD, worker_id="w-1", name="Ravi"),
        Member(relationship=None, name="Asha"),
        Member(relationship=Relationship.HEAD, name=""),
        Member(relationship=Relationship.SIBLING, worker_id="w-1"),
        Member(relationship=Relationship.CHILD, name="Baby", birth_year=2027),
    )
    with pytest.raises(InvalidArgument) as caught:
        create(registry, members, ration_card_number="Q7!")

    assert {v.field for v in caught.value.violations} == {
        "members.0.name",
        "members.1.relationship",
        "members.2.worker_id",
        "members.3.worker_id",
        "members.4.birth_year",
        "members",
        "ration_card_number",
    }
    assert "Q7!" not in str(caught.value)
    assert registry.store.collection(HOUSEHOLDS).documents == {}


@pytest.mark.parametrize(
    "others",
    [
        (),
        (Member(relationship=Relationship.HEAD, name="Second head"),),
    ],
)
def test_a_household_has_exactly_one_head(registry: Registry, head: Member, others: tuple[Member, ...]) -> None:
    members = (SPOUSE, CHILD) if not others else (head, *others)
    with pytest.raises(InvalidArgument) as caught:
        create(registry, members, home=ARARIA)
    assert [v.field for v in caught.value.violations] == ["members"]


# -- who may name whom, and where -----------------------------------------------------------------


def test_a_worker_the_partner_does_not_reach_cannot_be_named_a_member_and_looks_like_an_unknown_one(
    registry: Registry, head: Member
) -> None:
    theirs = Member(relationship=Relationship.HEAD, worker_id=head.worker_id)  # partner A's worker
    unknown = Member(relationship=Relationship.HEAD, worker_id="no-such-worker")

    with pytest.raises(InvalidArgument) as hidden:
        create(registry, (theirs, CHILD), REGISTRAR_B, home=ARARIA)
    with pytest.raises(InvalidArgument) as missing:
        create(registry, (unknown, CHILD), REGISTRAR_B, home=ARARIA)

    assert [(v.field, v.description) for v in hidden.value.violations] == [("members.0.worker_id", "no such worker")]
    assert hidden.value.violations == missing.value.violations
    assert registry.store.collection(HOUSEHOLDS).documents == {}
    # The attempt on a real record is audited for the auditors, refused.
    assert registry.audit.records == [
        AuditCall(acting_for(REGISTRAR_B, "registration"), Action.READ, "worker", head.worker_id, (), False, "10")
    ]


def test_a_household_outside_the_callers_geography_is_refused_naming_the_field(
    registry: Registry, head: Member
) -> None:
    patna_only = caller_for(Role.REGISTRAR, partner_id="partner-a", states={"10"}, districts={"212"})
    unregistered = Member(relationship=Relationship.HEAD, name="Kamla Devi")

    with pytest.raises(InvalidArgument) as other_state:
        create(registry, (unregistered,), patna_only, home=PUNE)
    with pytest.raises(InvalidArgument) as other_district:
        create(registry, (head,), patna_only, home=ARARIA)

    assert [v.field for v in other_state.value.violations] == ["home.state_code"]
    assert [v.field for v in other_district.value.violations] == ["home.district_code"]
    assert registry.store.collection(HOUSEHOLDS).documents == {}


def test_a_client_limited_to_another_district_cannot_name_a_worker_there(registry: Registry, head: Member) -> None:
    araria_only = caller_for(Role.REGISTRAR, partner_id="partner-a", states={"10"}, districts={"188"})

    with pytest.raises(InvalidArgument) as caught:
        create(registry, (head,), araria_only, home=ARARIA)

    assert [v.field for v in caught.value.violations] == ["members.0.worker_id"]


# -- reading -------------------------------------------------------------------------------------


def test_the_registering_partner_reads_it_and_the_read_is_audited(registry: Registry, head: Member) -> None:
    created = create(registry, (head, SPOUSE, CHILD))
    reader = caller_for(Role.CASEWORKER, partner_id="partner-a", purpose="grievance_follow_up")

    assert registry.households.get(reader, created.household_id) == created
    [record] = registry.audit.records
    assert (record.action, record.resource_type, record.resource_id) == (Action.READ, "household", created.household_id)
    assert record.caller.purpose == "grievance_follow_up"
    assert record.state_code == "10"


def test_another_partner_gets_the_same_not_found_as_for_a_missing_household(registry: Registry, head: Member) -> None:
    created = create(registry, (head,))

    with pytest.raises(NotFound) as hidden:
        registry.households.get(CASEWORKER_B, created.household_id)
    with pytest.raises(NotFound) as missing:
        registry.households.get(CASEWORKER_B, "household-999")

    assert str(hidden.value) == str(missing.value) == "no such household"
    assert registry.audit.records == []


def test_a_client_limited_to_another_district_does_not_read_its_partners_households_there(
    registry: Registry, head: Member
) -> None:
    created = create(registry, (head,))  # home in Patna (212)
    araria_only = caller_for(Role.CASEWORKER, partner_id="partner-a", states={"10"}, districts={"188"})
    maharashtra = caller_for(Role.CASEWORKER, partner_id="partner-a", states={"27"})

    for caller in (araria_only, maharashtra):
        with pytest.raises(NotFound):
            registry.households.get(caller, created.household_id)
    assert registry.households.get(CASEWORKER_A, created.household_id) == created


def test_reads_fail_closed_when_the_audit_trail_is_down(registry: Registry, head: Member) -> None:
    created = create(registry, (head,))
    registry.audit.failing = True

    with pytest.raises(Unavailable):
        registry.households.get(CASEWORKER_A, created.household_id)


def test_an_unknown_purpose_is_refused_and_a_client_of_no_partner_cannot_write(
    registry: Registry, head: Member
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        registry.households.get(caller_for(Role.REGISTRAR, purpose="marketing"), "household-1")
    assert caught.value.violations[0].field == "purpose"
    with pytest.raises(PermissionDenied):
        create(registry, (head,), caller_for(Role.REGISTRAR, partner_id=""))


# -- replacing members ---------------------------------------------------------------------------


def test_replacing_members_bumps_the_version_and_publishes(registry: Registry, head: Member) -> None:
    created = create(registry, (head, SPOUSE, CHILD))
    new_members = (head, Member(relationship=Relationship.PARENT, name="Kamla", birth_year=1950, left_behind=True))

    updated = registry.households.replace_members(
        REGISTRAR_A, ReplaceMembers(created.household_id, new_members, expected_version=1)
    )

    assert updated.version == 2
    after = stored(registry, created.household_id)
    assert after.members == new_members
    assert after.ration_card_token == created.ration_card_token
    changes = registry.decoded(HOUSEHOLDS, CHANGED)
    assert [c.facts.version for c in changes] == [1, 2]
    assert [(a.action, a.fields) for a in registry.audit.events][-1] == (Action.UPDATE, ("members",))


def test_a_stale_version_is_a_conflict_and_changes_nothing(registry: Registry, head: Member) -> None:
    created = create(registry, (head, CHILD))
    registry.households.replace_members(REGISTRAR_A, ReplaceMembers(created.household_id, (head,), expected_version=1))

    with pytest.raises(Conflict):
        registry.households.replace_members(
            REGISTRAR_A, ReplaceMembers(created.household_id, (head, CHILD), expected_version=1)
        )

    assert stored(registry, created.household_id).members == (head,)
    assert len(registry.decoded(HOUSEHOLDS, CHANGED)) == 2


def test_a_change_that_lands_between_read_and_write_is_a_conflict(
    registry: Registry, head: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = create(registry, (head, CHILD))
    repo = registry.households._repo
    read = repo.get

    def read_then_someone_writes(household_id: str) -> Household | None:
        household = read(household_id)
        monkeypatch.setattr(repo, "get", read)
        registry.households.replace_members(SUPERVISOR_A, ReplaceMembers(household_id, (head,), expected_version=1))
        return household

    monkeypatch.setattr(repo, "get", read_then_someone_writes)
    with pytest.raises(Conflict):
        registry.households.replace_members(
            REGISTRAR_A, ReplaceMembers(created.household_id, (head, SPOUSE), expected_version=1)
        )

    assert stored(registry, created.household_id).members == (head,)


def test_members_are_validated_before_the_version_and_others_cannot_update(registry: Registry, head: Member) -> None:
    created = create(registry, (head, CHILD))

    with pytest.raises(InvalidArgument):
        registry.households.replace_members(REGISTRAR_A, ReplaceMembers(created.household_id, (CHILD,), 7))
    with pytest.raises(NotFound):
        registry.households.replace_members(REGISTRAR_B, ReplaceMembers(created.household_id, (head,), 1))

    assert stored(registry, created.household_id).version == 1


def test_replacing_members_cannot_add_a_worker_the_partner_does_not_reach(registry: Registry, head: Member) -> None:
    created = create(registry, (head,))
    theirs = registered(registry, REGISTRAR_B, "b-1", full_name="Mohan Lal", phone="9123456789", home=ARARIA)
    sibling = Member(relationship=Relationship.SIBLING, worker_id=theirs.worker_id)

    with pytest.raises(InvalidArgument) as caught:
        registry.households.replace_members(REGISTRAR_A, ReplaceMembers(created.household_id, (head, sibling), 1))

    assert [v.field for v in caught.value.violations] == ["members.1.worker_id"]
    assert stored(registry, created.household_id).version == 1


# -- erasure -------------------------------------------------------------------------------------


def test_an_erased_worker_leaves_every_household_and_consumers_are_told(registry: Registry, head: Member) -> None:
    created = create(registry, (head, SPOUSE, CHILD))

    registry.workers.erase(head.worker_id, "asked at the helpdesk", SUPERVISOR_A)

    after = stored(registry, created.household_id)
    assert [m.worker_id for m in after.members] == ["", ""]
    assert after.version == 2
    last = registry.decoded(HOUSEHOLDS, CHANGED)[-1]
    assert list(last.facts.member_worker_ids) == [] and last.facts.size == 2


# -- the aggregate -------------------------------------------------------------------------------


def test_the_event_carries_a_snapshot_not_the_live_household() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    head = Member(relationship=Relationship.HEAD, worker_id="worker-1")
    household = Household.create(
        household_id="h",
        members=[head],
        masked_ration_card="",
        ration_card_token="",
        registering_partner_id="p",
        now=now,
    )
    household.replace_members([head, CHILD], expected_version=1, now=now)

    assert [len(e.household.members) for e in household.pending_events] == [1, 2]
