"""The consumer's handling of registry events, end to end through the envelope and the use cases.

Every event may come twice (at-least-once delivery) and, across partitions, out of order; neither may
create a record for a worker the service has not seen, nor undo a later change.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_entitlements.domain.eligibility import EligibilityRecorded, EligibilityStatus
from mrc_entitlements.entrypoints.consumer import build_handler
from mrc_entitlements.settings import REGISTRY_WORKERS_TOPIC
from mrc_kernel.errors import NotFound
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.faust_app import EventHandler
from tests.support.auth import caller_for

from .fakes import make_services

CASEWORKER = caller_for(Role.CASEWORKER)
REGISTRATION = worker_pb2.CONSENT_PURPOSE_REGISTRATION
LINKAGE = worker_pb2.CONSENT_PURPOSE_ENTITLEMENT_LINKAGE
SHARING = worker_pb2.CONSENT_PURPOSE_PARTNER_SHARING


def envelope(message: Message, subject: str) -> Event:
    return Event.from_message(message, source="/mrc/registry", subject=subject, topic=REGISTRY_WORKERS_TOPIC)


def registered(worker_id: str, *purposes: int, revoked: bool = False) -> Event:
    # The registry publishes the purposes of the worker's active consents (a revoked consent has none).
    active = [] if revoked else list(purposes or (REGISTRATION, LINKAGE))
    facts = events_pb2.WorkerFacts(
        worker_id=worker_id,
        home=common_pb2.LgdLocation(state_code="10", district_code="188"),
        active_purposes=active,
    )
    return envelope(events_pb2.WorkerRegistered(worker=worker_pb2.Worker(worker_id=worker_id), facts=facts), worker_id)


def consent_changed(worker_id: str, active_purposes: Iterable[int]) -> Event:
    message = events_pb2.ConsentChanged(worker_id=worker_id, active_purposes=list(active_purposes))
    return envelope(message, worker_id)


def erased(worker_id: str) -> Event:
    return envelope(events_pb2.WorkerErased(worker_id=worker_id, erased_at=Timestamp(seconds=1)), worker_id)


def merged(merged_id: str, into: str) -> Event:
    message = events_pb2.WorkersMerged(surviving_worker_id=into, merged_worker_id=merged_id)
    return envelope(message, merged_id)


class Consumer:
    def __init__(self) -> None:
        self.service, self.lookup, self.repo, self.audit = make_services()
        self.handle: EventHandler = build_handler(self.service, EventDecoder())

    def status(self, worker_id: str) -> EligibilityStatus | None:
        record = self.repo.records.get(worker_id)
        return record.status if record else None

    def readable(self, worker_id: str) -> bool:
        try:
            self.lookup.get(worker_id, CASEWORKER)
        except NotFound:
            return False
        return True

    def published_for(self, worker_id: str) -> list[EligibilityRecorded]:
        return [e for e in self.repo.outbox if e.eligibility.worker_id == worker_id]


@pytest.fixture
def consumer() -> Consumer:
    return Consumer()


# --- WorkerRegistered ---------------------------------------------------------------------------


def test_a_registration_with_linkage_consent_makes_one_pending_record(consumer: Consumer) -> None:
    event = registered("w-1")

    consumer.handle(event)
    consumer.handle(event)  # redelivered

    record = consumer.repo.records["w-1"]
    assert record.status is EligibilityStatus.PENDING_ASSESSMENT
    assert record.source_event_id == event.id
    assert (record.state_code, record.district_code) == ("10", "188")
    assert len(consumer.published_for("w-1")) == 1
    assert consumer.readable("w-1")


@pytest.mark.parametrize(
    ("purposes", "revoked"), [((REGISTRATION,), False), ((REGISTRATION, LINKAGE), True)], ids=["no-linkage", "revoked"]
)
def test_a_registration_without_linkage_consent_awaits_consent_and_reads_as_missing(
    consumer: Consumer, purposes: tuple[int, ...], revoked: bool
) -> None:
    consumer.handle(registered("w-1", *purposes, revoked=revoked))

    assert consumer.status("w-1") is EligibilityStatus.AWAITING_CONSENT
    assert consumer.published_for("w-1") == []
    assert not consumer.readable("w-1")
    assert [(r.resource_id, r.allowed) for r in consumer.audit.records] == [("w-1", False)]


def test_other_registry_events_are_ignored(consumer: Consumer) -> None:
    worker = worker_pb2.Worker(worker_id="w-1")
    consumer.handle(envelope(events_pb2.WorkerUpdated(worker=worker, changed_fields=["occupation"]), "w-1"))

    assert consumer.repo.records == {}


# --- ConsentChanged -----------------------------------------------------------------------------


def test_revoking_linkage_withdraws_the_record_once(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    consumer.repo.records["w-1"].status = EligibilityStatus.ASSESSED
    consumer.repo.records["w-1"].eligible_scheme_codes = ["bocw-bihar"]
    revoke = consent_changed("w-1", [REGISTRATION])

    consumer.handle(revoke)
    after_first = (consumer.status("w-1"), len(consumer.repo.outbox), set(consumer.repo.applied["w-1"]))
    consumer.handle(revoke)  # redelivered

    assert consumer.status("w-1") is EligibilityStatus.CONSENT_WITHDRAWN
    assert consumer.repo.records["w-1"].eligible_scheme_codes == []
    assert (consumer.status("w-1"), len(consumer.repo.outbox), consumer.repo.applied["w-1"]) == after_first
    assert not consumer.readable("w-1")


def test_consent_given_again_restores_a_pending_record_and_announces_it(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    consumer.handle(consent_changed("w-1", [REGISTRATION]))
    restore = consent_changed("w-1", [REGISTRATION, LINKAGE])

    consumer.handle(restore)
    consumer.handle(restore)  # redelivered

    record = consumer.repo.records["w-1"]
    assert record.status is EligibilityStatus.PENDING_ASSESSMENT
    assert record.source_event_id == restore.id
    assert [e.eligibility.source_event_id for e in consumer.published_for("w-1")][1:] == [restore.id]
    assert consumer.readable("w-1")


def test_consent_given_after_a_registration_without_it_makes_the_record_usable(consumer: Consumer) -> None:
    consumer.handle(registered("w-1", REGISTRATION))
    consumer.handle(consent_changed("w-1", [SHARING]))
    assert consumer.status("w-1") is EligibilityStatus.AWAITING_CONSENT

    consumer.handle(consent_changed("w-1", [REGISTRATION, LINKAGE]))

    assert consumer.status("w-1") is EligibilityStatus.PENDING_ASSESSMENT
    assert len(consumer.published_for("w-1")) == 1


def test_a_change_to_other_purposes_leaves_an_assessed_record_alone(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    consumer.repo.records["w-1"].status = EligibilityStatus.ASSESSED
    consumer.repo.records["w-1"].eligible_scheme_codes = ["pm-jay"]

    consumer.handle(consent_changed("w-1", [REGISTRATION, LINKAGE, SHARING]))

    assert consumer.status("w-1") is EligibilityStatus.ASSESSED
    assert consumer.repo.records["w-1"].eligible_scheme_codes == ["pm-jay"]
    assert len(consumer.repo.outbox) == 1


def test_an_older_consent_event_redelivered_after_a_newer_one_changes_nothing(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    keep = consent_changed("w-1", [REGISTRATION, LINKAGE])  # changes nothing when first seen
    revoke = consent_changed("w-1", [REGISTRATION])
    consumer.handle(keep)
    consumer.handle(revoke)

    consumer.handle(keep)  # redelivered late

    assert consumer.status("w-1") is EligibilityStatus.CONSENT_WITHDRAWN
    assert not consumer.readable("w-1")


def test_a_consent_event_for_an_unknown_worker_creates_nothing(consumer: Consumer) -> None:
    consumer.handle(consent_changed("w-x", [REGISTRATION, LINKAGE]))
    consumer.handle(consent_changed("w-y", [REGISTRATION]))

    assert consumer.repo.records == {}
    assert consumer.repo.outbox == []


# --- WorkerErased -------------------------------------------------------------------------------


def test_erasure_deletes_the_record_and_counts_it_once_anonymously(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    consumer.handle(registered("w-2", REGISTRATION))
    erase = erased("w-1")

    consumer.handle(erase)
    consumer.handle(erase)  # redelivered
    consumer.handle(erased("w-2"))

    assert consumer.repo.records == {}
    assert consumer.repo.applied == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 2}
    assert not consumer.readable("w-1")


def test_erasure_interrupted_before_the_delete_finishes_on_redelivery_without_a_second_count(
    consumer: Consumer,
) -> None:
    consumer.handle(registered("w-1"))
    erase = erased("w-1")
    consumer.repo.fail_on_delete = True
    with pytest.raises(ConnectionError):
        consumer.handle(erase)
    consumer.repo.fail_on_delete = False

    consumer.handle(erase)

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 1}


def test_events_after_an_erasure_do_not_bring_the_record_back(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    consumer.handle(erased("w-1"))

    consumer.handle(consent_changed("w-1", [REGISTRATION, LINKAGE]))
    consumer.handle(merged("w-1", into="w-9"))

    assert consumer.repo.records == {}


def test_erasure_of_an_unknown_worker_does_nothing(consumer: Consumer) -> None:
    consumer.handle(erased("w-x"))

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {}


# --- WorkersMerged ------------------------------------------------------------------------------


def test_a_merge_moves_the_record_to_a_survivor_without_one(consumer: Consumer) -> None:
    consumer.handle(registered("w-dup"))
    consumer.repo.records["w-dup"].status = EligibilityStatus.ASSESSED
    consumer.repo.records["w-dup"].eligible_scheme_codes = ["onorc"]
    merge = merged("w-dup", into="w-1")

    consumer.handle(merge)
    consumer.handle(merge)  # redelivered

    assert set(consumer.repo.records) == {"w-1"}
    moved = consumer.repo.records["w-1"]
    assert (moved.status, moved.eligible_scheme_codes) == (EligibilityStatus.ASSESSED, ["onorc"])
    assert len(consumer.published_for("w-1")) == 1
    assert consumer.readable("w-1")
    assert not consumer.readable("w-dup")


def test_a_merge_into_a_survivor_with_a_record_drops_the_duplicate(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    consumer.handle(registered("w-dup"))
    survivor = consumer.repo.records["w-1"]

    consumer.handle(merged("w-dup", into="w-1"))

    assert consumer.repo.records == {"w-1": survivor}
    assert len(consumer.published_for("w-1")) == 1


def test_a_merge_interrupted_after_the_move_finishes_on_redelivery(consumer: Consumer) -> None:
    consumer.handle(registered("w-dup"))
    merge = merged("w-dup", into="w-1")
    consumer.repo.fail_on_delete = True
    with pytest.raises(ConnectionError):
        consumer.handle(merge)
    consumer.repo.fail_on_delete = False

    consumer.handle(merge)

    assert set(consumer.repo.records) == {"w-1"}
    assert len(consumer.published_for("w-1")) == 1


def test_a_merge_of_an_unknown_worker_creates_no_survivor_record(consumer: Consumer) -> None:
    consumer.handle(merged("w-x", into="w-1"))

    assert consumer.repo.records == {}


def test_the_survivors_registration_arriving_after_the_merge_keeps_the_moved_record(consumer: Consumer) -> None:
    consumer.handle(registered("w-dup"))
    consumer.repo.records["w-dup"].status = EligibilityStatus.ASSESSED
    consumer.handle(merged("w-dup", into="w-1"))

    consumer.handle(registered("w-1"))  # from another partition, late

    assert consumer.status("w-1") is EligibilityStatus.ASSESSED
    assert len(consumer.published_for("w-1")) == 1


def test_a_withdrawn_record_moves_withdrawn(consumer: Consumer) -> None:
    consumer.handle(registered("w-dup"))
    consumer.handle(consent_changed("w-dup", [REGISTRATION]))

    consumer.handle(merged("w-dup", into="w-1"))

    assert consumer.status("w-1") is EligibilityStatus.CONSENT_WITHDRAWN
    assert consumer.published_for("w-1") == []
    assert not consumer.readable("w-1")


# --- Erasure and merge, in either order ---------------------------------------------------------
# WorkerErased is keyed by the erased worker, WorkersMerged by the merged one: they come on different
# partitions, so the survivor's erasure and a merge into it may be processed in either order, or at once.


def test_a_merge_into_a_worker_erased_before_keeps_nothing_of_either(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    consumer.handle(registered("w-dup"))
    consumer.handle(erased("w-1"))
    merge = merged("w-dup", into="w-1")

    consumer.handle(merge)
    consumer.handle(merge)  # redelivered

    assert consumer.repo.records == {}
    assert consumer.repo.applied == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 2}  # the merged record counted, once
    assert set(consumer.repo.erased) == {"w-1", "w-dup"}
    assert len(consumer.published_for("w-1")) == 1  # its registration only: nothing announced since
    assert not consumer.readable("w-1")


def test_a_merge_into_an_erased_worker_never_seen_here_moves_nothing(consumer: Consumer) -> None:
    consumer.handle(registered("w-dup"))
    consumer.handle(erased("w-1"))

    consumer.handle(merged("w-dup", into="w-1"))

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 1}
    assert consumer.published_for("w-1") == []


def test_the_survivors_erasure_after_the_merge_keeps_nothing(consumer: Consumer) -> None:
    consumer.handle(registered("w-dup"))
    consumer.handle(merged("w-dup", into="w-1"))

    consumer.handle(erased("w-1"))

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 1}
    assert not consumer.readable("w-1")


def test_a_survivor_erased_while_its_merge_moves_the_record_keeps_nothing(consumer: Consumer) -> None:
    consumer.handle(registered("w-dup"))
    # The survivor's erasure runs on another partition after the merge found no tombstone, before the move.
    consumer.repo.before_record = lambda: consumer.handle(erased("w-1"))

    consumer.handle(merged("w-dup", into="w-1"))

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 1}
    assert set(consumer.repo.erased) == {"w-1", "w-dup"}


def test_a_merge_interrupted_after_the_move_and_then_erased_keeps_nothing_counted_once(consumer: Consumer) -> None:
    consumer.handle(registered("w-dup"))
    merge = merged("w-dup", into="w-1")
    consumer.repo.fail_on_delete = True
    with pytest.raises(ConnectionError):
        consumer.handle(merge)  # moved to w-1, still under w-dup
    consumer.repo.fail_on_delete = False
    consumer.handle(erased("w-1"))

    consumer.handle(merge)  # redelivered

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 1}  # one record, in two places for a while


def test_a_merge_into_an_erased_worker_interrupted_before_the_delete_finishes_on_redelivery(
    consumer: Consumer,
) -> None:
    consumer.handle(registered("w-dup"))
    consumer.handle(erased("w-1"))
    merge = merged("w-dup", into="w-1")
    consumer.repo.fail_on_delete = True
    with pytest.raises(ConnectionError):
        consumer.handle(merge)
    consumer.repo.fail_on_delete = False
    assert "w-dup" in consumer.repo.erased  # remembered before anything was deleted

    consumer.handle(merge)

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 1}


def test_a_registration_redelivered_after_the_erasure_records_nothing(consumer: Consumer) -> None:
    registration = registered("w-1")
    consumer.handle(registration)
    consumer.handle(erased("w-1"))

    consumer.handle(registration)  # redelivered
    consumer.handle(registered("w-1"))  # published again
    consumer.handle(consent_changed("w-1", [REGISTRATION, LINKAGE]))

    assert consumer.repo.records == {}
    assert len(consumer.published_for("w-1")) == 1
    assert consumer.repo.erasure_counts == {("10", "188"): 1}
    assert not consumer.readable("w-1")


def test_the_merged_workers_own_events_after_a_merge_into_an_erased_worker_record_nothing(
    consumer: Consumer,
) -> None:
    registration = registered("w-dup")
    consumer.handle(registration)
    consumer.handle(erased("w-1"))
    consumer.handle(merged("w-dup", into="w-1"))

    consumer.handle(registration)  # redelivered
    consumer.handle(consent_changed("w-dup", [REGISTRATION, LINKAGE]))
    consumer.handle(merged("w-dup", into="w-2"))

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 1}


def test_a_redelivered_erasure_is_harmless(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    erase = erased("w-1")
    consumer.handle(erase)
    tombstone = consumer.repo.erased["w-1"]

    consumer.handle(erase)
    consumer.handle(erased("w-1"))  # published again

    assert consumer.repo.erased == {"w-1": tombstone}
    assert tombstone[1] == erase.id
    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 1}


def test_an_erasure_left_unfinished_is_finished_by_the_next_event_about_the_worker(consumer: Consumer) -> None:
    consumer.handle(registered("w-1"))
    consumer.handle(registered("w-dup"))
    for worker_id in ("w-1", "w-dup"):
        consumer.repo.fail_on_delete = True
        with pytest.raises(ConnectionError):
            consumer.handle(erased(worker_id))  # counted, then dead-lettered before the delete
    consumer.repo.fail_on_delete = False

    consumer.handle(consent_changed("w-1", [REGISTRATION, LINKAGE]))
    consumer.handle(merged("w-dup", into="w-9"))

    assert consumer.repo.records == {}
    assert consumer.repo.erasure_counts == {("10", "188"): 2}
