"""A worker's consent to grievance follow-up withdrawn (or expired) in the registry: the cases and traces naming
them lose the link, through the worker's hand-over and the case writer, once per event; the complaint stays
with the partner handling it."""

from __future__ import annotations

from datetime import date

import pytest

from mrc.grievance.v1 import events_pb2, grievance_pb2
from mrc.registry.v1 import events_pb2 as registry_events
from mrc.registry.v1 import worker_pb2
from mrc_grievance.adapters.protobuf_mapping import consent_change_of
from mrc_grievance.domain.case import TimelineAction
from mrc_grievance.domain.consent import ConsentChange
from mrc_grievance.domain.parties import RegisteredWorker, UnregisteredPerson
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import ReporterRelation, UnlinkReason
from mrc_grievance.entrypoints.consumer import registry_handler
from mrc_grievance.service_layer.parties import SubjectInput
from mrc_grievance.service_layer.ports import MigrationEpisodeRef
from mrc_grievance.service_layer.traces import ContactInput, OpenTrace
from mrc_kernel.events import Event
from mrc_kernel.policy import Grant, Purpose
from mrc_plumbing.events import EventDecoder

from .fakes import CASEWORKER, CHENNAI, FORWARDED, PATNA, Grievances

FOLLOW_UP = frozenset({Purpose.GRIEVANCE_FOLLOW_UP})


@pytest.fixture
def g() -> Grievances:
    return Grievances()


def worker_case(g: Grievances, key: str = "k-1") -> str:
    return g.file(subject=SubjectInput(worker_id="worker-1"), caller=CASEWORKER, idempotency_key=key)


def withdrawn(*grants: Grant, version: int = 4, expired: bool = False) -> ConsentChange:
    return ConsentChange("worker-1", version, tuple(grants), expired=expired)


def consent_event(*grants: worker_pb2.ConsentPurpose, version: int = 4, partners: tuple[str, ...] = ()) -> Event:
    message = registry_events.ConsentChanged(
        worker_id="worker-1",
        facts=registry_events.WorkerFacts(
            worker_id="worker-1",
            version=version,
            grants=[registry_events.PartnerGrant(partner_id=p, purposes=["grievance_follow_up"]) for p in partners],
        ),
    )
    return Event.from_message(message, source="/mrc/registry", subject="worker-1", topic="mrc.registry.workers.v1")


# --- the domain ------------------------------------------------------------------------------------------


def test_a_link_ends_only_when_no_active_grant_covers_the_partner_holding_it() -> None:
    link = RegisteredWorker("worker-1", "partner-a", "cso", registry_version=3)

    assert withdrawn().ends(link, "partner-a")
    assert withdrawn(Grant(frozenset({Purpose.REGISTRATION}), partner_id="partner-a")).ends(link, "partner-a")
    assert withdrawn(Grant(FOLLOW_UP, partner_id="partner-b")).ends(link, "partner-a")
    assert not withdrawn(Grant(FOLLOW_UP, partner_id="partner-a")).ends(link, "partner-a")
    assert not withdrawn(Grant(FOLLOW_UP, partner_kind="cso")).ends(link, "partner-a")
    assert not ConsentChange("worker-2", 4, ()).ends(link, "partner-a")  # another worker
    assert not withdrawn().ends(UnregisteredPerson(), "partner-a")


def test_a_change_no_newer_than_the_link_changes_nothing() -> None:
    link = RegisteredWorker("worker-1", "partner-a", "cso", registry_version=5)

    assert not withdrawn(version=5).ends(link, "partner-a")  # the link was checked after it
    assert not withdrawn(version=4).ends(link, "partner-a")
    assert withdrawn(version=6).ends(link, "partner-a")
    # A link recorded before the partner and version were kept: judged by the holder's partner, any version.
    assert withdrawn(version=1).ends(RegisteredWorker("worker-1"), "partner-a")
    assert not withdrawn(Grant(FOLLOW_UP, partner_id="partner-a"), version=1).ends(
        RegisteredWorker("worker-1"), "partner-a"
    )


def test_the_reason_says_withdrawn_or_expired() -> None:
    assert withdrawn().reason is UnlinkReason.CONSENT_WITHDRAWN
    assert withdrawn(expired=True).reason is UnlinkReason.CONSENT_EXPIRED


# --- the registry's event, mapped -------------------------------------------------------------------------


def test_the_grants_after_the_change_come_from_the_event_facts() -> None:
    message = registry_events.ConsentChanged(
        worker_id="worker-1",
        expired=True,
        facts=registry_events.WorkerFacts(
            version=7,
            grants=[
                registry_events.PartnerGrant(partner_id="partner-a", purposes=["registration", "case_management"]),
                registry_events.PartnerGrant(partner_kind="government", purposes=["grievance_follow_up", "future"]),
            ],
        ),
    )

    change = consent_change_of(message)

    assert change == ConsentChange(
        "worker-1",
        7,
        (
            Grant(frozenset({Purpose.REGISTRATION, Purpose.CASE_MANAGEMENT}), partner_id="partner-a"),
            Grant(FOLLOW_UP, partner_kind="government"),
        ),
        expired=True,
    )


def test_without_facts_only_a_follow_up_purpose_gone_from_every_consent_is_judged() -> None:
    gone = registry_events.ConsentChanged(
        worker_id="worker-1", active_purposes=[worker_pb2.CONSENT_PURPOSE_REGISTRATION]
    )
    kept = registry_events.ConsentChanged(
        worker_id="worker-1", active_purposes=[worker_pb2.CONSENT_PURPOSE_GRIEVANCE_FOLLOW_UP]
    )

    assert consent_change_of(gone) == ConsentChange("worker-1", 0, ())
    assert consent_change_of(kept) is None


