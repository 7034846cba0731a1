"""Workers in MongoDB (FerretDB locally). One document per worker holds its pending events too.

Stored in clear: names, gender, birth year, home, occupation (needed to find and count people).
Stored only encrypted: phone and identity numbers; Aadhaar not at all (blind index and last 4 only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from pymongo import ASCENDING, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument
from mrc_kernel.events import Event
from mrc_plumbing.conditional_writes import update_if
from mrc_plumbing.idempotency import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, insert_once
from mrc_plumbing.mongo_wiring import bulk_write_in_chunks, point_reads
from mrc_plumbing.outbox import OUTBOX_FIELD, append_events, with_events
from mrc_registry.adapters.protobuf_mapping import to_envelope
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.identity.transliteration import phonetic_keys
from mrc_registry.domain.worker import (
    DocumentKind,
    Gender,
    IdentityDocument,
    Place,
    ProtectedPhone,
    Sector,
    Vulnerability,
    Worker,
    WorkerDetails,
    WorkerStatus,
)
from mrc_registry.service_layer.ports import SearchCriteria

DUPLICATE_KEY = 11000
# A match key lists at most this many workers. A first-name key can otherwise grow to tens of thousands
# of ids at a million workers, and FerretDB rewrites the whole document on every change. A full key
# still finds the workers it lists; searches by a name that common must be narrowed (see `search`).
MAX_WORKERS_PER_KEY = 1000
SEARCH_LOAD_CHUNK = 100


def add_to_keys(match_keys: Collection[Any], ids_by_key: Mapping[str, list[str]]) -> None:
    """List worker ids under match keys: new keys are inserted, keys that exist get the ids added.

    No upserts: under concurrent upserts FerretDB 1.24 (SQLite) leaks pooled connections until it
    deadlocks. The cap is checked on a read rather than in the update's filter: FerretDB reads the whole
    collection for any filter but a bare `_id`. Two concurrent writers may take a key a little past the
    cap; the cap bounds document size, so that is harmless.
    """
    if not ids_by_key:
        return
    existing: list[str] = []
    try:
        match_keys.insert_many(
            [{"_id": key, "worker_ids": ids} for key, ids in sorted(ids_by_key.items())], ordered=False
        )
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        existing = sorted(e["op"]["_id"] for e in errors)
    documents = point_reads(lambda key: match_keys.find_one({"_id": key}), existing)
    ops = [
        UpdateOne({"_id": key}, {"$addToSet": {"worker_ids": {"$each": ids_by_key[key]}}})
        for key, doc in zip(existing, documents, strict=True)
        if doc is not None and len(doc.get("worker_ids", [])) < MAX_WORKERS_PER_KEY
    ]
    if ops:
        bulk_write_in_chunks(match_keys, ops)


class SearchTooBroad(InvalidArgument):
    def __init__(self) -> None:
        super().__init__(
            [
                FieldViolation(
                    "name",
                    f"more than {MAX_WORKERS_PER_KEY} workers have a name like this: "
                    "add a district, a phone or an identity document",
                )
            ]
        )


_PROJECTION = {OUTBOX_FIELD: 0, FINGERPRINT_FIELD: 0, "match_keys": 0}


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
            {"fields": ["match_keys"], "name": "match_keys"},
            {"fields": ["phone_index"], "name": "phone_index"},
            {"fields": ["document_indexes"], "name": "document_indexes"},
            {"fields": ["home.district_code"], "name": "home_district"},
            {"fields": ["registering_partner_id"], "name": "registering_partner"},
        ],
    }
    id = StringField(primary_key=True)
    full_name = StringField(default="")
    latin_name = StringField(default="")
    gender = StringField(choices=[g.value for g in Gender])
    birth_year = IntField()
    home = EmbeddedDocumentField(PlaceDocument, required=True)
    occupation = StringField(default="")
    sector = StringField(choices=[s.value for s in Sector])
    skills = ListField(StringField())
    languages = ListField(StringField())
    vulnerabilities = ListField(StringField())
    father_or_spouse_name = StringField(default="")
    phone = DictField()  # {encrypted, blind_index, last4}
    phone_index = StringField()
    identity_documents = ListField(DictField())  # [{kind, blind_index, masked, encrypted}]
    document_indexes = ListField(StringField())  # "kind:blind index", for exact search
    consents = ListField(DictField())
    status = StringField(required=True, choices=[s.value for s in WorkerStatus])
    merged_into = StringField(default="")
    registering_partner_id = StringField(required=True)
    registered_at = DateTimeField(required=True)
    updated_at = DateTimeField(required=True)
    version = IntField(required=True)
    match_keys = ListField(StringField())
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class WorkerMatchKeyDocument(Document):  # type: ignore[misc]
    """Which workers share a matching key (identity blind index, phone index, phonetic name key...).

    Keyed by `_id` on purpose: FerretDB 1.24 (SQLite) pushes only `_id` equality down to an index, so
    deduplication and search look keys up here, one `_id` at a time, instead of filtering `workers`.
    """

    meta = {"collection": "worker_match_keys"}
    id = StringField(primary_key=True)
    worker_ids = ListField(StringField())


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _consent_document(consent: Consent) -> dict[str, Any]:
    return {
        "consent_id": consent.consent_id,
        "purposes": sorted(p.value for p in consent.purposes),
        "method": consent.method.value,
        "captured_by_partner_id": consent.captured_by_partner_id,
        "captured_at": consent.captured_at,
        "shared_with_partner_ids": sorted(consent.shared_with_partner_ids),
        "witness_name": consent.witness_name,
        "expires_at": consent.expires_at,
        "revoked_at": consent.revoked_at,
    }


def _consent(doc: dict[str, Any]) -> Consent:
    captured_at = _utc(doc["captured_at"])
    assert captured_at is not None
    return Consent(
        consent_id=doc["consent_id"],
        purposes=frozenset(ConsentPurpose(p) for p in doc["purposes"]),
        method=CaptureMethod(doc["method"]),
        captured_by_partner_id=doc["captured_by_partner_id"],
        captured_at=captured_at,
        shared_with_partner_ids=frozenset(doc.get("shared_with_partner_ids", [])),
        witness_name=doc.get("witness_name", ""),
        expires_at=_utc(doc.get("expires_at")),
        revoked_at=_utc(doc.get("revoked_at")),
    )


def _state(worker: Worker, match_keys: set[str] | None) -> dict[str, Any]:
    """The fields a write sets: everything but identity, idempotency and outbox."""
    d = worker.details
    state: dict[str, Any] = {
        "full_name": d.full_name,
        "latin_name": d.latin_name,
        "gender": d.gender.value if d.gender else None,
        "birth_year": d.birth_year,
        "home": d.home.__dict__,
        "occupation": d.occupation,
        "sector": d.sector.value if d.sector else None,
        "skills": list(d.skills),
        "languages": list(d.languages),
        "vulnerabilities": sorted(v.value for v in d.vulnerabilities),
        "father_or_spouse_name": d.father_or_spouse_name,
        "phone": d.phone.__dict__ if d.phone else None,
        "phone_index": d.phone.blind_index if d.phone else None,
        "identity_documents": [{**doc.__dict__, "kind": doc.kind.value} for doc in d.identity_documents],
        "document_indexes": [f"{doc.kind.value}:{doc.blind_index}" for doc in d.identity_documents],
        "consents": [_consent_document(c) for c in worker.consents],
        "status": worker.status.value,
        "merged_into": worker.merged_into,
        "registering_partner_id": worker.registering_partner_id,
        "registered_at": worker.registered_at,
        "updated_at": worker.updated_at,
        "version": worker.version,
    }
    if match_keys is not None:
        state["match_keys"] = sorted(match_keys)
    return state


def _from_document(doc: dict[str, Any]) -> Worker:
    home = doc["home"]
    phone = doc.get("phone")
    registered_at, updated_at = _utc(doc["registered_at"]), _utc(doc["updated_at"])
    assert registered_at is not None
    assert updated_at is not None
    return Worker(
        worker_id=doc["_id"],
        details=WorkerDetails(
            full_name=doc.get("full_name", ""),
            latin_name=doc.get("latin_name", ""),
            gender=Gender(doc["gender"]) if doc.get("gender") else None,
            birth_year=doc.get("birth_year"),
            home=Place(
                state_code=home["state_code"],
                district_code=home["district_code"],
                subdistrict_code=home.get("subdistrict_code", ""),
                village_name=home.get("village_name", ""),
            ),
            occupation=doc.get("occupation", ""),
            sector=Sector(doc["sector"]) if doc.get("sector") else None,
            skills=tuple(doc.get("skills", [])),
            languages=tuple(doc.get("languages", [])),
            vulnerabilities=frozenset(Vulnerability(v) for v in doc.get("vulnerabilities", [])),
            father_or_spouse_name=doc.get("father_or_spouse_name", ""),
            phone=ProtectedPhone(**phone) if phone else None,
            identity_documents=tuple(
                IdentityDocument(
                    kind=DocumentKind(d["kind"]),
                    blind_index=d["blind_index"],
                    masked=d["masked"],
                    encrypted=d["encrypted"],
                )
                for d in doc.get("identity_documents", [])
            ),
        ),
        registering_partner_id=doc["registering_partner_id"],
        registered_at=registered_at,
        updated_at=updated_at,
        consents=[_consent(c) for c in doc.get("consents", [])],
        status=WorkerStatus(doc["status"]),
        merged_into=doc.get("merged_into", ""),
        version=doc["version"],
    )


def _events(worker: Worker, also_publish: Sequence[Event]) -> list[Event]:
    events = [to_envelope(e) for e in worker.pending_events] + list(also_publish)
    worker.pending_events.clear()
    return events


class MongoWorkerRepository:
    def __init__(self) -> None:
        self._collection: Collection[Any] = WorkerDocument._get_collection()
        self._match_keys: Collection[Any] = WorkerMatchKeyDocument._get_collection()

    @staticmethod
    def ensure_indexes() -> None:
        WorkerDocument.ensure_indexes()

    def _index_match_keys(self, worker_id: str, added: set[str], removed: set[str]) -> None:
        # Derived data, written after the worker: a crash in between leaves a worker that matching
        # cannot find until its next change; the worker itself and its events are never lost.
        add_to_keys(self._match_keys, {key: [worker_id] for key in added})
        if removed:
            pulls = [UpdateOne({"_id": key}, {"$pull": {"worker_ids": worker_id}}) for key in sorted(removed)]
            bulk_write_in_chunks(self._match_keys, pulls)

    def _ids_with_key(self, key: str) -> list[str]:
        doc = self._match_keys.find_one({"_id": key})
        return list(doc["worker_ids"]) if doc else []

    def _ids_with_keys(self, keys: Sequence[str]) -> list[list[str]]:
        """Worker ids under each key, in the keys' order; looked up concurrently."""
        return point_reads(self._ids_with_key, keys)

    def add(
        self,
        worker: Worker,
        *,
        idempotency_key: str,
        fingerprint: str,
        match_keys: set[str],
        also_publish: Sequence[Event] = (),
    ) -> tuple[Worker, bool]:
        events = _events(worker, also_publish)
        document = with_events(
            {
                "_id": worker.worker_id,
                **_state(worker, match_keys),
                IDEMPOTENCY_FIELD: idempotency_key,
                FINGERPRINT_FIELD: fingerprint,
            },
            events,
        )
        stored, created = insert_once(self._collection, document)
        if created:
            self._index_match_keys(worker.worker_id, match_keys, set())
        return (worker if created else _from_document(stored)), created

    def _document(self, worker_id: str) -> dict[str, Any] | None:
        return self._collection.find_one({"_id": worker_id}, _PROJECTION)

    def get(self, worker_id: str) -> Worker | None:
        doc = self._document(worker_id)
        return _from_document(doc) if doc else None

    def save(self, worker: Worker, *, match_keys: set[str] | None = None, also_publish: Sequence[Event] = ()) -> None:
        previous: set[str] = set()
        if match_keys is not None:
            stored = self._collection.find_one({"_id": worker.worker_id}, {"match_keys": 1})
            previous = set(stored.get("match_keys", [])) if stored else set()
        events = _events(worker, also_publish)
        # Optimistic concurrency: the stored version must be the one this change started from.
        saved = update_if(
            self._collection,
            worker.worker_id,
            {"version": {"$lt": worker.version}},
            append_events({"$set": _state(worker, match_keys)}, events),
        )
        if not saved:
            raise Conflict(f"worker {worker.worker_id} changed meanwhile; read it again")
        if match_keys is not None:
            self._index_match_keys(worker.worker_id, match_keys - previous, previous - match_keys)

    def _active(self, worker_ids: list[str]) -> list[Worker]:
        documents = point_reads(self._document, worker_ids)
        return [_from_document(doc) for doc in documents if doc and doc["status"] == WorkerStatus.ACTIVE.value]

    def find_candidates(self, match_keys: set[str], *, exclude: str = "", limit: int = 50) -> list[Worker]:
        # Workers listed under more of the keys come first: when common keys list more than `limit`
        # workers, the likeliest duplicates are the ones still read.
        shared: dict[str, int] = {}
        for key_ids in self._ids_with_keys(sorted(match_keys)):
            for worker_id in key_ids:
                if worker_id != exclude:
                    shared[worker_id] = shared.get(worker_id, 0) + 1
        ranked = sorted(shared, key=lambda worker_id: -shared[worker_id])  # stable: ties keep key order
        return self._active(ranked[:limit])

    def search(self, criteria: SearchCriteria, *, after: str, limit: int) -> list[Worker]:
        keyed = [
            *([f"phone:{criteria.phone_index}"] if criteria.phone_index else []),
            *([criteria.document_index] if criteria.document_index else []),
        ]
        if keyed or criteria.name_keys:
            # Every exact criterion must match; any of the name's phonetic keys may.
            candidate_sets = [set(ids) for ids in self._ids_with_keys(keyed)]
            by_name = set(criteria.name_keys)
            if by_name:
                name_lists = self._ids_with_keys(sorted(by_name))
                if all(len(ids) < MAX_WORKERS_PER_KEY for ids in name_lists):
                    candidate_sets.append({i for ids in name_lists for i in ids})
                    by_name = set()  # the lists are complete: no need to check names again
                elif not keyed:
                    # Too common a name to list: the district's first-name key must narrow it down.
                    district_lists = self._ids_with_keys(sorted(criteria.name_district_keys))
                    if not district_lists or any(len(ids) >= MAX_WORKERS_PER_KEY for ids in district_lists):
                        raise SearchTooBroad()
                    candidate_sets.append({i for ids in district_lists for i in ids})
            ids = sorted(i for i in set.intersection(*candidate_sets) if i > after)
            found: list[Worker] = []
            # Read in chunks, in id order, only as far as the page needs.
            for start in range(0, len(ids), SEARCH_LOAD_CHUNK):
                for worker in self._active(ids[start : start + SEARCH_LOAD_CHUNK]):
                    if _matches(worker, criteria) and (not by_name or by_name & _name_keys(worker)):
                        found.append(worker)
                        if len(found) == limit:
                            return found
            return found
        query: dict[str, Any] = {"status": WorkerStatus.ACTIVE.value}
        if criteria.district_code:
            query["home.district_code"] = criteria.district_code
        if criteria.registering_partner_id:
            query["registering_partner_id"] = criteria.registering_partner_id
        if criteria.sector:
            query["sector"] = criteria.sector.value
        if after:
            query["_id"] = {"$gt": after}
        cursor = self._collection.find(query, _PROJECTION).sort("_id", ASCENDING).limit(limit)
        return [_from_document(d) for d in cursor]


