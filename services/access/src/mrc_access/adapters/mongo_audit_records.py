"""The audit trail in the document store: append-only, one document per record, its `_id` the event's id.

There is deliberately no update or delete here: a redelivered event inserts nothing, and nothing
rewrites history.
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
from mrc_access.service_layer.ports import AccessRecordFilter, RecordPosition
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
            # Who touched this worker's (grievance's...) data; `_id` last so the page order needs no sort in memory.
            {"fields": ["resource_type", "resource_id", "-occurred_at", "-_id"], "name": "resource_history"},
            # What this partner touched.
            {"fields": ["actor.partner_id", "-occurred_at", "-_id"], "name": "partner_history"},
            {"fields": ["-occurred_at", "-_id"], "name": "newest_first"},
        ],
    }
    id = StringField(primary_key=True)  # the CloudEvents id
    actor = EmbeddedDocumentField(ActorDocument, required=True)
    action = StringField(required=True, choices=[a.value for a in AccessAction])
    service = StringField(default="")
    resource_type = StringField(default="")
    resource_id = StringField(default="")
    fields = ListField(StringField())
    purpose = StringField(default="")
    outcome = StringField(required=True, choices=[o.value for o in AccessOutcome])
    remote_address = StringField(default="")
    request_id = StringField(default="")
    occurred_at = DateTimeField(required=True)
    state_code = StringField(default="")


def _document(record: AccessRecord) -> dict[str, Any]:
    doc = AuditRecordDocument(
        id=record.record_id,
        actor=ActorDocument(
            client_id=record.actor.client_id, partner_id=record.actor.partner_id, roles=list(record.actor.roles)
        ),
        action=record.action.value,
        service=record.service,
        resource_type=record.resource_type,
        resource_id=record.resource_id,
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
        record_id=doc["_id"],
        actor=Actor(
            client_id=actor.get("client_id", ""),
            partner_id=actor.get("partner_id", ""),
            roles=tuple(actor.get("roles", ())),
        ),
        action=AccessAction(doc["action"]),
        service=doc.get("service", ""),
        resource_type=doc.get("resource_type", ""),
        resource_id=doc.get("resource_id", ""),
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

    def find(
        self, record_filter: AccessRecordFilter, *, after: RecordPosition | None, limit: int
    ) -> list[AccessRecord]:
        query: dict[str, Any] = {}
        if record_filter.resource_type:
            query["resource_type"] = record_filter.resource_type
        if record_filter.resource_id:
            query["resource_id"] = record_filter.resource_id
        if record_filter.partner_id:
            query["actor.partner_id"] = record_filter.partner_id
        if after is not None:
            query["$or"] = [
                {"occurred_at": {"$lt": after.occurred_at}},
                {"occurred_at": after.occurred_at, "_id": {"$lt": after.record_id}},
            ]
        found = self._records.find(query, sort=[("occurred_at", -1), ("_id", -1)], limit=limit)
        return [_record(doc) for doc in found]
