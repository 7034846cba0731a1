from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mrc_grievance.domain.case import Case, IllegalTransition, TimelineAction
from mrc_grievance.domain.events import GrievanceEscalated, GrievanceSlaWarned
from mrc_grievance.domain.sla import (
    BREACH_PERIODS,
    SLA_TABLE,
    ClockKind,
    MilestoneKind,
    SlaClocks,
    SlaPolicy,
    SlaRow,
    milestones,
    policy_for,
    sla_row,
    table_violations,
)
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import (
    CaseStatus,
    Category,
    EscalationLevel,
    Outcome,
    ReferralTarget,
    Severity,
)

from .builders import AHTU, CASEWORKER, HELPLINE, NOW, SUPERVISOR, Clock, new_case, sealed

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def trafficking_case() -> Case:
    """Critical: acknowledge within 15 min, act within 2 h, resolve within 7 days."""
    case = new_case(category=Category.TRAFFICKING)
    case.pending_events.clear()
    return case


def fire(case: Case, now: datetime) -> list[Any]:
    before = len(case.pending_events)
    case.record_sla_milestones(now)
    return case.pending_events[before:]


# --- the table ---------------------------------------------------------------------------------------------


def test_the_sla_table_is_sound_and_covers_every_category_and_severity() -> None:
    assert table_violations() == []
    for category in Category:
        for severity in Severity:
            policy = policy_for(category, severity)
            assert policy.acknowledge <= policy.act <= policy.resolve
            assert sla_row(category, severity).basis


def test_a_broken_table_is_reported() -> None:
    backwards = SlaPolicy(acknowledge=DAY, act=HOUR, resolve=DAY)
    broken = (*SLA_TABLE[1:], SLA_TABLE[1], SlaRow(Category.OTHER, Severity.LOW, backwards, ""))

    problems = table_violations(broken)

    assert "no default for critical" in problems
    assert "duplicate row (None, <Severity.HIGH: 'high'>)" in problems
    assert any("must grow" in p for p in problems)
    assert any("no basis" in p for p in problems)


def test_trafficking_must_reach_a_rescue_team_within_hours() -> None:
    policy = policy_for(Category.TRAFFICKING, Severity.CRITICAL)

    assert (policy.acknowledge, policy.act) == (15 * MINUTE, 2 * HOUR)
    assert policy_for(Category.WAGE_THEFT, Severity.MEDIUM).resolve == 90 * DAY  # Code on Wages s. 45(2)


def test_milestones_fall_at_75_90_and_100_percent_of_each_period() -> None:
    found = milestones(ClockKind.ACT, 2 * HOUR)

    assert [(m.kind, m.period, m.offset) for m in found] == [
        (MilestoneKind.WARNING_75, 1, 90 * MINUTE),
        (MilestoneKind.WARNING_90, 1, 108 * MINUTE),
        (MilestoneKind.BREACH, 1, 120 * MINUTE),
        (MilestoneKind.WARNING_75, 2, 210 * MINUTE),
        (MilestoneKind.WARNING_90, 2, 228 * MINUTE),
        (MilestoneKind.BREACH, 2, 240 * MINUTE),
    ]
    assert len(found) == 3 * BREACH_PERIODS


# --- warnings and breaches, with a clock the test moves -----------------------------------------------------------


