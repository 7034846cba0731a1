"""Organisations in the document store: one document per organisation, holding its worksites, the
recruitment links it holds as recruiter, and its pending events (the outbox).

Public identifiers (GSTINs, LINs, licence numbers) are kept in `public_keys`, looked up through the
store's key index (a multikey index on MongoDB, key documents on FerretDB): the public verification
and the check that no two organisations claim one identifier read it. Writes go through the store
port, conditional on the version read (optimistic concurrency).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from mongoengine import BooleanField, DateTimeField, DictField, Document, IntField, ListField, StringField

from mrc_employer.adapters.protobuf_mapping import organisation_event_envelope
from mrc_employer.domain.identifiers import IdentifierKind, OrganisationIdentifier
from mrc_employer.domain.licences import Licence, LicenceKind, LicenceStatus
from mrc_employer.domain.minimum_wages import WageSphere
from mrc_employer.domain.organisation import Organisation, OrganisationRole
from mrc_employer.domain.recruitment_links import RecruitmentLink
from mrc_employer.domain.worksites import WageBasis, Worksite, WorksiteKind
from mrc_kernel.errors import AlreadyExists, Conflict
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Sector
from mrc_plumbing.store import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, OUTBOX_FIELD, DocumentStore, DuplicateDocument
from mrc_plumbing.store.schema import collection_of, indexes_of

PUBLIC_KEYS_FIELD = "public_keys"
_EXCLUDED = [OUTBOX_FIELD, FINGERPRINT_FIELD]


class EmployerDocument(Document):  # type: ignore[misc]
    """The stored shape of an organisation; mongoengine declares it and its indexes, writes go through the port."""

    meta = {
        "collection": "employers",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["location.district_code"], "name": "location_district"},
        ],
    }
    id = StringField(primary_key=True)
    legal_name = StringField(required=True)
    roles = ListField(StringField(choices=[r.value for r in OrganisationRole]))
    sector = StringField(required=True, choices=[s.value for s in Sector])
    location = DictField(required=True)
    identifiers = ListField(DictField())
    licences = ListField(DictField())
    registration_number = StringField(default="")
    registering_partner_id = StringField(default="")
    worksites = ListField(DictField())
    recruits_for = ListField(DictField())
    recruited_by = ListField(StringField())
    public_keys = ListField(StringField())
    registered_at = DateTimeField(required=True)
    updated_at = DateTimeField(required=True)
    version = IntField(required=True)
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def place_document(place: Place) -> dict[str, str]:
    return {
        "state_code": place.state_code,
        "district_code": place.district_code,
        "subdistrict_code": place.subdistrict_code,
        "village_name": place.village_name,
    }


def place_of(doc: dict[str, Any]) -> Place:
    return Place(
        state_code=doc["state_code"],
        district_code=doc["district_code"],
        subdistrict_code=doc.get("subdistrict_code", ""),
        village_name=doc.get("village_name", ""),
    )


def _licence_document(licence: Licence) -> dict[str, Any]:
    return {
        "kind": licence.kind.value,
        "number": licence.number,
        "issuing_authority": licence.issuing_authority,
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat(),
        "issuing_state_code": licence.issuing_state_code,
        "max_workers": licence.max_workers,
        "status": licence.status.value,
        "status_reason": licence.status_reason,
    }


def _licence(doc: dict[str, Any]) -> Licence:
    return Licence(
        kind=LicenceKind(doc["kind"]),
        number=doc["number"],
        issuing_authority=doc["issuing_authority"],
        valid_from=date.fromisoformat(doc["valid_from"]),
        valid_until=date.fromisoformat(doc["valid_until"]),
        issuing_state_code=doc.get("issuing_state_code", ""),
        max_workers=doc.get("max_workers"),
        status=LicenceStatus(doc.get("status", LicenceStatus.ACTIVE.value)),
        status_reason=doc.get("status_reason", ""),
    )


def _worksite_document(worksite: Worksite) -> dict[str, Any]:
    return {
        "worksite_id": worksite.worksite_id,
        "kind": worksite.kind.value,
        "sector": worksite.sector.value,
        "place": place_document(worksite.place),
        "wage_basis": {
            "sphere": worksite.wage_basis.sphere.value,
            "scheduled_employment": worksite.wage_basis.scheduled_employment,
            "area": worksite.wage_basis.area,
        },
        "name": worksite.name,
        "added_at": worksite.added_at,
        "version": worksite.version,
    }


def _worksite(organisation_id: str, doc: dict[str, Any]) -> Worksite:
    basis = doc["wage_basis"]
    return Worksite(
        worksite_id=doc["worksite_id"],
        organisation_id=organisation_id,
        kind=WorksiteKind(doc["kind"]),
        sector=Sector(doc["sector"]),
        place=place_of(doc["place"]),
        wage_basis=WageBasis(WageSphere(basis["sphere"]), basis["scheduled_employment"], basis.get("area", "")),
        name=doc.get("name", ""),
        added_at=utc(doc["added_at"]),
        version=doc.get("version", 1),
    )


def _link_document(link: RecruitmentLink) -> dict[str, Any]:
    return {
        "link_id": link.link_id,
        "recruiter_id": link.recruiter_id,
        "client_id": link.client_id,
        "since": link.since.isoformat(),
        "until": link.until.isoformat() if link.until else "",
        "worksite_id": link.worksite_id,
        "recorded_at": link.recorded_at,
    }


def _link(doc: dict[str, Any]) -> RecruitmentLink:
    since = _day(doc["since"])
    assert since is not None
    recorded_at = doc.get("recorded_at")
    return RecruitmentLink(
        link_id=doc["link_id"],
        recruiter_id=doc["recruiter_id"],
        client_id=doc["client_id"],
        since=since,
        until=_day(doc.get("until")),
        worksite_id=doc.get("worksite_id", ""),
        recorded_at=utc(recorded_at) if recorded_at else None,
    )


def public_keys(organisation: Organisation) -> list[str]:
    return sorted(organisation.public_lookup_keys())


def _changing_fields(organisation: Organisation) -> dict[str, Any]:
    """What a change may set: everything but the id, the registration facts and the idempotency fields."""
    return {
        "legal_name": organisation.legal_name,
        "roles": sorted(r.value for r in organisation.roles),
        "sector": organisation.sector.value,
        "location": place_document(organisation.location),
        "identifiers": [{"kind": i.kind.value, "value": i.value} for i in organisation.identifiers],
        "licences": [_licence_document(licence) for licence in organisation.licences],
        "registration_number": organisation.registration_number,
        "worksites": [_worksite_document(w) for w in organisation.worksites],
        "recruits_for": [_link_document(link) for link in organisation.recruits_for],
        PUBLIC_KEYS_FIELD: public_keys(organisation),
        "updated_at": organisation.updated_at,
        "version": organisation.version,
    }


def organisation_document(organisation: Organisation, idempotency_key: str, fingerprint: str) -> dict[str, Any]:
    doc = EmployerDocument(
        id=organisation.organisation_id,
        registering_partner_id=organisation.registering_partner_id,
        recruited_by=sorted(organisation.recruited_by),
        registered_at=organisation.registered_at,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        **_changing_fields(organisation),
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def organisation_of(doc: dict[str, Any]) -> Organisation:
    organisation_id = doc["_id"]
    return Organisation(
        organisation_id=organisation_id,
        legal_name=doc["legal_name"],
        roles=frozenset(OrganisationRole(r) for r in doc["roles"]),
        sector=Sector(doc["sector"]),
        location=place_of(doc["location"]),
        identifiers=tuple(
            OrganisationIdentifier(IdentifierKind(i["kind"]), i["value"]) for i in doc.get("identifiers", [])
        ),
        licences=tuple(_licence(licence) for licence in doc.get("licences", [])),
        registered_at=utc(doc["registered_at"]),
        updated_at=utc(doc["updated_at"]),
        registration_number=doc.get("registration_number", ""),
        registering_partner_id=doc.get("registering_partner_id", ""),
        worksites=tuple(_worksite(organisation_id, w) for w in doc.get("worksites", [])),
        recruits_for=tuple(_link(link) for link in doc.get("recruits_for", [])),
        recruited_by=frozenset(doc.get("recruited_by", [])),
        version=doc["version"],
    )


class StoredOrganisations:
    """`Organisations` on the document store."""

    def __init__(self, store: DocumentStore) -> None:
        self._collection = store.collection(collection_of(EmployerDocument))
        self._keys = store.key_index(collection_of(EmployerDocument), PUBLIC_KEYS_FIELD)

    def ensure_indexes(self) -> None:
        self._collection.ensure_indexes(indexes_of(EmployerDocument))

    def _envelopes(self, organisation: Organisation, also_publish: Sequence[Event]) -> list[Event]:
        return [*(organisation_event_envelope(e) for e in organisation.pending_events), *also_publish]

    def add(
        self, organisation: Organisation, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event]
    ) -> tuple[Organisation, bool]:
        document = organisation_document(organisation, idempotency_key, fingerprint)
        self._keys.added(organisation.organisation_id, document[PUBLIC_KEYS_FIELD])
        try:
            stored, created = self._collection.insert_once(document, events=self._envelopes(organisation, also_publish))
        except DuplicateDocument:
            # Not a retry (that would have matched its idempotency key): the id is taken.
            raise AlreadyExists("this organisation is already registered") from None
        organisation.pending_events.clear()
        return (organisation if created else organisation_of(stored)), created

    def get(self, organisation_id: str) -> Organisation | None:
        doc = self._collection.get(organisation_id, exclude=_EXCLUDED)
        return organisation_of(doc) if doc else None

    def get_many(self, organisation_ids: Sequence[str]) -> list[Organisation]:
        return [organisation_of(d) for d in self._collection.get_many(list(organisation_ids), exclude=_EXCLUDED)]

    def save(self, organisation: Organisation, *, expected_version: int, also_publish: Sequence[Event]) -> None:
        current = self._collection.get(organisation.organisation_id, fields=[PUBLIC_KEYS_FIELD])
        before = set(current.get(PUBLIC_KEYS_FIELD, [])) if current else set()
        after = set(public_keys(organisation))
        if after - before:
            self._keys.added(organisation.organisation_id, sorted(after - before))
        stored = self._collection.update(
            organisation.organisation_id,
            {"$set": _changing_fields(organisation)},
            where={"version": expected_version},
            events=self._envelopes(organisation, also_publish),
        )
        if not stored:
            raise Conflict(f"organisation {organisation.organisation_id} changed meanwhile; read it again")
        if before - after:
            self._keys.removed(organisation.organisation_id, sorted(before - after))
        organisation.pending_events.clear()

    def add_recruiter(self, client_id: str, recruiter_id: str) -> None:
        self._collection.update(client_id, {"$addToSet": {"recruited_by": recruiter_id}})

    def holder_of(self, public_key: str) -> str | None:
        for organisation_id in self._keys.listing(public_key, limit=5).ids:
            # A key may still list a document that no longer carries it (an interrupted change): re-check.
            doc = self._collection.get(organisation_id, fields=[PUBLIC_KEYS_FIELD])
            if doc and public_key in doc.get(PUBLIC_KEYS_FIELD, []):
                return organisation_id
        return None
