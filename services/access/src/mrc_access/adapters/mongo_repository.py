"""Partners and clients in MongoDB (FerretDB locally). Each document holds its pending events too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mongoengine import BooleanField, DateTimeField, DictField, Document, ListField, StringField
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from mrc_access.adapters.protobuf_mapping import client_event, partner_event
from mrc_access.domain.client import Client
from mrc_access.domain.geography import Geography
from mrc_access.domain.partner import Partner, PartnerKind
from mrc_kernel.errors import AlreadyExists
from mrc_kernel.roles import Role
from mrc_plumbing.idempotency import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, insert_once
from mrc_plumbing.outbox import OUTBOX_FIELD, append_events, with_events


class PartnerDocument(Document):  # type: ignore[misc]
    """The stored shape of a partner; mongoengine declares it and its indexes, writes go through pymongo."""

    meta = {
        "collection": "partners",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["outbox_pending"], "name": "outbox_pending"},
        ],
    }
    id = StringField(primary_key=True)
    name = StringField(required=True)
    kind = StringField(required=True, choices=[k.value for k in PartnerKind])
    state_codes = ListField(StringField())
    district_codes = ListField(StringField())
    employer_id = StringField(default="")
    created_at = DateTimeField(required=True)
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class ClientDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "clients",
        "indexes": [
            {"fields": ["partner_id"], "name": "partner"},
            {"fields": ["outbox_pending"], "name": "outbox_pending"},
        ],
    }
    id = StringField(primary_key=True)
    partner_id = StringField(required=True)
    roles = ListField(StringField(choices=[r.value for r in Role]))
    state_codes = ListField(StringField())
    district_codes = ListField(StringField())
    display_name = StringField(default="")
    secret_hash = StringField(required=True)
    created_at = DateTimeField(required=True)
    revoked = BooleanField(required=True)
    revoked_at = DateTimeField()
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _partner_document(partner: Partner, idempotency_key: str, fingerprint: str) -> dict[str, Any]:
    doc = PartnerDocument(
        id=partner.partner_id,
        name=partner.name,
        kind=partner.kind.value,
        state_codes=list(partner.geography.state_codes),
        district_codes=list(partner.geography.district_codes),
        employer_id=partner.employer_id,
        created_at=partner.created_at,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def _partner(doc: dict[str, Any]) -> Partner:
    return Partner(
        partner_id=doc["_id"],
        name=doc["name"],
        kind=PartnerKind(doc["kind"]),
        geography=Geography(tuple(doc.get("state_codes", ())), tuple(doc.get("district_codes", ()))),
        employer_id=doc.get("employer_id", ""),
        created_at=_utc(doc["created_at"]),
    )


def _client_document(client: Client) -> dict[str, Any]:
    doc = ClientDocument(
        id=client.client_id,
        partner_id=client.partner_id,
        roles=[r.value for r in client.roles],
        state_codes=list(client.geography.state_codes),
        district_codes=list(client.geography.district_codes),
        display_name=client.display_name,
        secret_hash=client.secret_hash,
        created_at=client.created_at,
        revoked=client.revoked,
        revoked_at=client.revoked_at,
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def _client(doc: dict[str, Any]) -> Client:
    revoked_at = doc.get("revoked_at")
    return Client(
        client_id=doc["_id"],
        partner_id=doc["partner_id"],
        roles=tuple(Role(r) for r in doc.get("roles", ())),
        geography=Geography(tuple(doc.get("state_codes", ())), tuple(doc.get("district_codes", ()))),
        display_name=doc.get("display_name", ""),
        secret_hash=doc["secret_hash"],
        created_at=_utc(doc["created_at"]),
        revoked=bool(doc.get("revoked", False)),
        revoked_at=_utc(revoked_at) if revoked_at else None,
    )


class MongoPartnerRepository:
    def __init__(self) -> None:
        self._collection: Collection[Any] = PartnerDocument._get_collection()

    @staticmethod
    def ensure_indexes() -> None:
        PartnerDocument.ensure_indexes()

    def add(self, partner: Partner, *, idempotency_key: str, fingerprint: str) -> tuple[Partner, bool]:
        document = with_events(
            _partner_document(partner, idempotency_key, fingerprint),
            [partner_event(e) for e in partner.pending_events],
        )
        stored, created = insert_once(self._collection, document)
        partner.pending_events.clear()
        return (partner if created else _partner(stored)), created

    def get(self, partner_id: str) -> Partner | None:
        doc = self._collection.find_one({"_id": partner_id}, {OUTBOX_FIELD: 0, FINGERPRINT_FIELD: 0})
        return _partner(doc) if doc else None


class MongoClientRepository:
    def __init__(self) -> None:
        self._collection: Collection[Any] = ClientDocument._get_collection()

    @staticmethod
    def ensure_indexes() -> None:
        ClientDocument.ensure_indexes()

    def add(self, client: Client) -> None:
        document = with_events(_client_document(client), [client_event(e) for e in client.pending_events])
        try:
            self._collection.insert_one(document)
        except DuplicateKeyError:
            raise AlreadyExists(f"client {client.client_id!r} already exists") from None
        client.pending_events.clear()

    def get(self, client_id: str) -> Client | None:
        doc = self._collection.find_one({"_id": client_id}, {OUTBOX_FIELD: 0})
        return _client(doc) if doc else None

    def save_revocation(self, client: Client) -> bool:
        update = append_events(
            {"$set": {"revoked": True, "revoked_at": client.revoked_at}},
            [client_event(e) for e in client.pending_events],
        )
        # Only an unrevoked client changes, so concurrent revocations publish one event between them.
        result = self._collection.update_one({"_id": client.client_id, "revoked": False}, update)
        client.pending_events.clear()
        return result.modified_count == 1

    def replace_secret_hash(self, client_id: str, secret_hash: str) -> None:
        self._collection.update_one({"_id": client_id}, {"$set": {"secret_hash": secret_hash}})