def test_warnings_at_75_and_90_percent_then_a_breach_escalates_exactly_once() -> None:
    case = trafficking_case()
    clock = Clock()

    assert fire(case, clock.advance(11 * MINUTE)) == []
    assert case.sla.next_deadline("g-1") == NOW + timedelta(minutes=11, seconds=15)

    [warning] = fire(case, clock.advance(15 * timedelta(seconds=1)))
    assert isinstance(warning, GrievanceSlaWarned)
    assert (warning.clock, warning.milestone, warning.period) == (ClockKind.ACKNOWLEDGE, MilestoneKind.WARNING_75, 1)
    assert (warning.deadline, warning.breach_at) == (NOW + timedelta(minutes=11, seconds=15), NOW + 15 * MINUTE)
    assert warning.idempotency_key == "g-1:sla:1:acknowledge:warning_75:1"

    [warning] = fire(case, NOW + timedelta(minutes=13, seconds=30))
    assert warning.milestone is MilestoneKind.WARNING_90

    version = case.version
    [escalation] = fire(case, NOW + 15 * MINUTE)
    assert isinstance(escalation, GrievanceEscalated)
    assert (escalation.previous_level, escalation.facts.escalation_level) == (
        EscalationLevel.CASEWORKER,
        EscalationLevel.DISTRICT_COORDINATOR,
    )
    assert (escalation.clock, escalation.period, escalation.deadline) == (ClockKind.ACKNOWLEDGE, 1, NOW + 15 * MINUTE)
    assert escalation.idempotency_key == "g-1:sla:1:acknowledge:breach:1"
    assert case.version == version + 1
    assert case.timeline[-1].action is TimelineAction.ESCALATED

    # The same timer again, or a little later: nothing more, and nothing written.
    for again in (NOW + 15 * MINUTE, NOW + 16 * MINUTE):
        assert fire(case, again) == []
    assert case.version == version + 1
    assert case.breaches == ["g-1:sla:1:acknowledge:breach:1"]


def test_a_clock_still_unmet_breaches_again_one_level_higher_and_then_stops() -> None:
    case = trafficking_case()
    for minute in range(0, 24 * 60, 1):
        case.record_sla_milestones(NOW + minute * MINUTE)

    escalations = [e for e in case.pending_events if isinstance(e, GrievanceEscalated)]
    assert [(e.clock, e.period, e.facts.escalation_level) for e in escalations] == [
        (ClockKind.ACKNOWLEDGE, 1, EscalationLevel.DISTRICT_COORDINATOR),
        (ClockKind.ACKNOWLEDGE, 2, EscalationLevel.STATE_AUTHORITY),
    ]
    # The act clock breaches too, but there is no level above the state authority: recorded, not published.
    assert case.breaches == [
        "g-1:sla:1:acknowledge:breach:1",
        "g-1:sla:1:acknowledge:breach:2",
        "g-1:sla:1:act:breach:1",
        "g-1:sla:1:act:breach:2",
    ]
    assert [e.action for e in case.timeline].count(TimelineAction.SLA_BREACHED) == 2
    # Warnings: two per period for each of the two clocks that got that far.
    warnings = [e for e in case.pending_events if isinstance(e, GrievanceSlaWarned)]
    assert len(warnings) == 8
    # Only the resolve clock has milestones left (7 days).
    assert case.sla.next_deadline("g-1") == NOW + 7 * DAY * 0.75


def test_a_late_timer_fires_every_breach_once_and_skips_the_warnings_they_overtook() -> None:
    case = trafficking_case()

    due = case.record_sla_milestones(NOW + 35 * MINUTE)

    assert [(d.milestone.kind, d.milestone.period, d.announce) for d in due] == [
        (MilestoneKind.WARNING_75, 1, False),
        (MilestoneKind.WARNING_90, 1, False),
        (MilestoneKind.BREACH, 1, True),
        (MilestoneKind.WARNING_75, 2, False),
        (MilestoneKind.WARNING_90, 2, False),
        (MilestoneKind.BREACH, 2, True),
    ]
    assert [type(e) for e in case.pending_events] == [GrievanceEscalated, GrievanceEscalated]
    assert case.escalation_level is EscalationLevel.STATE_AUTHORITY
    assert case.record_sla_milestones(NOW + 35 * MINUTE) == ()


def test_triage_meets_the_acknowledge_clock_and_starting_work_the_act_clock() -> None:
    case = trafficking_case()
    case.triage(TriageFacts(), HELPLINE, NOW + 5 * MINUTE)
    case.assign("cw-1", "partner-a", SUPERVISOR, NOW + 6 * MINUTE)
    case.start_work(CASEWORKER, NOW + 7 * MINUTE)
    case.pending_events.clear()

    assert fire(case, NOW + 3 * HOUR) == []
    assert case.sla.met == {ClockKind.ACKNOWLEDGE: NOW + 5 * MINUTE, ClockKind.ACT: NOW + 7 * MINUTE}
    # Only the resolve clock is left: 75% of 7 days.
    assert case.sla.next_deadline("g-1") == NOW + timedelta(days=5, hours=6)


