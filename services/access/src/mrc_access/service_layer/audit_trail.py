"""The audit trail: append what services report, let auditors page through it newest first."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from mrc_access.domain.audit_record import AccessRecord
from mrc_access.service_layer.ports import AccessRecordFilter, AuditRecordStore, RecordPosition
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.idempotency import request_fingerprint

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_FILTER_LENGTH = 128


@dataclass(frozen=True)
class AccessRecordQuery:
    resource_type: str = ""
    resource_id: str = ""
    partner_id: str = ""
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class AccessRecordPage:
    records: list[AccessRecord]
    next_page_token: str  # empty on the last page


def _filter_tag(record_filter: AccessRecordFilter) -> str:
    # A token only continues the query it came from (AIP-158); another filter gets a clear error.
    return request_fingerprint(asdict(record_filter))[:16]


def encode_page_token(record_filter: AccessRecordFilter, position: RecordPosition) -> str:
    payload = {"f": _filter_tag(record_filter), "t": position.occurred_at.isoformat(), "i": position.record_id}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_page_token(record_filter: AccessRecordFilter, token: str) -> RecordPosition:
    invalid = InvalidArgument.for_field("page_token", "is not a token from a previous page of this query")
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position = RecordPosition(datetime.fromisoformat(payload["t"]), str(payload["i"]))
        tag = payload["f"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid from None
    if tag != _filter_tag(record_filter) or position.occurred_at.tzinfo is None:
        raise invalid
    return position


class AuditTrail:
    def __init__(self, store: AuditRecordStore) -> None:
        self._store = store

    def record(self, record: AccessRecord) -> bool:
        """Append one record; False for a redelivered one (same id), which changes nothing."""
        return self._store.add(record)

    def list(self, query: AccessRecordQuery) -> AccessRecordPage:
        for name in ("resource_type", "resource_id", "partner_id"):
            if len(getattr(query, name)) > MAX_FILTER_LENGTH:
                raise InvalidArgument.for_field(name, f"must be at most {MAX_FILTER_LENGTH} characters")
        if query.page_size < 0:
            raise InvalidArgument.for_field("page_size", "must not be negative")
        # AIP-158: zero means the default, more than the maximum means the maximum.
        page_size = min(query.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        record_filter = AccessRecordFilter(query.resource_type, query.resource_id, query.partner_id)
        after = decode_page_token(record_filter, query.page_token) if query.page_token else None
        found = self._store.find(record_filter, after=after, limit=page_size + 1)
        records = found[:page_size]
        next_token = ""
        if len(found) > page_size:
            last = records[-1]
            next_token = encode_page_token(record_filter, RecordPosition(last.occurred_at, last.record_id))
        return AccessRecordPage(records, next_token)
