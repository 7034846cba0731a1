"""Erasure requests awaiting their one-time code, in the document store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mrc_plumbing.store import DocumentStore
from mrc_registry.adapters.mongo_reviews import challenge_document, challenge_of
from mrc_registry.domain.verification import CodeChallenge
from mrc_registry.service_layer.erasure import ErasureRequest, ErasureStatus

COLLECTION = "erasure_requests"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class StoredErasureRequests:
    def __init__(self, store: DocumentStore) -> None:
        self._requests = store.collection(COLLECTION)

    def add(self, request: ErasureRequest) -> None:
        self._requests.insert(
            {
                "_id": request.request_id,
                "worker_id": request.worker_id,
                "requested_by_partner_id": request.requested_by_partner_id,
                "reason": request.reason,
                "created_at": request.created_at,
                "status": request.status.value,
                "challenge": challenge_document(request.challenge),
            }
        )

    def get(self, request_id: str) -> ErasureRequest | None:
        doc = self._requests.get(request_id)
        if doc is None:
            return None
        challenge = challenge_of(doc["challenge"])
        assert challenge is not None
        completed_at = doc.get("completed_at")
        return ErasureRequest(
            request_id=doc["_id"],
            worker_id=doc["worker_id"],
            requested_by_partner_id=doc["requested_by_partner_id"],
            reason=doc["reason"],
            created_at=_utc(doc["created_at"]),
            challenge=challenge,
            status=ErasureStatus(doc["status"]),
            completed_at=_utc(completed_at) if completed_at else None,
        )

    def set_challenge(self, request_id: str, challenge: CodeChallenge, *, previous: CodeChallenge) -> bool:
        where: dict[str, Any] = {
            "status": ErasureStatus.PENDING.value,
            "challenge.code_hash": previous.code_hash,
            "challenge.attempts": previous.attempts,
        }
        return self._requests.update(request_id, {"$set": {"challenge": challenge_document(challenge)}}, where=where)

    def complete(self, request_id: str, at: datetime) -> bool:
        return self._requests.update(
            request_id,
            {"$set": {"status": ErasureStatus.COMPLETED.value, "completed_at": at}},
            where={"status": ErasureStatus.PENDING.value},
        )