def test_an_accepted_referral_meets_the_act_clock_a_pending_one_does_not() -> None:
    case = trafficking_case()
    case.triage(TriageFacts(), HELPLINE, NOW)
    case.refer("r-1", ReferralTarget.ANTI_HUMAN_TRAFFICKING_UNIT, "partner-ahtu", HELPLINE, NOW + 10 * MINUTE)

    assert case.sla.running(ClockKind.ACT)
    case.answer_referral("r-1", accept=True, by=AHTU, now=NOW + 40 * MINUTE)

    assert not case.sla.running(ClockKind.ACT)
    assert case.sla.met[ClockKind.ACT] == NOW + 40 * MINUTE


def test_resolution_stops_every_clock() -> None:
    case = trafficking_case()
    case.resolve(Outcome.RESCUED, substantiated=True, by=CASEWORKER, now=NOW + HOUR)

    assert case.sla.next_deadline("g-1") is None
    assert case.record_sla_milestones(NOW + 30 * DAY) == ()
    assert case.sla.active_elapsed(NOW + 30 * DAY) == HOUR


# --- pause and resume -------------------------------------------------------------------------------------------


def wage_claim_in_progress() -> Case:
    """Wage theft, medium: the resolve clock has 90 days (warnings at 67.5 and 81 days)."""
    case = new_case()
    case.triage(TriageFacts(), HELPLINE, NOW)
    case.assign("cw-1", "partner-a", SUPERVISOR, NOW)
    case.start_work(CASEWORKER, NOW)
    case.pending_events.clear()
    return case


def test_waiting_on_the_complainant_pauses_the_clocks_and_resuming_shifts_every_deadline() -> None:
    case = wage_claim_in_progress()
    assert case.sla.next_deadline("g-1") == NOW + timedelta(days=67, hours=12)

    case.await_complainant(CASEWORKER, NOW + 10 * DAY)
    assert case.sla.paused
    assert case.sla.next_deadline("g-1") is None  # nothing to schedule while paused
    assert case.sla.time_to_breach("g-1", NOW + 10 * DAY) == 80 * DAY
    assert case.record_sla_milestones(NOW + 100 * DAY) == ()  # long past the unpaused breach
    assert case.sla.time_to_breach("g-1", NOW + 100 * DAY) == 80 * DAY  # frozen

    case.resume_work(CASEWORKER, NOW + 40 * DAY)

    assert not case.sla.paused
    assert case.sla.next_deadline("g-1") == NOW + timedelta(days=97, hours=12)
    assert case.sla.breach_due_at("g-1") == NOW + 120 * DAY
    assert fire(case, NOW + timedelta(days=97, hours=11)) == []
    [warning] = fire(case, NOW + timedelta(days=97, hours=12))
    # The key names the milestone, not its (moved) deadline.
    assert warning.idempotency_key == "g-1:sla:1:resolve:warning_75:1"
    [escalation] = fire(case, NOW + 120 * DAY)
    assert isinstance(escalation, GrievanceEscalated)


def test_a_milestone_reached_before_a_pause_is_still_scheduled_while_paused() -> None:
    case = trafficking_case()
    case.triage(TriageFacts(), HELPLINE, NOW)
    case.assign("cw-1", "partner-a", SUPERVISOR, NOW)
    case.start_work(CASEWORKER, NOW)
    case.pending_events.clear()
    # The 75% warning of the resolve clock (5 days 6 hours) passes unseen: the timer is late...
    case.await_complainant(CASEWORKER, NOW + 6 * DAY)

    # ...so the paused case still asks to be looked at for it, and nothing after it.
    assert case.sla.next_deadline("g-1") == NOW + timedelta(days=5, hours=6)
    [warning] = fire(case, NOW + 8 * DAY)
    assert warning.milestone is MilestoneKind.WARNING_75
    assert case.sla.next_deadline("g-1") is None


