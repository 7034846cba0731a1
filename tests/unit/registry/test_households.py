"""Households: the aggregate's rules and the use cases, with in-memory stand-ins for the store and cipher."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from mrc.audit.v1 import audit_pb2
from mrc.registry.v1 import events_pb2
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Conflict, IdempotencyKeyReused, InvalidArgument, NotFound, PermissionDenied, Unavailable
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_registry.adapters.households_mapping import HOUSEHOLDS_TOPIC, household_envelope
from mrc_registry.domain.household import Household, Member, Relationship
from mrc_registry.service_layer.households import CreateHousehold, HouseholdService, ReplaceMembers
from tests.support.auth import RecordingAudit, caller_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HEAD = Member(relationship=Relationship.HEAD, worker_id="worker-1", birth_year=1985)
SPOUSE = Member(relationship=Relationship.SPOUSE, name="  Sunita   Devi ", birth_year=1988, left_behind=True)
CHILD = Member(relationship=Relationship.CHILD, name="Amit", birth_year=2015, left_behind=True, in_school=True)


class CountingNotifier:
    def __init__(self) -> None:
        self.count = 0

    def notify(self, document_id: object = None) -> None:
        self.count += 1


class FakeCipher:
    """Prefixes "enc:" and remembers the state and field of every encryption."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def encrypt(self, state_code: str, field: str, plaintext: str) -> str:
        self.calls.append((state_code, field, plaintext))
        return f"enc:{state_code}:{plaintext}"

    def decrypt(self, field: str, token: str) -> str:
        return token.rsplit(":", 1)[1]


class FakeHouseholdRepository:
    """Keeps households and what the outbox would hold: envelopes as the Mongo repository builds them."""

    def __init__(self) -> None:
        self.households: dict[str, Household] = {}
        self.by_key: dict[str, tuple[str, str]] = {}
        self.outbox: list[Event] = []

    def add(
        self, household: Household, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event]
    ) -> tuple[Household, bool]:
        if idempotency_key in self.by_key:
            household_id, first_fingerprint = self.by_key[idempotency_key]
            if first_fingerprint != fingerprint:
                raise IdempotencyKeyReused("different request")
            return copy.deepcopy(self.households[household_id]), False
        self.by_key[idempotency_key] = (household.household_id, fingerprint)
        self.outbox += [household_envelope(e) for e in household.pending_events] + list(also_publish)
        household.pending_events.clear()
        self.households[household.household_id] = copy.deepcopy(household)
        return household, True

    def get(self, household_id: str) -> Household | None:
        stored = self.households.get(household_id)
        return copy.deepcopy(stored) if stored else None

    def update_members(self, household: Household, *, expected_version: int, also_publish: Sequence[Event]) -> None:
        stored = self.households[household.household_id]
        if stored.version != expected_version:
            raise Conflict("changed meanwhile")
        self.outbox += [household_envelope(e) for e in household.pending_events] + list(also_publish)
        household.pending_events.clear()
        self.households[household.household_id] = copy.deepcopy(household)

    def of_type(self, message_type: str) -> list[Event]:
        return [e for e in self.outbox if e.type == message_type]


class Fixture:
    def __init__(self) -> None:
        self.repo = FakeHouseholdRepository()
        self.notifier = CountingNotifier()
        self.audit = RecordingAudit()
        self.cipher = FakeCipher()
        ids = iter(f"hh-{n}" for n in range(1000))
        self.service = HouseholdService(
            self.repo, self.notifier, self.audit, self.cipher, clock=lambda: NOW, new_id=lambda: next(ids)
        )


@pytest.fixture
def f() -> Fixture:
    return Fixture()


REGISTRAR = caller_for(Role.REGISTRAR, partner_id="cso-1", states=["10"])
OTHER_PARTNER = caller_for(Role.CASEWORKER, partner_id="cso-2")


def create(
    f: Fixture, caller: Caller = REGISTRAR, members: tuple[Member, ...] = (HEAD, SPOUSE, CHILD), **overrides: str
) -> Household:
    command = CreateHousehold(
        members=members,
        ration_card_number=overrides.get("ration_card_number", "BR 1234-5678/90"),
        idempotency_key=overrides.get("idempotency_key", "key-1"),
    )
    return f.service.create(caller, command).household


def decode(event: Event) -> object:
    return EventDecoder().decode(event)


