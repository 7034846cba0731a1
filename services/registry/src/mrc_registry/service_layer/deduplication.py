"""Recognising a worker met again: exact matches on identity blind indexes, probabilistic matches on
transliterated names, birth year, father's/spouse's name and home village.

Whatever matches, a registration never discloses or grants anything of another partner's record:
- a record the registering partner already reaches (its own, or one a consent shares with it) is linked
  to at once when the match is certain, and shown among possible duplicates otherwise;
- a record it does not reach is left unseen: the new registration is kept apart as the partner's own
  record, and a match review (a link request) is queued. The two are joined only on trusted evidence:
  a one-time code sent to the phone on record, or the approval of a supervisor of a partner that holds
  the record's consent. Fuzzy matches are never joined automatically.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mrc_kernel.idempotency import IdDeriver
from mrc_registry.domain.identity.matching import CandidateFacts, MatchDecision, MatchThresholds, blocking_keys, score
from mrc_registry.domain.identity.transliteration import phonetic_keys
from mrc_registry.domain.verification import CodeChallenge
from mrc_registry.domain.worker import Worker
from mrc_registry.service_layer.ports import WorkerRepository


@dataclass(frozen=True)
class PossibleDuplicate:
    worker_id: str
    score: float
    reasons: tuple[str, ...]


class MatchKind(enum.StrEnum):
    CERTAIN = "certain"  # a shared identity document, or a shared phone with a matching name and age
    POSSIBLE = "possible"  # similar names and facts: a person has to look


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    MERGED = "merged"  # one record now; for a link request, the new registration joined the existing record
    KEPT_APART = "kept_apart"


class Evidence(enum.StrEnum):
    """Why two records were joined."""

    SUPERVISOR_APPROVAL = "supervisor_approval"
    ONE_TIME_CODE = "one_time_code"


@dataclass(frozen=True)
class MatchReview:
    review_id: str
    worker_id: str  # the newer record
    candidate_id: str  # the record it may duplicate
    score: float
    reasons: tuple[str, ...]
    status: ReviewStatus
    created_at: datetime
    kind: MatchKind = MatchKind.POSSIBLE
    # The partner whose registration made the newer record, and every partner that could resolve the
    # review (the holders of the records' consents when it was queued): the queue is listed by partner.
    requested_by_partner_id: str = ""
    partner_ids: tuple[str, ...] = ()
    resolved_by: str = ""
    resolved_at: datetime | None = None
    evidence: str = ""
    challenge: CodeChallenge | None = None


class ReviewRepository(Protocol):
    def add_pending(self, reviews: list[MatchReview]) -> None:
        """Store reviews; one already stored (same id) is left as it is."""
        ...

    def get(self, review_id: str) -> MatchReview | None: ...

    def pending_for(self, partner_id: str, *, after: str, limit: int) -> list[MatchReview]:
        """Pending reviews that name this partner, in id order after the cursor."""
        ...

    def resolve(self, review_id: str, status: ReviewStatus, by: str, at: datetime, evidence: str = "") -> bool:
        """Close a pending review; False if it was not pending any more (someone else resolved it)."""
        ...

    def set_challenge(self, review_id: str, challenge: CodeChallenge, *, previous: CodeChallenge | None) -> bool:
        """Store a review's code challenge if it is still `previous` (False if it changed meanwhile)."""
        ...


def facts_of(worker: Worker) -> CandidateFacts:
    details = worker.details
    return CandidateFacts(
        name=details.latin_name or details.full_name,
        father_or_spouse_name=details.father_or_spouse_name,
        birth_year=details.birth_year,
        home_district_code=details.home.district_code,
        home_village=details.home.village_name,
        gender=details.gender.value if details.gender else "",
        phone_index=details.phone.blind_index if details.phone else "",
        identity_indexes={(d.kind.value, d.blind_index) for d in details.identity_documents},
    )


@dataclass(frozen=True)
class Match:
    worker: Worker
    kind: MatchKind
    score: float
    reasons: tuple[str, ...]


