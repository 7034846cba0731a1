"""One entry of the audit trail: who read or wrote which personal data, where, when and why."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class AccessAction(enum.StrEnum):
    UNSPECIFIED = "unspecified"
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SEARCH = "search"
    EXPORT = "export"
    ERASE = "erase"


class AccessOutcome(enum.StrEnum):
    UNSPECIFIED = "unspecified"
    ALLOWED = "allowed"
    DENIED = "denied"


@dataclass(frozen=True)
class Actor:
    client_id: str
    partner_id: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class AccessRecord:
    """Immutable once stored: the trail has no update or delete path."""

    record_id: str  # the CloudEvents id of the event that carried it
    actor: Actor
    action: AccessAction
    service: str
    resource_type: str
    resource_id: str
    fields: tuple[str, ...]
    purpose: str
    outcome: AccessOutcome
    remote_address: str
    request_id: str
    occurred_at: datetime
    state_code: str
    # A listing (a page of a work queue) is one record naming every record it showed; `resource_id` is then
    # empty. An auditor asking for one id finds the listing by any of these.
    resource_ids: tuple[str, ...] = ()
