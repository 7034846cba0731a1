"""Workers keyed by older matching rules are re-keyed, so registrations and searches meet them again."""

from __future__ import annotations

from collections.abc import Iterator

from mrc_registry.domain.identity.matching import MATCH_KEYS_VERSION
from mrc_registry.domain.worker import Worker
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.federation import Outcome
from mrc_registry.service_layer.rekeying import Rekeying

from .fakes import IDS, Registry, make_registry, registered
from .test_federation import (
    BIHAR_SCOPE,
    KERALA,
    KERALA_REGISTRAR,
    KERALA_SCOPE,
    KOCHI,
    deliver,
    federated,
    register_shared,
    to,
)

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


def test_copies_of_other_states_records_are_never_re_keyed_here() -> None:
    """A copy's keys come from what its home state shares; only the home state's next summary replaces them."""
    bihar = make_registry(federation=BIHAR_SCOPE)
    kerala = make_registry(federation=KERALA_SCOPE)
    copy_id = register_shared(bihar, KERALA)
    assert deliver(federated(bihar)[to(KERALA)], kerala) == [Outcome.APPLIED]
    own = registered(kerala, KERALA_REGISTRAR, key="kerala-own", full_name="Anil Thomas", home=KOCHI, phone="")
    assert own.worker_id != copy_id
    for worker_id in (copy_id, own.worker_id):
        keyed_by_older_rules(kerala, worker_id)
    copy_before = kerala.store.collection("workers").get(copy_id)

    assert [w.worker_id for w in kerala.repository.adapter.keyed_by_older_rules()] == [own.worker_id]
    report = rekeying(kerala).run()

    assert (report.rekeyed, report.skipped) == (1, 0)
    assert kerala.store.collection("workers").get(copy_id) == copy_before, "the copy is left exactly as it was"
    assert kerala.repository.match_keys(own.worker_id) != set(OLD_KEYS)


def test_a_copy_handed_to_the_re_keying_anyway_is_left_alone() -> None:
    """The use case and the store both refuse: a copy read by an older scan, or a store that lists it."""
    bihar = make_registry(federation=BIHAR_SCOPE)
    kerala = make_registry(federation=KERALA_SCOPE)
    copy_id = register_shared(bihar, KERALA)
    deliver(federated(bihar)[to(KERALA)], kerala)
    keyed_by_older_rules(kerala, copy_id)
    copy = kerala.repository.get(copy_id)
    assert copy is not None and copy.is_copy

    class ListsTheCopy:
        def keyed_by_older_rules(self) -> Iterator[Worker]:
            yield copy

        def rekey(self, worker: Worker, match_keys: set[str]) -> bool:
            raise AssertionError("a copy must not be re-keyed")

    deduplicator = Deduplicator(kerala.repository, kerala.review_repository, IDS)
    report = Rekeying(ListsTheCopy(), deduplicator).run()
    assert (report.rekeyed, report.skipped, report.copies) == (0, 0, 1)
    assert kerala.repository.adapter.rekey(copy, {"name:whatever"}) is False
    assert kerala.repository.match_keys(copy_id) == set(OLD_KEYS)
