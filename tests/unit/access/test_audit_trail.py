from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from mrc.audit.v1 import audit_pb2
from mrc.registry.v1 import events_pb2 as registry_events
from mrc_access.adapters.protobuf_mapping import access_record_from_proto, access_record_to_proto
from mrc_access.domain.audit_record import AccessAction, AccessOutcome
from mrc_access.entrypoints.consumer import build_handler
from mrc_access.service_layer.audit_trail import MAX_PAGE_SIZE, AccessRecordQuery, AuditTrail
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.events import Event
from mrc_plumbing.events import EventDecoder
from tests.unit.access.fakes import FakeAuditRecordStore, access_record

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
    store = FakeAuditRecordStore()
    handle = build_handler(AuditTrail(store), EventDecoder())
    handle(event(data_accessed()))
    handle(event(data_accessed()))  # redelivered
    handle(event(data_accessed(resource_id="w-2"), event_id="ev-2"))
    handle(event(registry_events.WorkerRegistered(), event_id="ev-3"))
    assert sorted(store.records) == ["ev-1", "ev-2"]


def test_page_size_defaults_caps_and_pages_end() -> None:
    store = FakeAuditRecordStore()
    trail = AuditTrail(store)
    for n in range(250):
        store.add(access_record(n))
    assert len(trail.list(AccessRecordQuery()).records) == 50
    page = trail.list(AccessRecordQuery(page_size=1000))
    assert len(page.records) == MAX_PAGE_SIZE and page.next_page_token
    last = trail.list(AccessRecordQuery(page_size=1000, page_token=page.next_page_token))
    assert len(last.records) == 50 and last.next_page_token == ""
    assert [r.occurred_at for r in page.records] == sorted((r.occurred_at for r in page.records), reverse=True)


def test_a_page_token_only_continues_its_own_query() -> None:
    store = FakeAuditRecordStore()
    for n in range(5):
        store.add(access_record(n))
    trail = AuditTrail(store)
    token = trail.list(AccessRecordQuery(resource_id="w-1", page_size=2)).next_page_token
    with pytest.raises(InvalidArgument, match="page_token"):
        trail.list(AccessRecordQuery(resource_id="w-2", page_token=token))
    for forged in ("x", "eyJ0IjoxfQ", "e30"):
        with pytest.raises(InvalidArgument, match="page_token"):
            trail.list(AccessRecordQuery(page_token=forged))


def test_no_update_or_delete_path_exists() -> None:
    from mrc_access.adapters import mongo_audit_records

    store_methods = {name for name in vars(mongo_audit_records.StoredAuditRecords) if not name.startswith("__")}
    assert store_methods == {"add", "find", "ensure_indexes"}
    assert {name for name in vars(AuditTrail) if not name.startswith("_")} == {"record", "list"}
