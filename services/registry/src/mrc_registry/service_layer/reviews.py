"""Use cases of the duplicate review queue: supervisors list possible duplicates and resolve them."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound
from mrc_kernel.roles import Scope
from mrc_registry.domain.worker import WorkerStatus
from mrc_registry.service_layer.deduplication import MatchReview, ReviewRepository, ReviewStatus
from mrc_registry.service_layer.ports import AccessRecorder, EventNotifier, WorkerRepository
from mrc_registry.service_layer.workers import visible_to


class Decision(enum.StrEnum):
    MERGE = "merge"
    KEEP_APART = "keep_apart"


class ReviewService:
    def __init__(
        self,
        workers: WorkerRepository,
        reviews: ReviewRepository,
        audit: AccessRecorder,
        notifier: EventNotifier,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._workers = workers
        self._reviews = reviews
        self._audit = audit
        self._notifier = notifier
        self._clock = clock

    def _both_visible(self, review: MatchReview, caller: Caller, now: datetime) -> bool:
        pair = [self._workers.get(review.worker_id), self._workers.get(review.candidate_id)]
        return all(w is not None and visible_to(w, caller, now) for w in pair)

    def pending(self, caller: Caller, *, page_size: int = 50, after: str = "") -> list[MatchReview]:
        caller.require(Scope.WORKERS_MERGE)
        check_purpose(caller.purpose, "case_management")
        now = self._clock()
        return [r for r in self._reviews.pending(after=after, limit=page_size) if self._both_visible(r, caller, now)]

    def resolve(self, review_id: str, decision: Decision, surviving_worker_id: str, caller: Caller) -> MatchReview:
        caller.require(Scope.WORKERS_MERGE)
        check_purpose(caller.purpose, "case_management")
        now = self._clock()
        review = self._reviews.get(review_id)
        if review is None or not self._both_visible(review, caller, now):
            raise NotFound(f"no review {review_id!r}")
        if review.status is not ReviewStatus.PENDING:
            raise Conflict(f"review {review_id} was already resolved ({review.status.value})")
        if decision is Decision.MERGE:
            pair = {review.worker_id, review.candidate_id}
            if surviving_worker_id not in pair:
                raise InvalidArgument.for_field("surviving_worker_id", "must be one of the two records reviewed")
            survivor = self._workers.get(surviving_worker_id)
            duplicate = self._workers.get((pair - {surviving_worker_id}).pop())
            if survivor is None or duplicate is None:
                raise NotFound(f"no review {review_id!r}")
            # Two documents, no transaction: mark the duplicate first; re-running a half-done merge is safe.
            if duplicate.status is not WorkerStatus.MERGED:
                duplicate.merge_into(survivor.worker_id, now)
                self._workers.save(
                    duplicate,
                    match_keys=set(),
                    also_publish=[self._audit.event(caller, Action.UPDATE, "worker", duplicate.worker_id, ["status"])],
                )
            survivor.absorb(duplicate, now)
            self._workers.save(
                survivor,
                also_publish=[self._audit.event(caller, Action.UPDATE, "worker", survivor.worker_id, ["consents"])],
            )
            self._notifier.notify(duplicate.worker_id)
            self._notifier.notify(survivor.worker_id)
        status = ReviewStatus.MERGED if decision is Decision.MERGE else ReviewStatus.KEPT_APART
        if not self._reviews.resolve(review_id, status, caller.client_id, now):
            raise Conflict(f"review {review_id} was resolved meanwhile")
        resolved = self._reviews.get(review_id)
        assert resolved is not None
        return resolved
