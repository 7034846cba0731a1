from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from mrc_grievance.domain.events import TraceClosed, TraceOpened, TraceSightingRecorded
from mrc_grievance.domain.parties import RegisteredEmployer, RegisteredWorker, UnregisteredPerson
from mrc_grievance.domain.protected import Sealed
from mrc_grievance.domain.trace import TRACE_TRANSITIONS, Contact, Trace
from mrc_grievance.domain.vocabulary import ReporterRelation, RespondentKind, TraceStatus
from mrc_kernel.errors import Conflict, InvalidArgument
from mrc_kernel.place import Place

from .builders import CASEWORKER, CHENNAI, HELPLINE, NOW, PATNA, sealed, walk

LATER = NOW + timedelta(days=3)
MOTHER = Contact(ReporterRelation.FAMILY, sealed("MOTHER-NAME"))


def open_trace(**overrides: Any) -> Trace:
    values: dict[str, Any] = {
        "trace_id": "t-1",
        "missing": RegisteredWorker("worker-1"),
        "minor": False,
        "last_known_place": PATNA,
        "last_known_on": date(2025, 12, 20),
        "destination": Place("33", "568", village_name="Tondiarpet"),
        "respondent": RegisteredEmployer("employer-7"),
        "contacts": (MOTHER,),
        "description": sealed("DESCRIPTION"),
        "grievance_id": "g-1",
        "migration_episode_id": "episode-3",
        "opened_by": HELPLINE,
        "now": NOW,
    }
    values.update(overrides)
    return Trace.open(**values)


def test_opening_a_trace_publishes_where_to_look_and_nothing_that_identifies() -> None:
    trace = open_trace()

    [event] = trace.pending_events
    assert isinstance(event, TraceOpened)
    facts = event.facts
    assert (facts.trace_id, facts.worker_id, facts.minor, facts.last_known_on) == (
        "t-1",
        "worker-1",
        False,
        date(2025, 12, 20),
    )
    assert facts.last_known_place == Place("10", "212", "1415")
    assert facts.destination == Place("33", "568")  # codes only
    assert (facts.employer_id, facts.respondent_kind) == ("employer-7", RespondentKind.REGISTERED_EMPLOYER)
    assert (facts.grievance_id, facts.migration_episode_id) == ("g-1", "episode-3")
    assert trace.status is TraceStatus.OPEN
    assert trace.opening_partner_id == "partner-a"


def test_a_trace_needs_a_recent_date_someone_to_call_and_real_places() -> None:
    with pytest.raises(InvalidArgument) as caught:
        open_trace(
            missing=UnregisteredPerson(name=sealed("NAME")),
            last_known_on=NOW.date() + timedelta(days=1),
            destination=Place("33", "212"),
            contacts=(Contact(ReporterRelation.FAMILY),),
        )

    assert [v.field for v in caught.value.violations] == [
        "destination.district_code",
        "last_known_on",
        "migration_episode_id",
        "contacts[0]",
    ]


def test_a_trace_without_contacts_or_date_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        open_trace(contacts=(), last_known_on=None)

    assert [v.field for v in caught.value.violations] == ["last_known_on", "contacts"]


def test_an_unregistered_person_can_be_traced_without_an_episode() -> None:
    trace = open_trace(missing=UnregisteredPerson(name=sealed("NAME")), migration_episode_id="", minor=True)

    facts = trace.pending_events[0].facts
    assert (facts.worker_id, facts.minor, facts.migration_episode_id) == ("", True, "")


def test_sightings_are_recorded_with_their_district_and_widen_where_the_trace_belongs() -> None:
    trace = open_trace(destination=None)

    sighting = trace.record_sighting("s-1", NOW + timedelta(days=1), CHENNAI, sealed("SEEN-AT"), CASEWORKER, LATER)

    assert trace.sightings == [sighting]
    event = trace.pending_events[-1]
    assert isinstance(event, TraceSightingRecorded)
    assert (event.sighting_id, event.seen_at, event.place) == ("s-1", NOW + timedelta(days=1), CHENNAI)
    assert trace.places() == [("10", "212"), ("33", "568")]
    assert trace.version == 2


def test_a_sighting_is_refused_when_in_the_future_repeated_or_the_trace_closed() -> None:
    trace = open_trace()
    trace.record_sighting("s-1", NOW, CHENNAI, None, CASEWORKER, NOW)

    with pytest.raises(InvalidArgument) as caught:
        trace.record_sighting("s-1", NOW + timedelta(hours=1), CHENNAI, None, CASEWORKER, NOW)
    assert [v.field for v in caught.value.violations] == ["seen_at", "sighting_id"]

    trace.close(TraceStatus.DECEASED, CASEWORKER, LATER)
    with pytest.raises(Conflict, match="is deceased"):
        trace.record_sighting("s-2", NOW, CHENNAI, None, CASEWORKER, LATER)


def test_a_person_found_may_later_be_reunited() -> None:
    trace = open_trace()

    trace.close(TraceStatus.FOUND, CASEWORKER, NOW)
    trace.close(TraceStatus.REUNITED, CASEWORKER, LATER)

    closings = [e for e in trace.pending_events if isinstance(e, TraceClosed)]
    assert [(e.previous_status, e.outcome, e.facts.status) for e in closings] == [
        (TraceStatus.OPEN, TraceStatus.FOUND, TraceStatus.FOUND),
        (TraceStatus.FOUND, TraceStatus.REUNITED, TraceStatus.REUNITED),
    ]
    assert [e.summary for e in trace.timeline] == ["opened", "open -> found", "found -> reunited"]


@pytest.mark.parametrize(
    ("closed_as", "then"),
    [
        (TraceStatus.REUNITED, TraceStatus.FOUND),
        (TraceStatus.REUNITED, TraceStatus.REUNITED),
        (TraceStatus.DECEASED, TraceStatus.REUNITED),
        (TraceStatus.FOUND, TraceStatus.FOUND),
    ],
)
def test_closing_again_is_a_conflict_naming_both_states(closed_as: TraceStatus, then: TraceStatus) -> None:
    trace = open_trace()
    trace.close(closed_as, CASEWORKER, NOW)

    with pytest.raises(Conflict) as caught:
        trace.close(then, CASEWORKER, LATER)

    assert f"is {closed_as.value}" in caught.value.detail
    assert f"as {then.value}" in caught.value.detail


@pytest.mark.parametrize("outcome", [None, TraceStatus.OPEN])
def test_a_trace_closes_as_found_reunited_or_deceased_only(outcome: TraceStatus | None) -> None:
    with pytest.raises(InvalidArgument):
        open_trace().close(outcome, CASEWORKER, NOW)


def test_only_an_open_or_found_trace_can_move() -> None:
    assert set(TRACE_TRANSITIONS) == {TraceStatus.OPEN, TraceStatus.FOUND}


def test_trace_events_carry_nothing_sealed() -> None:
    trace = open_trace()
    trace.record_sighting("s-1", NOW, CHENNAI, sealed("SEEN-AT"), CASEWORKER, NOW)
    trace.close(TraceStatus.FOUND, CASEWORKER, LATER)

    values = walk(trace.pending_events)
    assert not [v for v in values if isinstance(v, Sealed)]
    assert not [v for v in values if isinstance(v, str) and ("enc:" in v or "Tondiarpet" in v or "Phulwari" in v)]
