"""Workers keyed by older matching rules are re-keyed, so registrations and searches meet them again."""

from __future__ import annotations

from mrc_registry.domain.identity.matching import MATCH_KEYS_VERSION
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.rekeying import Rekeying

from .fakes import IDS, Registry, make_registry, registered

OLD_KEYS = ["name:an-older-rule", "village:an-older-rule"]


def rekeying(registry: Registry) -> Rekeying:
    deduplicator = Deduplicator(registry.repository, registry.review_repository, IDS)
    return Rekeying(registry.repository.adapter, deduplicator)


def keyed_by_older_rules(registry: Registry, worker_id: str) -> None:
    registry.store.collection("workers").update(
        worker_id, {"$set": {"match_keys": OLD_KEYS, "match_keys_version": MATCH_KEYS_VERSION - 1}}
    )


def test_a_worker_keyed_by_older_rules_gets_the_current_keys_and_is_found_by_them() -> None:
    registry = make_registry()
    worker = registered(registry)
    current = registry.repository.match_keys(worker.worker_id)
    keyed_by_older_rules(registry, worker.worker_id)
    assert registry.repository.find_candidates(current) == []

    report = rekeying(registry).run()

    assert (report.rekeyed, report.skipped) == (1, 0)
    assert registry.repository.match_keys(worker.worker_id) == current
    assert [w.worker_id for w in registry.repository.find_candidates(current)] == [worker.worker_id]
    assert registry.repository.find_candidates(set(OLD_KEYS)) == []
    # Nothing announced: the worker did not change, only how it is found.
    assert registry.repository.get(worker.worker_id) == worker
    assert rekeying(registry).run().rekeyed == 0, "a second walk finds nothing left to do"


def test_workers_keyed_by_the_current_rules_are_left_alone() -> None:
    registry = make_registry()
    registered(registry)
    assert rekeying(registry).run().rekeyed == 0


def test_a_worker_changed_while_the_walk_ran_is_skipped() -> None:
    registry = make_registry()
    worker = registered(registry)
    keyed_by_older_rules(registry, worker.worker_id)
    read_before_the_change = next(iter(registry.repository.adapter.keyed_by_older_rules()))
    registry.store.collection("workers").update(worker.worker_id, {"$set": {"version": worker.version + 1}})

    assert registry.repository.adapter.rekey(read_before_the_change, {"name:whatever"}) is False
    assert registry.repository.match_keys(worker.worker_id) == set(OLD_KEYS)


def test_an_erased_worker_keeps_no_keys() -> None:
    registry = make_registry()
    worker = registered(registry)
    registry.store.collection("workers").update(worker.worker_id, {"$set": {"status": "erased"}})
    keyed_by_older_rules(registry, worker.worker_id)

    rekeying(registry).run()

    assert registry.repository.match_keys(worker.worker_id) == set()
