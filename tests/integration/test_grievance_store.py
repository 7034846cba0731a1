"""The grievance repositories on the real store, both strategies: what they ask of it beyond `_id` lookups
(the queue's filter, sort and keyset paging; statistics' projection scan; lookups by worker), optimistic
concurrency, references and work items that must be unique across processes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mrc_grievance.adapters.mongo_repository import (
    StoredCases,
    StoredReferences,
    StoredReplays,
    StoredWork,
)
from mrc_grievance.domain.case import Case
from mrc_grievance.domain.consent import ConsentChange
from mrc_grievance.domain.parties import Actor, RegisteredWorker, UnregisteredPerson
from mrc_grievance.domain.protected import Sealed
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import Category, IntakeChannel
from mrc_grievance.service_layer.ports import QueueFilter, StatisticsFilter, WorkItem, WorkKind
from mrc_kernel.errors import Conflict
from mrc_kernel.place import Place
from mrc_kernel.policy import Grant, Purpose
from mrc_plumbing.store import DocumentStore

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
OWNER = Actor("helpline-1", "cso-1")


def case(category: Category, *, worker_id: str = "", partner: Actor = OWNER, filed: datetime = NOW) -> Case:
    return Case.file(
        grievance_id=str(uuid.uuid4()),
        reference=f"GR-{uuid.uuid4().hex[:5].upper()}-{uuid.uuid4().hex[:5].upper()}",
        category=category,
        channel=IntakeChannel.HELPLINE,
        subject=RegisteredWorker(worker_id) if worker_id else UnregisteredPerson(),
        respondent=None,
        reporter=None,
        summary=Sealed("enc:v1:10:1:placeholder"),
        location=Place("10", "212"),
        facts=TriageFacts(),
        filed_by=partner,
        now=filed,
    )


def add(cases: StoredCases, new: Case) -> Case:
    stored, created = cases.add(new, idempotency_key=f"k:{new.grievance_id}", fingerprint="f")
    assert created
    return stored


def test_the_queue_filters_sorts_by_time_left_and_pages_on_the_store(store: DocumentStore) -> None:
    cases = StoredCases(store)
    cases.ensure_indexes()
    low = add(cases, case(Category.OTHER))  # 3 days to acknowledge
    urgent = [add(cases, case(Category.TRAFFICKING, filed=NOW + timedelta(minutes=i))) for i in range(3)]
    add(cases, case(Category.TRAFFICKING, partner=Actor("x", "cso-2")))  # another partner's
    where = QueueFilter(partner_id="cso-1", states=frozenset({"10"}), districts=frozenset(), statuses=frozenset())

    first = cases.queue(where, after="", limit=2)
    second = cases.queue(where, after=first.next_after, limit=2)

    assert [c.grievance_id for c in first.cases + second.cases] == [*(c.grievance_id for c in urgent), low.grievance_id]
    assert second.next_after == ""
    only = cases.queue(
        QueueFilter("cso-1", frozenset(), frozenset(), frozenset(), categories=frozenset({"other"})), after="", limit=10
    )
    assert [c.grievance_id for c in only.cases] == [low.grievance_id]


def test_a_save_from_a_stale_version_is_a_conflict(store: DocumentStore) -> None:
    cases = StoredCases(store)
    stored = add(cases, case(Category.WAGE_THEFT))
    mine, theirs = cases.get(stored.grievance_id), cases.get(stored.grievance_id)
    assert mine is not None and theirs is not None

    theirs.triage(TriageFacts(), OWNER, NOW)
    cases.save(theirs, loaded_version=1)
    mine.triage(TriageFacts(days_unpaid=70), OWNER, NOW)
    with pytest.raises(Conflict):
        cases.save(mine, loaded_version=1)

    saved = cases.get(stored.grievance_id)
    assert saved is not None and saved.version == 2


def test_lookups_by_worker_and_statistics_rows(store: DocumentStore) -> None:
    cases = StoredCases(store)
    about = add(cases, case(Category.WAGE_THEFT, worker_id="worker-1"))
    add(cases, case(Category.VIOLENCE))

    assert cases.about_worker("worker-1") == [about.grievance_id]
    assert cases.about_worker("") == []
    rows = cases.statistics_rows(StatisticsFilter(states=frozenset({"10"}), districts=frozenset()))
    assert sorted(r.category.value for r in rows) == ["violence", "wage_theft"]  # type: ignore[attr-defined]
    later = cases.statistics_rows(StatisticsFilter(frozenset(), frozenset(), filed_from=NOW + timedelta(days=1)))
    assert later == []
    assert cases.with_reference(about.reference) == about.grievance_id
    assert cases.with_reference("GR-ZZZZZ-ZZZZZ") is None


def test_a_link_and_a_consent_change_survive_the_store(store: DocumentStore) -> None:
    cases, work = StoredCases(store), StoredWork(store)
    linked = case(Category.WAGE_THEFT)
    linked.subject = RegisteredWorker("worker-7", "cso-1", "cso", registry_version=4)
    add(cases, linked)
    change = ConsentChange(
        "worker-7", 5, (Grant(frozenset({Purpose.GRIEVANCE_FOLLOW_UP}), partner_kind="government"),), expired=True
    )
    item = WorkItem(
        f"unlink_worker:grievance:{linked.grievance_id}:ev-1",
        WorkKind.UNLINK_WORKER,
        grievance_id=linked.grievance_id,
        worker_id="worker-7",
        enqueued_at=NOW,
        consent=change,
    )

    assert work.enqueue(item) and not work.enqueue(item)
    (waiting,) = [w for w in work.waiting(100) if w.item_id == item.item_id]
    assert waiting.consent == change
    stored = cases.get(linked.grievance_id)
    assert stored is not None and stored.subject == linked.subject
    assert stored.unlink_worker(change, NOW)
    cases.save(stored, loaded_version=stored.version - 1)
    assert cases.about_worker("worker-7") == []


def test_references_work_items_and_replays_are_unique(store: DocumentStore) -> None:
    references, work, replays = StoredReferences(store), StoredWork(store), StoredReplays(store)

    assert references.claim("GR-AAAAA-AAAAA", "g-1")
    assert not references.claim("GR-AAAAA-AAAAA", "g-2")
    assert references.claim("GR-AAAAA-AAAAA", "g-1")  # a retry of the same case
    assert references.case_of("GR-AAAAA-AAAAA") == "g-1"
    item = WorkItem("sla:g-1", WorkKind.SLA, grievance_id="g-1", enqueued_at=NOW)
    assert work.enqueue(item) and not work.enqueue(item)
    assert [w.item_id for w in work.waiting(10)] == ["sla:g-1"]
    work.done("sla:g-1")
    assert work.waiting(10) == []
    assert replays.remember("intake-message:m1", NOW) and not replays.remember("intake-message:m1", NOW)
    assert replays.forget_older_than(NOW + timedelta(minutes=1)) == 1
