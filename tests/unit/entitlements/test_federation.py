"""Cross-state federation of entitlement status: what Bihar's service sends while the registry shares a worker's
record with Kerala, and what Kerala's keeps of it beside a copy's own determinations (real adapters, in memory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mrc.entitlements.v1 import determination_pb2
from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_entitlements.adapters.federation_mapping import RefusedStatus, home_status_message
from mrc_entitlements.adapters.federation_publisher import FederationScope
from mrc_entitlements.domain.worker_record import RecordStatus
from mrc_entitlements.entrypoints.consumer import build_handler, build_status_handler
from mrc_entitlements.entrypoints.wiring import build
from mrc_kernel.errors import NotFound
from mrc_kernel.events import Event
from mrc_kernel.idempotency import IdDeriver
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from tests.support.auth import caller_for
from tests.unit.entitlements.fakes import (
    BIHAR,
    KERALA,
    LINKAGE,
    REGISTRATION,
    World,
    consent_changed,
    envelope,
    erased,
    household_changed,
    migrated,
    registered,
    updated,
    worker_facts,
)

TO_KERALA = "mrc.federation.entitlements.32.v1"
CROSS_STATE = worker_pb2.CONSENT_PURPOSE_CROSS_STATE_SHARING


@dataclass
class StateWorld(World):
    """One state's entitlements service with the federation on: its own LGD code and its peers."""

    own: str = BIHAR
    peers: frozenset[str] = field(default_factory=lambda: frozenset({KERALA}))

    def __post_init__(self) -> None:
        self.service = build(
            self.store,
            self.audit,
            IdDeriver(b"a-test-secret-of-32-bytes-long!!"),
            catalogue_cache_seconds=0,
            clock=self.clock,
            federation=FederationScope(self.own, self.peers - {self.own}),
        )
        self._handler = build_handler(self.service.intake, EventDecoder())
        self._status_handler = build_status_handler(self.service.intake, EventDecoder())
        self._decoder = EventDecoder()

    def statuses(self) -> list[tuple[str, federation_pb2.EntitlementStatusShared]]:
        found = []
        for event in self.outbox():
            message = self._decoder.decode(event)
            if isinstance(message, federation_pb2.EntitlementStatusShared):
                found.append((event.topic, message))
        return found

    def mirrored(self, message: federation_pb2.EntitlementStatusShared, source: str = BIHAR) -> tuple[str, Event]:
        event = Event.from_message(message, source="/mrc/entitlements", subject=message.worker_id, topic=TO_KERALA)
        return self._status_handler(event, source), event

    def redeliver(self, event: Event, source: str = BIHAR) -> str:
        return self._status_handler(event, source)


def shared_facts(shared_with: tuple[str, ...] = (KERALA,), **kwargs: Any) -> events_pb2.WorkerFacts:
    facts = worker_facts(purposes=(REGISTRATION, LINKAGE, CROSS_STATE), **kwargs)
    facts.shared_with_state_codes.extend(shared_with)
    return facts


def copy_facts(worker_id: str = "w-1", version: int = 2) -> events_pb2.WorkerFacts:
    """Kerala's registry's facts of its copy of Bihar's worker: the cross-state consent's grants to Kerala's
    CSOs and government partners, the home in Bihar, marked with Bihar."""
    facts = worker_facts(worker_id, purposes=(REGISTRATION, LINKAGE, CROSS_STATE), version=version)
    del facts.grants[:]
    for kind in ("cso", "government"):
        facts.grants.append(
            events_pb2.PartnerGrant(
                partner_kind=kind, purposes=["case_management", "entitlement_linkage", "registration", "sharing"]
            )
        )
    facts.federated_from_state_code = BIHAR
    return facts


def kerala_caseworker(partner_id: str = "kerala-cso") -> Any:
    return caller_for(Role.CASEWORKER, partner_id=partner_id, states=[KERALA])


def bihar_status(world: StateWorld) -> federation_pb2.EntitlementStatusShared:
    statuses = world.statuses()
    assert statuses, "Bihar sent no status"
    return statuses[-1][1]


# ---------------------------------------------------------------- sending (Bihar)