# --- the worker hands over, the writer applies -------------------------------------------------------------


def test_withdrawn_consent_unlinks_the_case_and_the_complaint_stays_with_its_partner(g: Grievances) -> None:
    grievance_id = worker_case(g)
    g.case_service.add_note(grievance_id, "Contractor threatened him", None, CASEWORKER)
    before = g.cases.get(grievance_id)
    assert before is not None
    handle = registry_handler(g.registry_events, EventDecoder())

    handle(consent_event(version=4))
    assert g.case_work.run_once() == 1

    view = g.case_service.get(grievance_id, CASEWORKER)  # still the partner's case
    case = view.case
    assert case.worker_id == "" and isinstance(case.subject, UnregisteredPerson)
    assert (case.category, case.location, case.status) == (before.category, PATNA, before.status)
    assert case.version == before.version + 1
    assert view.summary == "Contractor has not paid wages for six weeks."
    assert [n.text for n in g.case_service.notes(grievance_id, CASEWORKER)] == ["Contractor threatened him"]
    last = case.timeline[-1]
    assert last.action is TimelineAction.CONSENT_WITHDRAWN and "worker-1" not in last.summary
    assert g.raw("grievances", grievance_id)["worker_id"] == ""

    unlinked = g.published("GrievanceWorkerUnlinked")
    assert len(unlinked) == 1
    assert isinstance(unlinked[0], events_pb2.GrievanceWorkerUnlinked)
    assert unlinked[0].worker_id == "" and unlinked[0].employer_id == "employer-7"
    assert unlinked[0].reason == grievance_pb2.WORKER_UNLINK_REASON_CONSENT_WITHDRAWN


def test_a_redelivered_or_older_event_has_no_second_effect(g: Grievances) -> None:
    grievance_id = worker_case(g)
    handle = registry_handler(g.registry_events, EventDecoder())
    event = consent_event(version=4)

    handle(event)
    handle(event)  # redelivered before the writer ran: the same item
    assert g.case_work.run_once() == 1
    handle(event)  # redelivered after: the case no longer names the worker, nothing is handed over
    assert g.work.waiting(10) == []

    # Linked again at triage (consent given again, registry version 6); the old event comes back.
    g.workers.versions["worker-1"] = 6
    g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER, worker_id="worker-1", forwarded=FORWARDED)
    handle(event)
    g.case_work.run_once()
    case = g.cases.get(grievance_id)
    assert case is not None and case.worker_id == "worker-1"
    assert len(g.published("GrievanceWorkerUnlinked")) == 1


def test_a_change_that_still_covers_the_partner_hands_nothing_over(g: Grievances) -> None:
    worker_case(g)
    handle = registry_handler(g.registry_events, EventDecoder())

    handle(consent_event(version=4, partners=("partner-a",)))  # another consent withdrawn, this one stands

    assert g.work.waiting(10) == []


def test_a_later_consent_does_not_relink_but_triage_does_after_asking_the_registry(g: Grievances) -> None:
    grievance_id = worker_case(g)
    g.registry_events.consent_changed("ev-1", withdrawn(version=4))
    g.case_work.run_once()

    # Given again: the registry says so, the case still names nobody.
    g.registry_events.consent_changed("ev-2", withdrawn(Grant(FOLLOW_UP, partner_id="partner-a"), version=5))
    g.case_work.run_once()
    assert g.cases.get(grievance_id).worker_id == ""  # type: ignore[union-attr]

    g.workers.visible["worker-1"] = set()  # the registry refuses: the link is refused too
    with pytest.raises(Exception, match="worker_id"):
        g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER, worker_id="worker-1", forwarded=FORWARDED)

    g.workers.visible["worker-1"] = {"partner-a"}
    g.workers.versions["worker-1"] = 5
    changed = g.case_service.triage(grievance_id, TriageFacts(), CASEWORKER, worker_id="worker-1", forwarded=FORWARDED)
    assert changed.view.case.worker_id == "worker-1"
    assert changed.view.case.timeline[-1].action is TimelineAction.WORKER_LINKED
    subject = changed.view.case.subject
    assert isinstance(subject, RegisteredWorker) and subject.registry_version == 5


def test_a_trace_loses_the_worker_and_their_episode_but_the_search_goes_on(g: Grievances) -> None:
    g.workers.episodes["worker-1"] = [MigrationEpisodeRef("episode-1", "2025-11-01", ongoing=True)]
    trace = g.trace_service.open(
        OpenTrace(
            missing=SubjectInput(worker_id="worker-1"),
            last_known_place=CHENNAI,
            last_known_on=date(2026, 1, 1),
            contacts=(ContactInput(ReporterRelation.FAMILY, "Mother", "9876500000"),),
            idempotency_key="t-1",
        ),
        CASEWORKER,
        FORWARDED,
    )
    trace_id = trace.view.trace.trace_id
    assert trace.view.trace.migration_episode_id == "episode-1"

    g.registry_events.consent_changed("ev-1", withdrawn(version=4, expired=True))
    g.case_work.run_once()

    stored = g.traces.get(trace_id)
    assert stored is not None
    assert (stored.worker_id, stored.migration_episode_id, stored.status.value) == ("", "", "open")
    unlinked = g.published("TraceWorkerUnlinked", collection="traces")
    assert [m.reason for m in unlinked] == [grievance_pb2.WORKER_UNLINK_REASON_CONSENT_EXPIRED]
