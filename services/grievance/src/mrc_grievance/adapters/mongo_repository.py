"""Cases, traces and their companions in the document store (the port in `mrc_plumbing.store`).

One document per case (and per trace) holds the aggregate and its pending events: a save writes both in
one single-document write (the unit of work), conditional on the version it was read at. Sensitive values
are stored as field-cipher tokens the service layer made (see `documents`). mongoengine declares the
collections and their indexes; MongoDB uses them all, FerretDB keeps only the unique ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    FloatField,
    IntField,
    ListField,
    StringField,
)

from mrc_grievance.adapters.documents import case_of, case_state, consent_doc, consent_of, trace_of, trace_state, utc
from mrc_grievance.adapters.protobuf_mapping import case_envelope, trace_envelope
from mrc_grievance.domain.case import Case
from mrc_grievance.domain.statistics import CaseRow
from mrc_grievance.domain.trace import Trace
from mrc_grievance.domain.vocabulary import CaseStatus, category_from_stored, status_from_stored
from mrc_grievance.service_layer.ports import QueueFilter, QueuePage, StatisticsFilter, WorkItem, WorkKind
from mrc_kernel.errors import Conflict
from mrc_kernel.events import Event
from mrc_plumbing.store import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, OUTBOX_FIELD, DocumentStore, DuplicateDocument
from mrc_plumbing.store.schema import collection_of, indexes_of

# Internal fields a read never needs.
_EXCLUDED = [OUTBOX_FIELD, FINGERPRINT_FIELD, IDEMPOTENCY_FIELD]
# What the statistics read of each case.
_STATISTICS_FIELDS = ["location", "category", "status", "filed_at", "resolved_at", "breaches"]
# Open statuses, for a queue that names none.
OPEN_STATUSES = sorted(s.value for s in CaseStatus if s.is_open)


class CaseDocument(Document):  # type: ignore[misc]
    """The stored shape of a case (see `documents.case_state` for every field)."""

    meta = {
        "collection": "grievances",
        "strict": False,
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            # The work queue: a partner's open cases, least SLA time left first.
            {"fields": ["access_partner_ids", "open", "queue_rank", "_id"], "name": "queue"},
            {"fields": ["worker_id"], "name": "worker", "sparse": True},
            # Staff lookup by reference, for cases filed before every reference was claimed (see below).
            {"fields": ["reference"], "name": "reference"},
            {"fields": ["employer_id"], "name": "employer", "sparse": True},
            {"fields": ["location.state_code", "location.district_code"], "name": "place"},
        ],
    }
    id = StringField(primary_key=True)
    reference = StringField(required=True)
    category = StringField(required=True)
    status = StringField(required=True)
    version = IntField(required=True)
    worker_id = StringField(default="")
    employer_id = StringField(default="")
    open = BooleanField()
    assignee_id = StringField(default="")
    access_partner_ids = ListField(StringField())
    queue_rank = FloatField()
    location = DictField()
    idempotency_key = StringField()
    request_fingerprint = StringField()
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class ReferenceDocument(Document):  # type: ignore[misc]
    """A case reference (GR-XXXXX-XXXXX) as `_id`: unique, and found without a scan on any store."""

    meta = {"collection": "grievance_references"}
    id = StringField(primary_key=True)
    grievance_id = StringField(required=True)


class TraceDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "traces",
        "strict": False,
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["worker_id"], "name": "worker", "sparse": True},
        ],
    }
    id = StringField(primary_key=True)
    worker_id = StringField(default="")
    version = IntField(required=True)
    idempotency_key = StringField()
    request_fingerprint = StringField()
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class WorkItemDocument(Document):  # type: ignore[misc]
    """Work handed to the case writer; small (deleted when done), so listing it is cheap on every store."""

    meta = {"collection": "case_work"}
    id = StringField(primary_key=True)
    kind = StringField(required=True)
    grievance_id = StringField(default="")
    trace_id = StringField(default="")
    worker_id = StringField(default="")
    surviving_worker_id = StringField(default="")
    enqueued_at = DateTimeField()
    consent = DictField()  # unlink_worker: the worker's grants after the registry's change


class IntakeReplayDocument(Document):  # type: ignore[misc]
    """An accepted IVR/SMS delivery, remembered until its timestamp alone would refuse a replay."""

    meta = {"collection": "intake_replays"}
    id = StringField(primary_key=True)
    forget_after = DateTimeField(required=True)


class ErasedWorkerDocument(Document):  # type: ignore[misc]
    """A tombstone: the worker was erased (only the id and when, nothing personal). Kept for good."""

    meta = {"collection": "erased_workers"}
    id = StringField(primary_key=True)
    erased_at = DateTimeField(required=True)


def _case_events(case: Case, also: Sequence[Event]) -> list[Event]:
    events = [*(case_envelope(e) for e in case.pending_events), *also]
    return events


class CaseFederation(Protocol):
    """What a change of a case must tell another state (`federation.CaseForwarder`)."""

    def case_events(self, case: Case) -> list[Event]: ...


class StoredCases:
    def __init__(self, store: DocumentStore) -> None:
        self._cases = store.collection(collection_of(CaseDocument))
        self._federation: CaseFederation | None = None

    def set_federation(self, federation: CaseFederation) -> None:
        """Cross-state federation: forward each change of a case about a copy of another state's worker."""
        self._federation = federation

    def _events(self, case: Case, also: Sequence[Event]) -> list[Event]:
        federated = self._federation.case_events(case) if self._federation is not None else []
        return [*_case_events(case, also), *federated]

    def ensure_indexes(self) -> None:
        self._cases.ensure_indexes(indexes_of(CaseDocument))

    def add(
        self, case: Case, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event] = ()
    ) -> tuple[Case, bool]:
        document = {
            "_id": case.grievance_id,
            **case_state(case),
            IDEMPOTENCY_FIELD: idempotency_key,
            FINGERPRINT_FIELD: fingerprint,
        }
        stored, created = self._cases.insert_once(document, events=self._events(case, also_publish))
        case.pending_events.clear()
        return (case if created else case_of(stored)), created

    def add_many(self, cases: Sequence[tuple[Case, str]]) -> int:
        """Bulk load (benchmarks, migrations): each case with its key, no events."""
        report = self._cases.insert_many(
            [
                ({"_id": c.grievance_id, **case_state(c), IDEMPOTENCY_FIELD: key, FINGERPRINT_FIELD: ""}, [])
                for c, key in cases
            ]
        )
        return len(report.inserted)

    def get(self, grievance_id: str) -> Case | None:
        doc = self._cases.get(grievance_id, exclude=_EXCLUDED)
        return case_of(doc) if doc else None

    def save(self, case: Case, *, loaded_version: int, also_publish: Sequence[Event] = ()) -> None:
        saved = self._cases.update(
            case.grievance_id,
            {"$set": case_state(case)},
            where={"version": loaded_version},
            events=self._events(case, also_publish),
        )
        if not saved:
            raise Conflict(f"grievance {case.grievance_id} changed meanwhile; read it again")
        case.pending_events.clear()

    def queue(self, where: QueueFilter, *, after: str, limit: int) -> QueuePage:
        query: dict[str, Any] = {"access_partner_ids": where.partner_id}
        statuses = sorted(where.statuses) or OPEN_STATUSES
        if set(statuses) <= set(OPEN_STATUSES):
            query["open"] = True
        query["status"] = {"$in": statuses}
        if where.states:
            query["location.state_code"] = {"$in": sorted(where.states)}
        if where.districts:
            query["location.district_code"] = {"$in": sorted(where.districts)}
        if where.district_code:
            query["location.district_code"] = (
                where.district_code if not where.districts or where.district_code in where.districts else {"$in": []}
            )
        if where.assignee_id:
            query["assignee_id"] = where.assignee_id
        if where.categories:
            query["category"] = {"$in": sorted(where.categories)}
        if where.min_escalation_level:
            query["escalation_level"] = {"$gte": where.min_escalation_level}
        if after:
            rank_text, _, last_id = after.partition("|")
            rank = float(rank_text)
            query["$or"] = [{"queue_rank": {"$gt": rank}}, {"queue_rank": rank, "_id": {"$gt": last_id}}]
        docs = self._cases.find(query, sort=[("queue_rank", 1), ("_id", 1)], limit=limit + 1, exclude=_EXCLUDED)
        cases = [case_of(d) for d in docs[:limit]]
        next_after = ""
        if len(docs) > limit:
            last = docs[limit - 1]
            next_after = f"{last['queue_rank']!r}|{last['_id']}"
        return QueuePage(cases, next_after)

    def with_reference(self, reference: str) -> str | None:
        if not reference:
            return None
        found = self._cases.find({"reference": reference}, fields=["_id"], limit=1)
        return str(found[0]["_id"]) if found else None

    def about_worker(self, worker_id: str) -> list[str]:
        if not worker_id:  # an empty id would match every case about someone outside the registry
            return []
        return [d["_id"] for d in self._cases.find({"worker_id": worker_id}, fields=["_id"])]

    def statistics_rows(self, where: StatisticsFilter) -> list[object]:
        query: dict[str, Any] = {}
        if where.states:
            query["location.state_code"] = {"$in": sorted(where.states)}
        if where.districts:
            query["location.district_code"] = {"$in": sorted(where.districts)}
        period: dict[str, Any] = {}
        if where.filed_from:
            period["$gte"] = where.filed_from
        if where.filed_to:
            period["$lt"] = where.filed_to
        if period:
            query["filed_at"] = period
        rows: list[object] = []
        for doc in self._cases.scan(query, fields=_STATISTICS_FIELDS):
            location = doc.get("location") or {}
            status = status_from_stored(doc["status"])
            rows.append(
                CaseRow(
                    state_code=location.get("state_code", ""),
                    district_code=location.get("district_code", ""),
                    category=category_from_stored(doc["category"]),
                    status=status,
                    filed_at=utc(doc["filed_at"]) or doc["filed_at"],
                    resolved_at=utc(doc.get("resolved_at")),
                    breached=bool(doc.get("breaches")),
                )
            )
        return rows