def test_a_shared_worker_s_status_goes_to_each_state_the_registry_shares_the_record_with() -> None:
    bihar = StateWorld()
    bihar.deliver(registered(shared_facts()))
    statuses = bihar.statuses()
    assert [topic for topic, _ in statuses] == [TO_KERALA]
    message = statuses[0][1]
    assert message.worker_id == "w-1" and message.home_state_code == BIHAR
    assert list(message.shared_with_state_codes) == [KERALA]
    assert {d.scheme_code: d.outcome for d in message.determinations} == proto_outcomes(bihar)
    assert message.version > 0 and message.shared_at.seconds > 0


def proto_outcomes(world: StateWorld) -> dict[str, int]:
    record = world.service.records.get("w-1")
    assert record is not None
    return {
        code: int(determination_pb2.Outcome.Value(f"OUTCOME_{d.outcome.value.upper()}"))
        for code, d in record.eligibility.determinations.items()
    }


def test_nothing_is_sent_for_a_worker_the_registry_shares_with_no_other_state() -> None:
    bihar = StateWorld()
    bihar.deliver(registered(worker_facts()))
    assert bihar.service.records.get("w-1") is not None
    assert bihar.statuses() == []


def test_nothing_is_sent_to_a_state_that_is_not_a_peer_of_this_federation() -> None:
    bihar = StateWorld()
    bihar.deliver(registered(shared_facts(shared_with=("33",))))
    assert bihar.statuses() == []


def test_sending_stops_when_the_cross_state_consent_ends() -> None:
    bihar = StateWorld()
    bihar.deliver(registered(shared_facts()))
    bihar.clear_outboxes()
    # Revoked: the registry shares the record with no state any more, and linkage is gone too.
    bihar.deliver(consent_changed(worker_facts(purposes=(REGISTRATION,), version=2)))
    record = bihar.service.records.get("w-1")
    assert record is not None and not record.status_shared_with and not record.shared_with_states
    assert bihar.statuses() == []
    # Later changes send nothing either.
    bihar.deliver(updated(worker_facts(purposes=(REGISTRATION, LINKAGE), version=3, birth_year=1970)))
    assert bihar.statuses() == []


def test_a_state_newly_shared_with_gets_the_status_once_even_when_nothing_else_changed() -> None:
    bihar = StateWorld()
    bihar.deliver(registered(worker_facts(purposes=(REGISTRATION, LINKAGE, CROSS_STATE))))
    assert bihar.statuses() == []
    bihar.deliver(updated(shared_facts(version=2)))
    assert [topic for topic, _ in bihar.statuses()] == [TO_KERALA]
    bihar.clear_outboxes()
    bihar.deliver(updated(shared_facts(version=3)))  # same facts, same determinations: nothing new to tell
    assert bihar.statuses() == []


def test_a_redelivered_registry_event_sends_nothing_twice() -> None:
    bihar = StateWorld()
    event = registered(shared_facts())
    bihar.deliver(event)
    bihar.clear_outboxes()
    bihar.deliver(event)
    assert bihar.statuses() == []


def test_the_status_carries_no_personal_data_nor_the_facts_rules_read() -> None:
    bihar = StateWorld()
    bihar.deliver(registered(shared_facts(birth_year=1987)))
    message = bihar_status(bihar)
    text = message.SerializeToString()
    # Fact names may appear (what would decide an undetermined outcome), never their values.
    for value in (b"mason", b"1987", b"partner-a", b"AADHAAR"):
        assert value not in text, value
    assert not message.HasField("shared_at") or message.shared_at.seconds > 0
    fields = {f.name for f, _ in message.ListFields()}
    assert fields <= {
        "worker_id",
        "home_state_code",
        "shared_with_state_codes",
        "determinations",
        "version",
        "shared_at",
    }


def test_a_copy_of_another_state_s_worker_is_never_passed_on() -> None:
    kerala = StateWorld(own=KERALA, peers=frozenset({BIHAR}))
    facts = copy_facts()
    facts.shared_with_state_codes.append(BIHAR)  # even if a registry said so
    kerala.deliver(registered(facts))
    assert kerala.statuses() == []


# ---------------------------------------------------------------- receiving (Kerala)


def kerala_with_copy() -> tuple[StateWorld, federation_pb2.EntitlementStatusShared]:
    bihar = StateWorld()
    bihar.deliver(registered(shared_facts()))
    kerala = StateWorld(own=KERALA, peers=frozenset({BIHAR}))
    kerala.deliver(registered(copy_facts()))
    return kerala, bihar_status(bihar)