def test_create_stores_the_household_with_a_masked_and_an_encrypted_ration_card(f: Fixture) -> None:
    household = create(f)

    assert household.masked_ration_card == "XXXXXX7890"
    assert household.ration_card_token == "enc:10:BR1234567890"
    assert f.cipher.calls == [("10", "households/hh-0/ration_card", "BR1234567890")]
    assert household.members[1].name == "Sunita Devi"
    assert household.registering_partner_id == "cso-1"
    assert household.version == 1
    assert f.repo.households["hh-0"] == household
    assert f.notifier.count == 1


def test_create_publishes_household_changed_keyed_by_household_and_an_audit_event(f: Fixture) -> None:
    create(f)

    [changed] = f.repo.of_type("mrc.registry.v1.HouseholdChanged")
    assert changed.topic == HOUSEHOLDS_TOPIC == "mrc.registry.households.v1"
    assert changed.key == b"hh-0"
    message = decode(changed)
    assert isinstance(message, events_pb2.HouseholdChanged)
    assert message.household.masked_ration_card == "XXXXXX7890"
    assert b"BR1234567890" not in changed.data  # neither the number nor its token leaves the store
    assert [m.name for m in message.household.members] == ["", "Sunita Devi", "Amit"]

    [audit] = f.audit.events
    assert (audit.action, audit.resource_type, audit.resource_id) == (Action.CREATE, "household", "hh-0")
    assert audit.fields == ("members", "ration_card")
    assert audit.caller.purpose == "registration"
    [stored_audit] = f.repo.of_type("mrc.audit.v1.DataAccessed")
    assert isinstance(decode(stored_audit), audit_pb2.DataAccessed)


def test_the_cipher_uses_the_partners_state_or_00_when_it_is_not_one_state(f: Fixture) -> None:
    create(f, caller_for(Role.REGISTRAR, partner_id="cso-1"), idempotency_key="a")
    create(f, caller_for(Role.REGISTRAR, partner_id="cso-1", states=["10", "27"]), idempotency_key="b")

    assert [state for state, _, _ in f.cipher.calls] == ["00", "00"]


def test_without_a_ration_card_nothing_is_encrypted(f: Fixture) -> None:
    household = create(f, ration_card_number="  ")

    assert (household.masked_ration_card, household.ration_card_token) == ("", "")
    assert f.cipher.calls == []
    assert f.audit.events[0].fields == ("members",)


def test_a_retry_returns_the_first_household_without_a_second_event_and_is_audited_as_a_read(f: Fixture) -> None:
    first = create(f)
    again = f.service.create(
        REGISTRAR,
        CreateHousehold(members=(HEAD, SPOUSE, CHILD), ration_card_number="BR1234567890", idempotency_key="key-1"),
    )

    assert not again.created
    assert again.household == first
    assert len(f.repo.households) == 1
    assert len(f.repo.of_type("mrc.registry.v1.HouseholdChanged")) == 1
    assert f.notifier.count == 1
    assert [(r.action, r.resource_id) for r in f.audit.records] == [(Action.READ, "hh-0")]


def test_the_same_key_with_another_body_is_refused_and_another_partner_has_its_own_keys(f: Fixture) -> None:
    create(f)
    with pytest.raises(IdempotencyKeyReused):
        create(f, members=(HEAD,))
    create(f, caller_for(Role.REGISTRAR, partner_id="cso-2"))

    assert len(f.repo.households) == 2


def test_every_invalid_field_is_named_and_nothing_is_stored_or_encrypted(f: Fixture) -> None:
    members = (
        Member(relationship=Relationship.HEAD, worker_id="w-1", name="Ravi"),
        Member(relationship=None, name="Asha"),
        Member(relationship=Relationship.HEAD, name=""),
        Member(relationship=Relationship.SIBLING, worker_id="w-1"),
        Member(relationship=Relationship.CHILD, name="Baby", birth_year=2027),
    )
    with pytest.raises(InvalidArgument) as caught:
        create(f, members=members, ration_card_number="Q7!")

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
    assert f.repo.households == {} and f.repo.outbox == [] and f.cipher.calls == [] and f.notifier.count == 0


