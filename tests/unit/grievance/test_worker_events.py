"""The grievance consumer's handling of registry events: erasure and merge, redelivered and out of order."""

from __future__ import annotations

import copy

import pytest
from google.protobuf.message import Message

from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_grievance.domain.grievance import Grievance, GrievanceCategory, GrievanceStatus
from mrc_grievance.entrypoints.consumer import build_handler
from mrc_grievance.service_layer.worker_events import ERASED_SUMMARY
from mrc_grievance.settings import REGISTRY_WORKERS_TOPIC
from mrc_kernel.events import Event
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.faust_app import EventHandler

from .fakes import CASEWORKER, HELPLINE, NOW, command, make_service, make_worker_events

SUMMARY = "Contractor has not paid wages for six weeks."


def envelope(message: Message, subject: str) -> Event:
    return Event.from_message(message, source="/mrc/registry", subject=subject, topic=REGISTRY_WORKERS_TOPIC)


def erased(worker_id: str) -> Event:
    return envelope(events_pb2.WorkerErased(worker_id=worker_id), worker_id)


def merged(merged_id: str, into: str) -> Event:
    return envelope(events_pb2.WorkersMerged(surviving_worker_id=into, merged_worker_id=merged_id), merged_id)


class Consumer:
    def __init__(self) -> None:
        self.filing, self.repo, _, _ = make_service()
        self.handle: EventHandler = build_handler(make_worker_events(self.repo), EventDecoder())
        self._keys = 0

    def file(self, worker_id: str = "worker-1", **overrides: object) -> str:
        self._keys += 1
        anonymous = not worker_id
        filed = self.filing.file(
            command(worker_id=worker_id, anonymous=anonymous, idempotency_key=f"k-{self._keys}", **overrides), HELPLINE
        )
        return filed.grievance.grievance_id

    def snapshot(self) -> dict[str, Grievance]:
        return copy.deepcopy(self.repo.grievances)

    def about(self, worker_id: str) -> list[str]:
        return sorted(g.grievance_id for g in self.repo.grievances.values() if g.worker_id == worker_id)

    def anonymised(self, grievance_id: str) -> bool:
        grievance = self.repo.grievances[grievance_id]
        return (grievance.worker_id, grievance.summary) == ("", ERASED_SUMMARY)


@pytest.fixture
def consumer() -> Consumer:
    return Consumer()


def test_erasure_anonymises_every_grievance_about_the_worker_once(consumer: Consumer) -> None:
    mine = [consumer.file(), consumer.file(category=GrievanceCategory.TRAFFICKING)]
    other, anonymous = consumer.file("worker-2"), consumer.file("")
    untouched = {g: consumer.repo.grievances[g] for g in (other, anonymous)}
    event = erased("worker-1")

    consumer.handle(event)
    after_first = consumer.snapshot()
    consumer.handle(event)  # redelivered

    assert consumer.snapshot() == after_first
    assert consumer.about("worker-1") == []
    for grievance_id in mine:
        grievance = consumer.repo.grievances[grievance_id]
        assert (grievance.worker_id, grievance.summary) == ("", ERASED_SUMMARY)
        assert grievance.status is GrievanceStatus.OPEN
        assert grievance.location.district_code == "188"
    assert consumer.repo.grievances[mine[1]].category is GrievanceCategory.TRAFFICKING
    assert {g: consumer.repo.grievances[g] for g in (other, anonymous)} == untouched


def test_an_allowed_reader_sees_the_erasure_notice_not_the_account(consumer: Consumer) -> None:
    grievance_id = consumer.file()

    consumer.handle(erased("worker-1"))

    read = consumer.filing.get(grievance_id, CASEWORKER)
    assert (read.worker_id, read.summary) == ("", ERASED_SUMMARY)


def test_erasure_of_a_worker_without_grievances_changes_nothing(consumer: Consumer) -> None:
    consumer.file()
    consumer.file("")
    before = consumer.snapshot()

    consumer.handle(erased("worker-x"))
    consumer.handle(erased(""))  # never a wildcard over anonymous grievances

    assert consumer.snapshot() == before


def test_a_merge_rekeys_the_merged_workers_grievances_once(consumer: Consumer) -> None:
    dup = [consumer.file("worker-dup"), consumer.file("worker-dup")]
    own = consumer.file("worker-1")
    event = merged("worker-dup", into="worker-1")

    consumer.handle(event)
    after_first = consumer.snapshot()
    consumer.handle(event)  # redelivered

    assert consumer.snapshot() == after_first
    assert consumer.about("worker-1") == sorted([*dup, own])
    assert consumer.about("worker-dup") == []
    assert consumer.repo.grievances[dup[0]].summary == SUMMARY


def test_a_merge_of_a_worker_without_grievances_creates_nothing(consumer: Consumer) -> None:
    consumer.file()
    before = consumer.snapshot()

    consumer.handle(merged("worker-x", into="worker-1"))
    consumer.handle(merged("worker-1", into="worker-1"))

    assert consumer.snapshot() == before