def test_kerala_s_partner_sees_bihar_s_status_read_only_beside_kerala_s_own_determinations() -> None:
    kerala, message = kerala_with_copy()
    outcome, _ = kerala.mirrored(message)
    assert outcome == "applied"
    record = kerala.service.eligibility.get("w-1", kerala_caseworker())
    assert record.home_state_status is not None and record.home_state_status.home_state_code == BIHAR
    assert {d.scheme_code for d in record.home_state_status.determinations} == {
        d.scheme_code for d in message.determinations
    }
    assert record.eligibility.determinations, "Kerala determines the copy under its own rules all the same"
    shown = home_status_message(record.home_state_status)
    assert shown.home_state_code == BIHAR and len(shown.determinations) == len(message.determinations)
    # Kerala's service keeps it and never passes it on.
    assert kerala.statuses() == []


def test_a_partner_outside_kerala_sees_nothing_of_the_copy() -> None:
    kerala, message = kerala_with_copy()
    kerala.mirrored(message)
    with pytest.raises(NotFound):
        kerala.service.eligibility.get("w-1", caller_for(Role.CASEWORKER, partner_id="up-cso", states=["9"]))


def test_redelivery_and_older_versions_change_nothing() -> None:
    kerala, message = kerala_with_copy()
    outcome, event = kerala.mirrored(message)
    assert outcome == "applied"
    assert kerala.redeliver(event) == "unchanged"
    older = federation_pb2.EntitlementStatusShared()
    older.CopyFrom(message)
    older.version = message.version - 1
    del older.determinations[:]
    assert kerala.mirrored(older)[0] == "unchanged"
    record = kerala.service.records.get("w-1")
    assert record is not None and record.home_state_status is not None
    assert len(record.home_state_status.determinations) == len(message.determinations)
    newer = federation_pb2.EntitlementStatusShared()
    newer.CopyFrom(message)
    newer.version = message.version + 1
    del newer.determinations[1:]
    assert kerala.mirrored(newer)[0] == "applied"
    record = kerala.service.records.get("w-1")
    assert record is not None and record.home_state_status is not None
    assert len(record.home_state_status.determinations) == 1


def test_a_status_arriving_before_the_copy_is_kept_and_shown_once_the_copy_is_there() -> None:
    bihar = StateWorld()
    bihar.deliver(registered(shared_facts()))
    kerala = StateWorld(own=KERALA, peers=frozenset({BIHAR}))
    assert kerala.mirrored(bihar_status(bihar))[0] == "applied"
    with pytest.raises(NotFound):
        kerala.service.eligibility.get("w-1", kerala_caseworker())
    kerala.deliver(registered(copy_facts()))
    assert kerala.service.eligibility.get("w-1", kerala_caseworker()).home_state_status is not None


def test_a_status_not_addressed_here_or_for_a_record_of_kerala_s_own_is_not_kept() -> None:
    kerala, message = kerala_with_copy()
    elsewhere = federation_pb2.EntitlementStatusShared()
    elsewhere.CopyFrom(message)
    del elsewhere.shared_with_state_codes[:]
    elsewhere.shared_with_state_codes.append("33")
    assert kerala.mirrored(elsewhere)[0] == "unchanged"
    own = StateWorld(own=KERALA, peers=frozenset({BIHAR}))
    own.deliver(registered(worker_facts(home=(KERALA, "555"))))
    assert own.mirrored(message)[0] == "unchanged"
    record = own.service.records.get("w-1")
    assert record is not None and record.home_state_status is None


def test_a_status_on_another_state_s_topic_or_malformed_is_refused() -> None:
    kerala, message = kerala_with_copy()
    with pytest.raises(RefusedStatus):
        kerala.mirrored(message, source="33")
    broken = federation_pb2.EntitlementStatusShared()
    broken.CopyFrom(message)
    broken.determinations[0].outcome = 0
    with pytest.raises(RefusedStatus):
        kerala.mirrored(broken)
    other = envelope(events_pb2.WorkerErased(worker_id="w-1"), "w-1", TO_KERALA)
    with pytest.raises(RefusedStatus):
        kerala.redeliver(other)