_GROUP_FIELDS = {
    "home_state": "home.state_code",
    "home_district": "home.district_code",
    "sector": "sector",
    "gender": "gender",
}


class MongoWorkerCounter:
    """Counts for dashboards; a scan, which is fine for a query that runs now and then."""

    def __init__(self) -> None:
        self._collection: Collection[Any] = WorkerDocument._get_collection()

    def count_by(self, group_by: Any, state_code: str) -> dict[str, int]:
        path = _GROUP_FIELDS[str(group_by)]
        query = {"home.state_code": state_code} if state_code else {}
        counts: dict[str, int] = {}
        for doc in self._collection.find(query, {"home": 1, "sector": 1, "gender": 1}):
            value: Any = doc
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            key = str(value or "unknown")
            counts[key] = counts.get(key, 0) + 1
        return counts


def _name_keys(worker: Worker) -> set[str]:
    return {f"name:{k}" for k in phonetic_keys(worker.details.latin_name or worker.details.full_name)}


def _matches(worker: Worker, criteria: SearchCriteria) -> bool:
    details = worker.details
    return (
        (not criteria.district_code or details.home.district_code == criteria.district_code)
        and (not criteria.registering_partner_id or worker.registering_partner_id == criteria.registering_partner_id)
        and (criteria.sector is None or details.sector == criteria.sector)
    )
