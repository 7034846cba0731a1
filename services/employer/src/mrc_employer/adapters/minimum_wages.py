"""The minimum-wage table in the document store: one document per row (`_id` = its rate id).

The table is small (a state's rows and the central ones: hundreds), so it is read whole. A row is never
edited but to retire it (superseded or withdrawn), conditional on the version read and on its being
active; its events go to `mrc.employer.minimum-wages.v1`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from mongoengine import BooleanField, DateTimeField, DictField, Document, IntField, ListField, StringField

from mrc_employer.adapters.organisations import utc
from mrc_employer.adapters.protobuf_mapping import rate_event_envelope
from mrc_employer.domain.minimum_wages import (
    MinimumWageEvent,
    MinimumWageRate,
    RateCaveat,
    RateStatus,
    RateUnit,
    ValueStatus,
    WageSphere,
)
from mrc_kernel.errors import IdempotencyKeyReused
from mrc_kernel.events import Event
from mrc_plumbing.store import FINGERPRINT_FIELD, OUTBOX_FIELD, DocumentStore, DuplicateDocument
from mrc_plumbing.store.schema import collection_of


class MinimumWageRateDocument(Document):  # type: ignore[misc]
    meta = {"collection": "minimum_wage_rates", "indexes": []}
    id = StringField(primary_key=True)
    sphere = StringField(required=True, choices=[s.value for s in WageSphere])
    state_code = StringField(default="")
    scheduled_employment = StringField(required=True)
    scheduled_employment_label = StringField(required=True)
    skill_label = StringField(required=True)
    area_label = StringField(default="")
    unit = StringField(required=True, choices=[u.value for u in RateUnit])
    amount = StringField(required=True)
    basic = StringField()
    vda = StringField()
    effective_from = StringField()
    effective_until = StringField()
    notification_ref = StringField(default="")
    source_urls = ListField(StringField())
    value_status = StringField(required=True)
    caveats = ListField(StringField())
    note = StringField(default="")
    recorded_at = DateTimeField(required=True)
    status = StringField(required=True, choices=[s.value for s in RateStatus])
    revision = IntField(required=True)
    supersedes = StringField(default="")
    superseded_by = StringField(default="")
    change_reason = StringField(default="")
    version = IntField(required=True)
    request_fingerprint = StringField(default="")
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _fields(rate: MinimumWageRate) -> dict[str, Any]:
    return {
        "sphere": rate.sphere.value,
        "state_code": rate.state_code,
        "scheduled_employment": rate.scheduled_employment,
        "scheduled_employment_label": rate.scheduled_employment_label,
        "skill_label": rate.skill_label,
        "area_label": rate.area_label,
        "unit": rate.unit.value,
        "amount": _text(rate.amount),
        "basic": _text(rate.basic),
        "vda": _text(rate.vda),
        "effective_from": _day(rate.effective_from),
        "effective_until": _day(rate.effective_until),
        "notification_ref": rate.notification_ref,
        "source_urls": list(rate.source_urls),
        "value_status": rate.value_status.value,
        "caveats": sorted(c.value for c in rate.caveats),
        "note": rate.note,
        "recorded_at": rate.recorded_at,
        "status": rate.status.value,
        "revision": rate.revision,
        "supersedes": rate.supersedes,
        "superseded_by": rate.superseded_by,
        "change_reason": rate.change_reason,
        "version": rate.version,
    }


def rate_of(doc: dict[str, Any]) -> MinimumWageRate:
    def decimal(name: str) -> Decimal | None:
        return None if doc.get(name) is None else Decimal(doc[name])

    def day(name: str) -> date | None:
        return date.fromisoformat(doc[name]) if doc.get(name) else None

    amount = decimal("amount")
    assert amount is not None
    return MinimumWageRate(
        rate_id=doc["_id"],
        sphere=WageSphere(doc["sphere"]),
        state_code=doc.get("state_code", ""),
        scheduled_employment=doc["scheduled_employment"],
        scheduled_employment_label=doc["scheduled_employment_label"],
        skill_label=doc["skill_label"],
        area_label=doc.get("area_label", ""),
        unit=RateUnit(doc["unit"]),
        amount=amount,
        basic=decimal("basic"),
        vda=decimal("vda"),
        effective_from=day("effective_from"),
        effective_until=day("effective_until"),
        notification_ref=doc.get("notification_ref", ""),
        source_urls=tuple(doc.get("source_urls", [])),
        value_status=ValueStatus(doc["value_status"]),
        caveats=frozenset(RateCaveat(c) for c in doc.get("caveats", [])),
        note=doc.get("note", ""),
        recorded_at=utc(doc["recorded_at"]),
        status=RateStatus(doc["status"]),
        revision=doc["revision"],
        supersedes=doc.get("supersedes", ""),
        superseded_by=doc.get("superseded_by", ""),
        change_reason=doc.get("change_reason", ""),
        version=doc["version"],
    )


class StoredRates:
    """`MinimumWageRates` on the document store."""

    def __init__(self, store: DocumentStore) -> None:
        self._collection = store.collection(collection_of(MinimumWageRateDocument))

    def ensure_indexes(self) -> None:
        return None  # read whole

    def all(self) -> list[MinimumWageRate]:
        return [rate_of(d) for d in self._collection.scan(fields=None) if d]

    def add(
        self,
        rate: MinimumWageRate,
        *,
        fingerprint: str,
        events: Sequence[MinimumWageEvent],
        also_publish: Sequence[Event],
    ) -> tuple[MinimumWageRate, bool]:
        envelopes = [*(rate_event_envelope(e) for e in events), *also_publish]
        try:
            self._collection.insert(
                {"_id": rate.rate_id, **_fields(rate), FINGERPRINT_FIELD: fingerprint}, events=envelopes
            )
            return rate, True
        except DuplicateDocument:
            stored = self._collection.get(rate.rate_id, exclude=[OUTBOX_FIELD])
            if stored is None:
                raise
            if stored.get(FINGERPRINT_FIELD, "") != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request") from None
            return rate_of(stored), False

    def retire(
        self,
        rate: MinimumWageRate,
        *,
        expected_version: int,
        events: Sequence[MinimumWageEvent] = (),
        also_publish: Sequence[Event] = (),
    ) -> bool:
        envelopes = [*(rate_event_envelope(e) for e in events), *also_publish]
        return self._collection.update(
            rate.rate_id,
            {"$set": _fields(rate)},
            where={"version": expected_version, "status": RateStatus.ACTIVE.value},
            events=envelopes,
        )

    def seed(self, rates: Sequence[MinimumWageRate]) -> int:
        report = self._collection.insert_many(
            [({"_id": rate.rate_id, **_fields(rate), FINGERPRINT_FIELD: ""}, []) for rate in rates]
        )
        return len(report.inserted)
