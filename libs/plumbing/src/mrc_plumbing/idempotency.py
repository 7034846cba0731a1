"""No duplicate effect from a retried request or a redelivered event.

Requests: every create carries an idempotency key (the client's, or one we make up) stored in the
aggregate's document under a unique index; a retry finds the first result instead of a second copy.

Events: a consumer applies an event to one document together with the event's id in that same
write, so the effect and the record that it happened cannot be separated by a crash.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from mrc_kernel.errors import IdempotencyKeyReused

IDEMPOTENCY_FIELD = "idempotency_key"
FINGERPRINT_FIELD = "request_fingerprint"
APPLIED_EVENTS_FIELD = "applied_event_ids"


def ensure_idempotency_index(collection: Collection[Any]) -> None:
    collection.create_index([(IDEMPOTENCY_FIELD, ASCENDING)], unique=True, name="idempotency_key")


def insert_once(collection: Collection[Any], document: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Insert `document` unless one with the same idempotency key exists.

    Returns the stored document and whether this call created it. The same key with a different
    request fingerprint is a client error, not a retry.
    """
    try:
        collection.insert_one(document)
        return document, True
    except DuplicateKeyError:
        # Ids usually derive from the key, so the clash is on `_id`: a lookup every store answers from an
        # index (FerretDB 1.24 scans for any other field).
        existing = collection.find_one({"_id": document["_id"]}) if "_id" in document else None
        if existing is None or existing.get(IDEMPOTENCY_FIELD) != document[IDEMPOTENCY_FIELD]:
            existing = collection.find_one({IDEMPOTENCY_FIELD: document[IDEMPOTENCY_FIELD]})
        if existing is None:  # the clash was on another unique index
            raise
        if existing.get(FINGERPRINT_FIELD) != document.get(FINGERPRINT_FIELD):
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request") from None
        return existing, False


def apply_once(
    collection: Collection[Any],
    document_id: Any,
    update: dict[str, Any],
    event_id: str,
    *,
    upsert: bool = True,
) -> bool:
    """Apply `update` to the document unless it already applied `event_id`. True if applied now."""
    update = {**update, "$addToSet": {**update.get("$addToSet", {}), APPLIED_EVENTS_FIELD: event_id}}
    try:
        result = collection.update_one(
            {"_id": document_id, APPLIED_EVENTS_FIELD: {"$ne": event_id}}, update, upsert=upsert
        )
    except DuplicateKeyError:
        # The document exists and has seen this event, so the upsert tried to insert a second one.
        return False
    return bool(result.upserted_id is not None or result.modified_count)
