import dataclasses
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from mrc.audit.v1 import audit_pb2
from mrc.registry.v1 import events_pb2 as registry_events
from mrc_access.adapters.mongo_audit_records import StoredAuditRecords, trail_id
from mrc_access.adapters.protobuf_mapping import access_record_from_proto, access_record_to_proto
from mrc_access.domain.audit_record import AccessAction, AccessOutcome
from mrc_access.entrypoints.consumer import build_handler
from mrc_access.service_layer.audit_trail import MAX_PAGE_SIZE, AccessRecordQuery, AuditTrail, visible_states
from mrc_access.service_layer.ports import AccessRecordFilter, RecordPage
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.store.memory import InMemoryStore
from tests.support.auth import caller_for
from tests.unit.access.fakes import access_record

AUDITOR = caller_for(Role.AUDITOR, partner_id="audit-cell")  # no states: every state of a shared cluster
BIHAR_AUDITOR = caller_for(Role.AUDITOR, partner_id="audit-cell", states=["10"])
UP_AUDITOR = caller_for(Role.AUDITOR, partner_id="audit-cell", states=["9"])
OPERATOR = caller_for(Role.OPERATOR, partner_id="operators")


def stored() -> StoredAuditRecords:
    return StoredAuditRecords(InMemoryStore())


SENT = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)


def data_accessed(**overrides: object) -> audit_pb2.DataAccessed:
    occurred = Timestamp()
    occurred.FromDatetime(datetime(2026, 3, 1, 9, 59, 59, 987654, tzinfo=UTC))
    message = audit_pb2.DataAccessed(
        actor=audit_pb2.Actor(client_id="c-1", partner_id="cso-1", roles=["caseworker"]),
        action=audit_pb2.ACCESS_ACTION_READ,
        service="registry",
        resource_type="worker",
        resource_id="w-1",
        fields=["full_name", "phone"],
        purpose="grievance_follow_up",
        outcome=audit_pb2.ACCESS_OUTCOME_ALLOWED,
        remote_address="10.0.0.7",
        request_id="req-1",
        occurred_at=occurred,
        state_code="10",
    )
    for name, value in overrides.items():
        setattr(message, name, value)
    return message


def test_record_maps_from_the_contract_and_back() -> None:
    message = data_accessed()
    mapped = access_record_from_proto(message, record_id="ev-1", sent_at=SENT)
    assert mapped.record_id == "ev-1"
    assert (mapped.actor.partner_id, mapped.actor.roles) == ("cso-1", ("caseworker",))
    assert (mapped.action, mapped.outcome) == (AccessAction.READ, AccessOutcome.ALLOWED)
    assert mapped.fields == ("full_name", "phone")
    assert mapped.occurred_at == datetime(2026, 3, 1, 9, 59, 59, 987000, tzinfo=UTC)  # milliseconds, as stored
    back = access_record_to_proto(mapped)
    message.occurred_at.nanos = 987_000_000
    assert back == message


def test_missing_time_and_unknown_enums_keep_the_record() -> None:
    message = data_accessed(action=42, outcome=9)
    message.ClearField("occurred_at")
    mapped = access_record_from_proto(message, record_id="ev-2", sent_at=SENT)
    assert mapped.action is AccessAction.UNSPECIFIED and mapped.outcome is AccessOutcome.UNSPECIFIED
    assert mapped.occurred_at == SENT.replace(microsecond=123000)


def event(message: object, event_id: str = "ev-1", topic: str = "mrc.audit.v1") -> Event:
    envelope = Event.from_message(message, source="/mrc/registry", subject="w-1", topic=topic)  # type: ignore[arg-type]
    return Event(event_id, envelope.type, envelope.source, SENT, envelope.subject, envelope.topic, envelope.data)


def test_consumer_stores_each_event_once_and_skips_other_types() -> None:
    store = stored()
    trail = AuditTrail(store)
    handle = build_handler(trail, EventDecoder())
    handle(event(data_accessed()))
    handle(event(data_accessed()))  # redelivered
    handle(event(data_accessed(resource_id="w-2"), event_id="ev-2"))
    handle(event(registry_events.WorkerRegistered(), event_id="ev-3"))
    assert sorted(r.record_id for r in trail.list(AccessRecordQuery(), AUDITOR).records) == ["ev-1", "ev-2"]


def test_ids_order_the_trail_newest_first() -> None:
    older, newer = access_record(1), access_record(3)
    assert trail_id(newer.occurred_at, "b") < trail_id(older.occurred_at, "a")
    assert trail_id(older.occurred_at, "a") < trail_id(older.occurred_at, "b")  # the event id breaks ties
    # Records stored before these ids (an event id as `_id`) come after every newer one.
    assert trail_id(older.occurred_at, "z") < "0e6f0b8e-0000-4000-8000-000000000000"


def test_page_size_defaults_caps_and_pages_end() -> None:
    store = stored()
    trail = AuditTrail(store)
    for n in range(250):
        store.add(access_record(n))
    assert len(trail.list(AccessRecordQuery(), AUDITOR).records) == 50
    page = trail.list(AccessRecordQuery(page_size=1000), AUDITOR)
    assert len(page.records) == MAX_PAGE_SIZE and page.next_page_token
    last = trail.list(AccessRecordQuery(page_size=1000, page_token=page.next_page_token), AUDITOR)
    assert len(last.records) == 50 and last.next_page_token == ""
    times = [r.occurred_at for r in page.records + last.records]
    assert times == sorted(times, reverse=True)
    assert len({r.record_id for r in page.records + last.records}) == 250


