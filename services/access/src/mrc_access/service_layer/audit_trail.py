"""The audit trail: append what services report, let auditors page through it newest first.

Who sees what: an auditor lists the records of the states in its token (the state of the record that was
read or written; a token naming no state: the cluster's state, or every state where the cluster serves
several); an operator lists the whole cluster's trail. Filters narrow that further, never widen it.

A listing is bounded: at most 200 records a page, and no longer than the time budget (3 s by default);
a page the budget cut short comes back with a continuation token like any other page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass

from mrc_access.domain.audit_record import AccessRecord
from mrc_access.service_layer.ports import AccessRecordFilter, AuditRecordStore
from mrc_kernel.caller import Caller
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.idempotency import request_fingerprint
from mrc_kernel.roles import Role

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_FILTER_LENGTH = 128
DEFAULT_TIME_BUDGET_SECONDS = 3.0


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


def visible_states(caller: Caller, cluster_state: str) -> tuple[str, ...] | None:
    """The states whose records the caller may list; None: every record of this cluster."""
    if Role.OPERATOR in caller.roles:
        return None
    if caller.states:
        return tuple(sorted(caller.states))
    return (cluster_state,) if cluster_state else None


def _filter_tag(record_filter: AccessRecordFilter) -> str:
    # A token only continues the query it came from (AIP-158), for the same reach; another gets a clear error.
    return request_fingerprint(asdict(record_filter))[:16]


def encode_page_token(record_filter: AccessRecordFilter, position: str) -> str:
    payload = {"f": _filter_tag(record_filter), "a": position}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_page_token(record_filter: AccessRecordFilter, token: str) -> str:
    invalid = InvalidArgument.for_field("page_token", "is not a token from a previous page of this query")
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        tag, position = payload["f"], payload["a"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid from None
    if tag != _filter_tag(record_filter) or not isinstance(position, str):
        raise invalid
    return position


class AuditTrail:
    def __init__(
        self,
        store: AuditRecordStore,
        *,
        cluster_state: str = "",
        time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS,
    ) -> None:
        self._store = store
        self._cluster_state = cluster_state
        self._time_budget = time_budget_seconds

    def record(self, record: AccessRecord) -> bool:
        """Append one record; False for a redelivered one (same id), which changes nothing."""
        return self._store.add(record)

    def list(self, query: AccessRecordQuery, caller: Caller) -> AccessRecordPage:
        for name in ("resource_type", "resource_id", "partner_id"):
            if len(getattr(query, name)) > MAX_FILTER_LENGTH:
                raise InvalidArgument.for_field(name, f"must be at most {MAX_FILTER_LENGTH} characters")
        if query.page_size < 0:
            raise InvalidArgument.for_field("page_size", "must not be negative")
        if len(query.page_token) > 1024:
            raise InvalidArgument.for_field("page_token", "is not a token from a previous page of this query")
        # AIP-158: zero means the default, more than the maximum means the maximum.
        page_size = min(query.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        record_filter = AccessRecordFilter(
            query.resource_type,
            query.resource_id,
            query.partner_id,
            state_codes=visible_states(caller, self._cluster_state),
        )
        after = decode_page_token(record_filter, query.page_token) if query.page_token else ""
        page = self._store.page(record_filter, after=after, limit=page_size, time_budget_seconds=self._time_budget)
        more = bool(page.next_position) or page.budget_exhausted
        next_token = encode_page_token(record_filter, page.next_position or after) if more else ""
        return AccessRecordPage(page.records, next_token)