@pytest.mark.parametrize(
    "members",
    [
        (),
        (SPOUSE, CHILD),
        (HEAD, Member(relationship=Relationship.HEAD, name="Second head")),
    ],
)
def test_a_household_has_exactly_one_head(f: Fixture, members: tuple[Member, ...]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        create(f, members=members)
    assert [v.field for v in caught.value.violations] == ["members"]


def test_the_registering_partner_reads_it_and_the_read_is_audited(f: Fixture) -> None:
    created = create(f)
    reader = caller_for(Role.CASEWORKER, partner_id="cso-1", purpose="grievance_follow_up")

    assert f.service.get(reader, "hh-0") == created
    [record] = f.audit.records
    assert (record.action, record.resource_type, record.resource_id) == (Action.READ, "household", "hh-0")
    assert record.caller.purpose == "grievance_follow_up"


def test_another_partner_gets_the_same_not_found_as_for_a_missing_household(f: Fixture) -> None:
    create(f)
    with pytest.raises(NotFound) as hidden:
        f.service.get(OTHER_PARTNER, "hh-0")
    with pytest.raises(NotFound) as missing:
        f.service.get(OTHER_PARTNER, "hh-9")

    assert str(hidden.value).replace("hh-0", "X") == str(missing.value).replace("hh-9", "X")
    assert f.audit.records == []


def test_reads_fail_closed_when_the_audit_trail_is_down(f: Fixture) -> None:
    create(f)
    f.audit.failing = True
    with pytest.raises(Unavailable):
        f.service.get(REGISTRAR, "hh-0")


def test_an_unknown_purpose_is_refused_and_a_client_of_no_partner_cannot_write(f: Fixture) -> None:
    with pytest.raises(InvalidArgument) as caught:
        f.service.get(caller_for(Role.REGISTRAR, purpose="marketing"), "hh-0")
    assert caught.value.violations[0].field == "purpose"
    with pytest.raises(PermissionDenied):
        create(f, caller_for(Role.REGISTRAR, partner_id=""))


def test_replacing_members_bumps_the_version_and_publishes(f: Fixture) -> None:
    create(f)
    new_members = (HEAD, Member(relationship=Relationship.PARENT, name="Kamla", birth_year=1950, left_behind=True))

    updated = f.service.replace_members(REGISTRAR, ReplaceMembers("hh-0", new_members, expected_version=1))

    assert updated.version == 2
    assert f.repo.households["hh-0"].members == new_members
    assert f.repo.households["hh-0"].ration_card_token == "enc:10:BR1234567890"
    changes = [decode(e) for e in f.repo.of_type("mrc.registry.v1.HouseholdChanged")]
    assert [c.household.version for c in changes] == [1, 2]  # type: ignore[attr-defined]
    assert [(a.action, a.fields) for a in f.audit.events][-1] == (Action.UPDATE, ("members",))
    assert f.notifier.count == 2


def test_a_stale_version_is_a_conflict_and_changes_nothing(f: Fixture) -> None:
    create(f)
    f.service.replace_members(REGISTRAR, ReplaceMembers("hh-0", (HEAD,), expected_version=1))

    with pytest.raises(Conflict):
        f.service.replace_members(REGISTRAR, ReplaceMembers("hh-0", (HEAD, CHILD), expected_version=1))

    assert f.repo.households["hh-0"].members == (HEAD,)
    assert len(f.repo.of_type("mrc.registry.v1.HouseholdChanged")) == 2


def test_a_change_that_lands_between_read_and_write_is_a_conflict(f: Fixture) -> None:
    create(f)
    read = f.repo.get

    def read_then_someone_writes(household_id: str) -> Household | None:
        household = read(household_id)
        f.repo.households[household_id].version += 1
        return household

    f.repo.get = read_then_someone_writes  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        f.service.replace_members(REGISTRAR, ReplaceMembers("hh-0", (HEAD,), expected_version=1))


def test_members_are_validated_before_the_version_and_others_cannot_update(f: Fixture) -> None:
    create(f)
    with pytest.raises(InvalidArgument):
        f.service.replace_members(REGISTRAR, ReplaceMembers("hh-0", (CHILD,), expected_version=7))
    with pytest.raises(NotFound):
        f.service.replace_members(OTHER_PARTNER, ReplaceMembers("hh-0", (HEAD,), expected_version=1))
    assert f.repo.households["hh-0"].version == 1


def test_the_event_carries_a_snapshot_not_the_live_household() -> None:
    household = Household.create(
        household_id="h",
        members=[HEAD],
        masked_ration_card="",
        ration_card_token="",
        registering_partner_id="p",
        now=NOW,
    )
    household.replace_members([HEAD, CHILD], expected_version=1, now=NOW)

    assert [len(e.household.members) for e in household.pending_events] == [1, 2]
