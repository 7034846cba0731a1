"""Compliance histories in the document store: one document per organisation (`_id` = its id).

It holds the history sheet's lines, the wage batches' monthly totals, the grievance signals (each with
the id of the event it came from: what makes a redelivery recognisable), the last score, the risk flag,
and the history's own pending events. Every save is conditional on the version read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from mongoengine import BooleanField, DictField, Document, IntField, ListField, StringField

from mrc_employer.adapters.organisations import utc
from mrc_employer.adapters.protobuf_mapping import history_event_envelope
from mrc_employer.domain.compliance_history import ComplianceHistory, RiskFlag
from mrc_employer.domain.grievance_signals import GrievanceSignal, GrievanceSignalKind
from mrc_employer.domain.history_sheet import EntryKind, HistoryEntry, WageBatch, WageMonth
from mrc_employer.domain.score import ComplianceScore, Component, FlagReason, ScoreComponent
from mrc_plumbing.store import OUTBOX_FIELD, DocumentStore, DuplicateDocument
from mrc_plumbing.store.schema import collection_of


class ComplianceHistoryDocument(Document):  # type: ignore[misc]
    meta = {"collection": "compliance_histories", "indexes": []}
    id = StringField(primary_key=True)
    entries = ListField(DictField())
    wage_batches = ListField(DictField())
    grievance_signals = ListField(DictField())
    score = DictField()
    flag = DictField()
    version = IntField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _entry(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "kind": entry.kind.value,
        "source_id": entry.source_id,
        "occurred_on": entry.occurred_on.isoformat(),
        "recorded_at": entry.recorded_at,
        "detail": entry.detail,
        "established": entry.established,
        "workers_affected": entry.workers_affected,
        "amount": _text(entry.amount),
        "provisional": entry.provisional,
        "remediated": entry.remediated,
        "severity": entry.severity,
    }


def _entry_of(doc: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        entry_id=doc["entry_id"],
        kind=EntryKind(doc["kind"]),
        source_id=doc["source_id"],
        occurred_on=date.fromisoformat(doc["occurred_on"]),
        recorded_at=utc(doc["recorded_at"]),
        detail=doc["detail"],
        established=doc["established"],
        workers_affected=doc.get("workers_affected", 1),
        amount=None if doc.get("amount") is None else Decimal(doc["amount"]),
        provisional=doc.get("provisional", False),
        remediated=doc.get("remediated", False),
        severity=doc.get("severity", ""),
    )


def _batch(batch: WageBatch) -> dict[str, Any]:
    return {
        "batch_id": batch.batch_id,
        "applied_at": batch.applied_at,
        "months": [
            {
                "month_end": m.month_end.isoformat(),
                "due": _text(m.due),
                "shortfall": _text(m.shortfall),
                "provisional_shortfall": _text(m.provisional_shortfall),
                "records": m.records,
                "records_below": m.records_below,
            }
            for m in batch.months
        ],
    }


def _batch_of(doc: dict[str, Any]) -> WageBatch:
    return WageBatch(
        batch_id=doc["batch_id"],
        applied_at=utc(doc["applied_at"]),
        months=tuple(
            WageMonth(
                month_end=date.fromisoformat(m["month_end"]),
                due=Decimal(m["due"]),
                shortfall=Decimal(m["shortfall"]),
                provisional_shortfall=Decimal(m["provisional_shortfall"]),
                records=m["records"],
                records_below=m["records_below"],
            )
            for m in doc["months"]
        ),
    )


def _signal(signal: GrievanceSignal) -> dict[str, Any]:
    return {
        "event_id": signal.event_id,
        "grievance_id": signal.grievance_id,
        "kind": signal.kind.value,
        "occurred_at": signal.occurred_at,
        "category": signal.category,
        "severity": signal.severity,
        "substantiated": signal.substantiated,
        "outcome": signal.outcome,
    }


def _signal_of(doc: dict[str, Any]) -> GrievanceSignal:
    return GrievanceSignal(
        event_id=doc["event_id"],
        grievance_id=doc["grievance_id"],
        kind=GrievanceSignalKind(doc["kind"]),
        occurred_at=utc(doc["occurred_at"]),
        category=doc.get("category", ""),
        severity=doc.get("severity", ""),
        substantiated=doc.get("substantiated", False),
        outcome=doc.get("outcome", ""),
    )


def _score(score: ComplianceScore | None) -> dict[str, Any]:
    if score is None:
        return {}
    return {
        "value": _text(score.value),
        "components": [
            {
                "component": c.component.value,
                "penalty": _text(c.penalty),
                "cap": _text(c.cap),
                "uncapped": _text(c.uncapped),
                "findings": c.findings,
            }
            for c in score.components
        ],
        "as_of": score.as_of.isoformat(),
        "established_occasions": score.established_occasions,
    }


def _score_of(doc: dict[str, Any] | None) -> ComplianceScore | None:
    if not doc:
        return None
    return ComplianceScore(
        value=Decimal(doc["value"]),
        components=tuple(
            ScoreComponent(
                Component(c["component"]),
                Decimal(c["penalty"]),
                Decimal(c["cap"]),
                Decimal(c["uncapped"]),
                c["findings"],
            )
            for c in doc["components"]
        ),
        as_of=date.fromisoformat(doc["as_of"]),
        established_occasions=doc["established_occasions"],
    )


def _flag(flag: RiskFlag) -> dict[str, Any]:
    return {
        "raised": flag.raised,
        "crossings": flag.crossings,
        "changed_at": flag.changed_at,
        "reasons": [r.value for r in flag.reasons],
    }


def _flag_of(doc: dict[str, Any] | None) -> RiskFlag:
    if not doc:
        return RiskFlag()
    changed_at = doc.get("changed_at")
    return RiskFlag(
        raised=doc["raised"],
        crossings=doc["crossings"],
        changed_at=utc(changed_at) if changed_at else None,
        reasons=tuple(FlagReason(r) for r in doc.get("reasons", [])),
    )


def _fields(history: ComplianceHistory) -> dict[str, Any]:
    return {
        "entries": [_entry(e) for e in history.entries],
        "wage_batches": [_batch(b) for b in history.wage_batches],
        "grievance_signals": [_signal(s) for s in history.grievance_signals],
        "score": _score(history.score),
        "flag": _flag(history.flag),
        "version": history.version,
    }


def history_of(doc: dict[str, Any]) -> ComplianceHistory:
    return ComplianceHistory(
        organisation_id=doc["_id"],
        entries=[_entry_of(e) for e in doc.get("entries", [])],
        wage_batches=[_batch_of(b) for b in doc.get("wage_batches", [])],
        grievance_signals=[_signal_of(s) for s in doc.get("grievance_signals", [])],
        score=_score_of(doc.get("score")),
        flag=_flag_of(doc.get("flag")),
        version=doc["version"],
    )


class StoredHistories:
    """`Histories` on the document store."""

    def __init__(self, store: DocumentStore) -> None:
        self._collection = store.collection(collection_of(ComplianceHistoryDocument))

    def ensure_indexes(self) -> None:
        return None  # found by `_id` only

    def get(self, organisation_id: str) -> ComplianceHistory | None:
        doc = self._collection.get(organisation_id, exclude=[OUTBOX_FIELD])
        return history_of(doc) if doc else None

    def create(self, history: ComplianceHistory) -> bool:
        events = [history_event_envelope(e) for e in history.pending_events]
        try:
            self._collection.insert({"_id": history.organisation_id, **_fields(history)}, events=events)
        except DuplicateDocument:
            return False
        history.pending_events.clear()
        return True

    def save(self, history: ComplianceHistory, *, expected_version: int) -> bool:
        events = [history_event_envelope(e) for e in history.pending_events]
        stored = self._collection.update(
            history.organisation_id, {"$set": _fields(history)}, where={"version": expected_version}, events=events
        )
        if stored:
            history.pending_events.clear()
        return stored

    def organisation_ids(self) -> Iterator[str]:
        for doc in self._collection.scan(fields=[]):
            yield str(doc["_id"])
