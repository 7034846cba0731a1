"""Grievances in MongoDB (FerretDB locally). One document per grievance holds its pending events too.

The summary, the complainant's own account, is stored encrypted with the field cipher under the data key
of the grievance's state (`mrc_plumbing.crypto`); it is decrypted only when a grievance is read back.

Also the tombstones of erased workers, one document each under the worker's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
    StringField,
)
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from mrc_grievance.adapters.protobuf_mapping import to_envelope
from mrc_grievance.domain.grievance import (
    Grievance,
    GrievanceCategory,
    GrievanceStatus,
    IntakeChannel,
    Place,
)
from mrc_kernel.events import Event
from mrc_plumbing.idempotency import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, insert_once
from mrc_plumbing.outbox import OUTBOX_FIELD, with_events

# The cipher's field name (its associated data): a summary token decrypts as nothing else.
SUMMARY_FIELD = "grievance.summary"


class FieldCipher(Protocol):
    """The part of `mrc_plumbing.crypto.FieldCipher` used here (`connections.crypto.cipher`)."""

    def encrypt(self, state_code: str, field: str, plaintext: str) -> str: ...

    def decrypt(self, field: str, token: str) -> str: ...


class PlaceDocument(EmbeddedDocument):  # type: ignore[misc]
    state_code = StringField(required=True)
    district_code = StringField(required=True)
    subdistrict_code = StringField(default="")
    village_name = StringField(default="")


class GrievanceDocument(Document):  # type: ignore[misc]
    """The stored shape of a grievance; mongoengine declares it and its indexes, writes go through pymongo."""

    meta = {
        "collection": "grievances",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["outbox_pending"], "name": "outbox_pending"},
            {"fields": ["location.district_code"], "name": "location_district"},
            {"fields": ["worker_id"], "name": "worker"},
            {"fields": ["employer_id"], "name": "employer"},
            {"fields": ["status"], "name": "status"},
        ],
    }
    id = StringField(primary_key=True)
    worker_id = StringField(default="")
    category = StringField(required=True, choices=[c.value for c in GrievanceCategory])
    channel = StringField(required=True, choices=[c.value for c in IntakeChannel])
    summary = StringField(required=True)  # a field cipher token (enc:v1:<state>:...), never the text
    location = EmbeddedDocumentField(PlaceDocument, required=True)
    employer_id = StringField(default="")
    status = StringField(required=True, choices=[s.value for s in GrievanceStatus])
    anonymous = BooleanField(required=True)
    filed_at = DateTimeField(required=True)
    # Internal: which partner filed it; not in the contract, never returned or published.
    filed_by_partner_id = StringField(default="")
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class ErasedWorkerDocument(Document):  # type: ignore[misc]
    """A tombstone: the worker was erased, so no grievance of another worker may be merged into them.

    Only the worker id (a random UUID, nothing personal) and when. Kept for good: an event about the
    worker may be redelivered at any time.
    """

    meta = {"collection": "erased_workers"}
    id = StringField(primary_key=True)  # the worker id
    erased_at = DateTimeField(required=True)


def _to_document(grievance: Grievance, idempotency_key: str, fingerprint: str, cipher: FieldCipher) -> dict[str, Any]:
    doc = GrievanceDocument(
        id=grievance.grievance_id,
        worker_id=grievance.worker_id,
        category=grievance.category.value,
        channel=grievance.channel.value,
        summary=cipher.encrypt(grievance.location.state_code, SUMMARY_FIELD, grievance.summary),
        location=PlaceDocument(**grievance.location.__dict__),
        employer_id=grievance.employer_id,
        status=grievance.status.value,
        anonymous=grievance.anonymous,
        filed_at=grievance.filed_at,
        filed_by_partner_id=grievance.filed_by_partner_id,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _from_document(doc: dict[str, Any], cipher: FieldCipher) -> Grievance:
    location = doc["location"]
    return Grievance(
        grievance_id=doc["_id"],
        worker_id=doc.get("worker_id", ""),
        category=GrievanceCategory(doc["category"]),
        channel=IntakeChannel(doc["channel"]),
        summary=cipher.decrypt(SUMMARY_FIELD, doc["summary"]),
        location=Place(
            state_code=location["state_code"],
            district_code=location["district_code"],
            subdistrict_code=location.get("subdistrict_code", ""),
            village_name=location.get("village_name", ""),
        ),
        employer_id=doc.get("employer_id", ""),
        status=GrievanceStatus(doc["status"]),
        anonymous=bool(doc["anonymous"]),
        filed_at=_utc(doc["filed_at"]),
        filed_by_partner_id=doc.get("filed_by_partner_id", ""),
    )


class MongoGrievanceRepository:
    def __init__(
        self,
        cipher: FieldCipher,
        collection: Collection[Any] | None = None,
        erased_workers: Collection[Any] | None = None,
    ) -> None:
        self._cipher = cipher
        self._collection: Collection[Any] = GrievanceDocument._get_collection() if collection is None else collection
        self._erased: Collection[Any] = (
            ErasedWorkerDocument._get_collection() if erased_workers is None else erased_workers
        )

    @staticmethod
    def ensure_indexes() -> None:
        GrievanceDocument.ensure_indexes()

    def add(
        self,
        grievance: Grievance,
        *,
        idempotency_key: str,
        fingerprint: str,
        extra_events: Sequence[Event] = (),
    ) -> tuple[Grievance, bool]:
        document = with_events(
            _to_document(grievance, idempotency_key, fingerprint, self._cipher),
            [*(to_envelope(e) for e in grievance.pending_events), *extra_events],
        )
        stored, created = insert_once(self._collection, document)
        grievance.pending_events.clear()
        return (grievance if created else _from_document(stored, self._cipher)), created

    def get(self, grievance_id: str) -> Grievance | None:
        doc = self._collection.find_one({"_id": grievance_id}, {OUTBOX_FIELD: 0, FINGERPRINT_FIELD: 0})
        return _from_document(doc, self._cipher) if doc else None

    def anonymise_worker(self, worker_id: str, summary: str) -> int:
        if not worker_id:  # an empty id would match every anonymous grievance
            return 0
        anonymised = 0
        for doc in list(self._collection.find({"worker_id": worker_id}, {"location": 1})):
            token = self._cipher.encrypt(doc["location"]["state_code"], SUMMARY_FIELD, summary)
            # Conditional on the worker id, so a redelivery (or a second consumer) cannot overwrite twice.
            result = self._collection.update_one(
                {"_id": doc["_id"], "worker_id": worker_id}, {"$set": {"worker_id": "", "summary": token}}
            )
            anonymised += result.modified_count
        return anonymised

    def rekey_worker(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        if not merged_worker_id or not surviving_worker_id or merged_worker_id == surviving_worker_id:
            return 0
        result = self._collection.update_many(
            {"worker_id": merged_worker_id}, {"$set": {"worker_id": surviving_worker_id}}
        )
        return result.modified_count

    def remember_erased(self, worker_id: str, *, at: datetime) -> bool:
        try:
            # Insert only, no upsert (concurrent upserts make FerretDB 1.24 leak connections): a duplicate
            # key means it is remembered already.
            self._erased.insert_one({"_id": worker_id, "erased_at": at})
        except DuplicateKeyError:
            return False
        return True

    def is_erased(self, worker_id: str) -> bool:
        return self._erased.find_one({"_id": worker_id}, {"_id": 1}) is not None
