"""Compliance records and wage-register batches in the document store.

One document per record (a wage payment, a recruitment cost, a working-conditions check, an ILO
finding); amounts as decimal text (exact), days as ISO dates. What is particular to the kind of record
is kept as one compact JSON text (`body`): nothing queries inside it (records are read by id, and found
by organisation, batch or worker through top-level fields), and FerretDB writes a flat document at about
its raw insert rate but one with four levels of nested fields at about a third of it (measured on the
dev stack: 1,300 against 3,300-4,100 documents/s), which a wage register of 100,000 rows feels.
Workers are named by reference only; evidence only as its cipher token. A record entered alone holds
its events and its audit event; the records of a wage-register batch are written first, then
documents carrying their events, and last the batch's document with its audit event, the summary the
history needs and `WageRecordsBatched` (a few writes per batch for the relay to read and clear,
instead of two more per record).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from mongoengine import BooleanField, DateTimeField, DictField, Document, IntField, ListField, StringField

from mrc_employer.adapters.organisations import utc
from mrc_employer.adapters.protobuf_mapping import record_event_envelope, wage_batch_envelope
from mrc_employer.domain.compliance_history import FeeDeducted, ShortfallLine, WageBatchSummary
from mrc_employer.domain.compliance_records import (
    AccommodationStatus,
    ContractStatus,
    IloFinding,
    IloIndicator,
    ProtectedEvidence,
    RecordSource,
    RecruitmentCostKind,
    RecruitmentCostRecord,
    WorkingConditionsCheck,
)
from mrc_employer.domain.history_sheet import WageMonth
from mrc_employer.domain.minimum_wages import MinimumWageKey, RateCaveat, WageSphere
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.wages import (
    AppliedRate,
    AssessmentOutcome,
    Deduction,
    DeductionKind,
    WageAssessment,
    WageRecord,
)
from mrc_employer.service_layer.ports import ComplianceRecord, NewRecord, WageBatchStored
from mrc_kernel.events import Event
from mrc_plumbing.store import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, OUTBOX_FIELD, DocumentStore, DuplicateDocument
from mrc_plumbing.store.schema import collection_of, indexes_of

WORKER_KEYS_FIELD = "worker_keys"
_EXCLUDED = [OUTBOX_FIELD, FINGERPRINT_FIELD, WORKER_KEYS_FIELD]
# A batch's events are spread over documents holding at most this many: the relay clears an outbox by
# matching each published entry (on FerretDB, in time growing with the square of its length).
EVENTS_PER_DOCUMENT = 100
WAGE, RECRUITMENT_COST, WORKING_CONDITIONS, ILO_INDICATOR = (
    "wage",
    "recruitment_cost",
    "working_conditions",
    "ilo_indicator",
)


class ComplianceRecordDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "compliance_records",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["organisation_id"], "name": "organisation"},
        ],
    }
    id = StringField(primary_key=True)
    kind = StringField(required=True, choices=[WAGE, RECRUITMENT_COST, WORKING_CONDITIONS, ILO_INDICATOR])
    organisation_id = StringField(required=True)
    worksite_id = StringField(default="")
    source = StringField(required=True, choices=[s.value for s in RecordSource])
    recorded_at = DateTimeField(required=True)
    recorded_by_partner_id = StringField(default="")
    batch_id = StringField(default="")
    body = StringField(required=True)  # compact JSON, see the module's docstring
    # "worker:<registry worker id>" for a record about a registered worker: found again on erasure or merge.
    worker_keys = ListField(StringField())
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(default="")
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class WageBatchDocument(Document):  # type: ignore[misc]
    """A batch of a wage register (and, `carries_events_of` set, documents carrying more of its events)."""

    meta = {"collection": "wage_batches", "indexes": []}
    id = StringField(primary_key=True)
    organisation_id = StringField(required=True)
    job_id = StringField(required=True)
    record_ids = ListField(StringField())
    records_below_minimum = IntField(default=0)
    stored_at = DateTimeField(required=True)
    summary = DictField()
    carries_events_of = StringField()
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def _text(value: Decimal) -> str:
    return f"{value:f}"


def _worker(worker: WorkerRef | None) -> dict[str, str] | None:
    if worker is None:
        return None
    return {"registry_worker_id": worker.registry_worker_id, "employer_worker_code": worker.employer_worker_code}


def _worker_of(doc: dict[str, Any] | None) -> WorkerRef | None:
    if not doc:
        return None
    return WorkerRef(doc.get("registry_worker_id", ""), doc.get("employer_worker_code", ""))


def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _body(record: ComplianceRecord) -> tuple[str, dict[str, Any]]:
    match record:
        case WageRecord():
            a = record.assessment
            return WAGE, {
                "worker": _worker(record.worker),
                "period_start": record.period_start.isoformat(),
                "period_end": record.period_end.isoformat(),
                "days_worked": _text(record.days_worked),
                "amount_paid": _text(record.amount_paid),
                "overtime_paid": _text(record.overtime_paid),
                "deductions": [{"kind": d.kind.value, "amount": _text(d.amount)} for d in record.deductions],
                "key": {
                    "sphere": record.key.sphere.value,
                    "state_code": record.key.state_code,
                    "scheduled_employment": record.key.scheduled_employment,
                    "skill_category": record.key.skill_category,
                    "area": record.key.area,
                },
                "assessment": {
                    "outcome": a.outcome.value,
                    "due": _text(a.due),
                    "received": _text(a.received),
                    "shortfall": _text(a.shortfall),
                    "shortfall_per_day": _text(a.shortfall_per_day),
                    "counted_deductions": _text(a.counted_deductions),
                    "uncounted_deductions": _text(a.uncounted_deductions),
                    "recruitment_fee_deducted": _text(a.recruitment_fee_deducted),
                    "rates": [
                        {
                            "rate_id": r.rate_id,
                            "revision": r.revision,
                            "start": r.start.isoformat(),
                            "end": r.end.isoformat(),
                            "per_day": _text(r.per_day),
                            "caveats": sorted(c.value for c in r.caveats),
                        }
                        for r in a.rates
                    ],
                    "provisional": a.provisional,
                },
            }
        case RecruitmentCostRecord():
            return RECRUITMENT_COST, {
                "worker": _worker(record.worker),
                "cost_kind": record.cost_kind.value,
                "amount": _text(record.amount),
                "reimbursed": _text(record.reimbursed),
                "charged_on": record.charged_on.isoformat(),
                "charged_by_organisation_id": record.charged_by_organisation_id,
            }
        case WorkingConditionsCheck():
            return WORKING_CONDITIONS, {
                "observed_on": record.observed_on.isoformat(),
                "workers_covered": record.workers_covered,
                "written_contract": record.written_contract.value,
                "identity_documents_retained": record.identity_documents_retained,
                "weekly_hours": None if record.weekly_hours is None else _text(record.weekly_hours),
                "overtime_paid_double": record.overtime_paid_double,
                "accommodation": record.accommodation.value,
                "free_to_leave": record.free_to_leave,
                "worker": _worker(record.worker),
            }
        case IloFinding():
            return ILO_INDICATOR, {
                "indicator": record.indicator.value,
                "observed_on": record.observed_on.isoformat(),
                "workers_affected": record.workers_affected,
                "evidence": record.evidence.token,
            }


def worker_key(worker_id: str) -> str:
    return f"worker:{worker_id}"


def worker_keys(record: ComplianceRecord) -> list[str]:
    worker = getattr(record, "worker", None)
    return [worker_key(worker.registry_worker_id)] if worker is not None and worker.registry_worker_id else []


def record_document(
    record: ComplianceRecord, *, recorded_by_partner_id: str, idempotency_key: str, fingerprint: str, batch_id: str = ""
) -> dict[str, Any]:
    kind, body = _body(record)
    return {
        "_id": record.record_id,
        "kind": kind,
        "organisation_id": record.organisation_id,
        "worksite_id": record.worksite_id,
        "source": record.source.value,
        "recorded_at": record.recorded_at,
        "recorded_by_partner_id": recorded_by_partner_id,
        "batch_id": batch_id,
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        WORKER_KEYS_FIELD: worker_keys(record),
        IDEMPOTENCY_FIELD: idempotency_key,
        FINGERPRINT_FIELD: fingerprint,
    }


def _wage(doc: dict[str, Any], common: dict[str, Any]) -> WageRecord:
    body = doc["body"]
    a, key = body["assessment"], body["key"]
    worker = _worker_of(body["worker"])
    assert worker is not None
    return WageRecord(
        **common,
        worksite_id=doc.get("worksite_id", ""),
        worker=worker,
        period_start=date.fromisoformat(body["period_start"]),
        period_end=date.fromisoformat(body["period_end"]),
        days_worked=Decimal(body["days_worked"]),
        amount_paid=Decimal(body["amount_paid"]),
        overtime_paid=Decimal(body["overtime_paid"]),
        deductions=tuple(Deduction(DeductionKind(d["kind"]), Decimal(d["amount"])) for d in body["deductions"]),
        key=MinimumWageKey(
            WageSphere(key["sphere"]),
            key["state_code"],
            key["scheduled_employment"],
            key["skill_category"],
            key["area"],
        ),
        assessment=WageAssessment(
            outcome=AssessmentOutcome(a["outcome"]),
            due=Decimal(a["due"]),
            received=Decimal(a["received"]),
            shortfall=Decimal(a["shortfall"]),
            shortfall_per_day=Decimal(a["shortfall_per_day"]),
            counted_deductions=Decimal(a["counted_deductions"]),
            uncounted_deductions=Decimal(a["uncounted_deductions"]),
            recruitment_fee_deducted=Decimal(a["recruitment_fee_deducted"]),
            rates=tuple(
                AppliedRate(
                    r["rate_id"],
                    r["revision"],
                    date.fromisoformat(r["start"]),
                    date.fromisoformat(r["end"]),
                    Decimal(r["per_day"]),
                    frozenset(RateCaveat(c) for c in r["caveats"]),
                )
                for r in a["rates"]
            ),
            provisional=a["provisional"],
        ),
    )


def _body_of(doc: dict[str, Any]) -> dict[str, Any]:
    body = doc["body"]
    parsed: dict[str, Any] = json.loads(body) if isinstance(body, str) else body
    return parsed


def record_of(doc: dict[str, Any]) -> ComplianceRecord:
    doc = {**doc, "body": _body_of(doc)}
    common: dict[str, Any] = {
        "record_id": doc["_id"],
        "organisation_id": doc["organisation_id"],
        "source": RecordSource(doc["source"]),
        "recorded_at": utc(doc["recorded_at"]),
    }
    body = doc["body"]
    kind = doc["kind"]
    if kind == WAGE:
        return _wage(doc, common)
    if kind == RECRUITMENT_COST:
        worker = _worker_of(body["worker"])
        assert worker is not None
        return RecruitmentCostRecord(
            **common,
            worksite_id=doc.get("worksite_id", ""),
            worker=worker,
            cost_kind=RecruitmentCostKind(body["cost_kind"]),
            amount=Decimal(body["amount"]),
            reimbursed=Decimal(body["reimbursed"]),
            charged_on=date.fromisoformat(body["charged_on"]),
            charged_by_organisation_id=body.get("charged_by_organisation_id", ""),
        )
    if kind == WORKING_CONDITIONS:
        hours = body.get("weekly_hours")
        return WorkingConditionsCheck(
            **common,
            worksite_id=doc.get("worksite_id", ""),
            observed_on=date.fromisoformat(body["observed_on"]),
            workers_covered=body["workers_covered"],
            written_contract=ContractStatus(body["written_contract"]),
            identity_documents_retained=_optional_bool(body.get("identity_documents_retained")),
            weekly_hours=None if hours is None else Decimal(hours),
            overtime_paid_double=_optional_bool(body.get("overtime_paid_double")),
            accommodation=AccommodationStatus(body["accommodation"]),
            free_to_leave=_optional_bool(body.get("free_to_leave")),
            worker=_worker_of(body.get("worker")),
        )
    return IloFinding(
        **common,
        worksite_id=doc.get("worksite_id", ""),
        indicator=IloIndicator(body["indicator"]),
        observed_on=date.fromisoformat(body["observed_on"]),
        workers_affected=body["workers_affected"],
        evidence=ProtectedEvidence(body["evidence"]),
    )


def _summary_document(summary: WageBatchSummary) -> dict[str, Any]:
    return {
        "months": [
            {
                "month_end": m.month_end.isoformat(),
                "due": _text(m.due),
                "shortfall": _text(m.shortfall),
                "provisional_shortfall": _text(m.provisional_shortfall),
                "records": m.records,
                "records_below": m.records_below,
            }
            for m in summary.months
        ],
        "shortfalls": [
            {
                "month_end": line.month_end.isoformat(),
                "established": line.established,
                "provisional": line.provisional,
                "workers": line.workers,
                "amount": _text(line.amount),
            }
            for line in summary.shortfalls
        ],
        "fees": [
            {
                "record_id": fee.record_id,
                "occurred_on": fee.occurred_on.isoformat(),
                "established": fee.established,
                "amount": _text(fee.amount),
            }
            for fee in summary.fees
        ],
    }


def _summary_of(doc: dict[str, Any]) -> WageBatchSummary:
    return WageBatchSummary(
        months=tuple(
            WageMonth(
                date.fromisoformat(m["month_end"]),
                Decimal(m["due"]),
                Decimal(m["shortfall"]),
                Decimal(m["provisional_shortfall"]),
                m["records"],
                m["records_below"],
            )
            for m in doc["months"]
        ),
        shortfalls=tuple(
            ShortfallLine(
                date.fromisoformat(line["month_end"]),
                line["established"],
                line["provisional"],
                line["workers"],
                Decimal(line["amount"]),
            )
            for line in doc["shortfalls"]
        ),
        fees=tuple(
            FeeDeducted(f["record_id"], date.fromisoformat(f["occurred_on"]), f["established"], Decimal(f["amount"]))
            for f in doc["fees"]
        ),
    )


class StoredRecords:
    """`ComplianceRecords` on the document store."""

    def __init__(self, store: DocumentStore) -> None:
        self._records = store.collection(collection_of(ComplianceRecordDocument))
        self._batches = store.collection(collection_of(WageBatchDocument))
        self._workers = store.key_index(collection_of(ComplianceRecordDocument), WORKER_KEYS_FIELD)

    def ensure_indexes(self) -> None:
        self._records.ensure_indexes(indexes_of(ComplianceRecordDocument))

    @staticmethod
    def _events(record: ComplianceRecord, also_publish: Sequence[Event]) -> list[Event]:
        return [*(record_event_envelope(e) for e in record.pending_events), *also_publish]

    def add(
        self,
        record: ComplianceRecord,
        *,
        recorded_by_partner_id: str,
        idempotency_key: str,
        fingerprint: str,
        also_publish: Sequence[Event],
    ) -> tuple[ComplianceRecord, bool]:
        document = record_document(
            record,
            recorded_by_partner_id=recorded_by_partner_id,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        self._workers.added(record.record_id, document[WORKER_KEYS_FIELD])
        stored, created = self._records.insert_once(document, events=self._events(record, also_publish))
        record.pending_events.clear()
        return (record if created else record_of(stored)), created

    def get(self, record_id: str) -> ComplianceRecord | None:
        doc = self._records.get(record_id, exclude=_EXCLUDED)
        return record_of(doc) if doc else None

    def get_many(self, record_ids: Sequence[str]) -> list[ComplianceRecord]:
        return [record_of(d) for d in self._records.get_many(list(record_ids), exclude=_EXCLUDED)]

    def _records_of_worker(self, worker_id: str) -> list[str]:
        """Every record naming the worker (a key listing may hold a record no longer naming it: re-checked)."""
        found: list[str] = []
        after = ""
        while True:
            listing = self._workers.listing(worker_key(worker_id), after=after, limit=500)
            found += listing.ids
            if len(listing.ids) < 500:
                return found
            after = listing.ids[-1]

    def _rewrite_worker(self, record_id: str, key: str, worker: dict[str, Any], keys: list[str]) -> bool:
        """Replace the worker reference in one record that still names `key` (conditional on it)."""
        document = self._records.get(record_id, fields=["body"])
        if document is None:
            return False
        body = _body_of(document)
        if not body.get("worker"):
            return False
        body["worker"] = worker
        return self._records.update(
            record_id,
            {"$set": {"body": json.dumps(body, separators=(",", ":"), ensure_ascii=False), WORKER_KEYS_FIELD: keys}},
            where={WORKER_KEYS_FIELD: key},
        )

    def forget_worker(self, worker_id: str) -> int:
        """The registry erased the worker: the records stay (they are evidence about the employer) without the
        worker's id. Returns how many records this call changed."""
        key = worker_key(worker_id)
        erased = {"registry_worker_id": "", "employer_worker_code": "", "erased": True}
        changed = 0
        for record_id in self._records_of_worker(worker_id):
            changed += self._rewrite_worker(record_id, key, erased, [])
            self._workers.removed(record_id, [key])
        return changed

    def rekey_worker(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        """The registry merged two records of one person: the records follow the surviving id."""
        old, new = worker_key(merged_worker_id), worker_key(surviving_worker_id)
        survivor = {"registry_worker_id": surviving_worker_id, "employer_worker_code": ""}
        changed = 0
        for record_id in self._records_of_worker(merged_worker_id):
            self._workers.added(record_id, [new])
            changed += self._rewrite_worker(record_id, old, survivor, [new])
            self._workers.removed(record_id, [old])
        return changed

    def add_batch(self, batch: WageBatchStored, records: Sequence[NewRecord], *, also_publish: Sequence[Event]) -> bool:
        """The records first, without events (a record an earlier run stored is skipped), then documents
        carrying all their events and audit events, the batch document last with `WageRecordsBatched`.
        A run that stops in between leaves records whose events wait for their carriers: the import's
        re-run (the same file) writes what is missing (carriers already written are skipped)."""
        if self._batches.get(batch.batch_id, fields=[]) is not None:
            return False
        documents = [
            (
                record_document(
                    n.record,
                    recorded_by_partner_id=n.recorded_by_partner_id,
                    idempotency_key=n.idempotency_key,
                    fingerprint="",
                    batch_id=batch.batch_id,
                ),
                (),
            )
            for n in records
        ]
        by_key: dict[str, list[str]] = {}
        for document, _ in documents:
            for key in document[WORKER_KEYS_FIELD]:
                by_key.setdefault(key, []).append(document["_id"])
        self._workers.added_many(by_key)
        self._records.insert_many(documents)
        events = [e for n in records for e in (*self._events(n.record, ()), *n.also_publish)]
        events += also_publish
        events.append(
            wage_batch_envelope(
                batch.batch_id,
                batch.organisation_id,
                batch.job_id,
                batch.record_ids,
                batch.records_below_minimum,
                batch.stored_at,
            )
        )
        chunks = [events[i : i + EVENTS_PER_DOCUMENT] for i in range(0, len(events), EVENTS_PER_DOCUMENT)]
        # All but the last chunk in documents of their own, written first; the batch document, last, holds
        # the last chunk with `WageRecordsBatched`, so the history hears of a batch only once it is whole.
        carriers = [
            ({"_id": f"{batch.batch_id}:events:{n:03d}", "carries_events_of": batch.batch_id}, chunk)
            for n, chunk in enumerate(chunks[:-1])
        ]
        if carriers:
            self._batches.insert_many(carriers)
        try:
            self._batches.insert(
                {
                    "_id": batch.batch_id,
                    "organisation_id": batch.organisation_id,
                    "job_id": batch.job_id,
                    "record_ids": list(batch.record_ids),
                    "records_below_minimum": batch.records_below_minimum,
                    "stored_at": batch.stored_at,
                    "summary": _summary_document(batch.summary),
                },
                events=chunks[-1],
            )
        except DuplicateDocument:
            return False
        finally:
            for n in records:
                n.record.pending_events.clear()
        return True

    def batch(self, batch_id: str) -> WageBatchStored | None:
        doc = self._batches.get(batch_id, exclude=[OUTBOX_FIELD])
        if doc is None:
            return None
        stored_at: datetime = utc(doc["stored_at"])
        return WageBatchStored(
            batch_id=doc["_id"],
            organisation_id=doc["organisation_id"],
            job_id=doc["job_id"],
            record_ids=tuple(doc["record_ids"]),
            records_below_minimum=doc.get("records_below_minimum", 0),
            stored_at=stored_at,
            summary=_summary_of(doc["summary"]),
        )