def test_erasure_of_the_merged_id_after_the_merge_leaves_the_survivors_grievances(consumer: Consumer) -> None:
    dup = consumer.file("worker-dup")
    consumer.handle(merged("worker-dup", into="worker-1"))

    consumer.handle(erased("worker-dup"))

    assert consumer.repo.grievances[dup].worker_id == "worker-1"
    assert consumer.repo.grievances[dup].summary == SUMMARY


def test_a_merge_arriving_after_the_merged_workers_erasure_moves_nothing(consumer: Consumer) -> None:
    dup = consumer.file("worker-dup")
    consumer.handle(erased("worker-dup"))

    consumer.handle(merged("worker-dup", into="worker-1"))

    assert consumer.repo.grievances[dup].worker_id == ""
    assert consumer.about("worker-1") == []


def test_other_registry_events_are_ignored(consumer: Consumer) -> None:
    consumer.file()
    before = consumer.snapshot()

    consumer.handle(envelope(events_pb2.WorkerRegistered(worker=worker_pb2.Worker(worker_id="worker-1")), "worker-1"))
    consumer.handle(envelope(events_pb2.ConsentChanged(worker_id="worker-1"), "worker-1"))

    assert consumer.snapshot() == before


# --- Erasure and merge, in either order ---------------------------------------------------------
# WorkerErased is keyed by the erased worker, WorkersMerged by the merged one: they come on different
# partitions, so the survivor's erasure and a merge into it may be processed in either order, or at once.


def test_a_merge_into_a_worker_erased_before_anonymises_the_merged_workers_grievances(consumer: Consumer) -> None:
    own, dup = consumer.file("worker-1"), consumer.file("worker-dup")
    other = consumer.file("worker-2")
    consumer.handle(erased("worker-1"))
    event = merged("worker-dup", into="worker-1")

    consumer.handle(event)
    after_first = consumer.snapshot()
    consumer.handle(event)  # redelivered

    assert consumer.snapshot() == after_first
    assert consumer.about("worker-1") == []
    assert consumer.about("worker-dup") == []
    assert consumer.anonymised(own)
    assert consumer.anonymised(dup)
    assert consumer.repo.grievances[dup].location.district_code == "188"  # still counted
    assert consumer.about("worker-2") == [other]
    assert set(consumer.repo.erased) == {"worker-1", "worker-dup"}


def test_the_survivors_erasure_after_the_merge_leaves_nothing_about_either(consumer: Consumer) -> None:
    dup = consumer.file("worker-dup")
    consumer.handle(merged("worker-dup", into="worker-1"))

    consumer.handle(erased("worker-1"))

    assert consumer.about("worker-1") == []
    assert consumer.anonymised(dup)


def test_a_survivor_erased_while_its_merge_moves_the_grievances_keeps_none_of_them(consumer: Consumer) -> None:
    dup = [consumer.file("worker-dup"), consumer.file("worker-dup")]
    # The survivor's erasure runs on another partition after the merge found no tombstone, before the move.
    consumer.repo.before_rekey = lambda: consumer.handle(erased("worker-1"))

    consumer.handle(merged("worker-dup", into="worker-1"))

    assert consumer.about("worker-1") == []
    assert all(consumer.anonymised(g) for g in dup)
    assert set(consumer.repo.erased) == {"worker-1", "worker-dup"}


def test_a_redelivered_erasure_is_harmless(consumer: Consumer) -> None:
    grievance_id = consumer.file()
    event = erased("worker-1")
    consumer.handle(event)
    after_first = consumer.snapshot()

    consumer.handle(event)
    consumer.handle(erased("worker-1"))  # published again

    assert consumer.snapshot() == after_first
    assert consumer.anonymised(grievance_id)
    assert consumer.repo.erased == {"worker-1": NOW}


def test_an_erasure_interrupted_before_anonymising_is_remembered_and_nothing_moves_onto_it(
    consumer: Consumer,
) -> None:
    own, dup = consumer.file("worker-1"), consumer.file("worker-dup")
    consumer.repo.fail_on_anonymise = True
    with pytest.raises(ConnectionError):
        consumer.handle(erased("worker-1"))
    consumer.repo.fail_on_anonymise = False

    consumer.handle(merged("worker-dup", into="worker-1"))
    consumer.handle(merged("worker-1", into="worker-2"))  # a merge from the erased worker finishes it

    assert consumer.anonymised(own)
    assert consumer.anonymised(dup)
    assert consumer.about("worker-1") == consumer.about("worker-2") == []


def test_events_after_the_erasure_bring_nothing_back(consumer: Consumer) -> None:
    dup = consumer.file("worker-dup")
    consumer.handle(erased("worker-1"))
    consumer.handle(merged("worker-dup", into="worker-1"))
    before = consumer.snapshot()

    for worker_id in ("worker-1", "worker-dup"):
        worker = worker_pb2.Worker(worker_id=worker_id)
        consumer.handle(envelope(events_pb2.WorkerRegistered(worker=worker), worker_id))  # redelivered
        consumer.handle(envelope(events_pb2.ConsentChanged(worker_id=worker_id), worker_id))
    consumer.handle(merged("worker-dup", into="worker-2"))

    assert consumer.snapshot() == before
    assert consumer.anonymised(dup)
    assert consumer.about("worker-2") == []
