"""Use cases of match reviews: the supervisors' queue of possible duplicates, and link requests.

A review pairs a newer record with a stored one it may duplicate. Who may act on it depends on which
of the two records the caller reaches:
- both: a supervisor merges them (choosing the survivor) or keeps them apart;
- only the stored one: a supervisor of a partner holding its consent confirms the newer record is the
  same person (the newer record then joins it) or keeps them apart;
- only the newer one (the partner whose registration matched): it may withdraw the request, or prove
  the link with a one-time code sent to the phone on record, which the person reads back to it.
Nothing of a record the caller does not reach is ever shown: a review shows which facts agree, not
the other record's values.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound
from mrc_kernel.policy import Purpose
from mrc_kernel.roles import Scope
from mrc_registry.domain.verification import CodeChallenge, new_code
from mrc_registry.domain.worker import Worker, WorkerStatus
from mrc_registry.domain.worker_access import RESOURCE
from mrc_registry.service_layer.deduplication import Evidence, MatchReview, ReviewRepository, ReviewStatus
from mrc_registry.service_layer.ports import AccessRecorder, Protector, TextMessages, WorkerRepository
from mrc_registry.service_layer.protection import PHONE_FIELD, WorkerProtection
from mrc_registry.service_layer.workers import WorkerAccess

REVIEW_PURPOSE = Purpose.REGISTRATION
CODE_MESSAGE = "MRC: your code to confirm your registration with a new organisation is {code}. Share it only with them."


class Decision(enum.StrEnum):
    MERGE = "merge"  # both records seen: one survives
    LINK = "link"  # the newer record joins the stored one (a holder of the stored record's consent confirms)
    KEEP_APART = "keep_apart"


class Side(enum.StrEnum):
    """Which of the review's records the caller reaches."""

    BOTH = "both"
    CANDIDATE = "candidate"  # the stored record
    REQUESTER = "requester"  # the newer record


@dataclass(frozen=True)
class ReviewView:
    review: MatchReview
    side: Side

    @property
    def worker_id(self) -> str:
        """The newer record's id, if the caller reaches it."""
        return self.review.worker_id if self.side is not Side.CANDIDATE else ""

    @property
    def candidate_id(self) -> str:
        return self.review.candidate_id if self.side is not Side.REQUESTER else ""


