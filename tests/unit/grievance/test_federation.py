"""Cross-state federation of grievances and missing-person traces: a case filed, or a trace opened, here about a
copy of another state's worker goes to that state (with each change, while the consent allows grievance
follow-up); the home state keeps what it receives read-only and shows it to the partners who reach the worker
(real adapters on the in-memory store)."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc.registry.v1 import events_pb2 as registry_events
from mrc.registry.v1 import worker_pb2
from mrc_grievance.adapters.crypto_sealer import CryptoSealer
from mrc_grievance.adapters.federation import (
    CaseForwarder,
    RefusedForward,
    StoredFederatedWorkers,
    StoredForwardedCases,
    StoredForwardedTraces,
    TraceForwarder,
    account_field,
    description_field,
    description_opener,
    forwarded_handler,
    open_account,
    open_description,
    summary_opener,
)
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import Category, ReporterRelation, TraceStatus
from mrc_grievance.entrypoints.consumer import registry_handler
from mrc_grievance.service_layer.federation import ForwardedCaseReads, ForwardedTraceReads
from mrc_grievance.service_layer.parties import SubjectInput
from mrc_grievance.service_layer.traces import ContactInput, OpenTrace
from mrc_kernel.errors import NotFound
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.events import EventDecoder
from tests.unit.grievance.fakes import CASEWORKER, CHENNAI, FORWARDED, NOW, OTHER_CSO, PATNA, Grievances

HERE, HOME = "33", "10"  # a case filed in Tamil Nadu about Bihar's worker
TO_HOME = "mrc.federation.grievances.10.v1"
SUMMARY = "Contractor has not paid wages for six weeks."
DESCRIPTION = "Green shirt, speaks Bhojpuri, scar on the left hand"


def cipher() -> FederationCipher:
    return FederationCipher({"f1": os.urandom(32)}, "f1")


class Federated(Grievances):
    def __init__(self, *, follow_up: bool = True, home: str = HOME) -> None:
        super().__init__()
        self.federation_cipher = cipher()
        self.federated = StoredFederatedWorkers(self.store)
        self.federated.record("worker-1", home, follow_up, version=1)
        self.cases.set_federation(
            CaseForwarder(
                HERE,
                frozenset({HOME}),
                self.federated,
                summary_opener(CryptoSealer(self.crypto).open),
                self.federation_cipher,
                clock=self.clock,
            )
        )
        self.traces.set_federation(
            TraceForwarder(
                HERE,
                frozenset({HOME}),
                self.federated,
                description_opener(CryptoSealer(self.crypto).open),
                self.federation_cipher,
            )
        )

    def file_about_worker(self) -> str:
        return self.file(CASEWORKER, subject=SubjectInput(worker_id="worker-1"), location=CHENNAI, respondent=None)

    def forwarded(self) -> list[tuple[str, federation_pb2.GrievanceForwarded]]:
        decoder = EventDecoder()
        return [(e.topic, decoder.decode(e)) for e in self.outbox() if e.type == "mrc.federation.v1.GrievanceForwarded"]

    def open_trace_about_worker(self, **overrides: object) -> str:
        values: dict[str, object] = {
            "missing": SubjectInput(worker_id="worker-1"),
            "last_known_place": CHENNAI,
            "last_known_on": date(2025, 12, 20),
            "destination": CHENNAI,
            "contacts": (ContactInput(ReporterRelation.FAMILY, "Mother", "9876500000"),),
            "description": DESCRIPTION,
            "idempotency_key": "trace-1",
        }
        values.update(overrides)
        command = OpenTrace(**values)  # type: ignore[arg-type]
        return self.trace_service.open(command, CASEWORKER, FORWARDED).view.trace.trace_id

    def forwarded_traces(self) -> list[tuple[str, federation_pb2.TraceForwarded]]:
        decoder = EventDecoder()
        return [
            (e.topic, decoder.decode(e)) for e in self.outbox("traces") if e.type == "mrc.federation.v1.TraceForwarded"
        ]


# ---------------------------------------------------------------- sending (where the case is handled)


def test_a_case_about_a_copy_goes_to_the_worker_s_home_state_with_its_account_sealed() -> None:
    world = Federated()
    grievance_id = world.file_about_worker()
    forwarded = world.forwarded()
    assert [topic for topic, _ in forwarded] == [TO_HOME]
    message = forwarded[0][1]
    assert message.grievance_id == grievance_id and message.worker_id == "worker-1"
    assert message.home_state_code == HERE and message.to_state_code == HOME == message.worker_home_state_code
    assert message.filing_partner_id == "partner-a" and message.version >= 1
    assert message.place.state_code == CHENNAI.state_code and message.place.district_code == CHENNAI.district_code
    assert world.federation_cipher.open(account_field(grievance_id), message.account_token) == SUMMARY
    assert b"six weeks" not in message.SerializeToString(), "the account crosses only sealed"


def test_each_change_of_the_case_is_forwarded_again_with_its_newer_version() -> None:
    world = Federated()
    grievance_id = world.file_about_worker()
    first = max(m.version for _, m in world.forwarded())
    world.case_service.triage(grievance_id, TriageFacts(), CASEWORKER)
    latest = max(world.forwarded(), key=lambda pair: pair[1].version)[1]
    assert latest.version > first and latest.grievance_id == grievance_id
    assert latest.status != federation_pb2.GrievanceForwarded().status, "the new status travels"


@pytest.mark.parametrize(
    ("follow_up", "home"), [(False, HOME), (True, "27")], ids=["no follow-up consent", "home not a peer"]
)
def test_nothing_is_forwarded_without_consent_or_to_a_state_outside_the_federation(follow_up: bool, home: str) -> None:
    world = Federated(follow_up=follow_up, home=home)
    world.workers.visible["worker-1"] = {"partner-a"}
    world.file_about_worker()
    assert world.forwarded() == []


def test_nothing_is_forwarded_about_this_state_s_own_workers_or_once_the_copy_is_gone() -> None:
    world = Federated()
    world.federated.forget("worker-1")
    world.file_about_worker()
    assert world.forwarded() == []


def test_the_grievance_worker_learns_copies_and_their_consent_from_the_registry_facts() -> None:
    world = Grievances()
    federated, forwarded = StoredFederatedWorkers(world.store), StoredForwardedCases(world.store)
    handle = registry_handler(world.registry_events, EventDecoder(), federated, forwarded)
    facts = registry_events.WorkerFacts(
        worker_id="worker-9",
        federated_from_state_code=HOME,
        active_purposes=[worker_pb2.CONSENT_PURPOSE_GRIEVANCE_FOLLOW_UP],
        status=worker_pb2.WORKER_STATUS_ACTIVE,
        version=3,
    )
    registered = Event.from_message(
        registry_events.WorkerRegistered(facts=facts), source="/mrc/registry", subject="worker-9", topic="t"
    )
    handle(registered)
    assert federated.home_of("worker-9") == (HOME, True)
    own = registry_events.WorkerFacts(worker_id="worker-8", version=1)
    handle(Event.from_message(registry_events.WorkerRegistered(facts=own), source="/r", subject="worker-8", topic="t"))
    assert federated.home_of("worker-8") is None
    erased = registry_events.WorkerErased(worker_id="worker-9")
    handle(Event.from_message(erased, source="/mrc/registry", subject="worker-9", topic="t"))
    assert federated.home_of("worker-9") is None


def test_a_trace_about_a_copy_goes_to_the_worker_s_home_state_with_its_description_sealed() -> None:
    world = Federated()
    trace_id = world.open_trace_about_worker()
    forwarded = world.forwarded_traces()
    assert [topic for topic, _ in forwarded] == [TO_HOME]
    message = forwarded[0][1]
    assert message.trace_id == trace_id and message.worker_id == "worker-1"
    assert message.home_state_code == HERE and message.to_state_code == HOME == message.worker_home_state_code
    assert message.filing_partner_id == "partner-a" and message.version == 1 and message.sighting_count == 0
    assert message.status == federation_pb2.TraceForwarded().status + 1, "open"
    assert message.last_known_place.district_code == CHENNAI.district_code and message.last_known_on == "2025-12-20"
    assert world.federation_cipher.open(description_field(trace_id), message.description_token) == DESCRIPTION
    crossed = message.SerializeToString()
    for secret in (b"Bhojpuri", b"Mother", b"9876500000"):
        assert secret not in crossed, "the description crosses only sealed, the family's contacts never"


def test_each_sighting_and_the_closing_of_the_trace_are_forwarded_again() -> None:
    world = Federated()
    trace_id = world.open_trace_about_worker()
    world.trace_service.record_sighting(
        trace_id, NOW - timedelta(days=1), PATNA, "Seen at Patna Junction by a porter", CASEWORKER, idempotency_key="s"
    )
    world.trace_service.close(trace_id, TraceStatus.FOUND, CASEWORKER)
    messages = [m for _, m in world.forwarded_traces()]
    assert [m.version for m in messages] == [1, 2, 3]
    sighted, closed = messages[1], messages[2]
    assert sighted.sighting_count == 1 and sighted.last_seen_place.district_code == PATNA.district_code
    assert sighted.last_seen_at.ToDatetime().date() == (NOW - timedelta(days=1)).date()
    assert closed.status != messages[0].status and closed.sighting_count == 1
    assert all(b"porter" not in m.SerializeToString() for m in messages), "what a sighting said stays here"


@pytest.mark.parametrize(
    ("follow_up", "home"), [(False, HOME), (True, "27")], ids=["no follow-up consent", "home not a peer"]
)
def test_no_trace_is_forwarded_without_consent_or_to_a_state_outside_the_federation(follow_up: bool, home: str) -> None:
    world = Federated(follow_up=follow_up, home=home)
    world.open_trace_about_worker()
    assert world.forwarded_traces() == []


def test_no_trace_is_forwarded_about_someone_outside_the_registries_or_once_the_copy_is_gone() -> None:
    world = Federated()
    world.federated.forget("worker-1")
    trace_id = world.open_trace_about_worker()
    world.federated.record("worker-1", HOME, True, version=2)
    world.open_trace_about_worker(missing=SubjectInput(), idempotency_key="trace-2")
    assert world.forwarded_traces() == []
    assert world.trace_service.get(trace_id, CASEWORKER).trace.worker_id == "worker-1"


# ---------------------------------------------------------------- receiving (the worker's home state)


def forwarded_message(version: int = 2, **overrides: object) -> federation_pb2.GrievanceForwarded:
    message = federation_pb2.GrievanceForwarded(
        grievance_id="g-1",
        home_state_code=HERE,
        to_state_code=HOME,
        worker_id="worker-1",
        worker_home_state_code=HOME,
        category=1,
        severity=1,
        status=1,
        filing_partner_id="tn-cso",
        version=version,
    )
    for name, value in overrides.items():
        setattr(message, name, value)
    return message


class Home:
    def __init__(self) -> None:
        self.world = Grievances()
        self.cipher = cipher()
        self.cases = StoredForwardedCases(self.world.store)
        self.handle = forwarded_handler(self.cases, HOME, EventDecoder())
        self.reads = ForwardedCaseReads(
            self.cases, self.world.workers, self.world.audit, open_account(self.cipher), own_state_code=HOME
        )

    def deliver(self, message: federation_pb2.GrievanceForwarded, source: str = HERE) -> tuple[str, Event]:
        event = Event.from_message(message, source="/mrc/grievance", subject=message.grievance_id, topic="t")
        return self.handle(event, source), event


def test_the_family_s_cso_sees_the_forwarded_case_read_only_marked_with_the_handling_state() -> None:
    home = Home()
    message = forwarded_message(account_token=home.cipher.seal(account_field("g-1"), SUMMARY))
    assert home.deliver(message)[0] == "applied"
    shown = home.reads.about_worker("worker-1", CASEWORKER, FORWARDED)
    assert [v.case.grievance_id for v in shown] == ["g-1"]
    assert shown[0].case.handling_state_code == HERE and shown[0].account == SUMMARY
    assert [m.resource_id for m in home.world.audit.records] == ["worker-1"]


def test_a_partner_who_does_not_reach_the_worker_sees_nothing() -> None:
    home = Home()
    home.deliver(forwarded_message())
    with pytest.raises(NotFound):
        home.reads.about_worker("worker-1", OTHER_CSO, FORWARDED)


def test_redelivery_and_older_versions_change_nothing_and_a_newer_one_replaces() -> None:
    home = Home()
    outcome, event = home.deliver(forwarded_message(version=3))
    assert outcome == "applied"
    assert home.handle(event, HERE) == "unchanged"
    assert home.deliver(forwarded_message(version=2, status=2))[0] == "unchanged"
    assert home.deliver(forwarded_message(version=4, status=2))[0] == "applied"
    (case,) = home.cases.about_worker("worker-1")
    assert case.version == 4


def test_records_from_the_wrong_state_or_not_addressed_here_are_not_kept() -> None:
    home = Home()
    with pytest.raises(RefusedForward):
        home.deliver(forwarded_message(), source="27")
    assert home.deliver(forwarded_message(to_state_code="27"))[0] == "not_addressed_here"
    assert home.cases.about_worker("worker-1") == []


def trace_message(version: int = 1, **overrides: object) -> federation_pb2.TraceForwarded:
    message = federation_pb2.TraceForwarded(
        trace_id="t-1",
        home_state_code=HERE,
        to_state_code=HOME,
        worker_id="worker-1",
        worker_home_state_code=HOME,
        status=1,
        last_known_on="2025-12-20",
        filing_partner_id="tn-cso",
        version=version,
    )
    message.last_known_place.state_code = CHENNAI.state_code
    message.last_known_place.district_code = CHENNAI.district_code
    for name, value in overrides.items():
        setattr(message, name, value)
    return message


class HomeTraces(Home):
    def __init__(self) -> None:
        super().__init__()
        self.traces = StoredForwardedTraces(self.world.store)
        self.handle = forwarded_handler(self.cases, HOME, EventDecoder(), self.traces)
        self.trace_reads = ForwardedTraceReads(
            self.traces, self.world.workers, self.world.audit, open_description(self.cipher), own_state_code=HOME
        )

    def deliver_trace(self, message: federation_pb2.TraceForwarded, source: str = HERE) -> tuple[str, Event]:
        event = Event.from_message(message, source="/mrc/grievance", subject=message.trace_id, topic="t")
        return self.handle(event, source), event


def test_the_family_s_cso_sees_the_forwarded_trace_read_only_marked_with_the_handling_state() -> None:
    home = HomeTraces()
    message = trace_message(description_token=home.cipher.seal(description_field("t-1"), DESCRIPTION))
    message.last_seen_place.state_code, message.last_seen_place.district_code = PATNA.state_code, PATNA.district_code
    message.sighting_count = 1
    assert home.deliver_trace(message)[0] == "applied"
    (shown,) = home.trace_reads.about_worker("worker-1", CASEWORKER, FORWARDED)
    assert shown.trace.trace_id == "t-1" and shown.trace.handling_state_code == HERE
    assert shown.trace.status is TraceStatus.OPEN and shown.description == DESCRIPTION
    assert shown.trace.last_known_place == Place(CHENNAI.state_code, CHENNAI.district_code)
    assert shown.trace.sighting_count == 1 and shown.trace.last_seen_place == Place(
        PATNA.state_code, PATNA.district_code
    )
    assert [(m.resource_type, m.resource_id) for m in home.world.audit.records] == [("forwarded_trace", "worker-1")]
    # Forwarded grievances and traces are kept apart.
    assert home.reads.about_worker("worker-1", CASEWORKER, FORWARDED) == []


def test_a_partner_who_does_not_reach_the_worker_sees_no_forwarded_trace() -> None:
    home = HomeTraces()
    home.deliver_trace(trace_message())
    with pytest.raises(NotFound):
        home.trace_reads.about_worker("worker-1", OTHER_CSO, FORWARDED)


def test_a_forwarded_trace_is_applied_once_and_only_a_newer_version_replaces_it() -> None:
    home = HomeTraces()
    outcome, event = home.deliver_trace(trace_message(version=3))
    assert outcome == "applied"
    assert home.handle(event, HERE) == "unchanged"
    assert home.deliver_trace(trace_message(version=2, status=2))[0] == "unchanged"
    assert home.deliver_trace(trace_message(version=4, status=2))[0] == "applied"
    (trace,) = home.traces.about_worker("worker-1")
    assert trace.version == 4 and trace.status is TraceStatus.FOUND


def test_traces_from_the_wrong_state_or_not_addressed_here_are_not_kept() -> None:
    home = HomeTraces()
    with pytest.raises(RefusedForward):
        home.deliver_trace(trace_message(), source="27")
    assert home.deliver_trace(trace_message(to_state_code="27"))[0] == "not_addressed_here"
    # Another state cannot take over a trace it does not handle by sending a newer version of it.
    home.deliver_trace(trace_message(version=1))
    assert home.deliver_trace(trace_message(version=9, home_state_code="27"), source="27")[0] == "unchanged"
    assert [t.handling_state_code for t in home.traces.about_worker("worker-1")] == [HERE]


def test_the_worker_s_erasure_at_home_removes_the_traces_forwarded_about_them() -> None:
    home = HomeTraces()
    home.deliver_trace(trace_message())
    handle = registry_handler(
        home.world.registry_events, EventDecoder(), StoredFederatedWorkers(home.world.store), home.cases, home.traces
    )
    erased = registry_events.WorkerErased(worker_id="worker-1")
    handle(Event.from_message(erased, source="/mrc/registry", subject="worker-1", topic="t"))
    assert home.traces.about_worker("worker-1") == []


def test_the_worker_s_erasure_at_home_removes_the_cases_forwarded_about_them() -> None:
    home = Home()
    home.deliver(forwarded_message())
    assert home.cases.forget_worker("worker-1") == 1
    assert home.cases.about_worker("worker-1") == []


# ---------------------------------------------------------------- the national cluster's counts


def test_the_national_counts_are_by_district_and_category_with_small_cells_suppressed() -> None:
    from mrc_grievance.adapters.aggregates import AGGREGATES_TOPIC, CategoryAggregates

    world = Grievances()
    for n in range(6):
        world.file(idempotency_key=f"key-{n}")
    world.file(idempotency_key="other", category=Category.TRAFFICKING)
    aggregates = CategoryAggregates(world.cases, world.store, own_state_code=HOME, min_cell_size=5, clock=world.clock)
    message = aggregates.publish()
    assert message.aggregates_id.startswith(f"{HOME}:grievance:")
    counts = {(c.district_code, c.category): (c.count, c.suppressed) for c in message.grievance_categories}
    assert sorted(counts.values()) == [(0, True), (6, False)]
    stored = [e for e in world.outbox("federation_aggregates") if e.topic == AGGREGATES_TOPIC]
    assert len(stored) == 1 and b"six weeks" not in stored[0].data and b"Sunita" not in stored[0].data
