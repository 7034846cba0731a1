"""The audit port: every read and write of personal or case data leaves a `DataAccessed` record.

Writes store their audit event with the change (same document, same write, via the outbox); reads
record synchronously and fail closed: if the trail cannot take the record, the data is not served.
The adapter (`mrc_plumbing.audit.AuditTrail`) publishes to Kafka; tests use a fake.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Protocol

from mrc_kernel.caller import Caller
from mrc_kernel.events import Event


class Action(enum.StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SEARCH = "search"
    EXPORT = "export"
    ERASE = "erase"


class AuditRecorder(Protocol):
    def event(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
        state_code: str = "",
    ) -> Event:
        """The audit event of a write, to be stored with it (it leaves through the outbox)."""
        ...

    def record(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
        state_code: str = "",
    ) -> None:
        """Record a read now; raise `Unavailable` if the trail cannot take it (the read is then refused)."""
        ...


class ListingAuditRecorder(AuditRecorder, Protocol):
    """The audit port plus one record for a listing (a page of a work queue)."""

    def record_listing(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_ids: Sequence[str],
        fields: Iterable[str] = (),
        *,
        state_code: str = "",
    ) -> None:
        """Record now that a listing showed these records (all of `resource_type`, in `state_code`), as one
        record naming each; raise `Unavailable` if the trail cannot take it (the listing is then refused)."""
        ...