class StoredReferences:
    def __init__(self, store: DocumentStore) -> None:
        self._references = store.collection(collection_of(ReferenceDocument))

    def claim(self, reference: str, grievance_id: str) -> bool:
        try:
            self._references.insert({"_id": reference, "grievance_id": grievance_id})
        except DuplicateDocument:
            existing = self._references.get(reference)
            return existing is not None and existing.get("grievance_id") == grievance_id
        return True

    def release(self, reference: str, grievance_id: str) -> None:
        self._references.delete(reference, where={"grievance_id": grievance_id})

    def case_of(self, reference: str) -> str | None:
        doc = self._references.get(reference)
        return str(doc["grievance_id"]) if doc else None


def _trace_events(trace: Trace, also: Sequence[Event]) -> list[Event]:
    return [*(trace_envelope(e) for e in trace.pending_events), *also]


class TraceFederation(Protocol):
    """What a change of a trace must tell another state (`federation.TraceForwarder`)."""

    def trace_events(self, trace: Trace) -> list[Event]: ...


class StoredTraces:
    def __init__(self, store: DocumentStore) -> None:
        self._traces = store.collection(collection_of(TraceDocument))
        self._federation: TraceFederation | None = None

    def set_federation(self, federation: TraceFederation) -> None:
        """Cross-state federation: forward each change of a trace about a copy of another state's worker."""
        self._federation = federation

    def _events(self, trace: Trace, also: Sequence[Event]) -> list[Event]:
        federated = self._federation.trace_events(trace) if self._federation is not None else []
        return [*_trace_events(trace, also), *federated]

    def ensure_indexes(self) -> None:
        self._traces.ensure_indexes(indexes_of(TraceDocument))

    def add(
        self, trace: Trace, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event] = ()
    ) -> tuple[Trace, bool]:
        document = {
            "_id": trace.trace_id,
            **trace_state(trace),
            IDEMPOTENCY_FIELD: idempotency_key,
            FINGERPRINT_FIELD: fingerprint,
        }
        stored, created = self._traces.insert_once(document, events=self._events(trace, also_publish))
        trace.pending_events.clear()
        return (trace if created else trace_of(stored)), created

    def get(self, trace_id: str) -> Trace | None:
        doc = self._traces.get(trace_id, exclude=_EXCLUDED)
        return trace_of(doc) if doc else None

    def save(self, trace: Trace, *, loaded_version: int, also_publish: Sequence[Event] = ()) -> None:
        saved = self._traces.update(
            trace.trace_id,
            {"$set": trace_state(trace)},
            where={"version": loaded_version},
            events=self._events(trace, also_publish),
        )
        if not saved:
            raise Conflict(f"trace {trace.trace_id} changed meanwhile; read it again")
        trace.pending_events.clear()

    def about_worker(self, worker_id: str) -> list[str]:
        if not worker_id:
            return []
        return [d["_id"] for d in self._traces.find({"worker_id": worker_id}, fields=["_id"])]


