"""The match review queue: listed per partner; what a supervisor may do depends on which of the two records
its partner reaches (both: merge or keep apart; the stored one: link or keep apart)."""

from __future__ import annotations

import pytest

from mrc_kernel.audit import Action
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.worker import Vulnerability, WorkerStatus
from mrc_registry.service_layer.commands import Search
from mrc_registry.service_layer.deduplication import MatchKind, MatchReview, ReviewStatus
from mrc_registry.service_layer.reviews import Decision, Side

from .fakes import (
    CASEWORKER_A,
    CASEWORKER_B,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_A,
    SUPERVISOR_B,
    Registry,
    aadhaar,
    make_registry,
    register_command,
    registered,
    sharing_with,
)

MERGED = "mrc.registry.v1.WorkersMerged"


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


def link_requested(registry: Registry) -> tuple[str, str, str]:
    """Partner A's worker, then partner B registering the same Aadhaar: (review id, A's worker, B's record)."""
    existing = registered(registry, identity_documents=aadhaar())
    registration = registry.workers.register(
        register_command("b-1", full_name="R. Kumar", phone="9123456789", identity_documents=aadhaar()), REGISTRAR_B
    )
    assert registration.link_request is not None
    return registration.link_request.review_id, existing.worker_id, registration.view.worker.worker_id


# -- the queue ------------------------------------------------------------------------------------


def test_supervisors_list_the_pending_reviews_of_their_partner(registry: Registry) -> None:
    review = queued_pair(registry)

    [view] = registry.reviews.pending(SUPERVISOR_A)

    assert view.review == review
    assert view.side is Side.BOTH
    assert (view.worker_id, view.candidate_id) == (review.worker_id, review.candidate_id)
    assert registry.reviews.pending(SUPERVISOR_B) == []


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
        registry.reviews.get(review.review_id, SUPERVISOR_B)
    with pytest.raises(NotFound):
        registry.reviews.resolve(review.review_id, Decision.KEEP_APART, "", SUPERVISOR_B)
    with pytest.raises(NotFound):
        registry.reviews.resolve("no-such-review", Decision.KEEP_APART, "", SUPERVISOR_A)


def test_each_side_of_a_link_request_sees_only_the_record_it_reaches(registry: Registry) -> None:
    review_id, existing_id, own_id = link_requested(registry)

    [for_a] = registry.reviews.pending(SUPERVISOR_A)
    [for_b] = registry.reviews.pending(SUPERVISOR_B)

    assert for_a.review.review_id == for_b.review.review_id == review_id
    assert (for_a.side, for_a.worker_id, for_a.candidate_id) == (Side.CANDIDATE, "", existing_id)
    assert (for_b.side, for_b.worker_id, for_b.candidate_id) == (Side.REQUESTER, own_id, "")
    assert for_a.review.kind is MatchKind.CERTAIN
    assert registry.reviews.get(review_id, REGISTRAR_B).side is Side.REQUESTER  # the registrar follows its request


# -- merging two records the supervisor reaches --------------------------------------------------


def test_merging_marks_the_duplicate_merged_and_the_survivor_absorbs_its_consents(registry: Registry) -> None:
    review = queued_pair(registry)
    survivor_id, duplicate_id = review.candidate_id, review.worker_id
    duplicate_consent = registry.repository.workers[duplicate_id].consents[0].consent_id

    resolved = registry.reviews.resolve(review.review_id, Decision.MERGE, survivor_id, SUPERVISOR_A)

    assert resolved.review.status is ReviewStatus.MERGED
    assert resolved.review.resolved_by == SUPERVISOR_A.client_id
    assert resolved.review.resolved_at == registry.clock.now
    assert resolved.review.evidence == "supervisor_approval"
    duplicate = registry.repository.workers[duplicate_id]
    assert (duplicate.status, duplicate.merged_into) == (WorkerStatus.MERGED, survivor_id)
    assert registry.repository.match_keys(duplicate_id) == set()
    survivor = registry.repository.workers[survivor_id]
    assert survivor.status is WorkerStatus.ACTIVE
    assert duplicate_consent in [c.consent_id for c in survivor.consents]
    [merged] = registry.repository.messages(MERGED)
    assert (merged.surviving_worker_id, merged.merged_worker_id) == (survivor_id, duplicate_id)
    assert [e.resource_id for e in registry.audit.events[-2:]] == [duplicate_id, survivor_id]
    assert all(e.action is Action.UPDATE for e in registry.audit.events[-2:])
    assert registry.reviews.pending(SUPERVISOR_A) == []
    found, _ = registry.workers.search(Search(district_code="212"), SUPERVISOR_A)
    assert [v.worker.worker_id for v in found] == [survivor_id]
    with pytest.raises(NotFound):  # a merged record is no longer served
        registry.workers.get(duplicate_id, SUPERVISOR_A)


def test_keeping_apart_closes_the_review_and_changes_no_worker(registry: Registry) -> None:
    review = queued_pair(registry)
    outbox = list(registry.repository.outbox)

    resolved = registry.reviews.resolve(review.review_id, Decision.KEEP_APART, "", SUPERVISOR_A)

    assert resolved.review.status is ReviewStatus.KEPT_APART
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


