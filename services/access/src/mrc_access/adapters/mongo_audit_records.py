"""The audit trail in the document store: append-only, one document per record.

A record's `_id` orders the trail newest first: `-<10^17 - 1 - microseconds since the epoch, 17 digits>-<event
id>`, so the store's id-ordered, time-bounded `page()` lists the newest records first and a listing can
stop anywhere and continue from the last id. The `_id` derives from the event alone (its id and its
`occurred_at`), so a redelivered event still inserts nothing. Records stored before this scheme keep
their event id as `_id` and come after all others in a listing.

There is deliberately no update or delete here: nothing rewrites history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mongoengine import (
    DateTimeField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    StringField,
)

from mrc_access.domain.audit_record import AccessAction, AccessOutcome, AccessRecord, Actor
from mrc_access.service_layer.ports import AccessRecordFilter, RecordPage
from mrc_plumbing.store import DocumentStore, DuplicateDocument
from mrc_plumbing.store.schema import collection_of, indexes_of


class ActorDocument(EmbeddedDocument):  # type: ignore[misc]
    client_id = StringField(default="")
    partner_id = StringField(default="")
    roles = ListField(StringField())


class AuditRecordDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "audit_records",
        "indexes": [
            # `_id` orders the trail (newest first), so each listing's filter is followed by `_id`.
            # Who touched this worker's (grievance's...) data.
            {"fields": ["resource_type", "resource_id", "_id"], "name": "resource_trail"},
            # ... and every listing that showed it (one record per page, naming each record shown).
            {"fields": ["resource_type", "resource_ids", "_id"], "name": "listing_trail"},
            # What this partner touched.
            {"fields": ["actor.partner_id", "_id"], "name": "partner_trail"},
            # An auditor's state.
            {"fields": ["state_code", "_id"], "name": "state_trail"},
        ],
    }
    id = StringField(primary_key=True)  # newest first: see `trail_id`
    event_id = StringField()  # the CloudEvents id (the `_id` of records stored before `trail_id`)
    actor = EmbeddedDocumentField(ActorDocument, required=True)
    action = StringField(required=True, choices=[a.value for a in AccessAction])
    service = StringField(default="")
    resource_type = StringField(default="")
    resource_id = StringField(default="")
    resource_ids = ListField(StringField())  # a listing's records (see `AccessRecord.resource_ids`)
    fields = ListField(StringField())
    purpose = StringField(default="")
    outcome = StringField(required=True, choices=[o.value for o in AccessOutcome])
    remote_address = StringField(default="")
    request_id = StringField(default="")
    occurred_at = DateTimeField(required=True)
    state_code = StringField(default="")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEWEST_FIRST_BASE = 10**17 - 1


def trail_id(occurred_at: datetime, event_id: str) -> str:
    """An `_id` that sorts newer records first (and records of one microsecond by event id)."""
    when = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
    delta = when - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"-{NEWEST_FIRST_BASE - micros:017d}-{event_id}"


def _document(record: AccessRecord) -> dict[str, Any]:
    doc = AuditRecordDocument(
        id=trail_id(record.occurred_at, record.record_id),
        event_id=record.record_id,
        actor=ActorDocument(
            client_id=record.actor.client_id, partner_id=record.actor.partner_id, roles=list(record.actor.roles)
        ),
        action=record.action.value,
        service=record.service,
        resource_type=record.resource_type,
        resource_id=record.resource_id,
        resource_ids=list(record.resource_ids),
        fields=list(record.fields),
        purpose=record.purpose,
        outcome=record.outcome.value,
        remote_address=record.remote_address,
        request_id=record.request_id,
        occurred_at=record.occurred_at,
        state_code=record.state_code,
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def _record(doc: dict[str, Any]) -> AccessRecord:
    actor = doc.get("actor", {})
    occurred_at: datetime = doc["occurred_at"]
    return AccessRecord(
        record_id=doc.get("event_id") or doc["_id"],
        actor=Actor(
            client_id=actor.get("client_id", ""),
            partner_id=actor.get("partner_id", ""),
            roles=tuple(actor.get("roles", ())),
        ),
        action=AccessAction(doc["action"]),
        service=doc.get("service", ""),
        resource_type=doc.get("resource_type", ""),
        resource_id=doc.get("resource_id", ""),
        resource_ids=tuple(doc.get("resource_ids", ())),
        fields=tuple(doc.get("fields", ())),
        purpose=doc.get("purpose", ""),
        outcome=AccessOutcome(doc["outcome"]),
        remote_address=doc.get("remote_address", ""),
        request_id=doc.get("request_id", ""),
        occurred_at=occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC),
        state_code=doc.get("state_code", ""),
    )


class StoredAuditRecords:
    def __init__(self, store: DocumentStore) -> None:
        self._records = store.collection(collection_of(AuditRecordDocument))

    def ensure_indexes(self) -> None:
        self._records.ensure_indexes(indexes_of(AuditRecordDocument))

    def add(self, record: AccessRecord) -> bool:
        try:
            self._records.insert(_document(record))
        except DuplicateDocument:
            return False
        return True

    def page(
        self, record_filter: AccessRecordFilter, *, after: str, limit: int, time_budget_seconds: float
    ) -> RecordPage:
        query: dict[str, Any] = {}
        if record_filter.resource_type:
            query["resource_type"] = record_filter.resource_type
        if record_filter.resource_id:
            # Read on its own, or shown in a listing.
            query["$or"] = [{"resource_id": record_filter.resource_id}, {"resource_ids": record_filter.resource_id}]
        if record_filter.partner_id:
            query["actor.partner_id"] = record_filter.partner_id
        if record_filter.state_codes is not None:
            query["state_code"] = {"$in": list(record_filter.state_codes)}
        found = self._records.page(query, after=after, limit=limit, time_budget_seconds=time_budget_seconds)
        return RecordPage([_record(doc) for doc in found.documents], found.next_after, found.budget_exhausted)