class ReviewService:
    def __init__(
        self,
        workers: WorkerRepository,
        reviews: ReviewRepository,
        audit: AccessRecorder,
        protector: Protector,
        messages: TextMessages,
        *,
        clock: Callable[[], datetime] = utc_now,
        code: Callable[[], str] = new_code,
    ) -> None:
        self._workers = workers
        self._reviews = reviews
        self._audit = audit
        self._protector = protector
        self._protection = WorkerProtection(protector)
        self._messages = messages
        self._clock = clock
        self._code = code
        self._access = WorkerAccess(workers, audit, clock)

    def _side(self, review: MatchReview, caller: Caller) -> tuple[Side | None, Worker | None, Worker | None]:
        newer, stored = self._workers.get(review.worker_id), self._workers.get(review.candidate_id)
        sees_newer = newer is not None and bool(self._access.decision(newer, caller, REVIEW_PURPOSE))
        sees_stored = stored is not None and bool(self._access.decision(stored, caller, REVIEW_PURPOSE))
        if sees_newer and sees_stored:
            return Side.BOTH, newer, stored
        if sees_stored:
            return Side.CANDIDATE, newer, stored
        if sees_newer:
            return Side.REQUESTER, newer, stored
        return None, newer, stored

    def _load(self, review_id: str, caller: Caller) -> tuple[MatchReview, Side, Worker | None, Worker | None]:
        review = self._reviews.get(review_id) if review_id else None
        if review is None or caller.partner_id not in review.partner_ids:
            raise NotFound("no such review")
        side, newer, stored = self._side(review, caller)
        if side is None:
            raise NotFound("no such review")
        return review, side, newer, stored

    def pending(self, caller: Caller, *, page_size: int = 50, after: str = "") -> list[ReviewView]:
        caller.require(Scope.WORKERS_MERGE)
        check_purpose(caller.purpose, "registration")
        shown: list[ReviewView] = []
        for review in self._reviews.pending_for(caller.partner_id, after=after, limit=page_size):
            side, _, _ = self._side(review, caller)
            if side is not None:
                shown.append(ReviewView(review, side))
        return shown

    def get(self, review_id: str, caller: Caller) -> ReviewView:
        if not (caller.has(Scope.WORKERS_MERGE) or caller.has(Scope.WORKERS_WRITE)):
            caller.require(Scope.WORKERS_MERGE)
        check_purpose(caller.purpose, "registration")
        review, side, _, _ = self._load(review_id, caller)
        return ReviewView(review, side)

    def resolve(self, review_id: str, decision: Decision, surviving_worker_id: str, caller: Caller) -> ReviewView:
        check_purpose(caller.purpose, "registration")
        review, side, newer, stored = self._load(review_id, caller)
        if decision is Decision.KEEP_APART and side is Side.REQUESTER:
            caller.require(Scope.WORKERS_WRITE)  # the registering partner withdraws its own request
        else:
            caller.require(Scope.WORKERS_MERGE)
        if review.status is not ReviewStatus.PENDING:
            raise Conflict(f"the review was already resolved ({review.status.value})")
        now = self._clock()
        if decision is Decision.MERGE:
            if side is not Side.BOTH:
                raise InvalidArgument.for_field("decision", "'merge' needs both records; confirm a link with 'link'")
            if surviving_worker_id not in (review.worker_id, review.candidate_id):
                raise InvalidArgument.for_field("surviving_worker_id", "must be one of the two records reviewed")
            survivor, duplicate = (stored, newer) if surviving_worker_id == review.candidate_id else (newer, stored)
            if duplicate is not None and duplicate.registering_partner_id != caller.partner_id:
                # Reaching a record (a consent shared it) is not owning it: another partner's record survives.
                raise InvalidArgument.for_field(
                    "surviving_worker_id", "a merge may retire only a record your partner registered"
                )
            self._join(survivor, duplicate, caller, now)
            evidence = Evidence.SUPERVISOR_APPROVAL
        elif decision is Decision.LINK:
            if side is Side.REQUESTER:
                raise InvalidArgument.for_field(
                    "decision", "a link is confirmed by a supervisor of a partner holding the record, or by a code"
                )
            self._join(stored, newer, caller, now)
            evidence = Evidence.SUPERVISOR_APPROVAL
        else:
            evidence = Evidence.SUPERVISOR_APPROVAL
        status = ReviewStatus.KEPT_APART if decision is Decision.KEEP_APART else ReviewStatus.MERGED
        if not self._reviews.resolve(review_id, status, caller.client_id, now, evidence.value):
            raise Conflict("the review was resolved meanwhile")
        resolved = self._reviews.get(review_id)
        assert resolved is not None
        return ReviewView(resolved, side)

    # -- one-time codes ------------------------------------------------------------------------------

    def send_code(self, review_id: str, caller: Caller) -> ReviewView:
        """Send a one-time code to the phone on record of the stored record (the person reads it back)."""
        caller.require(Scope.WORKERS_WRITE)
        check_purpose(caller.purpose, "registration")
        review, side, _, stored = self._load(review_id, caller)
        if side is not Side.REQUESTER or caller.partner_id != review.requested_by_partner_id:
            raise NotFound("no such review")
        if review.status is not ReviewStatus.PENDING:
            raise Conflict(f"the review was already resolved ({review.status.value})")
        if stored is None or stored.status is not WorkerStatus.ACTIVE or stored.details.phone is None:
            raise FailedPrecondition(
                "no phone is on record to send a code to: ask a supervisor of the partner holding the record"
            )
        now = self._clock()
        code = self._code()
        hashed = self._hash(review_id, code)
        challenge = (
            CodeChallenge.first(hashed, now) if review.challenge is None else review.challenge.resent(hashed, now)
        )
        if not self._reviews.set_challenge(review_id, challenge, previous=review.challenge):
            raise Conflict("a code was sent meanwhile; use that one")
        phone = self._protector.decrypt(PHONE_FIELD, stored.details.phone.encrypted)
        self._messages.send(phone, CODE_MESSAGE.format(code=code), reference=review_id)
        return ReviewView(replace(review, challenge=challenge), side)

    def confirm_code(self, review_id: str, code: str, caller: Caller) -> ReviewView:
        caller.require(Scope.WORKERS_WRITE)
        check_purpose(caller.purpose, "registration")
        review, side, newer, stored = self._load(review_id, caller)
        if side is not Side.REQUESTER or caller.partner_id != review.requested_by_partner_id:
            raise NotFound("no such review")
        if review.status is not ReviewStatus.PENDING:
            raise Conflict(f"the review was already resolved ({review.status.value})")
        if review.challenge is None:
            raise FailedPrecondition("no code was sent for this review: send one first")
        code = code.strip()
        if not (code.isascii() and code.isdigit()):
            raise InvalidArgument.for_field("code", "must be the digits the worker received")
        now = self._clock()
        checked, right = review.challenge.checked(self._hash(review_id, code), now)
        if not right:
            self._reviews.set_challenge(review_id, checked, previous=review.challenge)
            raise InvalidArgument.for_field("code", "is not the code that was sent")
        self._join(stored, newer, caller, now)
        if not self._reviews.resolve(
            review_id, ReviewStatus.MERGED, caller.client_id, now, Evidence.ONE_TIME_CODE.value
        ):
            raise Conflict("the review was resolved meanwhile")
        resolved = self._reviews.get(review_id)
        assert resolved is not None
        return ReviewView(resolved, side)

    def _hash(self, review_id: str, code: str) -> str:
        # Keyed: a copy of the database does not let anyone try the million codes offline.
        return self._protector.blind_index("one-time-code", f"{review_id}:{code}")

    # -- joining two records -------------------------------------------------------------------------

    def _join(self, survivor: Worker | None, duplicate: Worker | None, caller: Caller, now: datetime) -> None:
        if survivor is None or duplicate is None or survivor.status is not WorkerStatus.ACTIVE:
            raise Conflict("one of the records changed meanwhile: it can no longer be joined")
        # Two documents, no transaction: mark the duplicate first; re-running a half-done join is safe.
        if duplicate.status is not WorkerStatus.MERGED:
            duplicate.merge_into(survivor.worker_id, now)
            self._workers.save(
                duplicate,
                match_keys=set(),
                also_publish=[
                    self._audit.event(
                        caller,
                        Action.UPDATE,
                        RESOURCE,
                        duplicate.worker_id,
                        ["status"],
                        state_code=duplicate.details.home.state_code,
                    )
                ],
            )
        survivor.absorb(duplicate, now)
        self._workers.save(
            survivor,
            also_publish=[
                self._audit.event(
                    caller,
                    Action.UPDATE,
                    RESOURCE,
                    survivor.worker_id,
                    ["consents"],
                    state_code=survivor.details.home.state_code,
                )
            ],
        )
