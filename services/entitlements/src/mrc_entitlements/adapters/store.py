"""The service's records in the document store (`mrc_plumbing.store`), each aggregate one document.

- `eligibility`: one document per worker (`WorkerRecord`): the registry's facts, grants, declared facts
  and who declared them, determinations, applied event ids, and the outbox of its eligibility events.
  Names, phones and identity numbers never reach it (the registry's events do not carry them).
- `schemes`: one document per scheme with its cited details and every rule version (the conditions'
  CEL sources; compiled again, once per process, when read).
- `applications`: one document per application with its history and deliveries.
- `households`: the latest facts of each household (a worker registered after its household was
  recorded finds it through the key index on member ids).
- `reevaluation_jobs`: one document per published rule version.

Every write of an aggregate carries its events (and the audit event of a caller's write) into the
document's outbox in the same write: the unit of work. Writes check the version they started from.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from mongoengine import BooleanField, DateTimeField, DictField, Document, IntField, ListField, StringField

from mrc_entitlements.adapters.protobuf_mapping import (
    application_envelope,
    catalogue_envelope,
    eligibility_envelope,
)
from mrc_entitlements.domain import applications as app
from mrc_entitlements.domain.determinations import Determination, WorkerEligibility
from mrc_entitlements.domain.facts import (
    ConsentPurpose,
    DocumentKind,
    HouseholdFacts,
    LgdPlace,
    MigrationEpisodeFacts,
    MigrationStatus,
    Vulnerability,
    WorkerFacts,
    WorkerProfile,
)
from mrc_entitlements.domain.federation import HomeStateStatus, SharedApplication, SharedDetermination
from mrc_entitlements.domain.reevaluation import JobStatus, ReevaluationJob
from mrc_entitlements.domain.rules import Condition, ConditionResult, ConditionSpec, ConditionStatus, Outcome
from mrc_entitlements.domain.rules import compile_conditions as _compile
from mrc_entitlements.domain.schemes import (
    Benefit,
    BenefitKind,
    Citation,
    RequiredDocument,
    RuleStatus,
    RuleVersion,
    Scheme,
    SchemeDetails,
    SchemeKind,
    WhereToApply,
)
from mrc_entitlements.domain.worker_record import Declaration, RecordStatus, WorkerRecord
from mrc_kernel.errors import Conflict
from mrc_kernel.events import Event
from mrc_kernel.policy import Grant, Purpose
from mrc_plumbing.store import (
    FINGERPRINT_FIELD,
    IDEMPOTENCY_FIELD,
    OUTBOX_FIELD,
    DocumentStore,
    DuplicateDocument,
)
from mrc_plumbing.store.schema import collection_of, indexes_of

MEMBERS_FIELD = "member_worker_ids"
WORKER_KEY_FIELD = "worker_keys"
_EXCLUDED = [OUTBOX_FIELD, FINGERPRINT_FIELD, "outbox_pending"]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _when(value: Any) -> datetime:
    found = _utc(value)
    assert found is not None
    return found


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# -- document shapes (mongoengine declares collections and indexes; writes go through the store port) --


class EligibilityDocument(Document):  # type: ignore[misc]
    meta = {"collection": "eligibility", "indexes": [{"fields": ["linkage"], "name": "linkage"}]}
    id = StringField(primary_key=True)  # the worker id
    status = StringField(required=True, choices=[s.value for s in RecordStatus])
    linkage = BooleanField()  # consents to entitlement linkage: what re-evaluation jobs walk
    merged_into = StringField(default="")
    home_state = StringField(default="")
    home_district = StringField(default="")
    worker = DictField()
    episodes = ListField(DictField())
    household = DictField()
    declared = DictField()
    declarations = ListField(DictField())
    grants = ListField(DictField())
    facts_version = IntField()
    household_versions = DictField()
    determinations = DictField()
    applied_event_ids = ListField(StringField())
    source_event_id = StringField(default="")
    recorded_at = DateTimeField()
    # Cross-state federation: where the registry shares the record, where the status was last sent, and
    # for a copy of another state's record its home state, this state, and the home state's status.
    shared_with_states = ListField(StringField())
    status_shared_with = ListField(StringField())
    federated_from = StringField(default="")
    held_in_state = StringField(default="")
    home_state_status = DictField()
    version = IntField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class SchemeDocument(Document):  # type: ignore[misc]
    meta = {"collection": "schemes"}
    id = StringField(primary_key=True)  # the scheme code
    details = DictField()
    rule_versions = ListField(DictField())
    version = IntField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class ApplicationDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "applications",
        "indexes": [{"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"}],
    }
    id = StringField(primary_key=True)
    worker_id = StringField(required=True)
    worker_keys = ListField(StringField())  # the worker id, through the key index (erasure, merges)
    scheme_code = StringField(required=True)
    state_code = StringField(required=True)
    district_code = StringField(default="")
    status = StringField(required=True)
    history = ListField(DictField())
    deliveries = ListField(DictField())
    version = IntField(required=True)
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class HouseholdDocument(Document):  # type: ignore[misc]
    meta = {"collection": "households"}
    id = StringField(primary_key=True)
    member_worker_ids = ListField(StringField())
    size = IntField()
    has_ration_card = BooleanField()
    ration_card_state = StringField(default="")
    version = IntField()


class JobDocument(Document):  # type: ignore[misc]
    meta = {"collection": "reevaluation_jobs"}
    id = StringField(primary_key=True)
    scheme_code = StringField(required=True)
    rule_version = IntField(required=True)
    status = StringField(required=True, choices=[s.value for s in JobStatus])
    total = IntField()
    processed = IntField()
    changed = IntField()
    cursor = StringField(default="")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    completed_at = DateTimeField()
    version = IntField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


OUTBOX_COLLECTIONS = [
    collection_of(EligibilityDocument),
    collection_of(SchemeDocument),
    collection_of(ApplicationDocument),
    collection_of(JobDocument),
]


# -- worker records ----------------------------------------------------------------------------------


def _place_doc(place: LgdPlace | None) -> dict[str, str] | None:
    return None if place is None else {"s": place.state_code, "d": place.district_code, "sd": place.subdistrict_code}


def _place(doc: dict[str, str] | None) -> LgdPlace | None:
    return None if not doc else LgdPlace(doc["s"], doc.get("d", ""), doc.get("sd", ""))


def _worker_doc(facts: WorkerFacts | None) -> dict[str, Any]:
    if facts is None:
        return {}
    return {
        "birth_year": facts.birth_year,
        "gender": facts.gender,
        "sector": facts.sector,
        "occupation": facts.occupation,
        "home": _place_doc(facts.home),
        "documents": sorted(d.value for d in facts.documents),
        "vulnerabilities": sorted(v.value for v in facts.vulnerabilities),
        "purposes": sorted(p.value for p in facts.active_purposes),
        "registering_partner_id": facts.registering_partner_id,
    }


def _worker(worker_id: str, doc: dict[str, Any]) -> WorkerFacts | None:
    if not doc:
        return None
    home = _place(doc.get("home"))
    return WorkerFacts(
        worker_id=worker_id,
        birth_year=doc.get("birth_year", 0),
        gender=doc.get("gender", ""),
        sector=doc.get("sector", ""),
        occupation=doc.get("occupation", ""),
        home=home or LgdPlace(""),
        documents=frozenset(DocumentKind(d) for d in doc.get("documents", [])),
        vulnerabilities=frozenset(Vulnerability(v) for v in doc.get("vulnerabilities", [])),
        active_purposes=frozenset(ConsentPurpose(p) for p in doc.get("purposes", [])),
        registering_partner_id=doc.get("registering_partner_id", ""),
    )


def _episode_doc(e: MigrationEpisodeFacts) -> dict[str, Any]:
    return {
        "id": e.episode_id,
        "origin": _place_doc(e.origin),
        "destination": _place_doc(e.destination),
        "country": e.destination_country,
        "sector": e.sector,
        "employer_id": e.employer_id,
        "start": e.start_date.isoformat() if e.start_date else None,
        "end": e.end_date.isoformat() if e.end_date else None,
        "status": e.status.value,
    }


def _episode(doc: dict[str, Any]) -> MigrationEpisodeFacts:
    return MigrationEpisodeFacts(
        episode_id=doc["id"],
        origin=_place(doc.get("origin")),
        destination=_place(doc.get("destination")),
        destination_country=doc.get("country", ""),
        sector=doc.get("sector", ""),
        employer_id=doc.get("employer_id", ""),
        start_date=_day(doc.get("start")),
        end_date=_day(doc.get("end")),
        status=MigrationStatus(doc["status"]),
    )


def _household_doc(h: HouseholdFacts | None) -> dict[str, Any]:
    if h is None:
        return {}
    return {
        "id": h.household_id,
        "members": sorted(h.member_worker_ids),
        "size": h.size,
        "ration_card": h.has_ration_card,
        "card_state": h.ration_card_state,
    }


def _household(doc: dict[str, Any]) -> HouseholdFacts | None:
    if not doc:
        return None
    return HouseholdFacts(
        doc["id"],
        frozenset(doc.get("members", [])),
        doc.get("size", 0),
        doc.get("ration_card", False),
        doc.get("card_state", ""),
    )


def _condition_text(c: ConditionResult) -> str:
    """`name:status` or `name:unknown:fact,fact` (compact: a record holds every scheme's conditions)."""
    text = f"{c.name}:{c.status.value}"
    return f"{text}:{','.join(c.missing_facts)}" if c.missing_facts else text


def _condition(text: str) -> ConditionResult:
    name, status, *missing = text.split(":", 2)
    return ConditionResult(name, ConditionStatus(status), tuple(missing[0].split(",")) if missing else ())


def _determination_doc(d: Determination) -> dict[str, Any]:
    return {
        "v": d.rule_version,
        "o": d.outcome.value,
        "c": [_condition_text(c) for c in d.conditions],
        "f": dict(d.facts_snapshot),
        "at": d.determined_at,
    }


def _determination(worker_id: str, code: str, doc: dict[str, Any]) -> Determination:
    conditions = tuple(_condition(text) for text in doc["c"])
    outcome = Outcome(doc["o"])
    missing = sorted({f for c in conditions for f in c.missing_facts}) if outcome is Outcome.UNDETERMINED else []
    return Determination(
        worker_id=worker_id,
        scheme_code=code,
        rule_version=doc["v"],
        outcome=outcome,
        conditions=conditions,
        missing_facts=tuple(missing),
        facts_snapshot=dict(doc.get("f", {})),
        determined_at=_when(doc["at"]),
    )


def _grant_doc(g: Grant) -> dict[str, Any]:
    return {"partner_id": g.partner_id, "partner_kind": g.partner_kind, "purposes": sorted(p.value for p in g.purposes)}


def _grant(doc: dict[str, Any]) -> Grant:
    return Grant(frozenset(Purpose(p) for p in doc["purposes"]), doc.get("partner_id", ""), doc.get("partner_kind", ""))


def _actor_doc(a: app.Actor) -> dict[str, str]:
    return {"partner_id": a.partner_id, "client_id": a.client_id}


def _actor(doc: dict[str, str]) -> app.Actor:
    return app.Actor(doc.get("partner_id", ""), doc.get("client_id", ""))


def record_state(record: WorkerRecord) -> dict[str, Any]:
    profile = record.profile
    return {
        "status": record.status.value,
        "linkage": record.consents_to_linkage,
        "merged_into": record.merged_into,
        "home_state": record.home[0],
        "home_district": record.home[1],
        "worker": _worker_doc(profile.worker),
        "episodes": [_episode_doc(e) for _, e in sorted(profile.episodes.items())],
        "household": _household_doc(profile.household),
        "declared": dict(profile.declared),
        "declarations": [{"fact": d.fact, "by": _actor_doc(d.by), "at": d.at} for d in record.declarations],
        "grants": [_grant_doc(g) for g in record.grants],
        "facts_version": record.facts_version,
        "household_versions": dict(record.household_versions),
        "determinations": {code: _determination_doc(d) for code, d in record.eligibility.determinations.items()},
        "applied_event_ids": list(record.applied_event_ids),
        "source_event_id": record.source_event_id,
        "recorded_at": record.recorded_at,
        "shared_with_states": sorted(record.shared_with_states),
        "status_shared_with": sorted(record.status_shared_with),
        "federated_from": record.federated_from,
        "held_in_state": record.held_in_state,
        "home_state_status": home_status_doc(record.home_state_status),
        "version": record.version,
    }


def record_from(doc: dict[str, Any]) -> WorkerRecord:
    worker_id = doc["_id"]
    profile = WorkerProfile(
        worker_id,
        worker=_worker(worker_id, doc.get("worker") or {}),
        episodes={e["id"]: _episode(e) for e in doc.get("episodes", [])},
        household=_household(doc.get("household") or {}),
        declared=dict(doc.get("declared") or {}),
    )
    eligibility = WorkerEligibility(
        worker_id,
        determinations={
            code: _determination(worker_id, code, d) for code, d in (doc.get("determinations") or {}).items()
        },
        version=doc.get("version", 0),
    )
    return WorkerRecord(
        worker_id=worker_id,
        status=RecordStatus(doc["status"]),
        profile=profile,
        eligibility=eligibility,
        grants=tuple(_grant(g) for g in doc.get("grants", [])),
        facts_version=doc.get("facts_version", 0),
        household_versions=dict(doc.get("household_versions") or {}),
        declarations=[Declaration(d["fact"], _actor(d["by"]), _when(d["at"])) for d in doc.get("declarations", [])],
        applied_event_ids=list(doc.get("applied_event_ids", [])),
        merged_into=doc.get("merged_into", ""),
        source_event_id=doc.get("source_event_id", ""),
        recorded_at=_utc(doc.get("recorded_at")),
        shared_with_states=frozenset(doc.get("shared_with_states") or ()),
        status_shared_with=frozenset(doc.get("status_shared_with") or ()),
        federated_from=doc.get("federated_from", ""),
        held_in_state=doc.get("held_in_state", ""),
        home_state_status=home_status_from(doc.get("home_state_status") or {}),
        version=doc.get("version", 0),
    )


def home_status_doc(status: HomeStateStatus | None) -> dict[str, Any]:
    if status is None:
        return {}
    return {
        "home_state_code": status.home_state_code,
        "shared_with_state_codes": sorted(status.shared_with_state_codes),
        "version": status.version,
        "shared_at": status.shared_at,
        "determinations": [
            {
                "scheme_code": d.scheme_code,
                "rule_version": d.rule_version,
                "outcome": d.outcome.value,
                "missing_facts": list(d.missing_facts),
                "determined_at": d.determined_at,
            }
            for d in status.determinations
        ],
        "applications": [
            {
                "application_id": a.application_id,
                "scheme_code": a.scheme_code,
                "status": a.status.value,
                "state_code": a.state_code,
                "district_code": a.district_code,
                "updated_at": a.updated_at,
                "last_delivery_kind": a.last_delivery_kind.value if a.last_delivery_kind else "",
                "last_delivered_on": a.last_delivered_on.isoformat() if a.last_delivered_on else "",
            }
            for a in status.applications
        ],
    }


def home_status_from(doc: dict[str, Any]) -> HomeStateStatus | None:
    if not doc:
        return None
    return HomeStateStatus(
        home_state_code=doc["home_state_code"],
        shared_with_state_codes=frozenset(doc.get("shared_with_state_codes", [])),
        version=int(doc["version"]),
        shared_at=_when(doc["shared_at"]),
        determinations=tuple(
            SharedDetermination(
                d["scheme_code"],
                d["rule_version"],
                Outcome(d["outcome"]),
                tuple(d["missing_facts"]),
                _when(d["determined_at"]),
            )
            for d in doc.get("determinations", [])
        ),
        applications=tuple(
            SharedApplication(
                a["application_id"],
                a["scheme_code"],
                app.ApplicationStatus(a["status"]),
                a["state_code"],
                a.get("district_code", ""),
                _when(a["updated_at"]),
                app.DeliveryKind(a["last_delivery_kind"]) if a.get("last_delivery_kind") else None,
                _day(a.get("last_delivered_on")),
            )
            for a in doc.get("applications", [])
        ),
    )


class StatusEvents(Protocol):
    """What a change of a worker's determinations or applications tells other states
    (`federation_publisher.StatusPublisher`)."""

    def record_events(self, record: WorkerRecord) -> list[Event]: ...

    def application_events(self, application: app.Application) -> list[Event]: ...


class StoredWorkerRecords:
    def __init__(self, store: DocumentStore, *, federation: StatusEvents | None = None) -> None:
        self._records = store.collection(collection_of(EligibilityDocument))
        self._federation = federation

    def set_federation(self, federation: StatusEvents) -> None:
        self._federation = federation

    def ensure_indexes(self) -> None:
        self._records.ensure_indexes(indexes_of(EligibilityDocument))

    def get(self, worker_id: str) -> WorkerRecord | None:
        doc = self._records.get(worker_id, exclude=_EXCLUDED) if worker_id else None
        return record_from(doc) if doc else None

    def save(self, record: WorkerRecord, also_publish: Sequence[Event] = ()) -> None:
        """Store the record with its events; Conflict if it changed since it was read (retry from a fresh read)."""
        # The federation's events first: they read the pending events and record where the status went.
        federated = self._federation.record_events(record) if self._federation is not None else []
        events = [eligibility_envelope(e) for e in record.eligibility.pending_events] + federated + list(also_publish)
        started_from = record.version
        record.version = started_from + 1
        state = record_state(record)
        if started_from == 0:
            try:
                self._records.insert({"_id": record.worker_id, **state}, events=events)
            except DuplicateDocument:
                record.version = started_from
                raise Conflict(f"the record of worker {record.worker_id} was created meanwhile") from None
        elif not self._records.update(
            record.worker_id, {"$set": state}, where={"version": started_from}, events=events
        ):
            record.version = started_from
            raise Conflict(f"the record of worker {record.worker_id} changed meanwhile")
        record.eligibility.pending_events.clear()

    def stream(self, *, after: str = "") -> Iterator[WorkerRecord]:
        """Records that consent to linkage, in worker-id order after `after`, streamed by one query: a job
        walks the whole collection with one cursor (FerretDB answers a range of `_id`s by a scan, so
        paging would scan it once per page)."""
        query: dict[str, Any] = {"linkage": True}
        if after:
            query["_id"] = {"$gt": after}
        for doc in self._records.scan(query, batch_size=500):
            yield record_from(doc)

    def count_consenting(self) -> int:
        return self._records.count({"linkage": True})

    def scan_consenting(self) -> Iterator[WorkerRecord]:
        fields = ["status", "worker", "determinations", "federated_from", "version"]
        for doc in self._records.scan({"linkage": True}, fields=fields):
            yield record_from(doc)


# -- households ----------------------------------------------------------------------------------------


class StoredHouseholds:
    """The latest facts of each household, found by member through the store's key index."""

    def __init__(self, store: DocumentStore) -> None:
        name = collection_of(HouseholdDocument)
        self._households = store.collection(name)
        self._members = store.key_index(name, MEMBERS_FIELD)

    def put(self, household: HouseholdFacts, version: int) -> tuple[bool, frozenset[str]]:
        """Keep the household unless a newer version is held; (kept, member ids it listed before)."""
        doc = self._households.get(household.household_id)
        before = frozenset(doc.get(MEMBERS_FIELD, [])) if doc else frozenset()
        if doc and version and doc.get("version", 0) > version:
            return False, before
        state = {
            MEMBERS_FIELD: sorted(household.member_worker_ids),
            "size": household.size,
            "has_ration_card": household.has_ration_card,
            "ration_card_state": household.ration_card_state,
            "version": version,
        }
        self._members.added(household.household_id, household.member_worker_ids)
        if doc is None:
            try:
                self._households.insert({"_id": household.household_id, **state})
            except DuplicateDocument:
                self._households.update(household.household_id, {"$set": state})
        else:
            self._households.update(household.household_id, {"$set": state})
        self._members.removed(household.household_id, before - household.member_worker_ids)
        return True, before

    def of_member(self, worker_id: str) -> list[tuple[HouseholdFacts, int]]:
        found = []
        for doc in self._households.get_many(self._members.listing(worker_id).ids):
            if worker_id in doc.get(MEMBERS_FIELD, []):
                household = HouseholdFacts(
                    doc["_id"],
                    frozenset(doc.get(MEMBERS_FIELD, [])),
                    doc.get("size", 0),
                    doc.get("has_ration_card", False),
                    doc.get("ration_card_state", ""),
                )
                found.append((household, doc.get("version", 0)))
        return found

    def forget_member(self, worker_id: str) -> None:
        """Erasure: the worker's id leaves every household listing it."""
        for household_id in self._members.listing(worker_id).ids:
            self._households.update(household_id, {"$pull": {MEMBERS_FIELD: worker_id}})
            self._members.removed(household_id, [worker_id])


# -- schemes -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _compiled(specs: tuple[ConditionSpec, ...]) -> tuple[Condition, ...]:
    return _compile(specs)


def _details_doc(d: SchemeDetails) -> dict[str, Any]:
    return {
        "name": d.name,
        # FerretDB stores no arrays directly inside arrays.
        "local_names": [{"language": lang, "name": name} for lang, name in d.local_names],
        "kind": d.kind.value,
        "administering_state": d.administering_state,
        "summary": d.summary,
        "benefits": [
            {"kind": b.kind.value, "description": b.description, "amount_inr": b.amount_inr} for b in d.benefits
        ],
        "required_documents": [
            {"description": r.description, "document_kind": r.document_kind} for r in d.required_documents
        ],
        "where_to_apply": [{"description": w.description, "url": w.url} for w in d.where_to_apply],
        "citations": [
            {
                "title": c.title,
                "authority": c.authority,
                "reference": c.reference,
                "issued_on": c.issued_on.isoformat() if c.issued_on else None,
                "url": c.url,
            }
            for c in d.citations
        ],
        "renewable": d.renewable,
    }


def _details(doc: dict[str, Any]) -> SchemeDetails:
    return SchemeDetails(
        name=doc["name"],
        local_names=tuple((n["language"], n["name"]) for n in doc.get("local_names", [])),
        kind=SchemeKind(doc["kind"]),
        administering_state=doc.get("administering_state", ""),
        summary=doc["summary"],
        benefits=tuple(
            Benefit(BenefitKind(b["kind"]), b["description"], b.get("amount_inr", 0)) for b in doc["benefits"]
        ),
        required_documents=tuple(
            RequiredDocument(r["description"], r.get("document_kind", "")) for r in doc["required_documents"]
        ),
        where_to_apply=tuple(WhereToApply(w["description"], w.get("url", "")) for w in doc["where_to_apply"]),
        citations=tuple(
            Citation(c["title"], c["authority"], c["reference"], _day(c.get("issued_on")), c["url"])
            for c in doc["citations"]
        ),
        renewable=doc.get("renewable", False),
    )


def _rule_doc(r: RuleVersion) -> dict[str, Any]:
    return {
        "version": r.version,
        "status": r.status.value,
        "conditions": [
            {"name": c.name, "expression": c.expression, "description": c.description, "reads": list(c.reads)}
            for c in r.conditions
        ],
        "note": r.note,
        "drafted_by": r.drafted_by,
        "drafted_at": r.drafted_at,
        "published_at": r.published_at,
        "published_by": r.published_by,
        "retired_at": r.retired_at,
        "superseded_by": r.superseded_by,
    }


def _rule(code: str, doc: dict[str, Any]) -> RuleVersion:
    specs = tuple(
        ConditionSpec(c["name"], c["expression"], c["description"], tuple(c["reads"])) for c in doc["conditions"]
    )
    return RuleVersion(
        scheme_code=code,
        version=doc["version"],
        status=RuleStatus(doc["status"]),
        conditions=_compiled(specs),
        note=doc.get("note", ""),
        drafted_by=doc.get("drafted_by", ""),
        drafted_at=_when(doc["drafted_at"]),
        published_at=_utc(doc.get("published_at")),
        published_by=doc.get("published_by", ""),
        retired_at=_utc(doc.get("retired_at")),
        superseded_by=doc.get("superseded_by", 0),
    )


def scheme_from(doc: dict[str, Any]) -> Scheme:
    code = doc["_id"]
    return Scheme(
        code=code,
        details=_details(doc["details"]),
        rule_versions=[_rule(code, r) for r in doc.get("rule_versions", [])],
        version=doc["version"],
    )


class StoredSchemes:
    def __init__(self, store: DocumentStore) -> None:
        self._schemes = store.collection(collection_of(SchemeDocument))

    def add_if_absent(self, scheme: Scheme) -> bool:
        """Seed a scheme (the starter catalogue); False if one with its code is already there."""
        scheme.pending_events.clear()
        try:
            self._schemes.insert(
                {
                    "_id": scheme.code,
                    "details": _details_doc(scheme.details),
                    "rule_versions": [_rule_doc(r) for r in scheme.rule_versions],
                    "version": scheme.version,
                }
            )
        except DuplicateDocument:
            return False
        return True

    def get(self, code: str) -> Scheme | None:
        doc = self._schemes.get(code, exclude=_EXCLUDED) if code else None
        return scheme_from(doc) if doc else None

    def all(self) -> list[Scheme]:
        return [scheme_from(d) for d in self._schemes.find({}, exclude=_EXCLUDED)]

    def versions(self) -> dict[str, int]:
        """Each scheme's version: enough to tell whether a cached catalogue is stale."""
        return {str(d["_id"]): int(d["version"]) for d in self._schemes.find({}, fields=["version"])}

    def save(
        self,
        scheme: Scheme,
        *,
        started_from: int,
        job_ids: dict[tuple[str, int], str],
        also_publish: Sequence[Event] = (),
    ) -> None:
        events = [e for e in (catalogue_envelope(ev, job_ids) for ev in scheme.pending_events) if e is not None]
        saved = self._schemes.update(
            scheme.code,
            {"$set": {"rule_versions": [_rule_doc(r) for r in scheme.rule_versions], "version": scheme.version}},
            where={"version": started_from},
            events=[*events, *also_publish],
        )
        if not saved:
            raise Conflict(f"scheme {scheme.code!r} changed meanwhile; read it again and retry")
        scheme.pending_events.clear()


# -- applications --------------------------------------------------------------------------------------


def _transition_doc(t: app.Transition) -> dict[str, Any]:
    return {
        "from": t.from_status.value if t.from_status else None,
        "to": t.to_status.value,
        "by": _actor_doc(t.by),
        "at": t.at,
        "reason": t.reason,
        "outcome": t.eligibility_outcome.value if t.eligibility_outcome else None,
    }


def _transition(doc: dict[str, Any]) -> app.Transition:
    return app.Transition(
        from_status=app.ApplicationStatus(doc["from"]) if doc.get("from") else None,
        to_status=app.ApplicationStatus(doc["to"]),
        by=_actor(doc["by"]),
        at=_when(doc["at"]),
        reason=doc.get("reason", ""),
        eligibility_outcome=Outcome(doc["outcome"]) if doc.get("outcome") else None,
    )


def _delivery_doc(d: app.Delivery) -> dict[str, Any]:
    return {
        "external_reference": d.external_reference,
        "kind": d.kind.value,
        "delivered_on": d.delivered_on.isoformat(),
        "amount_paise": d.amount_paise,
        "quantity": d.quantity,
        "state_code": d.state_code,
        "district_code": d.district_code,
        "recorded_by": _actor_doc(d.recorded_by),
        "recorded_at": d.recorded_at,
    }


def _delivery(doc: dict[str, Any]) -> app.Delivery:
    return app.Delivery(
        external_reference=doc["external_reference"],
        kind=app.DeliveryKind(doc["kind"]),
        delivered_on=date.fromisoformat(doc["delivered_on"]),
        amount_paise=doc.get("amount_paise", 0),
        quantity=doc.get("quantity", ""),
        state_code=doc["state_code"],
        district_code=doc.get("district_code", ""),
        recorded_by=_actor(doc["recorded_by"]),
        recorded_at=_when(doc["recorded_at"]),
    )


def _application_state(a: app.Application) -> dict[str, Any]:
    return {
        "worker_id": a.worker_id,
        WORKER_KEY_FIELD: [a.worker_id],
        "scheme_code": a.scheme_code,
        "state_code": a.state_code,
        "district_code": a.district_code,
        "status": a.status.value,
        "history": [_transition_doc(t) for t in a.history],
        "deliveries": [_delivery_doc(d) for d in a.deliveries],
        "version": a.version,
    }


def application_from(doc: dict[str, Any]) -> app.Application:
    return app.Application(
        application_id=doc["_id"],
        worker_id=doc["worker_id"],
        scheme_code=doc["scheme_code"],
        state_code=doc["state_code"],
        district_code=doc.get("district_code", ""),
        status=app.ApplicationStatus(doc["status"]),
        history=[_transition(t) for t in doc.get("history", [])],
        deliveries=[_delivery(d) for d in doc.get("deliveries", [])],
        version=doc["version"],
    )


class StoredApplications:
    def __init__(self, store: DocumentStore, *, federation: StatusEvents | None = None) -> None:
        name = collection_of(ApplicationDocument)
        self._applications = store.collection(name)
        self._workers = store.key_index(name, WORKER_KEY_FIELD)
        self._federation = federation

    def set_federation(self, federation: StatusEvents) -> None:
        self._federation = federation

    def _events(self, application: app.Application, also_publish: Sequence[Event]) -> list[Event]:
        changed = bool(application.pending_events)
        events = [application_envelope(e) for e in application.pending_events] + list(also_publish)
        if changed and self._federation is not None:
            events += self._federation.application_events(application)
        application.pending_events.clear()
        return events

    def ensure_indexes(self) -> None:
        self._applications.ensure_indexes(indexes_of(ApplicationDocument))

    def add(
        self,
        application: app.Application,
        *,
        idempotency_key: str,
        fingerprint: str,
        also_publish: Sequence[Event] = (),
    ) -> tuple[app.Application, bool]:
        events = self._events(application, also_publish)
        self._workers.added(application.application_id, [application.worker_id])
        stored, created = self._applications.insert_once(
            {
                "_id": application.application_id,
                **_application_state(application),
                IDEMPOTENCY_FIELD: idempotency_key,
                FINGERPRINT_FIELD: fingerprint,
            },
            events=events,
        )
        return (application if created else application_from(stored)), created

    def get(self, application_id: str) -> app.Application | None:
        doc = self._applications.get(application_id, exclude=_EXCLUDED) if application_id else None
        return application_from(doc) if doc else None

    def save(self, application: app.Application, *, started_from: int, also_publish: Sequence[Event] = ()) -> None:
        events = self._events(application, also_publish)
        if not self._applications.update(
            application.application_id,
            {"$set": _application_state(application)},
            where={"version": started_from},
            events=events,
        ):
            raise Conflict(f"application {application.application_id!r} changed meanwhile; read it again and retry")
        application.pending_events.clear()

    def of_worker(self, worker_id: str) -> list[app.Application]:
        ids = self._workers.listing(worker_id).ids
        return [
            application_from(d)
            for d in self._applications.get_many(ids, exclude=_EXCLUDED)
            if d["worker_id"] == worker_id
        ]

    def rekey(self, application: app.Application, surviving_worker_id: str) -> None:
        """A merge: the application now belongs to the surviving worker (no event: only the worker id changed)."""
        self._workers.added(application.application_id, [surviving_worker_id])
        self._applications.update(
            application.application_id,
            {"$set": {"worker_id": surviving_worker_id, WORKER_KEY_FIELD: [surviving_worker_id]}},
        )
        self._workers.removed(application.application_id, [application.worker_id])

    def delete(self, application: app.Application) -> None:
        self._applications.delete(application.application_id)
        self._workers.removed(application.application_id, [application.worker_id])

    def scan(self) -> Iterator[app.Application]:
        for doc in self._applications.scan(
            {}, fields=["worker_id", "scheme_code", "state_code", "district_code", "status", "history", "version"]
        ):
            yield application_from(doc)


# -- re-evaluation jobs --------------------------------------------------------------------------------


def _job_state(job: ReevaluationJob) -> dict[str, Any]:
    return {
        "scheme_code": job.scheme_code,
        "rule_version": job.rule_version,
        "status": job.status.value,
        "total": job.total,
        "processed": job.processed,
        "changed": job.changed,
        "cursor": job.cursor,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "completed_at": job.completed_at,
        "version": job.version,
    }


def job_from(doc: dict[str, Any]) -> ReevaluationJob:
    return ReevaluationJob(
        job_id=doc["_id"],
        scheme_code=doc["scheme_code"],
        rule_version=doc["rule_version"],
        status=JobStatus(doc["status"]),
        total=doc.get("total", 0),
        processed=doc.get("processed", 0),
        changed=doc.get("changed", 0),
        cursor=doc.get("cursor", ""),
        created_at=_when(doc["created_at"]),
        updated_at=_when(doc["updated_at"]),
        completed_at=_utc(doc.get("completed_at")),
        version=doc["version"],
    )


class StoredJobs:
    def __init__(self, store: DocumentStore) -> None:
        self._jobs = store.collection(collection_of(JobDocument))

    def add_if_absent(self, job: ReevaluationJob) -> bool:
        try:
            self._jobs.insert({"_id": job.job_id, **_job_state(job)})
        except DuplicateDocument:
            return False
        return True

    def get(self, job_id: str) -> ReevaluationJob | None:
        doc = self._jobs.get(job_id, exclude=_EXCLUDED) if job_id else None
        return job_from(doc) if doc else None

    def unfinished(self) -> list[ReevaluationJob]:
        docs = self._jobs.find(
            {"status": {"$in": [JobStatus.PENDING.value, JobStatus.RUNNING.value]}}, exclude=_EXCLUDED
        )
        return sorted((job_from(d) for d in docs), key=lambda j: j.created_at)

    def save(self, job: ReevaluationJob, *, started_from: int) -> None:
        events = [e for e in (catalogue_envelope(ev) for ev in job.pending_events) if e is not None]
        if not self._jobs.update(job.job_id, {"$set": _job_state(job)}, where={"version": started_from}, events=events):
            raise Conflict(f"re-evaluation job {job.job_id!r} changed meanwhile")
        job.pending_events.clear()
