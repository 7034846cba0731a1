"""Workers in MongoDB (FerretDB locally). One document per worker holds its pending events too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)
from pymongo.collection import Collection

from mrc_plumbing.idempotency import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, insert_once
from mrc_plumbing.outbox import with_events
from mrc_registry.adapters.protobuf_mapping import to_envelope
from mrc_registry.domain.worker import Gender, Place, Worker


class PlaceDocument(EmbeddedDocument):  # type: ignore[misc]
    state_code = StringField(required=True)
    district_code = StringField(required=True)
    subdistrict_code = StringField(default="")
    village_name = StringField(default="")


class WorkerDocument(Document):  # type: ignore[misc]
    """The stored shape of a worker; mongoengine declares it and its indexes, writes go through pymongo."""

    meta = {
        "collection": "workers",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["outbox_pending"], "name": "outbox_pending"},
            {"fields": ["home.district_code"], "name": "home_district"},
            {"fields": ["registering_partner_id"], "name": "registering_partner"},
        ],
    }
    id = StringField(primary_key=True)
    full_name = StringField(required=True)
    gender = StringField(required=True, choices=[g.value for g in Gender])
    birth_year = IntField()
    home = EmbeddedDocumentField(PlaceDocument, required=True)
    occupation = StringField(default="")
    registering_partner_id = StringField(required=True)
    registered_at = DateTimeField(required=True)
    updated_at = DateTimeField(required=True)
    version = IntField(required=True)
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def _to_document(worker: Worker, idempotency_key: str, fingerprint: str) -> dict[str, Any]:
    doc = WorkerDocument(
        id=worker.worker_id,
        full_name=worker.full_name,
        gender=worker.gender.value,
        birth_year=worker.birth_year,
        home=PlaceDocument(**worker.home.__dict__),
        occupation=worker.occupation,
        registering_partner_id=worker.registering_partner_id,
        registered_at=worker.registered_at,
        updated_at=worker.updated_at,
        version=worker.version,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _from_document(doc: dict[str, Any]) -> Worker:
    home = doc["home"]
    return Worker(
        worker_id=doc["_id"],
        full_name=doc["full_name"],
        gender=Gender(doc["gender"]),
        birth_year=doc.get("birth_year"),
        home=Place(
            state_code=home["state_code"],
            district_code=home["district_code"],
            subdistrict_code=home.get("subdistrict_code", ""),
            village_name=home.get("village_name", ""),
        ),
        occupation=doc.get("occupation", ""),
        registering_partner_id=doc["registering_partner_id"],
        registered_at=_utc(doc["registered_at"]),
        updated_at=_utc(doc["updated_at"]),
        version=doc["version"],
    )


class MongoWorkerRepository:
    def __init__(self) -> None:
        self._collection: Collection[Any] = WorkerDocument._get_collection()

    @staticmethod
    def ensure_indexes() -> None:
        WorkerDocument.ensure_indexes()

    def add(self, worker: Worker, *, idempotency_key: str, fingerprint: str) -> tuple[Worker, bool]:
        document = with_events(
            _to_document(worker, idempotency_key, fingerprint),
            [to_envelope(e) for e in worker.pending_events],
        )
        stored, created = insert_once(self._collection, document)
        worker.pending_events.clear()
        return (worker if created else _from_document(stored)), created

    def get(self, worker_id: str) -> Worker | None:
        doc = self._collection.find_one({"_id": worker_id}, {"outbox": 0, FINGERPRINT_FIELD: 0})
        return _from_document(doc) if doc else None
