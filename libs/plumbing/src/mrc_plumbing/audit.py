"""The audit trail adapter: `DataAccessed` events on Kafka (the port is `mrc_kernel.audit`).

Writes add their audit event to the aggregate's outbox (same document, same write), so a change is
never stored without its trace. Reads publish synchronously and wait for the broker's
acknowledgement: if the audit path is down the read fails closed (503) rather than serving
personal data that nobody could later account for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaProducer

from mrc.audit.v1 import audit_pb2
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Unavailable
from mrc_kernel.events import Event

log = logging.getLogger(__name__)

AUDIT_TOPIC = "mrc.audit.v1"


def action_code(action: Action) -> audit_pb2.AccessAction.ValueType:
    return audit_pb2.AccessAction.Value(f"ACCESS_ACTION_{action.name}")


class AuditTrail:
    def __init__(self, producer: KafkaProducer | None, *, service: str, state_code: str, timeout_seconds: float = 5.0):
        self._producer = producer
        self._service = service
        self._state_code = state_code
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
        resource_ids: Sequence[str] = (),
    ) -> Event:
        """`resource_ids`: a listing's records (with `resource_id` empty; keyed by the first, so the record lands
        beside that record's other reads)."""
        occurred_at = Timestamp()
        occurred_at.FromDatetime(utc_now())
        message = audit_pb2.DataAccessed(
            actor=audit_pb2.Actor(
                client_id=caller.client_id, partner_id=caller.partner_id, roles=sorted(r.value for r in caller.roles)
            ),
            action=action_code(action),
            service=self._service,
            resource_type=resource_type,
            resource_id=resource_id,
            resource_ids=list(resource_ids),
            fields=sorted(fields),
            purpose=caller.purpose,
            outcome=audit_pb2.ACCESS_OUTCOME_ALLOWED if allowed else audit_pb2.ACCESS_OUTCOME_DENIED,
            remote_address=caller.remote_address,
            request_id=caller.request_id,
            occurred_at=occurred_at,
            # The state of the record read or written (an auditor sees their own state's trail); the
            # cluster's state when the record has none.
            state_code=state_code or self._state_code,
        )
        subject = resource_id or (resource_ids[0] if resource_ids else "")
        return Event.from_message(message, source=f"/mrc/{self._service}", subject=subject, topic=AUDIT_TOPIC)

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
        """Publish now and wait for the broker; raise Unavailable (fail closed) if it cannot be recorded."""
        self._publish(
            self.event(caller, action, resource_type, resource_id, fields, allowed=allowed, state_code=state_code)
        )

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
        """One record for a listing naming every record it showed (a page of a work queue is one round trip to
        the broker, not one per record); fails closed like `record`. Nothing listed, nothing recorded."""
        if resource_ids:
            self._publish(
                self.event(caller, action, resource_type, "", fields, state_code=state_code, resource_ids=resource_ids)
            )

    def _publish(self, event: Event) -> None:
        if self._producer is None:
            raise Unavailable("the audit trail is not configured; personal data is not served")
        try:
            self._producer.send(AUDIT_TOPIC, key=event.key, value=event.data, headers=event.kafka_headers()).get(
                timeout=self._timeout
            )
        except Exception as exc:
            log.error("audit record could not be published", extra={"error": str(exc)})
            raise Unavailable("the audit trail is unavailable; personal data is not served") from exc
