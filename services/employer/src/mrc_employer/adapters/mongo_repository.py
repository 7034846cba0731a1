"""Employers in MongoDB (FerretDB locally). One document per employer holds its pending events too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

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

from mrc_employer.adapters.protobuf_mapping import to_envelope
from mrc_employer.domain.employer import Employer, EmployerKind, Place, Sector
from mrc_kernel.errors import AlreadyExists
from mrc_kernel.events import Event
from mrc_plumbing.idempotency import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, insert_once
from mrc_plumbing.outbox import with_events


class PlaceDocument(EmbeddedDocument):  # type: ignore[misc]
    state_code = StringField(required=True)
    district_code = StringField(required=True)
    subdistrict_code = StringField(default="")
    village_name = StringField(default="")


class EmployerDocument(Document):  # type: ignore[misc]
    """The stored shape of an employer; mongoengine declares it and its indexes, writes go through pymongo."""

    meta = {
        "collection": "employers",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["outbox_pending"], "name": "outbox_pending"},
            {"fields": ["location.district_code"], "name": "location_district"},
            {"fields": ["registration_number"], "name": "registration_number"},
        ],
    }
    id = StringField(primary_key=True)
    legal_name = StringField(required=True)
    kind = StringField(required=True, choices=[k.value for k in EmployerKind])
    sector = StringField(required=True, choices=[s.value for s in Sector])
    location = EmbeddedDocumentField(PlaceDocument, required=True)
    registration_number = StringField(default="")
    registered_at = DateTimeField(required=True)
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def _to_document(employer: Employer, idempotency_key: str, fingerprint: str) -> dict[str, Any]:
    doc = EmployerDocument(
        id=employer.employer_id,
        legal_name=employer.legal_name,
        kind=employer.kind.value,
        sector=employer.sector.value,
        location=PlaceDocument(**employer.location.__dict__),
        registration_number=employer.registration_number,
        registered_at=employer.registered_at,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _from_document(doc: dict[str, Any]) -> Employer:
    location = doc["location"]
    return Employer(
        employer_id=doc["_id"],
        legal_name=doc["legal_name"],
        kind=EmployerKind(doc["kind"]),
        sector=Sector(doc["sector"]),
        location=Place(
            state_code=location["state_code"],
            district_code=location["district_code"],
            subdistrict_code=location.get("subdistrict_code", ""),
            village_name=location.get("village_name", ""),
        ),
        registration_number=doc.get("registration_number", ""),
        registered_at=_utc(doc["registered_at"]),
    )


class MongoEmployerRepository:
    def __init__(self) -> None:
        self._collection: Collection[Any] = EmployerDocument._get_collection()

    @staticmethod
    def ensure_indexes() -> None:
        EmployerDocument.ensure_indexes()

    def add(
        self,
        employer: Employer,
        *,
        idempotency_key: str,
        fingerprint: str,
        extra_events: Sequence[Event] = (),
    ) -> tuple[Employer, bool]:
        document = with_events(
            _to_document(employer, idempotency_key, fingerprint),
            [*(to_envelope(e) for e in employer.pending_events), *extra_events],
        )
        try:
            stored, created = insert_once(self._collection, document)
        except DuplicateKeyError:
            # Not a retry (that would have matched its idempotency key): the id is taken.
            raise AlreadyExists(f"employer {employer.employer_id!r} is already registered") from None
        employer.pending_events.clear()
        return (employer if created else _from_document(stored)), created

    def get(self, employer_id: str) -> Employer | None:
        doc = self._collection.find_one({"_id": employer_id}, {"outbox": 0, FINGERPRINT_FIELD: 0})
        return _from_document(doc) if doc else None
