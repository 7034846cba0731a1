"""The duplicate review queue: supervisors list possible duplicates and merge them or keep them apart."""

from __future__ import annotations

import pytest

from mrc_kernel.audit import Action
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.worker import WorkersMerged, WorkerStatus
from mrc_registry.service_layer.commands import Search
from mrc_registry.service_layer.deduplication import MatchReview, ReviewStatus
from mrc_registry.service_layer.reviews import Decision

from .fakes import (
    CASEWORKER_A,
    CASEWORKER_B,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_A,
    SUPERVISOR_B,
    Registry,
    consent_input,
    make_registry,
    register_command,
    registered,
)


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def queued_pair(registry: Registry) -> MatchReview:
    """Ravi Kumar, then Ravi Kumaar from the same village and year, both by partner A: one pending review."""
    registered(registry)
    registry.workers.register(
        register_command("key-2", full_name="Ravi Kumaar", phone="", father_or_spouse_name=""), REGISTRAR_A
    )
    [review] = registry.review_repository.reviews.values()
    return review


def test_supervisors_list_pending_reviews(registry: Registry) -> None:
    review = queued_pair(registry)

    assert registry.reviews.pending(SUPERVISOR_A) == [review]


def test_caseworkers_may_not_list_or_resolve_reviews(registry: Registry) -> None:
    review = queued_pair(registry)

    with pytest.raises(PermissionDenied):
        registry.reviews.pending(CASEWORKER_A)
    with pytest.raises(PermissionDenied):
        registry.reviews.resolve(review.review_id, Decision.KEEP_APART, "", CASEWORKER_A)


def test_a_review_of_records_the_supervisor_may_not_see_is_hidden(registry: Registry) -> None:
    review = queued_pair(registry)

    assert registry.reviews.pending(SUPERVISOR_B) == []
    with pytest.raises(NotFound):
        registry.reviews.resolve(review.review_id, Decision.KEEP_APART, "", SUPERVISOR_B)
    with pytest.raises(NotFound):
        registry.reviews.resolve("no-such-review", Decision.KEEP_APART, "", SUPERVISOR_A)


def test_merging_marks_the_duplicate_merged_and_the_survivor_absorbs_its_consents(registry: Registry) -> None:
    review = queued_pair(registry)
    survivor_id, duplicate_id = review.candidate_id, review.worker_id
    duplicate_consent = registry.repository.workers[duplicate_id].consents[0].consent_id

    resolved = registry.reviews.resolve(review.review_id, Decision.MERGE, survivor_id, SUPERVISOR_A)

    assert resolved.status is ReviewStatus.MERGED
    assert resolved.resolved_by == SUPERVISOR_A.client_id
    assert resolved.resolved_at == registry.clock.now
    duplicate = registry.repository.workers[duplicate_id]
    assert (duplicate.status, duplicate.merged_into) == (WorkerStatus.MERGED, survivor_id)
    assert registry.repository.match_keys[duplicate_id] == set()
    survivor = registry.repository.workers[survivor_id]
    assert survivor.status is WorkerStatus.ACTIVE
    assert duplicate_consent in [c.consent_id for c in survivor.consents]
    assert WorkersMerged(survivor_id, duplicate_id, registry.clock.now) in registry.repository.events
    assert [e.resource_id for e in registry.audit.events[-2:]] == [duplicate_id, survivor_id]
    assert all(e.action is Action.UPDATE for e in registry.audit.events[-2:])
    assert registry.reviews.pending(SUPERVISOR_A) == []
    found, _ = registry.workers.search(Search(district_code="212"), SUPERVISOR_A)
    assert [v.worker.worker_id for v in found] == [survivor_id]


def test_the_duplicates_partner_keeps_access_through_the_survivor(registry: Registry) -> None:
    survivor_id = registered(registry).worker_id
    # Partner B registers the same person (no shared identifier) and shares the record with partner A.
    consent = consent_input(
        purposes=frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.PARTNER_SHARING}),
        shared_with_partner_ids=frozenset({"partner-a"}),
    )
    duplicate_id = registry.workers.register(
        register_command("b-1", consent=consent, full_name="Ravi Kumaar", phone="", father_or_spouse_name=""),
        REGISTRAR_B,
    ).view.worker.worker_id
    [review] = registry.review_repository.reviews.values()

    registry.reviews.resolve(review.review_id, Decision.MERGE, survivor_id, SUPERVISOR_A)

    assert registry.workers.get(survivor_id, CASEWORKER_B).worker.worker_id == survivor_id
    merged = registry.workers.get(duplicate_id, CASEWORKER_B).worker
    assert (merged.status, merged.merged_into) == (WorkerStatus.MERGED, survivor_id)


def test_keeping_apart_closes_the_review_and_changes_no_worker(registry: Registry) -> None:
    review = queued_pair(registry)
    outbox = list(registry.repository.outbox)

    resolved = registry.reviews.resolve(review.review_id, Decision.KEEP_APART, "", SUPERVISOR_A)

    assert resolved.status is ReviewStatus.KEPT_APART
    assert registry.repository.outbox == outbox
    assert all(w.status is WorkerStatus.ACTIVE for w in registry.repository.workers.values())


def test_a_resolved_review_cannot_be_resolved_again(registry: Registry) -> None:
    review = queued_pair(registry)
    registry.reviews.resolve(review.review_id, Decision.KEEP_APART, "", SUPERVISOR_A)

    with pytest.raises(Conflict):
        registry.reviews.resolve(review.review_id, Decision.MERGE, review.candidate_id, SUPERVISOR_A)


def test_the_survivor_must_be_one_of_the_pair(registry: Registry) -> None:
    review = queued_pair(registry)

    with pytest.raises(InvalidArgument) as caught:
        registry.reviews.resolve(review.review_id, Decision.MERGE, "someone-else", SUPERVISOR_A)

    assert [v.field for v in caught.value.violations] == ["surviving_worker_id"]
    assert registry.review_repository.reviews[review.review_id].status is ReviewStatus.PENDING
