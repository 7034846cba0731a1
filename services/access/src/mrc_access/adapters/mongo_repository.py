"""Partners and clients in the document store. Each document holds its pending events too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from mongoengine import BooleanField, DateTimeField, DictField, Document, ListField, StringField

from mrc_access.adapters.protobuf_mapping import client_event, partner_event
from mrc_access.domain.client import Client
from mrc_access.domain.geography import Geography
from mrc_access.domain.partner import Partner, PartnerKind
from mrc_kernel.errors import AlreadyExists
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.store import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, OUTBOX_FIELD, DocumentStore, DuplicateDocument
from mrc_plumbing.store.schema import collection_of, indexes_of


class PartnerDocument(Document):  # type: ignore[misc]
    """The stored shape of a partner; mongoengine declares it and its indexes, writes go through pymongo."""

    meta = {
        "collection": "partners",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
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


class StoredPartners:
    def __init__(self, store: DocumentStore) -> None:
        self._partners = store.collection(collection_of(PartnerDocument))

    def ensure_indexes(self) -> None:
        self._partners.ensure_indexes(indexes_of(PartnerDocument))

    def add(
        self, partner: Partner, *, idempotency_key: str, fingerprint: str, audit: Sequence[Event] = ()
    ) -> tuple[Partner, bool]:
        events = [*(partner_event(e) for e in partner.pending_events), *audit]
        stored, created = self._partners.insert_once(
            _partner_document(partner, idempotency_key, fingerprint), events=events
        )
        partner.pending_events.clear()
        return (partner if created else _partner(stored)), created

    def get(self, partner_id: str) -> Partner | None:
        doc = self._partners.get(partner_id, exclude=[OUTBOX_FIELD, FINGERPRINT_FIELD])
        return _partner(doc) if doc else None


class StoredClients:
    def __init__(self, store: DocumentStore) -> None:
        self._clients = store.collection(collection_of(ClientDocument))

    def ensure_indexes(self) -> None:
        self._clients.ensure_indexes(indexes_of(ClientDocument))

    def add(self, client: Client, *, audit: Sequence[Event] = ()) -> None:
        events = [*(client_event(e) for e in client.pending_events), *audit]
        try:
            self._clients.insert(_client_document(client), events=events)
        except DuplicateDocument:
            raise AlreadyExists(f"client {client.client_id!r} already exists") from None
        client.pending_events.clear()

    def get(self, client_id: str) -> Client | None:
        doc = self._clients.get(client_id, exclude=[OUTBOX_FIELD])
        return _client(doc) if doc else None

    def save_revocation(self, client: Client, *, audit: Sequence[Event] = ()) -> bool:
        # Only an unrevoked client changes, so concurrent revocations publish one event between them.
        saved = self._clients.update(
            client.client_id,
            {"$set": {"revoked": True, "revoked_at": client.revoked_at}},
            where={"revoked": False},
            events=[*(client_event(e) for e in client.pending_events), *audit],
        )
        client.pending_events.clear()
        return saved

    def replace_secret_hash(self, client_id: str, secret_hash: str, *, audit: Sequence[Event] = ()) -> None:
        self._clients.update(client_id, {"$set": {"secret_hash": secret_hash}}, events=audit)
