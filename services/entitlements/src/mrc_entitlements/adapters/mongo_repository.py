"""Eligibility records in MongoDB, one document per worker, with their outbox; anonymous erasure counts.

Also the tombstones of erased workers, one document each under the worker's id.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from mongoengine import BooleanField, DateTimeField, DictField, Document, IntField, ListField, StringField

from mrc_entitlements.adapters.protobuf_mapping import to_envelope
from mrc_entitlements.domain.eligibility import Eligibility, EligibilityStatus
from mrc_plumbing.store import APPLIED_EVENTS_FIELD, OUTBOX_FIELD, DocumentStore, DuplicateDocument
from mrc_plumbing.store.schema import collection_of, indexes_of

UNKNOWN_PLACE = "unknown"


class EligibilityDocument(Document):  # type: ignore[misc]
    meta = {"collection": "eligibility"}
    id = StringField(primary_key=True)  # the worker id
    status = StringField(required=True, choices=[s.value for s in EligibilityStatus])
    eligible_scheme_codes = ListField(StringField())
    recorded_at = DateTimeField(required=True)
    source_event_id = StringField(required=True)
    # The worker's home (LGD codes), kept only to count erasures per district.
    state_code = StringField(default="")
    district_code = StringField(default="")
    applied_event_ids = ListField(StringField())
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class ErasureCountDocument(Document):  # type: ignore[misc]
    """How many workers of a home district were erased here: a number, nothing about anyone."""

    meta = {"collection": "erasure_counts"}
    id = StringField(primary_key=True)  # "<state code>:<district code>"
    state_code = StringField(required=True)
    district_code = StringField(required=True)
    count = IntField(default=0)
    # The ids of the events that made the records counted, so a record is counted once, however many
    # times (and by whichever event) its deletion is repeated.
    applied_event_ids = ListField(StringField())


class ErasedWorkerDocument(Document):  # type: ignore[misc]
    """A tombstone: the worker was erased, so no later or redelivered event may give them a record again.

    Only the worker id (a random UUID, nothing personal), when, and the event that erased it. Kept for good:
    an event about the worker may be redelivered at any time.
    """

    meta = {"collection": "erased_workers"}
    id = StringField(primary_key=True)  # the worker id
    erased_at = DateTimeField(required=True)
    # A WorkerErased, or a WorkersMerged into a worker erased before.
    event_id = StringField(required=True)


class StoredEligibility:
    def __init__(self, store: DocumentStore) -> None:
        self._records = store.collection(collection_of(EligibilityDocument))
        self._erasure_counts = store.collection(collection_of(ErasureCountDocument))
        self._erased = store.collection(collection_of(ErasedWorkerDocument))

    def ensure_indexes(self) -> None:
        self._records.ensure_indexes(indexes_of(EligibilityDocument))

    def record_once(self, eligibility: Eligibility, *, event_id: str) -> bool:
        events = [to_envelope(e) for e in eligibility.pending_events]
        eligibility.pending_events.clear()
        try:
            # Insert only: an existing record (this event redelivered, or one moved here by a merge) is kept
            # as it is, and none of these events are stored.
            self._records.insert(
                {
                    "_id": eligibility.worker_id,
                    "status": eligibility.status.value,
                    "eligible_scheme_codes": list(eligibility.eligible_scheme_codes),
                    "recorded_at": eligibility.recorded_at,
                    "source_event_id": eligibility.source_event_id,
                    "state_code": eligibility.state_code,
                    "district_code": eligibility.district_code,
                    APPLIED_EVENTS_FIELD: [event_id],
                },
                events=events,
            )
        except DuplicateDocument:
            return False
        return True

    def save(self, eligibility: Eligibility, *, event_id: str) -> bool:
        events = [to_envelope(e) for e in eligibility.pending_events]
        eligibility.pending_events.clear()
        update = {
            "$set": {
                "status": eligibility.status.value,
                "eligible_scheme_codes": list(eligibility.eligible_scheme_codes),
                "recorded_at": eligibility.recorded_at,
                "source_event_id": eligibility.source_event_id,
            }
        }
        return self._records.apply_once(eligibility.worker_id, update, event_id, events=events)

    def delete(self, worker_id: str) -> bool:
        return self._records.delete(worker_id)

    def count_erasure(self, state_code: str, district_code: str, *, event_id: str) -> bool:
        state_code, district_code = state_code or UNKNOWN_PLACE, district_code or UNKNOWN_PLACE
        key = f"{state_code}:{district_code}"
        # Make sure the counter exists first (an insert: the store never upserts), then count the event once.
        with contextlib.suppress(DuplicateDocument):
            self._erasure_counts.insert(
                {"_id": key, "state_code": state_code, "district_code": district_code, "count": 0}
            )
        return self._erasure_counts.apply_once(key, {"$inc": {"count": 1}}, event_id)

    def get(self, worker_id: str) -> Eligibility | None:
        doc = self._records.get(worker_id, exclude=[OUTBOX_FIELD, APPLIED_EVENTS_FIELD])
        if doc is None:
            return None
        recorded_at = doc["recorded_at"]
        return Eligibility(
            worker_id=doc["_id"],
            status=EligibilityStatus(doc["status"]),
            eligible_scheme_codes=list(doc.get("eligible_scheme_codes", [])),
            recorded_at=recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=UTC),
            source_event_id=doc["source_event_id"],
            state_code=doc.get("state_code", ""),
            district_code=doc.get("district_code", ""),
        )

    def remember_erased(self, worker_id: str, *, event_id: str, at: datetime) -> bool:
        try:
            # Insert only: a duplicate means it is remembered already.
            self._erased.insert({"_id": worker_id, "erased_at": at, "event_id": event_id})
        except DuplicateDocument:
            return False
        return True

    def is_erased(self, worker_id: str) -> bool:
        return self._erased.get(worker_id, fields=[]) is not None