@dataclass
class Assessment:
    """Every stored record a new worker matches, best first."""

    matches: list[Match] = field(default_factory=list)

    @property
    def candidates(self) -> dict[str, Worker]:
        return {m.worker.worker_id: m.worker for m in self.matches}


class Deduplicator:
    def __init__(
        self,
        workers: WorkerRepository,
        reviews: ReviewRepository,
        ids: IdDeriver,
        thresholds: MatchThresholds | None = None,
    ) -> None:
        self._workers = workers
        self._reviews = reviews
        self._ids = ids
        self._thresholds = thresholds or MatchThresholds()

    def keys(self, worker: Worker) -> set[str]:
        """Keys stored with the worker (indexed) to find candidates and to search by name."""
        facts = facts_of(worker)
        name_keys = {f"name:{k}" for k in phonetic_keys(facts.name)}
        return set(blocking_keys(facts)) | name_keys

    def assess(self, worker: Worker) -> Assessment:
        candidates = self._workers.find_candidates(set(blocking_keys(facts_of(worker))), exclude=worker.worker_id)
        return self.assess_against(worker, candidates)

    def assess_against(self, worker: Worker, candidates: Iterable[Worker]) -> Assessment:
        """As `assess`, over candidates already read (a bulk import reads them for the whole file)."""
        facts = facts_of(worker)
        matches: list[Match] = []
        for candidate in candidates:
            candidate_facts = facts_of(candidate)
            result = score(facts, candidate_facts, self._thresholds)
            # A high score on names, birth year and place alone is still fuzzy (facts on public voter
            # lists): only a shared document or phone makes a match certain, and fuzzy ones go to review.
            if result.decision is MatchDecision.CERTAIN and _shares_an_identifier(facts, candidate_facts):
                matches.append(Match(candidate, MatchKind.CERTAIN, result.score, tuple(result.reasons)))
            elif result.decision is not MatchDecision.NONE:
                matches.append(Match(candidate, MatchKind.POSSIBLE, result.score, tuple(result.reasons)))
        matches.sort(key=lambda m: (m.kind is not MatchKind.CERTAIN, -m.score, m.worker.worker_id))
        return Assessment(matches)

    def review_id(self, worker_id: str, candidate_id: str) -> str:
        """Opaque and stable: a retry queues the same review, and the id reveals neither record's id."""
        return self._ids.derive("match-review", f"{worker_id}:{candidate_id}")

    def queue_for_review(
        self,
        worker: Worker,
        matches: Iterable[Match],
        now: datetime,
        *,
        reachable: Iterable[str] | None = None,
        partner_ids: Iterable[str] = (),
    ) -> list[MatchReview]:
        """Queue a review of each match. The partner that registered `worker` is named on a review (so sees it
        in its queue) only for a certain match (its link request) or a candidate it already reaches
        (`reachable`: None means all): a possible match with a record it does not reach is for the record's
        holders alone, so nothing hints to it that a similar person is registered."""
        seen = None if reachable is None else set(reachable)

        def requester(m: Match) -> set[str]:
            if m.kind is MatchKind.CERTAIN or seen is None or m.worker.worker_id in seen:
                return {worker.registering_partner_id}
            return set()

        reviews = [
            MatchReview(
                review_id=self.review_id(worker.worker_id, m.worker.worker_id),
                worker_id=worker.worker_id,
                candidate_id=m.worker.worker_id,
                score=m.score,
                reasons=m.reasons,
                status=ReviewStatus.PENDING,
                created_at=now,
                kind=m.kind,
                requested_by_partner_id=worker.registering_partner_id,
                partner_ids=tuple(sorted({*requester(m), *partner_ids, *holders(m.worker, now)} - {""})),
            )
            for m in matches
        ]
        if reviews:
            self._reviews.add_pending(reviews)
        return reviews


def _shares_an_identifier(a: CandidateFacts, b: CandidateFacts) -> bool:
    return bool(a.identity_indexes & b.identity_indexes) or bool(a.phone_index and a.phone_index == b.phone_index)


def holders(worker: Worker, now: datetime) -> set[str]:
    """The partners that hold an active consent of the worker (they may resolve a review of it)."""
    return {c.captured_by_partner_id for c in worker.consents if c.is_active(now)}