def test_the_copy_s_removal_removes_bihar_s_status() -> None:
    kerala, message = kerala_with_copy()
    kerala.mirrored(message)
    kerala.deliver(erased("w-1"))  # Kerala's registry erases the copy when Bihar withdraws it
    record = kerala.service.records.get("w-1")
    assert record is not None and record.status is RecordStatus.ERASED and record.home_state_status is None
    # A late redelivery of an older status brings nothing back.
    newer = federation_pb2.EntitlementStatusShared()
    newer.CopyFrom(message)
    newer.version += 10
    assert kerala.mirrored(newer)[0] == "unchanged"
    with pytest.raises(NotFound):
        kerala.service.eligibility.get("w-1", kerala_caseworker())


# ---------------------------------------------------------------- the national cluster's funnel


def test_the_national_funnel_counts_this_state_s_workers_only_with_small_cells_suppressed() -> None:
    from mrc.entitlements.v1 import funnel_pb2
    from mrc_entitlements.adapters.aggregates import AGGREGATES_TOPIC, FunnelAggregates
    from mrc_entitlements.service_layer.funnel import FunnelService

    bihar = StateWorld()
    for n in range(7):  # each with a ration card and now working in Kerala: eligible for ration portability
        worker_id = f"w-{n}"
        bihar.deliver(
            household_changed([worker_id], household_id=f"h-{n}"),
            registered(worker_facts(worker_id)),
            migrated(worker_id, episode_id=f"e-{n}"),
        )
    bihar.deliver(registered(copy_facts("copy-1")))  # counted by its home state, not here
    aggregates = FunnelAggregates(
        FunnelService(bihar.service.records, bihar.service.applications_store, min_cell_size=5),
        bihar.store,
        own_state_code=BIHAR,
        min_cell_size=5,
        clock=bihar.clock,
    )
    message = aggregates.publish()
    assert message.home_state_code == BIHAR and message.aggregates_id.startswith(f"{BIHAR}:entitlements:")
    eligible = [c for c in message.entitlement_funnel if c.stage == funnel_pb2.FUNNEL_STAGE_ELIGIBLE]
    assert eligible and all(c.state_code == BIHAR for c in eligible)
    assert all(c.suppressed or c.count >= 5 for c in message.entitlement_funnel)
    assert all(not c.suppressed or c.count == 0 for c in message.entitlement_funnel)
    assert max(c.count for c in eligible) == 7, "the copy is not counted"
    stored = [e for e in bihar.outbox("federation_aggregates") if e.topic == AGGREGATES_TOPIC]
    assert len(stored) == 1 and b"w-1" not in stored[0].data and b"copy-1" not in stored[0].data
    again = aggregates.publish()
    assert again.aggregates_id == message.aggregates_id, "a later snapshot of the day replaces the earlier one"


def test_an_application_change_sends_the_status_with_the_application_through_the_application_s_outbox() -> None:
    from mrc_entitlements.service_layer.applications import NewApplication
    from tests.unit.entitlements.fakes import caseworker

    bihar = StateWorld()
    bihar.deliver(registered(shared_facts()))
    bihar.clear_outboxes()
    application, created = bihar.service.applications.create(
        NewApplication("w-1", "bocw-welfare-board", idempotency_key="k-1", reason="helped at the camp"), caseworker()
    )
    assert created
    decoder = EventDecoder()
    sent = [
        decoder.decode(e)
        for e in bihar.outbox("applications")
        if e.type == "mrc.federation.v1.EntitlementStatusShared" and e.topic == TO_KERALA
    ]
    assert len(sent) == 1
    assert [(a.application_id, a.scheme_code) for a in sent[0].applications] == [
        (application.application_id, "bocw-welfare-board")
    ]
    assert sent[0].determinations, "the status is complete: determinations too"
    # Not shared any more: an application change sends nothing.
    bihar.deliver(consent_changed(worker_facts(purposes=(REGISTRATION, LINKAGE), version=2)))
    bihar.clear_outboxes()
    bihar.service.applications.create(
        NewApplication("w-1", "pmsby", idempotency_key="k-2", reason="helped at the camp"), caseworker()
    )
    assert not [e for e in bihar.outbox("applications") if e.type == "mrc.federation.v1.EntitlementStatusShared"]
