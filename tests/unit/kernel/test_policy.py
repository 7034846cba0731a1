"""The access policy against a plain reference table, for generated callers and records.

The reference does not reuse the policy's code: it lists the outcomes as a table keyed by three plain
facts (does the caller act for a partner, is the record in its geography, how is its partner related
to the record), and the test derives those facts from the generated caller and record independently.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrc_kernel.caller import Caller
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.policy import EVERY_PURPOSE, Grant, Protected, Purpose, Refusal, decide, require_in_geography
from mrc_kernel.roles import Role, scopes_for

PARTNERS = ["p-a", "p-b", "p-c", "gov-1"]
KINDS = ["cso", "government", "employer"]
STATES = ["10", "27", "32"]
DISTRICTS = {"10": ["188", "212"], "27": ["490"], "32": ["595"]}
ALL_DISTRICTS = [d for ds in DISTRICTS.values() for d in ds]
PLACES = [(s, d) for s, ds in DISTRICTS.items() for d in ds]

# (acts for a partner, record in its geography, relation) -> allowed, for callers not bound to an employer
# organisation (those are checked first, by `bound_elsewhere`). Relation: "owner", "granted"
# (a grant admits the partner for the declared purpose), "other purpose" (admitted, not for this
# purpose), "none".
REFERENCE: dict[tuple[bool, bool, str], Refusal | None] = {}
for relation in ("owner", "granted", "other purpose", "none"):
    for in_geography in (True, False):
        REFERENCE[(False, in_geography, relation)] = Refusal.NO_PARTNER
        if not in_geography:
            REFERENCE[(True, False, relation)] = Refusal.OUTSIDE_GEOGRAPHY
    REFERENCE[(True, True, relation)] = {
        "owner": None,
        "granted": None,
        "other purpose": Refusal.PURPOSE_NOT_GRANTED,
        "none": Refusal.NOT_GRANTED,
    }[relation]


@st.composite
def callers(draw: st.DrawFn) -> Caller:
    roles = frozenset(draw(st.sets(st.sampled_from(list(Role)), min_size=1, max_size=2)))
    return Caller(
        client_id="client",
        partner_id=draw(st.sampled_from(["", *PARTNERS])),
        partner_kind=draw(st.sampled_from(KINDS)),
        roles=roles,
        scopes=scopes_for(roles),
        states=frozenset(draw(st.sets(st.sampled_from(STATES), max_size=2))),
        districts=frozenset(draw(st.sets(st.sampled_from(ALL_DISTRICTS), max_size=2))),
        employer_id=draw(st.sampled_from(["", "", "org-1", "org-2"])),
    )


grants = st.builds(
    Grant,
    purposes=st.frozensets(st.sampled_from(list(Purpose)), min_size=1, max_size=3),
    partner_id=st.sampled_from(["", *PARTNERS]),
    partner_kind=st.sampled_from(["", *KINDS]),
)
records = st.builds(
    Protected,
    kind=st.just("worker"),
    places=st.lists(st.sampled_from(PLACES), max_size=2).map(tuple),
    owner_partner_id=st.sampled_from(["", *PARTNERS]),
    grants=st.lists(grants, max_size=3).map(tuple),
    organisation_id=st.sampled_from(["", "org-1", "org-2"]),
)


def bound_elsewhere(caller: Caller, record: Protected) -> bool:
    """An employer partner's client, or one whose token names an organisation, that is not this record's."""
    bound = caller.partner_kind == "employer" or caller.employer_id != ""
    return bound and (caller.employer_id == "" or caller.employer_id != record.organisation_id)


def in_geography(caller: Caller, record: Protected) -> bool:
    if not record.places:
        return not caller.states and not caller.districts
    for state, district in record.places:
        state_ok = not caller.states or state in caller.states
        district_ok = not caller.districts or district in caller.districts
        if state_ok and district_ok:
            return True
    return False


def relation(caller: Caller, record: Protected, purpose: Purpose) -> str:
    if record.owner_partner_id != "" and record.owner_partner_id == caller.partner_id:
        return "owner"
    admitting = [
        g
        for g in record.grants
        if (g.partner_id != "" and g.partner_id == caller.partner_id)
        or (g.partner_id == "" and g.partner_kind != "" and g.partner_kind == caller.partner_kind)
    ]
    if not admitting:
        return "none"
    return "granted" if any(purpose in g.purposes for g in admitting) else "other purpose"


@settings(max_examples=2000, deadline=None)
@given(callers(), records, st.sampled_from(list(Purpose)))
def test_the_policy_agrees_with_the_reference_table(caller: Caller, record: Protected, purpose: Purpose) -> None:
    expected = REFERENCE[(bool(caller.partner_id), in_geography(caller, record), relation(caller, record, purpose))]
    if caller.partner_id and bound_elsewhere(caller, record):
        expected = Refusal.OTHER_ORGANISATION

    decision = decide(caller, record, purpose)

    assert decision.allowed == (expected is None)
    assert decision.refusal == expected
    if decision.allowed:
        assert purpose in decision.purposes
    else:
        assert decision.purposes == frozenset()


@settings(max_examples=500, deadline=None)
@given(callers(), records)
def test_an_owner_in_geography_may_use_its_record_for_every_purpose(caller: Caller, record: Protected) -> None:
    owned = replace(record, owner_partner_id=caller.partner_id or "p-a", organisation_id=caller.employer_id)
    caller = replace(caller, partner_id=owned.owner_partner_id, states=frozenset(), districts=frozenset())
    if caller.partner_kind == "employer" and not caller.employer_id:
        caller = replace(caller, partner_kind="cso")

    assert decide(caller, owned, Purpose.REGISTRATION).purposes == EVERY_PURPOSE


def test_a_write_outside_the_geography_names_the_field() -> None:
    district_188 = Caller("c", "p-a", "cso", frozenset(), frozenset(), frozenset({"10"}), frozenset({"188"}))

    require_in_geography(district_188, "10", "188", prefix="home")
    for state, district, field in (("27", "490", "home.state_code"), ("10", "212", "home.district_code")):
        with pytest.raises(InvalidArgument) as refused:
            require_in_geography(district_188, state, district, prefix="home")
        assert [v.field for v in refused.value.violations] == [field]
