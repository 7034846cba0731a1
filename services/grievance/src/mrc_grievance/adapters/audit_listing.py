"""The audit trail with one record for a listing: a page of the work queue is one `DataAccessed` naming every
case it showed (`resource_ids`), published and acknowledged before the page is served (fail closed), instead
of one synchronous round trip to the broker per case. The access service stores it once and finds it by any
of those ids, so "who saw this case" still answers with every listing that showed it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence

from kafka import KafkaProducer

from mrc.audit.v1 import audit_pb2
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Unavailable
from mrc_kernel.events import Event
from mrc_plumbing.audit import AUDIT_TOPIC, AuditTrail

log = logging.getLogger(__name__)


def listing_event(
    trail: AuditTrail,
    caller: Caller,
    action: Action,
    resource_type: str,
    resource_ids: Sequence[str],
    fields: Iterable[str] = (),
    *,
    state_code: str = "",
) -> Event:
    """One record for the listing: `resource_id` empty, every record shown in `resource_ids` (keyed by the
    first, so the record lands beside that record's other reads)."""
    event = trail.event(caller, action, resource_type, "", fields, state_code=state_code)
    message = audit_pb2.DataAccessed.FromString(event.data)
    message.resource_ids.extend(resource_ids)
    return dataclasses.replace(
        event, subject=resource_ids[0] if resource_ids else "", data=message.SerializeToString(deterministic=True)
    )


class ListingAuditTrail:
    """`AuditTrail` (single records and write events, unchanged) plus `record_listing`."""

    def __init__(self, trail: AuditTrail, producer: KafkaProducer | None, *, timeout_seconds: float = 5.0) -> None:
        self._trail = trail
        self._producer = producer
        self._timeout = timeout_seconds

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
        return self._trail.event(
            caller, action, resource_type, resource_id, fields, allowed=allowed, state_code=state_code
        )

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
        self._trail.record(caller, action, resource_type, resource_id, fields, allowed=allowed, state_code=state_code)

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
        """Publish the listing's one record now and wait for the broker; Unavailable (fail closed) if it
        cannot be recorded. Nothing listed, nothing recorded."""
        if not resource_ids:
            return
        event = listing_event(self._trail, caller, action, resource_type, resource_ids, fields, state_code=state_code)
        if self._producer is None:
            raise Unavailable("the audit trail is not configured; personal data is not served")
        try:
            self._producer.send(AUDIT_TOPIC, key=event.key, value=event.data, headers=event.kafka_headers()).get(
                timeout=self._timeout
            )
        except Exception as exc:
            log.error("audit record could not be published", extra={"error": str(exc)})
            raise Unavailable("the audit trail is unavailable; personal data is not served") from exc