# -- a link request confirmed by a supervisor of the partner holding the record -----------------


def test_a_supervisor_holding_the_record_confirms_the_link_and_the_requester_then_reaches_it(
    registry: Registry,
) -> None:
    review_id, existing_id, own_id = link_requested(registry)
    with pytest.raises(NotFound):
        registry.workers.get(existing_id, CASEWORKER_B)

    resolved = registry.reviews.resolve(review_id, Decision.LINK, "", SUPERVISOR_A)

    assert resolved.review.status is ReviewStatus.MERGED
    assert resolved.review.evidence == "supervisor_approval"
    assert resolved.side is Side.CANDIDATE and resolved.worker_id == ""
    [merged] = registry.repository.messages(MERGED)
    assert (merged.surviving_worker_id, merged.merged_worker_id) == (existing_id, own_id)
    view = registry.workers.get(existing_id, CASEWORKER_B)
    assert view.worker.worker_id == existing_id
    assert "vulnerabilities" not in view.fields  # what B's own consent allows, not all that A recorded
    stored = registry.repository.get(existing_id)
    assert stored is not None
    assert [c.captured_by_partner_id for c in stored.consents] == ["partner-a", "partner-b"]


def test_only_a_supervisor_of_a_holder_links_and_the_requester_cannot_link_itself(registry: Registry) -> None:
    review_id, existing_id, _ = link_requested(registry)

    with pytest.raises(PermissionDenied):
        registry.reviews.resolve(review_id, Decision.LINK, "", CASEWORKER_A)
    with pytest.raises(InvalidArgument) as by_requester:
        registry.reviews.resolve(review_id, Decision.LINK, "", SUPERVISOR_B)
    with pytest.raises(InvalidArgument) as merge_one_side:
        registry.reviews.resolve(review_id, Decision.MERGE, existing_id, SUPERVISOR_A)

    assert [v.field for v in by_requester.value.violations] == ["decision"]
    assert [v.field for v in merge_one_side.value.violations] == ["decision"]
    assert registry.review_repository.reviews[review_id].status is ReviewStatus.PENDING
    with pytest.raises(NotFound):
        registry.workers.get(existing_id, CASEWORKER_B)


def test_the_requesting_partner_may_withdraw_its_request(registry: Registry) -> None:
    review_id, existing_id, _ = link_requested(registry)

    withdrawn = registry.reviews.resolve(review_id, Decision.KEEP_APART, "", REGISTRAR_B)

    assert withdrawn.review.status is ReviewStatus.KEPT_APART
    with pytest.raises(Conflict):
        registry.reviews.resolve(review_id, Decision.LINK, "", SUPERVISOR_A)
    with pytest.raises(NotFound):
        registry.workers.get(existing_id, CASEWORKER_B)


def test_the_holder_may_keep_the_records_apart(registry: Registry) -> None:
    review_id, existing_id, own_id = link_requested(registry)

    registry.reviews.resolve(review_id, Decision.KEEP_APART, "", SUPERVISOR_A)

    assert registry.review_repository.reviews[review_id].status is ReviewStatus.KEPT_APART
    assert registry.repository.workers[own_id].status is WorkerStatus.ACTIVE
    with pytest.raises(NotFound):
        registry.workers.get(existing_id, CASEWORKER_B)


def test_a_partner_the_record_is_shared_with_cannot_retire_it_by_merging_it_into_its_own(registry: Registry) -> None:
    theirs = registered(registry, vulnerabilities=frozenset({Vulnerability.BONDED_LABOUR_RISK})).worker_id
    purposes = frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.PARTNER_SHARING})
    registry.workers.grant_consent(theirs, sharing_with("partner-b", purposes=purposes), "share-1", REGISTRAR_A)
    # B registers a similar person after A shared its record with B: B reaches both, so reviews the pair.
    own = registry.workers.register(
        register_command("b-1", full_name="Ravi Kumaar", phone="", father_or_spouse_name=""), REGISTRAR_B
    ).view.worker.worker_id
    [view] = registry.reviews.pending(SUPERVISOR_B)
    assert view.side is Side.BOTH

    with pytest.raises(InvalidArgument) as caught:
        registry.reviews.resolve(view.review.review_id, Decision.MERGE, own, SUPERVISOR_B)

    assert [v.field for v in caught.value.violations] == ["surviving_worker_id"]
    assert registry.repository.workers[theirs].status is WorkerStatus.ACTIVE
    assert "vulnerabilities" in registry.workers.get(theirs, SUPERVISOR_A).fields
    # Its own record may join the shared one: the shared record survives, as a link would have it.
    merged = registry.reviews.resolve(view.review.review_id, Decision.MERGE, theirs, SUPERVISOR_B)
    assert merged.review.status is ReviewStatus.MERGED
    assert registry.repository.workers[own].merged_into == theirs
    assert registry.workers.get(theirs, SUPERVISOR_A).worker.registering_partner_id == "partner-a"
