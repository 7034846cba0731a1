from mrc.registry.v1 import events_pb2
from mrc_kernel.events import Event
from mrc_plumbing.outbox import OUTBOX_FIELD, PENDING_FLAG, append_events, with_events


def _event() -> Event:
    return Event.from_message(events_pb2.WorkerRegistered(), source="/s", subject="a", topic="t")


def test_new_document_carries_its_events_and_the_pending_flag() -> None:
    event = _event()
    doc = with_events({"_id": "a"}, [event])
    assert doc[OUTBOX_FIELD] == [event.to_document()]
    assert doc[PENDING_FLAG] is True


def test_document_without_events_is_not_flagged() -> None:
    assert PENDING_FLAG not in with_events({"_id": "a"}, [])


def test_update_pushes_events_in_the_same_write() -> None:
    event = _event()
    update = append_events({"$set": {"name": "x"}}, [event])
    assert update["$set"] == {"name": "x", PENDING_FLAG: True}
    assert update["$push"][OUTBOX_FIELD] == {"$each": [event.to_document()]}
    assert append_events({"$set": {"name": "x"}}, []) == {"$set": {"name": "x"}}
