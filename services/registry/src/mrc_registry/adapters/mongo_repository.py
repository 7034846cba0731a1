"""Workers in the document store. One document per worker holds its pending events too.

Stored in clear: names, gender, birth year, home, occupation (needed to find and count people).
Stored only encrypted: phone and identity numbers; Aadhaar not at all (blind index and last 4 only).

Deduplication and search find workers through their match keys (identity blind indexes, phone index,
phonetic name keys...), kept in the document and in the store's key index for the `match_keys` field:
an index on MongoDB, key documents on FerretDB (where a key may list only so many workers).

Cross-state federation: every write of a worker that raised events asks the federation publisher (when
the process has peers) what other states must be told, and stores those events in the same write
(`federation_publisher.py`). Copies of other states' records live here too, marked `foreign`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

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

from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Gender, Sector
from mrc_plumbing.store import (
    APPLIED_EVENTS_FIELD,
    FINGERPRINT_FIELD,
    IDEMPOTENCY_FIELD,
    OUTBOX_FIELD,
    DocumentStore,
    DuplicateDocument,
)
from mrc_plumbing.store.schema import collection_of, indexes_of
from mrc_registry.adapters.protobuf_mapping import to_envelope
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.federation import ForeignRecord
from mrc_registry.domain.identity.matching import MATCH_KEYS_VERSION
from mrc_registry.domain.identity.transliteration import phonetic_keys
from mrc_registry.domain.worker import (
    DocumentKind,
    IdentityDocument,
    ProtectedPhone,
    Vulnerability,
    Worker,
    WorkerDetails,
    WorkerStatus,
)
from mrc_registry.service_layer.ports import NewWorker, SearchCriteria, SearchPage

MATCH_KEYS_FIELD = "match_keys"
# Which rules computed the stored keys (`MATCH_KEYS_VERSION`); older ones are re-keyed in the background.
MATCH_KEYS_VERSION_FIELD = "match_keys_version"
CONSENT_EXPIRIES_FIELD = "consent_expiries"
SEARCH_LOAD_CHUNK = 100
# A listing by district or partner alone reads at most this long before answering with what it found.
LISTING_TIME_BUDGET_SECONDS = 2.0


class SearchTooBroad(InvalidArgument):
    """A name too common for the store to list on its own (a capped key on FerretDB): narrow it down."""

    def __init__(self) -> None:
        super().__init__(
            [
                FieldViolation(
                    "name",
                    "too many workers have a name like this to list: add a district, a phone or an identity document",
                )
            ]
        )


_PURPOSES = frozenset(p.value for p in ConsentPurpose)
SHARED_WITH_FIELD = "shared_with_states"
FOREIGN_FIELD = "foreign"
_EXCLUDED = [
    OUTBOX_FIELD,
    FINGERPRINT_FIELD,
    MATCH_KEYS_FIELD,
    MATCH_KEYS_VERSION_FIELD,
    CONSENT_EXPIRIES_FIELD,
    APPLIED_EVENTS_FIELD,
]
# This registry's own records, not copies (a record stored before the federation has no `foreign` at all).
_OWN_RECORDS = {f"{FOREIGN_FIELD}.home_state_code": {"$exists": False}}
# What a copy's home state owns: replacing a copy leaves the rest (the consents of this state's partners).
_LOCAL_FIELDS = ("consents", "version")


class FederationEvents(Protocol):
    """What a change of a worker must tell other states (`federation_publisher.FederationPublisher`)."""

    def worker_events(self, worker: Worker) -> list[Event]: ...


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
            {"fields": ["phone_index"], "name": "phone_index"},
            {"fields": ["document_indexes"], "name": "document_indexes"},
            {"fields": ["home.district_code"], "name": "home_district"},
            {"fields": ["registering_partner_id"], "name": "registering_partner"},
            {"fields": ["consent_expiries"], "name": "consent_expiries", "sparse": True},
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
    consent_expiries = ListField(DateTimeField())
    status = StringField(required=True, choices=[s.value for s in WorkerStatus])
    merged_into = StringField(default="")
    registering_partner_id = StringField(required=True)
    registered_at = DateTimeField(required=True)
    updated_at = DateTimeField(required=True)
    version = IntField(required=True)
    # LGD codes of the other states the record was last shared with (cross-state federation).
    shared_with_states = ListField(StringField())
    # Set on a read-only copy of another state's record: where it comes from and the consent allowing it.
    foreign = DictField()
    match_keys = ListField(StringField())
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _foreign_document(foreign: ForeignRecord | None) -> dict[str, Any] | None:
    if foreign is None:
        return None
    return {
        "home_state_code": foreign.home_state_code,
        "local_state_code": foreign.local_state_code,
        "consent_id": foreign.consent_id,
        "purposes": sorted(p.value for p in foreign.purposes),
        "consent_expires_at": foreign.consent_expires_at,
        "shared_with_state_codes": sorted(foreign.shared_with_state_codes),
        "source_version": foreign.source_version,
        "shared_at": foreign.shared_at,
    }


def _foreign(doc: dict[str, Any] | None) -> ForeignRecord | None:
    if not doc:
        return None
    shared_at = _utc(doc["shared_at"])
    assert shared_at is not None
    return ForeignRecord(
        home_state_code=doc["home_state_code"],
        local_state_code=doc["local_state_code"],
        consent_id=doc.get("consent_id", ""),
        purposes=frozenset(ConsentPurpose(p) for p in doc.get("purposes", []) if p in _PURPOSES),
        consent_expires_at=_utc(doc.get("consent_expires_at")),
        shared_with_state_codes=frozenset(doc.get("shared_with_state_codes", [])),
        source_version=int(doc["source_version"]),
        shared_at=shared_at,
    )


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
        "expiry_announced": consent.expiry_announced,
        "shared_with_state_codes": sorted(consent.shared_with_state_codes),
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
        expiry_announced=bool(doc.get("expiry_announced", False)),
        shared_with_state_codes=frozenset(doc.get("shared_with_state_codes", [])),
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
        # When consents not yet announced as expired will expire: the expiry sweep looks for these.
        CONSENT_EXPIRIES_FIELD: worker.unannounced_expiries(),
        "status": worker.status.value,
        "merged_into": worker.merged_into,
        "registering_partner_id": worker.registering_partner_id,
        "registered_at": worker.registered_at,
        "updated_at": worker.updated_at,
        "version": worker.version,
        SHARED_WITH_FIELD: sorted(worker.shared_with_states),
        FOREIGN_FIELD: _foreign_document(worker.foreign),
    }
    if match_keys is not None:
        state[MATCH_KEYS_FIELD] = sorted(match_keys)
        state[MATCH_KEYS_VERSION_FIELD] = MATCH_KEYS_VERSION
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
        shared_with_states=frozenset(doc.get(SHARED_WITH_FIELD) or ()),
        foreign=_foreign(doc.get(FOREIGN_FIELD)),
    )


class StoredWorkers:
    def __init__(self, store: DocumentStore, *, federation: FederationEvents | None = None) -> None:
        self._workers = store.collection(collection_of(WorkerDocument))
        self._keys = store.key_index(collection_of(WorkerDocument), MATCH_KEYS_FIELD)
        self._federation = federation

    def _events(self, worker: Worker, also_publish: Sequence[Event]) -> list[Event]:
        """The envelopes to store with a write of the worker: its domain events, what other states must be
        told (which also records where the worker is shared: call it before reading the worker's state),
        and `also_publish`."""
        federated = self._federation.worker_events(worker) if self._federation and worker.pending_events else []
        events = [to_envelope(e) for e in worker.pending_events] + federated + list(also_publish)
        worker.pending_events.clear()
        return events

    def ensure_indexes(self) -> None:
        self._workers.ensure_indexes(indexes_of(WorkerDocument))

    def add(
        self,
        worker: Worker,
        *,
        idempotency_key: str,
        fingerprint: str,
        match_keys: set[str],
        also_publish: Sequence[Event] = (),
    ) -> tuple[Worker, bool]:
        events = self._events(worker, also_publish)
        # Keys first: an interruption can then leave a key naming a worker that is not stored (readers
        # skip it), never a stored worker that matching cannot find.
        self._keys.added(worker.worker_id, match_keys)
        stored, created = self._workers.insert_once(
            {
                "_id": worker.worker_id,
                **_state(worker, match_keys),
                IDEMPOTENCY_FIELD: idempotency_key,
                FINGERPRINT_FIELD: fingerprint,
            },
            events=events,
        )
        return (worker if created else _from_document(stored)), created

    def add_many(self, workers: Sequence[NewWorker]) -> set[str]:
        if not workers:
            return set()
        ids_by_key: dict[str, list[str]] = {}
        for new in workers:
            for key in new.match_keys:
                ids_by_key.setdefault(key, []).append(new.worker.worker_id)
        # Keys first, as for a single worker; a re-run lists the same ids again, which is harmless.
        self._keys.added_many(ids_by_key)
        # Events first: the federation publisher records where each worker is shared.
        events = [self._events(new.worker, new.also_publish) for new in workers]
        report = self._workers.insert_many(
            [
                (
                    {
                        "_id": new.worker.worker_id,
                        **_state(new.worker, new.match_keys),
                        IDEMPOTENCY_FIELD: new.idempotency_key,
                        FINGERPRINT_FIELD: new.fingerprint,
                    },
                    worker_events,
                )
                for new, worker_events in zip(workers, events, strict=True)
            ]
        )
        return {str(worker_id) for worker_id in report.inserted}

    def with_consents_expiring(self, before: object, *, limit: int) -> list[Worker]:
        found = self._workers.find(
            {CONSENT_EXPIRIES_FIELD: {"$lte": before}, "status": WorkerStatus.ACTIVE.value},
            limit=limit,
            exclude=_EXCLUDED,
        )
        return [_from_document(doc) for doc in found]

    def get(self, worker_id: str) -> Worker | None:
        doc = self._workers.get(worker_id, exclude=_EXCLUDED)
        return _from_document(doc) if doc else None

    def save(self, worker: Worker, *, match_keys: set[str] | None = None, also_publish: Sequence[Event] = ()) -> None:
        previous: set[str] = set()
        if match_keys is not None:
            stored = self._workers.get(worker.worker_id, fields=[MATCH_KEYS_FIELD])
            previous = set(stored.get(MATCH_KEYS_FIELD, [])) if stored else set()
            self._keys.added(worker.worker_id, match_keys - previous)
        events = self._events(worker, also_publish)
        # Optimistic concurrency: the stored version must be the one this change started from.
        saved = self._workers.update(
            worker.worker_id,
            {"$set": _state(worker, match_keys)},
            where={"version": {"$lt": worker.version}},
            events=events,
        )
        if not saved:
            raise Conflict(f"worker {worker.worker_id} changed meanwhile; read it again")
        if match_keys is not None:
            self._keys.removed(worker.worker_id, previous - match_keys)

    # -- copies of other states' records --------------------------------------------------------------

    def add_copy(self, copy: Worker, *, match_keys: set[str], event_id: str) -> bool:
        assert copy.foreign is not None
        events = self._events(copy, ())
        self._keys.added(copy.worker_id, match_keys)
        document = {
            "_id": copy.worker_id,
            **_state(copy, match_keys),
            # Unique like any idempotency key; a copy has one id in every state.
            IDEMPOTENCY_FIELD: f"federation:{copy.foreign.home_state_code}:{copy.worker_id}",
            FINGERPRINT_FIELD: "",
            APPLIED_EVENTS_FIELD: [event_id],
        }
        try:
            self._workers.insert(document, events=events)
        except DuplicateDocument:
            return False
        return True

    def replace_copy(self, copy: Worker, *, match_keys: set[str], event_id: str) -> bool:
        """Apply once per event id. The consents and version are this state's: a live copy keeps its
        consents (another write may have added one meanwhile) and its version goes up by one, so a local
        write that read the copy before conflicts instead of overwriting; a withdrawn copy loses them."""
        stored = self._workers.get(copy.worker_id, fields=[MATCH_KEYS_FIELD])
        previous = set(stored.get(MATCH_KEYS_FIELD, [])) if stored else set()
        self._keys.added(copy.worker_id, match_keys - previous)
        events = self._events(copy, ())
        state = _state(copy, match_keys)
        kept = ("version",) if copy.status is not WorkerStatus.ACTIVE else _LOCAL_FIELDS
        for name in kept:
            state.pop(name)
        applied = self._workers.apply_once(
            copy.worker_id, {"$set": state, "$inc": {"version": 1}}, event_id, events=events
        )
        if applied:
            self._keys.removed(copy.worker_id, previous - match_keys)
        return applied

    # -- re-keying after the matching rules changed ------------------------------------------------------

    def keyed_by_older_rules(self) -> Iterator[Worker]:
        """This registry's own workers whose stored keys an earlier `MATCH_KEYS_VERSION` computed (a background
        scan). Never the copies of other states' records: only what their home state sends replaces them."""
        query = {MATCH_KEYS_VERSION_FIELD: {"$ne": MATCH_KEYS_VERSION}, **_OWN_RECORDS}
        for document in self._workers.scan(query):
            yield _from_document(document)

    def rekey(self, worker: Worker, match_keys: set[str]) -> bool:
        """Replace the worker's stored keys, unless it changed since it was read (its next save keys it)."""
        stored = self._workers.get(worker.worker_id, fields=[MATCH_KEYS_FIELD])
        if stored is None:
            return False
        previous = set(stored.get(MATCH_KEYS_FIELD, []))
        # Keys first, as for a new worker: an interruption leaves extra keys (readers skip), never missing ones.
        self._keys.added(worker.worker_id, match_keys - previous)
        saved = self._workers.update(
            worker.worker_id,
            {"$set": {MATCH_KEYS_FIELD: sorted(match_keys), MATCH_KEYS_VERSION_FIELD: MATCH_KEYS_VERSION}},
            where={"version": worker.version, **_OWN_RECORDS},
        )
        if saved:
            self._keys.removed(worker.worker_id, previous - match_keys)
        return saved

    def _active(self, worker_ids: Sequence[str]) -> list[Worker]:
        documents = self._workers.get_many(worker_ids, exclude=_EXCLUDED)
        return [_from_document(doc) for doc in documents if doc["status"] == WorkerStatus.ACTIVE.value]

    def find_candidates(self, match_keys: set[str], *, exclude: str = "", limit: int = 50) -> list[Worker]:
        # Workers listed under more of the keys come first: when common keys list more than `limit`
        # workers, the likeliest duplicates are the ones read.
        ranked = self._keys.ranked(match_keys, limit=limit, exclude=exclude)
        return self._active([r.document_id for r in ranked])

    def search(self, criteria: SearchCriteria, *, after: str, limit: int) -> SearchPage:
        keyed = [
            *([f"phone:{criteria.phone_index}"] if criteria.phone_index else []),
            *([criteria.document_index] if criteria.document_index else []),
        ]
        if keyed or criteria.name_keys:
            found = self._search_by_keys(criteria, keyed, after=after, limit=limit)
            return SearchPage(found, found[-1].worker_id if len(found) == limit else "")
        query: dict[str, Any] = {"status": WorkerStatus.ACTIVE.value}
        if criteria.district_code:
            query["home.district_code"] = criteria.district_code
        if criteria.registering_partner_id:
            query["registering_partner_id"] = criteria.registering_partner_id
        if criteria.sector:
            query["sector"] = criteria.sector.value
        page = self._workers.page(
            query, after=after, limit=limit, time_budget_seconds=LISTING_TIME_BUDGET_SECONDS, exclude=_EXCLUDED
        )
        return SearchPage([_from_document(d) for d in page.documents], page.next_after)

    def _search_by_keys(self, criteria: SearchCriteria, keyed: list[str], *, after: str, limit: int) -> list[Worker]:
        # Every exact criterion must match; any of the name's phonetic keys may.
        candidate_sets = [set(self._keys.listing(key).ids) for key in keyed]
        by_name = set(criteria.name_keys)
        if by_name:
            listings = [self._keys.listing(key) for key in sorted(by_name)]
            if all(listing.complete for listing in listings):
                candidate_sets.append({i for listing in listings for i in listing.ids})
                by_name = set()  # the listings are complete: no need to check names again
            elif not keyed:
                # Too common a name to list: the district's first-name key must narrow it down.
                district = [self._keys.listing(key) for key in sorted(criteria.name_district_keys)]
                if not district or not all(listing.complete for listing in district):
                    raise SearchTooBroad()
                candidate_sets.append({i for listing in district for i in listing.ids})
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


_GROUP_FIELDS = {
    "home_state": "home.state_code",
    "home_district": "home.district_code",
    "sector": "sector",
    "gender": "gender",
}


class StoredWorkerCounts:
    """Counts for dashboards; a scan, which is fine for a query that runs now and then."""

    def __init__(self, store: DocumentStore) -> None:
        self._workers = store.collection(collection_of(WorkerDocument))

    def count_by(self, group_by: Any, states: frozenset[str], districts: frozenset[str]) -> dict[str, int]:
        path = _GROUP_FIELDS[str(group_by)]
        query: dict[str, Any] = {}
        if states:
            query["home.state_code"] = {"$in": sorted(states)}
        if districts:
            query["home.district_code"] = {"$in": sorted(districts)}
        counts: dict[str, int] = {}
        for doc in self._workers.scan(query, fields=["home", "sector", "gender", FOREIGN_FIELD]):
            if doc.get(FOREIGN_FIELD):
                continue  # a copy of another state's record: counted in its home state
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
