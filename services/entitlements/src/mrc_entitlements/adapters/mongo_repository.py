"""Eligibility records in MongoDB, one document per worker, with their outbox."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from mongoengine import BooleanField, DateTimeField, DictField, Document, ListField, StringField
from pymongo.collection import Collection

from mrc_entitlements.adapters.protobuf_mapping import to_envelope
from mrc_entitlements.domain.eligibility import Eligibility, EligibilityStatus
from mrc_plumbing.idempotency import APPLIED_EVENTS_FIELD, apply_once
from mrc_plumbing.outbox import append_events


class EligibilityDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "eligibility",
        "indexes": [{"fields": ["outbox_pending"], "name": "outbox_pending"}],
    }
    id = StringField(primary_key=True)  # the worker id
    status = StringField(required=True, choices=[s.value for s in EligibilityStatus])
    eligible_scheme_codes = ListField(StringField())
    recorded_at = DateTimeField(required=True)
    source_event_id = StringField(required=True)
    applied_event_ids = ListField(StringField())
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class MongoEligibilityRepository:
    def __init__(self) -> None:
        self._collection: Collection[Any] = EligibilityDocument._get_collection()

    @staticmethod
    def ensure_indexes() -> None:
        EligibilityDocument.ensure_indexes()

    def record_once(self, eligibility: Eligibility, *, event_id: str) -> bool:
        update = append_events(
            {
                # The first registration event wins; a later assessment updates with $set.
                "$setOnInsert": {
                    "status": eligibility.status.value,
                    "eligible_scheme_codes": eligibility.eligible_scheme_codes,
                    "recorded_at": eligibility.recorded_at,
                    "source_event_id": eligibility.source_event_id,
                }
            },
            [to_envelope(e) for e in eligibility.pending_events],
        )
        applied = apply_once(self._collection, eligibility.worker_id, update, event_id)
        eligibility.pending_events.clear()
        return applied

    def get(self, worker_id: str) -> Eligibility | None:
        doc = self._collection.find_one({"_id": worker_id}, {"outbox": 0, APPLIED_EVENTS_FIELD: 0})
        if doc is None:
            return None
        recorded_at = doc["recorded_at"]
        return Eligibility(
            worker_id=doc["_id"],
            status=EligibilityStatus(doc["status"]),
            eligible_scheme_codes=list(doc.get("eligible_scheme_codes", [])),
            recorded_at=recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=UTC),
            source_event_id=doc["source_event_id"],
        )