class StoredWork:
    def __init__(self, store: DocumentStore) -> None:
        self._items = store.collection(collection_of(WorkItemDocument))

    def enqueue(self, item: WorkItem) -> bool:
        try:
            self._items.insert(
                {
                    "_id": item.item_id,
                    "kind": item.kind.value,
                    "grievance_id": item.grievance_id,
                    "trace_id": item.trace_id,
                    "worker_id": item.worker_id,
                    "surviving_worker_id": item.surviving_worker_id,
                    "enqueued_at": item.enqueued_at,
                    "consent": consent_doc(item.consent),
                }
            )
        except DuplicateDocument:
            return False
        return True

    def waiting(self, limit: int) -> list[WorkItem]:
        return [
            WorkItem(
                item_id=d["_id"],
                kind=WorkKind(d["kind"]),
                grievance_id=d.get("grievance_id", ""),
                trace_id=d.get("trace_id", ""),
                worker_id=d.get("worker_id", ""),
                surviving_worker_id=d.get("surviving_worker_id", ""),
                enqueued_at=utc(d.get("enqueued_at")),
                consent=consent_of(d.get("consent")),
            )
            for d in self._items.find({}, limit=limit)
        ]

    def done(self, item_id: str) -> None:
        self._items.delete(item_id)


class StoredReplays:
    def __init__(self, store: DocumentStore) -> None:
        self._replays = store.collection(collection_of(IntakeReplayDocument))

    def remember(self, key: str, forget_after: datetime) -> bool:
        try:
            self._replays.insert({"_id": key, "forget_after": forget_after})
        except DuplicateDocument:
            return False
        return True

    def forget_older_than(self, now: datetime) -> int:
        forgotten = 0
        for doc in self._replays.find({"forget_after": {"$lt": now}}, fields=["_id"], limit=500):
            forgotten += self._replays.delete(doc["_id"])
        return forgotten


class StoredErasedWorkers:
    def __init__(self, store: DocumentStore) -> None:
        self._erased = store.collection(collection_of(ErasedWorkerDocument))

    def remember(self, worker_id: str, at: datetime) -> bool:
        try:
            # Insert only (the store never upserts): a duplicate means it is remembered already.
            self._erased.insert({"_id": worker_id, "erased_at": at})
        except DuplicateDocument:
            return False
        return True

    def is_erased(self, worker_id: str) -> bool:
        return self._erased.get(worker_id, fields=[]) is not None
