"""Missing-person traces: opened by the family's partner, helped at the destination, closed once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mrc_grievance.domain.vocabulary import ReporterRelation, TraceStatus
from mrc_grievance.service_layer.parties import PersonInput, SubjectInput
from mrc_grievance.service_layer.ports import MigrationEpisodeRef
from mrc_grievance.service_layer.traces import ContactInput, OpenTrace
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.roles import Role
from tests.support.auth import caller_for

from .fakes import CASEWORKER, CHENNAI, EMPLOYER, FORWARDED, NOW, PATNA, Grievances, contains_text

# A CSO in Tamil Nadu (the destination) and one in Maharashtra (nowhere near).
AT_DESTINATION = caller_for(Role.CASEWORKER, partner_id="partner-tn", client_id="cw-tn", states={"33"})
ELSEWHERE = caller_for(Role.CASEWORKER, partner_id="partner-mh", client_id="cw-mh", states={"27"})


@pytest.fixture
def g() -> Grievances:
    return Grievances()


def open_trace(g: Grievances, **overrides: object) -> str:
    values: dict[str, object] = {
        "missing": SubjectInput(person=PersonInput(name="Raju Kumar", age=16, gender="male")),
        "minor": True,
        "last_known_place": PATNA,
        "last_known_on": date(2025, 12, 20),
        "destination": CHENNAI,
        "contacts": (ContactInput(ReporterRelation.FAMILY, "Mother", "9876500000"),),
        "description": "Blue shirt, speaks Magahi",
        "idempotency_key": "t-1",
    }
    values.update(overrides)
    return g.trace_service.open(OpenTrace(**values), CASEWORKER, FORWARDED).view.trace.trace_id  # type: ignore[arg-type]


def test_a_trace_is_published_by_places_only_and_stored_sealed(g: Grievances) -> None:
    trace_id = open_trace(g)

    (opened,) = g.published("TraceOpened", collection="traces")
    assert (opened.trace_id, opened.minor, opened.destination.state_code) == (trace_id, True, "33")
    secrets = ["Raju", "Mother", "9876500000", "Blue shirt", "Phulwari"]
    assert contains_text([e.data for e in g.outbox("traces")], secrets) == []
    assert contains_text({k: v for k, v in g.raw("traces", trace_id).items() if k != "outbox"}, secrets[:4]) == []


def test_partners_at_the_destination_read_and_add_sightings_but_not_the_family_contacts(g: Grievances) -> None:
    trace_id = open_trace(g)

    seen = g.trace_service.record_sighting(
        trace_id, NOW - timedelta(days=1), CHENNAI, "Seen at Koyambedu bus stand", AT_DESTINATION, idempotency_key="s1"
    )
    again = g.trace_service.record_sighting(
        trace_id, NOW - timedelta(days=1), CHENNAI, "Seen at Koyambedu bus stand", AT_DESTINATION, idempotency_key="s1"
    )

    assert len(seen.trace.sightings) == len(again.trace.sightings) == 1
    assert (seen.description, seen.contacts) == ("Blue shirt, speaks Magahi", ())
    assert g.trace_service.get(trace_id, CASEWORKER).contacts[0].phone == "+919876500000"
    with pytest.raises(NotFound):
        g.trace_service.get(trace_id, ELSEWHERE)


def test_a_trace_closes_once(g: Grievances) -> None:
    trace_id = open_trace(g)
    g.trace_service.close(trace_id, TraceStatus.FOUND, AT_DESTINATION)
    closed = g.trace_service.close(trace_id, TraceStatus.REUNITED, CASEWORKER)

    assert closed.trace.status is TraceStatus.REUNITED
    with pytest.raises(Conflict):
        g.trace_service.close(trace_id, TraceStatus.REUNITED, CASEWORKER)
    assert len(g.published("TraceClosed", collection="traces")) == 2


def test_a_registered_worker_is_linked_to_their_current_migration_episode(g: Grievances) -> None:
    g.workers.episodes["worker-1"] = [
        MigrationEpisodeRef("ep-old", "2023-01-01", ongoing=False),
        MigrationEpisodeRef("ep-now", "2025-11-01", ongoing=True),
    ]

    trace_id = open_trace(g, missing=SubjectInput(worker_id="worker-1", worker_field="missing.worker_id"), minor=False)

    assert g.trace_service.get(trace_id, CASEWORKER).trace.migration_episode_id == "ep-now"
    with pytest.raises(InvalidArgument) as caught:
        open_trace(
            g,
            missing=SubjectInput(worker_id="worker-1", worker_field="missing.worker_id"),
            migration_episode_id="ep-other",
            idempotency_key="t-2",
        )
    assert [v.field for v in caught.value.violations] == ["migration_episode_id"]


def test_a_trace_needs_contacts_and_a_place_in_the_callers_reach(g: Grievances) -> None:
    with pytest.raises(InvalidArgument):
        open_trace(g, contacts=())
    with pytest.raises(InvalidArgument) as caught:
        g.trace_service.open(
            OpenTrace(SubjectInput(), PATNA, date(2025, 12, 20), contacts=(ContactInput(name="x"),)),
            ELSEWHERE,
            FORWARDED,
        )
    assert [v.field for v in caught.value.violations] == ["last_known_place.state_code"]
    with pytest.raises(PermissionDenied):  # employers are refused before anything else
        g.trace_service.open(OpenTrace(SubjectInput(), PATNA, date(2025, 12, 20)), EMPLOYER, FORWARDED)


def test_a_trace_about_an_erased_worker_forgets_them(g: Grievances) -> None:
    trace_id = open_trace(g, missing=SubjectInput(worker_id="worker-1", worker_field="missing.worker_id"))

    g.registry_events.worker_erased("worker-1")
    g.case_work.run_once()

    view = g.trace_service.get(trace_id, CASEWORKER)
    assert (view.trace.worker_id, view.description) == ("", "")