def test_pauses_add_up() -> None:
    clocks = SlaClocks.start(SlaPolicy(HOUR, 2 * HOUR, 10 * HOUR), NOW)
    clocks = clocks.pause(NOW + HOUR).resume(NOW + 3 * HOUR).pause(NOW + 4 * HOUR).pause(NOW + 5 * HOUR)
    clocks = clocks.resume(NOW + 6 * HOUR).resume(NOW + 9 * HOUR)

    assert clocks.paused_total == 4 * HOUR
    assert clocks.active_elapsed(NOW + 10 * HOUR) == 6 * HOUR


def test_a_severity_change_keeps_the_elapsed_time_and_what_has_fired() -> None:
    case = new_case(category=Category.OTHER)  # low: act within 7 days
    case.triage(TriageFacts(), HELPLINE, NOW)
    case.pending_events.clear()

    # Found out a day later: a child is involved. Critical: act within 4 hours, long overdue now.
    case.triage(TriageFacts(child_involved=True), CASEWORKER, NOW + DAY)
    due = case.record_sla_milestones(NOW + DAY)

    assert {(d.milestone.clock, d.milestone.kind, d.milestone.period) for d in due if d.announce} == {
        (ClockKind.ACT, MilestoneKind.BREACH, 1),
        (ClockKind.ACT, MilestoneKind.BREACH, 2),
    }
    assert case.escalation_level is EscalationLevel.STATE_AUTHORITY
    # A later downgrade does not fire them again.
    case.override_severity(Severity.LOW, sealed("WHY"), SUPERVISOR, NOW + DAY)
    assert case.record_sla_milestones(NOW + 2 * DAY) == ()


# --- restart and redelivery ---------------------------------------------------------------------------------------


def stored(clocks: SlaClocks) -> str:
    """The clocks as a repository would keep them: plain values only."""
    return json.dumps(
        {
            "cycle": clocks.cycle,
            "started_at": clocks.started_at.isoformat(),
            "policy": [int(clocks.policy.budget(c).total_seconds()) for c in ClockKind],
            "paused_total": clocks.paused_total.total_seconds(),
            "paused_since": clocks.paused_since.isoformat() if clocks.paused_since else None,
            "stopped_at": clocks.stopped_at.isoformat() if clocks.stopped_at else None,
            "met": {c.value: at.isoformat() for c, at in clocks.met.items()},
            "fired": sorted(clocks.fired),
        }
    )


def restored(text: str) -> SlaClocks:
    raw = json.loads(text)
    return SlaClocks(
        cycle=raw["cycle"],
        started_at=datetime.fromisoformat(raw["started_at"]),
        policy=SlaPolicy(*(timedelta(seconds=s) for s in raw["policy"])),
        paused_total=timedelta(seconds=raw["paused_total"]),
        paused_since=datetime.fromisoformat(raw["paused_since"]) if raw["paused_since"] else None,
        stopped_at=datetime.fromisoformat(raw["stopped_at"]) if raw["stopped_at"] else None,
        met={ClockKind(c): datetime.fromisoformat(at) for c, at in raw["met"].items()},
        fired=frozenset(raw["fired"]),
    )


def test_a_restarted_worker_recomputes_the_same_schedule_from_the_store() -> None:
    case = wage_claim_in_progress()
    case.await_complainant(CASEWORKER, NOW + 10 * DAY)
    case.resume_work(CASEWORKER, NOW + 12 * DAY)
    case.record_sla_milestones(NOW + 80 * DAY)

    again = restored(stored(case.sla))

    assert again == case.sla
    assert again.next_deadline("g-1") == case.sla.next_deadline("g-1") == NOW + 83 * DAY
    assert again.due("g-1", NOW + 95 * DAY) == case.sla.due("g-1", NOW + 95 * DAY)


