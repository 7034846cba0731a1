"""The duplicate review queue in MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mongoengine import DateTimeField, Document, FloatField, ListField, StringField
from pymongo import ASCENDING, InsertOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from mrc_plumbing.conditional_writes import update_if
from mrc_plumbing.mongo_wiring import bulk_write_in_chunks
from mrc_registry.service_layer.deduplication import MatchReview, ReviewStatus


class MatchReviewDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "match_reviews",
        "indexes": [{"fields": ["status", "_id"], "name": "status"}],
    }
    id = StringField(primary_key=True)
    worker_id = StringField(required=True)
    candidate_id = StringField(required=True)
    score = FloatField(required=True)
    reasons = ListField(StringField())
    status = StringField(required=True, choices=[s.value for s in ReviewStatus])
    created_at = DateTimeField(required=True)
    resolved_by = StringField(default="")
    resolved_at = DateTimeField()


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
        resolved_by=doc.get("resolved_by", ""),
        resolved_at=_utc(doc.get("resolved_at")),
    )


class MongoReviewRepository:
    def __init__(self) -> None:
        self._collection: Collection[Any] = MatchReviewDocument._get_collection()

    @staticmethod
    def ensure_indexes() -> None:
        MatchReviewDocument.ensure_indexes()

    def add_pending(self, reviews: list[MatchReview]) -> None:
        ops = [
            InsertOne(
                {
                    "_id": r.review_id,
                    "worker_id": r.worker_id,
                    "candidate_id": r.candidate_id,
                    "score": r.score,
                    "reasons": list(r.reasons),
                    "status": r.status.value,
                    "created_at": r.created_at,
                }
            )
            for r in reviews
        ]
        try:
            bulk_write_in_chunks(self._collection, ops)
        except BulkWriteError as exc:
            # A retried registration queues the same reviews again: those already stored stay as they are.
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise

    def get(self, review_id: str) -> MatchReview | None:
        doc = self._collection.find_one({"_id": review_id})
        return _review(doc) if doc else None

    def pending(self, *, after: str, limit: int) -> list[MatchReview]:
        query: dict[str, Any] = {"status": ReviewStatus.PENDING.value}
        if after:
            query["_id"] = {"$gt": after}
        return [_review(d) for d in self._collection.find(query).sort("_id", ASCENDING).limit(limit)]

    def resolve(self, review_id: str, status: ReviewStatus, by: str, at: datetime) -> bool:
        return update_if(
            self._collection,
            review_id,
            {"status": ReviewStatus.PENDING.value},
            {"$set": {"status": status.value, "resolved_by": by, "resolved_at": at}},
        )
