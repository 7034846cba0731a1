"""The adapters on their own: enum mapping both ways, events, stored documents (old ones too), the queue's order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mrc.grievance.v1 import events_pb2, grievance_pb2
from mrc_grievance.adapters import protobuf_mapping as mapping
from mrc_grievance.adapters.documents import NO_BREACH_RANK, PAUSED_RANK, case_of, case_state, queue_rank
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import CaseStatus, Category, IntakeChannel, Outcome, Severity
from mrc_grievance.settings import EVENT_SOURCE, GRIEVANCES_TOPIC
from mrc_plumbing.events import EventDecoder

from .fakes import CASEWORKER, NOW, Grievances

PAIRS = [
    (Category, mapping.category, mapping.category_of),
    (IntakeChannel, mapping.channel, mapping.channel_of),
    (CaseStatus, mapping.status, mapping.status_of),
    (Severity, mapping.severity, mapping.severity_of),
]


@pytest.mark.parametrize(("domain", "to_proto", "from_proto"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_every_value_maps_both_ways_and_unspecified_means_unset(
    domain: type, to_proto: object, from_proto: object
) -> None:
    for member in domain:  # type: ignore[attr-defined]
        assert from_proto(to_proto(member)) is member  # type: ignore[operator]
    assert from_proto(0) is None  # type: ignore[operator]
    assert from_proto(999) is None  # type: ignore[operator]


def test_deprecated_values_read_as_their_successors() -> None:
    assert mapping.category_of(grievance_pb2.GRIEVANCE_CATEGORY_UNSAFE_WORK) is Category.WORKPLACE_ACCIDENT
    assert mapping.status_of(grievance_pb2.GRIEVANCE_STATUS_OPEN) is CaseStatus.NEW


def test_events_are_cloudevents_keyed_by_case_with_codes_only() -> None:
    g = Grievances()
    grievance_id = g.file()
    (event,) = [e for e in g.outbox() if e.type.startswith("mrc.grievance")]

    assert (event.source, event.topic, event.subject) == (EVENT_SOURCE, GRIEVANCES_TOPIC, grievance_id)
    decoded = EventDecoder().decode(event)
    assert isinstance(decoded, events_pb2.GrievanceFiled)
    assert not decoded.HasField("grievance")  # the deprecated snapshot is never filled
    assert decoded.place.village_name == ""
    for leak in (b"Sunita", b"six weeks", b"9876543210", b"Phulwari"):
        assert leak not in event.data


def test_a_stored_case_reads_back_equal() -> None:
    g = Grievances()
    grievance_id = g.file()
    g.case_service.triage(grievance_id, TriageFacts(injury=True), CASEWORKER)
    g.case_service.resolve(grievance_id, Outcome.COMPENSATION_PAID, True, 5_000_000, CASEWORKER)

    case = g.cases.get(grievance_id)
    assert case is not None
    again = case_of({"_id": grievance_id, **case_state(case)})
    assert again == case


def test_a_grievance_stored_before_the_state_machine_reads_as_a_new_case() -> None:
    old = {
        "_id": "g-old",
        "worker_id": "worker-1",
        "category": "unsafe_work",
        "channel": "helpline",
        "summary": "enc:v1:10:1:old-token",
        "location": {"state_code": "10", "district_code": "212"},
        "employer_id": "employer-7",
        "status": "open",
        "anonymous": False,
        "filed_at": NOW.replace(tzinfo=None),
        "filed_by_partner_id": "partner-a",
    }

    case = case_of(old)

    assert (case.status, case.category, case.worker_id, case.employer_id) == (
        CaseStatus.NEW,
        Category.WORKPLACE_ACCIDENT,
        "worker-1",
        "employer-7",
    )
    assert case.filing_partner_id == "partner-a" and case.filed_at == NOW
    assert case.sla.next_deadline("g-old") is not None


def test_the_queue_rank_puts_running_clocks_first_then_paused_then_none() -> None:
    g = Grievances()
    running = g.cases.get(g.file(idempotency_key="a"))
    paused_id = g.file(idempotency_key="b")
    s = g.case_service
    s.triage(paused_id, TriageFacts(), CASEWORKER)
    s.assign(paused_id, CASEWORKER.client_id, "", CASEWORKER)
    s.start_work(paused_id, CASEWORKER)
    s.await_complainant(paused_id, CASEWORKER)
    resolved_id = g.file(idempotency_key="c")
    s.resolve(resolved_id, Outcome.WITHDRAWN, False, 0, CASEWORKER)
    assert running is not None

    ranks = [queue_rank(c) for c in (running, g.cases.get(paused_id), g.cases.get(resolved_id)) if c is not None]

    assert ranks[0] == running.sla.breach_due_at(running.grievance_id).timestamp()  # type: ignore[union-attr]
    assert PAUSED_RANK < ranks[1] < NO_BREACH_RANK == ranks[2]


def test_statistics_rows_come_from_a_projection_of_the_store() -> None:
    g = Grievances()
    for index in range(5):
        g.file(idempotency_key=f"k-{index}")
    resolved = g.file(idempotency_key="k-r")
    g.clock.advance(timedelta(hours=10))
    g.case_service.resolve(resolved, Outcome.WITHDRAWN, False, 0, CASEWORKER)

    stats = g.statistics.grievances(CASEWORKER)

    assert stats.by_category.cells == {Category.WAGE_THEFT: 6}
    assert stats.by_status.cells == {CaseStatus.NEW: 5, CaseStatus.RESOLVED: None}
    assert stats.median_hours_to_resolution is None  # fewer than 5 resolved
    assert stats.sla_breach_rate == 0.0


class _Sent:
    def __init__(self, error: Exception | None) -> None:
        self._error = error

    def get(self, timeout: float) -> None:
        if self._error is not None:
            raise self._error


class _Producer:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self._error = error

    def send(self, topic: str, *, key: bytes, value: bytes, headers: object) -> _Sent:
        self.sent.append((topic, key, value))
        return _Sent(self._error)


def test_a_listing_is_published_as_one_record_and_fails_closed() -> None:
    from mrc.audit.v1 import audit_pb2
    from mrc_kernel.audit import Action
    from mrc_kernel.errors import Unavailable
    from mrc_plumbing.audit import AuditTrail

    from .fakes import CASEWORKER

    producer = _Producer()
    trail = AuditTrail(producer, service="grievance", state_code="10")

    trail.record_listing(CASEWORKER, Action.SEARCH, "grievance", ["g-1", "g-2"], ["summary"], state_code="33")
    trail.record_listing(CASEWORKER, Action.SEARCH, "grievance", [], ["summary"])  # nothing shown, nothing recorded

    ((topic, key, value),) = producer.sent
    message = audit_pb2.DataAccessed.FromString(value)
    assert (topic, key) == ("mrc.audit.v1", b"g-1")
    assert (message.resource_id, list(message.resource_ids), message.state_code) == ("", ["g-1", "g-2"], "33")
    assert message.action == audit_pb2.ACCESS_ACTION_SEARCH and list(message.fields) == ["summary"]

    down = AuditTrail(_Producer(TimeoutError()), service="grievance", state_code="10")
    with pytest.raises(Unavailable):
        down.record_listing(CASEWORKER, Action.SEARCH, "grievance", ["g-1"])
    with pytest.raises(Unavailable):
        AuditTrail(None, service="grievance", state_code="10").record_listing(
            CASEWORKER, Action.SEARCH, "grievance", ["g-1"]
        )
