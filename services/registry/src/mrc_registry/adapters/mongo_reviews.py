"""The duplicate review queue in the document store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mongoengine import DateTimeField, DictField, Document, FloatField, ListField, StringField

from mrc_plumbing.store import DocumentStore
from mrc_plumbing.store.schema import collection_of, indexes_of
from mrc_registry.domain.verification import CodeChallenge
from mrc_registry.service_layer.deduplication import MatchKind, MatchReview, ReviewStatus


class MatchReviewDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "match_reviews",
        # The queue is listed per partner: pending reviews naming it, in id order.
        "indexes": [{"fields": ["partner_ids", "status", "_id"], "name": "partner_queue"}],
    }
    id = StringField(primary_key=True)
    worker_id = StringField(required=True)
    candidate_id = StringField(required=True)
    score = FloatField(required=True)
    reasons = ListField(StringField())
    status = StringField(required=True, choices=[s.value for s in ReviewStatus])
    created_at = DateTimeField(required=True)
    kind = StringField(default=MatchKind.POSSIBLE.value, choices=[k.value for k in MatchKind])
    requested_by_partner_id = StringField(default="")
    partner_ids = ListField(StringField())
    resolved_by = StringField(default="")
    resolved_at = DateTimeField()
    evidence = StringField(default="")
    # A one-time code's keyed hash, expiry and counters (never the code).
    challenge = DictField()


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _review(doc: dict[str, Any]) -> MatchReview:
    created_at = _utc(doc["created_at"])
    assert created_at is not None
    return MatchReview(
        review_id=doc["_id"],
        worker_id=doc["worker_id"],
        candidate_id=doc["candidate_id"],
        score=doc["score"],
        reasons=tuple(doc.get("reasons", [])),
        status=ReviewStatus(doc["status"]),
        created_at=created_at,
        kind=MatchKind(doc.get("kind", MatchKind.POSSIBLE.value)),
        requested_by_partner_id=doc.get("requested_by_partner_id", ""),
        partner_ids=tuple(doc.get("partner_ids", ())),
        resolved_by=doc.get("resolved_by", ""),
        resolved_at=_utc(doc.get("resolved_at")),
        evidence=doc.get("evidence", ""),
        challenge=challenge_of(doc.get("challenge")),
    )


def challenge_document(challenge: CodeChallenge | None) -> dict[str, Any] | None:
    if challenge is None:
        return None
    return {
        "code_hash": challenge.code_hash,
        "sent_at": challenge.sent_at,
        "expires_at": challenge.expires_at,
        "sends": challenge.sends,
        "attempts": challenge.attempts,
    }


def challenge_of(doc: dict[str, Any] | None) -> CodeChallenge | None:
    if not doc:
        return None
    sent_at, expires_at = _utc(doc["sent_at"]), _utc(doc["expires_at"])
    assert sent_at is not None
    assert expires_at is not None
    return CodeChallenge(doc["code_hash"], sent_at, expires_at, int(doc["sends"]), int(doc["attempts"]))


class StoredReviews:
    def __init__(self, store: DocumentStore) -> None:
        self._reviews = store.collection(collection_of(MatchReviewDocument))

    def ensure_indexes(self) -> None:
        self._reviews.ensure_indexes(indexes_of(MatchReviewDocument))

    def add_pending(self, reviews: list[MatchReview]) -> None:
        # A retried registration queues the same reviews again: those already stored stay as they are.
        self._reviews.insert_many(
            [
                (
                    {
                        "_id": r.review_id,
                        "worker_id": r.worker_id,
                        "candidate_id": r.candidate_id,
                        "score": r.score,
                        "reasons": list(r.reasons),
                        "status": r.status.value,
                        "created_at": r.created_at,
                        "kind": r.kind.value,
                        "requested_by_partner_id": r.requested_by_partner_id,
                        "partner_ids": list(r.partner_ids),
                    },
                    [],
                )
                for r in reviews
            ]
        )

    def get(self, review_id: str) -> MatchReview | None:
        doc = self._reviews.get(review_id)
        return _review(doc) if doc else None

    def pending_for(self, partner_id: str, *, after: str, limit: int) -> list[MatchReview]:
        query: dict[str, Any] = {"partner_ids": partner_id, "status": ReviewStatus.PENDING.value}
        if after:
            query["_id"] = {"$gt": after}
        return [_review(d) for d in self._reviews.find(query, sort=[("_id", 1)], limit=limit)]

    def resolve(self, review_id: str, status: ReviewStatus, by: str, at: datetime, evidence: str = "") -> bool:
        return self._reviews.update(
            review_id,
            {"$set": {"status": status.value, "resolved_by": by, "resolved_at": at, "evidence": evidence}},
            where={"status": ReviewStatus.PENDING.value},
        )

    def set_challenge(self, review_id: str, challenge: CodeChallenge, *, previous: CodeChallenge | None) -> bool:
        # Conditional on the challenge read, so two concurrent sends (or a send and a check) cannot both win.
        where: dict[str, Any] = {"status": ReviewStatus.PENDING.value}
        where["challenge.code_hash"] = previous.code_hash if previous else {"$exists": False}
        if previous is not None:
            where["challenge.attempts"] = previous.attempts
        return self._reviews.update(review_id, {"$set": {"challenge": challenge_document(challenge)}}, where=where)
