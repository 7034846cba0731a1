"""SLA milestones handed over by the worker and applied by the case writer, exactly once; the schedule the
worker keeps; the registry's erasures and merges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mrc.grievance.v1 import events_pb2, grievance_pb2
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import Category, EscalationLevel
from mrc_grievance.service_layer.background import (
    ERASED_TEXT,
    KEEP,
    ScheduleEntry,
    ScheduleIndex,
    entry_for_event,
)
from mrc_grievance.service_layer.parties import SubjectInput
from mrc_grievance.service_layer.ports import WorkItem, WorkKind

from .fakes import CASEWORKER, FORWARDED, NOW, Grievances, command


@pytest.fixture
def g() -> Grievances:
    return Grievances()


def trafficking_case(g: Grievances, key: str = "k-1") -> str:
    return g.file(category=Category.TRAFFICKING, idempotency_key=key)


def run_timer(g: Grievances, grievance_id: str, entry: ScheduleEntry) -> ScheduleEntry | None:
    decided = g.sla_timer.due(grievance_id, entry, g.clock())
    g.case_work.run_once()
    return decided


def escalations(g: Grievances) -> list[events_pb2.GrievanceEscalated]:
    return g.published("GrievanceEscalated")


def test_a_breach_is_escalated_once_however_often_the_timer_fires(g: Grievances) -> None:
    grievance_id = trafficking_case(g)  # acknowledge within 15 minutes
    filed = g.published("GrievanceFiled")[0]
    entry = ScheduleEntry(filed.sla_next_deadline.ToDatetime().timestamp(), filed.version)
    g.clock.advance(timedelta(minutes=15))

    decided = run_timer(g, grievance_id, entry)
    for _ in range(3):  # a redelivered, late or restarted timer
        g.sla_timer.due(grievance_id, ScheduleEntry(entry.at, entry.version), g.clock())
        g.case_work.run_once()

    (escalated,) = escalations(g)
    assert escalated.escalation_level == grievance_pb2.ESCALATION_LEVEL_DISTRICT_COORDINATOR
    assert escalated.idempotency_key == f"{grievance_id}:sla:1:acknowledge:breach:1"
    # Warnings at 75% and 90% were overtaken by the breach: marked fired, not announced.
    assert g.published("GrievanceSlaWarned") == []
    assert decided is not None and decided.handed_over
    case = g.cases.get(grievance_id)
    assert case is not None and case.escalation_level is EscalationLevel.DISTRICT_COORDINATOR
    assert g.work.waiting(10) == []


def test_warnings_then_breaches_walk_up_to_the_state_authority_and_no_further(g: Grievances) -> None:
    grievance_id = trafficking_case(g)
    for minutes in (11.25, 13.5, 15, 30, 120):  # the act clock (2 h) breaches at the top level
        g.clock.now = NOW + timedelta(minutes=minutes)
        g.sla_timer.due(grievance_id, ScheduleEntry(0, 1), g.clock())
        g.case_work.run_once()

    assert [w.milestone for w in g.published("GrievanceSlaWarned")][:2] == [1, 2]
    levels = [e.escalation_level for e in escalations(g)]
    assert levels == [2, 3]  # district coordinator, then the state authority; a third breach is only recorded
    case = g.cases.get(grievance_id)
    assert case is not None and len(case.breaches) >= 3


def test_the_timer_rechecks_the_case_and_reschedules_from_it(g: Grievances) -> None:
    grievance_id = trafficking_case(g)
    g.clock.advance(timedelta(minutes=15))
    handed = g.sla_timer.due(grievance_id, ScheduleEntry(0, 1), g.clock())
    assert handed is not None and handed.handed_over
    g.case_work.run_once()

    rechecked = g.sla_timer.due(grievance_id, handed, g.clock())

    case = g.cases.get(grievance_id)
    assert case is not None
    assert rechecked == ScheduleEntry(case.sla.next_deadline(grievance_id).timestamp(), case.version)  # type: ignore[union-attr]


def test_a_triaged_case_is_not_escalated_for_acknowledgement(g: Grievances) -> None:
    grievance_id = trafficking_case(g)
    g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER)
    g.clock.advance(timedelta(minutes=20))

    run_timer(g, grievance_id, ScheduleEntry(0, 1))

    assert escalations(g) == []


def test_clocks_scaled_for_a_test_stack_run_in_seconds() -> None:
    g = Grievances(sla_scale=0.001)
    grievance_id = g.file(category=Category.TRAFFICKING)
    g.clock.advance(timedelta(seconds=1))

    run_timer(g, grievance_id, ScheduleEntry(0, 1))

    assert len(escalations(g)) == 1


def test_schedule_entries_follow_the_newest_event() -> None:
    deadline = NOW + timedelta(hours=1)
    assert entry_for_event(None, 1, deadline) == ScheduleEntry(deadline.timestamp(), 1)
    assert entry_for_event(ScheduleEntry(0, 5), 4, deadline) is KEEP
    assert entry_for_event(ScheduleEntry(0, 5), 6, None) is None
    assert ScheduleEntry.from_json(ScheduleEntry(1.5, 2, True).to_json()) == ScheduleEntry(1.5, 2, True)
    assert ScheduleEntry.from_json("garbage") is None


def test_the_index_yields_due_keys_once_in_deadline_order() -> None:
    index = ScheduleIndex()
    index.set("b", 20)
    index.set("a", 10)
    index.set("c", 30)
    index.set("b", 25)  # moved: the old time is stale

    assert index.due(24) == ["a"]
    assert index.due(26) == ["b"]
    index.rebuild([("c", 30), ("d", 5)])
    assert index.due(100) == ["d", "c"]
    assert len(index) == 0


# --- the registry's erasures and merges ---------------------------------------------------------------------


def test_an_erased_worker_disappears_from_their_cases_but_the_counts_stay(g: Grievances) -> None:
    grievance_id = g.file(subject=SubjectInput(worker_id="worker-1"), caller=CASEWORKER)
    g.case_service.add_note(grievance_id, "Lives behind the school", None, CASEWORKER)

    assert g.registry_events.worker_erased("worker-1") == 1
    assert g.registry_events.worker_erased("worker-1") == 0  # redelivered: the item is waiting already
    g.case_work.run_once()

    view = g.case_service.get(grievance_id, CASEWORKER)
    assert (view.case.worker_id, view.summary) == ("", ERASED_TEXT)
    assert [n.text for n in g.case_service.notes(grievance_id, CASEWORKER)] == [ERASED_TEXT]
    assert view.case.category is Category.WAGE_THEFT and view.case.location.district_code == "212"
    assert g.erased.is_erased("worker-1")


def test_a_merge_moves_cases_unless_the_survivor_was_erased(g: Grievances) -> None:
    g.workers.visible["worker-dup"] = {"partner-a"}
    moved = g.file(subject=SubjectInput(worker_id="worker-dup"), caller=CASEWORKER, idempotency_key="k-a")
    g.registry_events.workers_merged("worker-dup", "worker-1")
    g.case_work.run_once()
    assert g.cases.get(moved).worker_id == "worker-1"  # type: ignore[union-attr]

    g.workers.visible["worker-3"] = {"partner-a"}
    lost = g.file(subject=SubjectInput(worker_id="worker-3"), caller=CASEWORKER, idempotency_key="k-b")
    g.registry_events.workers_merged("worker-3", "worker-9")
    g.registry_events.worker_erased("worker-9")  # the survivor is erased before the move is applied
    g.case_work.run_once()
    assert g.cases.get(lost).worker_id == ""  # type: ignore[union-attr]


def test_a_work_item_is_handed_over_once() -> None:
    g = Grievances()
    item = WorkItem("sla:g-1", WorkKind.SLA, grievance_id="g-1", enqueued_at=NOW)

    assert g.work.enqueue(item) is True
    assert g.work.enqueue(item) is False
    assert g.case_work.run_once() == 1  # a case that does not exist: nothing to do, done
    assert g.work.waiting(10) == []


def test_nothing_is_asked_of_the_registry_for_an_unregistered_person(g: Grievances) -> None:
    g.intake.file(command(), CASEWORKER, FORWARDED)

    assert g.workers.calls == []