def test_a_worker_killed_before_saving_fires_the_breach_once_after_restart() -> None:
    case = trafficking_case()
    saved = stored(case.sla)

    # The timer fires at the breach; the worker dies before the case is written.
    case.record_sla_milestones(NOW + 15 * MINUTE)

    # After the restart, the case is read back as it was stored: the breach is still due, and fires once.
    reloaded = trafficking_case()
    reloaded.sla = restored(saved)
    assert reloaded.sla.next_deadline("g-1") == NOW + timedelta(minutes=11, seconds=15)
    reloaded.record_sla_milestones(NOW + 16 * MINUTE)
    saved = stored(reloaded.sla)

    # Its timer is delivered again (the offset was not committed): the stored state says it has fired.
    redelivered = trafficking_case()
    redelivered.sla = restored(saved)
    assert redelivered.record_sla_milestones(NOW + 16 * MINUTE) == ()
    escalations = [e for e in reloaded.pending_events if isinstance(e, GrievanceEscalated)]
    assert [e.idempotency_key for e in escalations] == ["g-1:sla:1:acknowledge:breach:1"]


def test_keys_are_unique_per_case_cycle_clock_milestone_and_period() -> None:
    keys = {
        m.key(grievance_id, cycle)
        for grievance_id in ("g-1", "g-2")
        for cycle in (1, 2)
        for clock in ClockKind
        for m in milestones(clock, HOUR)
    }

    assert len(keys) == 2 * 2 * len(ClockKind) * 3 * BREACH_PERIODS


def test_reopening_starts_a_new_cycle_with_fresh_clocks_and_keys() -> None:
    case = trafficking_case()
    case.record_sla_milestones(NOW + 15 * MINUTE)
    case.resolve(Outcome.RESCUED, substantiated=True, by=CASEWORKER, now=NOW + HOUR)
    case.reopen(sealed("WHY"), SUPERVISOR, NOW + 10 * DAY)
    case.pending_events.clear()

    assert (case.cycle, case.status, case.sla.started_at) == (2, CaseStatus.REOPENED, NOW + 10 * DAY)
    [escalation] = fire(case, NOW + 10 * DAY + 15 * MINUTE)
    assert escalation.idempotency_key == "g-1:sla:2:acknowledge:breach:1"
    # The level reached in the first cycle stays: escalation never comes down by itself.
    assert escalation.previous_level is EscalationLevel.DISTRICT_COORDINATOR


def test_time_to_breach_orders_a_queue_and_goes_negative_when_overdue() -> None:
    case = trafficking_case()

    assert case.sla.time_to_breach("g-1", NOW + 5 * MINUTE) == 10 * MINUTE
    assert case.sla.breach_due_at("g-1") == NOW + 15 * MINUTE
    assert case.sla.time_to_breach("g-1", NOW + 20 * MINUTE) == -5 * MINUTE


def test_a_manual_escalation_goes_one_level_and_not_past_the_top() -> None:
    case = trafficking_case()
    case.escalate(sealed("WHY"), SUPERVISOR, NOW)
    case.escalate(sealed("WHY"), SUPERVISOR, NOW)

    assert case.escalation_level is EscalationLevel.STATE_AUTHORITY
    first, second = case.pending_events
    assert isinstance(first, GrievanceEscalated) and first.clock is None
    assert isinstance(second, GrievanceEscalated) and first.idempotency_key != second.idempotency_key
    with pytest.raises(IllegalTransition, match="already escalated"):
        case.escalate(sealed("WHY"), SUPERVISOR, NOW)


def _readable(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def test_the_service_readme_shows_the_sla_table_as_the_code_has_it() -> None:
    readme = (Path(__file__).resolve().parents[4] / "services/grievance/README.md").read_text()

    for row in SLA_TABLE:
        p = row.policy
        category = row.category.value if row.category else "(any)"
        line = (
            f"| {category} | {row.severity.value} | {_readable(p.acknowledge)} | {_readable(p.act)} "
            f"| {_readable(p.resolve)} | {row.basis} |"
        )
        assert line in readme