def test_a_page_token_only_continues_its_own_query() -> None:
    store = stored()
    for n in range(5):
        store.add(access_record(n))
    trail = AuditTrail(store)
    token = trail.list(AccessRecordQuery(resource_id="w-1", page_size=2), AUDITOR).next_page_token
    with pytest.raises(InvalidArgument, match="page_token"):
        trail.list(AccessRecordQuery(resource_id="w-2", page_token=token), AUDITOR)
    # Nor another auditor's reach: a state-9 auditor cannot continue a listing of every state.
    with pytest.raises(InvalidArgument, match="page_token"):
        trail.list(AccessRecordQuery(resource_id="w-1", page_token=token), UP_AUDITOR)
    for forged in ("x", "eyJ0IjoxfQ", "e30", "x" * 2000):
        with pytest.raises(InvalidArgument, match="page_token"):
            trail.list(AccessRecordQuery(page_token=forged), AUDITOR)


def test_auditors_see_their_states_records_only() -> None:
    store = stored()
    for n in range(4):
        store.add(access_record(n, state_code="10"))
    store.add(access_record(10, state_code="9"))
    store.add(access_record(11, state_code=""))  # a record whose state is not known
    trail = AuditTrail(store)

    def states(caller: object) -> list[str]:
        return sorted(r.state_code for r in trail.list(AccessRecordQuery(page_size=200), caller).records)  # type: ignore[arg-type]

    assert states(BIHAR_AUDITOR) == ["10"] * 4
    assert states(UP_AUDITOR) == ["9"]
    assert states(AUDITOR) == ["", "10", "10", "10", "10", "9"]  # a cluster serving several states
    # Filters narrow an auditor's view, never widen it.
    assert trail.list(AccessRecordQuery(resource_id="w-1"), UP_AUDITOR).records[0].state_code == "9"


def test_in_a_state_cluster_an_auditor_without_states_sees_that_state_and_operators_everything() -> None:
    store = stored()
    store.add(access_record(1, state_code="10"))
    store.add(access_record(2, state_code="9"))
    trail = AuditTrail(store, cluster_state="10")
    assert [r.state_code for r in trail.list(AccessRecordQuery(), AUDITOR).records] == ["10"]
    assert sorted(r.state_code for r in trail.list(AccessRecordQuery(), OPERATOR).records) == ["10", "9"]
    assert visible_states(UP_AUDITOR, "10") == ("9",)


class SlowStore:
    """A store whose time budget ran out: a short page that is not the last."""

    def __init__(self, position: str) -> None:
        self.position = position
        self.asked: list[tuple[AccessRecordFilter, str, float]] = []

    def add(self, record: object) -> bool:
        return True

    def page(
        self, record_filter: AccessRecordFilter, *, after: str, limit: int, time_budget_seconds: float
    ) -> RecordPage:
        self.asked.append((record_filter, after, time_budget_seconds))
        return RecordPage([], self.position, budget_exhausted=True)


def test_a_page_cut_short_by_the_time_budget_still_has_a_continuation_token() -> None:
    store = SlowStore(position="")
    trail = AuditTrail(store, time_budget_seconds=0.5)
    first = trail.list(AccessRecordQuery(), BIHAR_AUDITOR)
    assert first.records == [] and first.next_page_token
    store.position = "-0001-ev"
    trail.list(AccessRecordQuery(page_token=first.next_page_token), BIHAR_AUDITOR)
    second = trail.list(AccessRecordQuery(page_token=first.next_page_token), BIHAR_AUDITOR)
    trail.list(AccessRecordQuery(page_token=second.next_page_token), BIHAR_AUDITOR)
    assert [(after, budget) for _, after, budget in store.asked] == [("", 0.5), ("", 0.5), ("", 0.5), ("-0001-ev", 0.5)]
    assert store.asked[0][0].state_codes == ("10",)


def test_no_update_or_delete_path_exists() -> None:
    from mrc_access.adapters import mongo_audit_records

    store_methods = {name for name in vars(mongo_audit_records.StoredAuditRecords) if not name.startswith("__")}
    assert store_methods == {"add", "page", "ensure_indexes"}
    assert {name for name in vars(AuditTrail) if not name.startswith("_")} == {"record", "list"}


def test_a_listing_is_one_record_found_by_any_id_it_showed() -> None:
    listing = data_accessed(
        action=audit_pb2.ACCESS_ACTION_SEARCH, service="grievance", resource_type="grievance", resource_id=""
    )
    listing.resource_ids.extend(["g-1", "g-2", "g-3"])
    mapped = access_record_from_proto(listing, record_id="ev-list", sent_at=SENT)
    assert mapped.resource_ids == ("g-1", "g-2", "g-3")
    assert list(access_record_to_proto(mapped).resource_ids) == ["g-1", "g-2", "g-3"]

    store = stored()
    trail = AuditTrail(store)
    store.add(mapped)
    store.add(dataclasses.replace(access_record(9, resource_id="g-2"), resource_type="grievance"))  # a single read
    store.add(dataclasses.replace(access_record(8, resource_id="g-4"), resource_type="grievance"))

    def ids_for(resource_id: str) -> list[str]:
        query = AccessRecordQuery(resource_type="grievance", resource_id=resource_id)
        return [r.record_id for r in trail.list(query, AUDITOR).records]

    assert ids_for("g-2") == ["ev-list", "ev-009"]  # newest first: the (later) listing, then its own read
    assert ids_for("g-3") == ["ev-list"]
    assert ids_for("g-4") == ["ev-008"]
    assert ids_for("g-9") == []
    assert store.page(AccessRecordFilter(resource_id="g-1"), after="", limit=5, time_budget_seconds=1).records == [
        mapped
    ]
