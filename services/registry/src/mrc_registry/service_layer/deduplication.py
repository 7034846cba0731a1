"""Recognising a worker met again: exact matches on identity blind indexes, probabilistic matches on
transliterated names, birth year, father's/spouse's name and home village.

Certain matches link automatically (the registry keeps one record per person); possible matches go to a
review queue that a supervisor resolves by merging or keeping the records apart.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_registry.domain.identity.matching import CandidateFacts, MatchDecision, MatchThresholds, blocking_keys, score
from mrc_registry.domain.identity.transliteration import phonetic_keys
from mrc_registry.domain.worker import Worker
from mrc_registry.service_layer.ports import WorkerRepository


@dataclass(frozen=True)
class PossibleDuplicate:
    worker_id: str
    score: float
    reasons: tuple[str, ...]


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    MERGED = "merged"
    KEPT_APART = "kept_apart"


@dataclass(frozen=True)
class MatchReview:
    review_id: str
    worker_id: str  # the newer record
    candidate_id: str  # the record it may duplicate
    score: float
    reasons: tuple[str, ...]
    status: ReviewStatus
    created_at: datetime
    resolved_by: str = ""
    resolved_at: datetime | None = None


class ReviewRepository(Protocol):
    def add_pending(self, reviews: list[MatchReview]) -> None:
        """Store reviews; one already stored (same id) is left as it is."""
        ...

    def get(self, review_id: str) -> MatchReview | None: ...

    def pending(self, *, after: str, limit: int) -> list[MatchReview]: ...

    def resolve(self, review_id: str, status: ReviewStatus, by: str, at: datetime) -> bool:
        """Close a pending review; False if it was not pending any more (someone else resolved it)."""
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


class Deduplicator:
    def __init__(
        self, workers: WorkerRepository, reviews: ReviewRepository, thresholds: MatchThresholds | None = None
    ) -> None:
        self._workers = workers
        self._reviews = reviews
        self._thresholds = thresholds or MatchThresholds()

    def keys(self, worker: Worker) -> set[str]:
        """Keys stored with the worker (indexed) to find candidates and to search by name."""
        facts = facts_of(worker)
        name_keys = {f"name:{k}" for k in phonetic_keys(facts.name)}
        return set(blocking_keys(facts)) | name_keys

    def assess(self, worker: Worker) -> tuple[Worker | None, list[PossibleDuplicate]]:
        """The certain match if any (linked instead of registering), else the possible ones, best first."""
        certain, possible, _ = self.assess_with_candidates(worker)
        return certain, possible

    def assess_with_candidates(
        self, worker: Worker
    ) -> tuple[Worker | None, list[PossibleDuplicate], dict[str, Worker]]:
        """As `assess`, with the candidate workers read for it, by id (callers need not read them again)."""
        facts = facts_of(worker)
        candidates = self._workers.find_candidates(set(blocking_keys(facts)), exclude=worker.worker_id)
        certain, possible = self._decide(facts, candidates)
        return certain, possible, {c.worker_id: c for c in candidates}

    def _decide(self, facts: CandidateFacts, candidates: list[Worker]) -> tuple[Worker | None, list[PossibleDuplicate]]:
        possible: list[PossibleDuplicate] = []
        best_certain: tuple[float, Worker] | None = None
        for candidate in candidates:
            result = score(facts, facts_of(candidate), self._thresholds)
            if result.decision is MatchDecision.CERTAIN:
                if best_certain is None or result.score > best_certain[0]:
                    best_certain = (result.score, candidate)
            elif result.decision is MatchDecision.POSSIBLE:
                possible.append(PossibleDuplicate(candidate.worker_id, result.score, tuple(result.reasons)))
        if best_certain is not None:
            return best_certain[1], []
        possible.sort(key=lambda p: -p.score)
        return None, possible

    def queue_for_review(self, worker: Worker, possible: list[PossibleDuplicate], now: datetime) -> None:
        if possible:
            self._reviews.add_pending(
                [
                    MatchReview(
                        review_id=f"{worker.worker_id}:{p.worker_id}",
                        worker_id=worker.worker_id,
                        candidate_id=p.worker_id,
                        score=p.score,
                        reasons=p.reasons,
                        status=ReviewStatus.PENDING,
                        created_at=now,
                    )
                    for p in possible
                ]
            )
