"""The audit trail: every read and write of personal or case data becomes a `DataAccessed` event.

Writes add their audit event to the aggregate's outbox (same document, same write), so a change is
never stored without its trace. Reads publish synchronously and wait for the broker's
acknowledgement: if the audit path is down the read fails closed (503) rather than serving
personal data that nobody could later account for.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable

from google.protobuf.timestamp_pb2 import Timestamp
from kafka import KafkaProducer

from mrc.audit.v1 import audit_pb2
from mrc_plumbing.auth.caller import Caller
from mrc_plumbing.clock import utc_now
from mrc_plumbing.errors import Unavailable
from mrc_plumbing.events import Event

log = logging.getLogger(__name__)

AUDIT_TOPIC = "mrc.audit.v1"


class Action(enum.IntEnum):
    READ = audit_pb2.ACCESS_ACTION_READ
    CREATE = audit_pb2.ACCESS_ACTION_CREATE
    UPDATE = audit_pb2.ACCESS_ACTION_UPDATE
    DELETE = audit_pb2.ACCESS_ACTION_DELETE
    SEARCH = audit_pb2.ACCESS_ACTION_SEARCH
    EXPORT = audit_pb2.ACCESS_ACTION_EXPORT
    ERASE = audit_pb2.ACCESS_ACTION_ERASE


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
    ) -> Event:
        occurred_at = Timestamp()
        occurred_at.FromDatetime(utc_now())
        message = audit_pb2.DataAccessed(
            actor=audit_pb2.Actor(
                client_id=caller.client_id, partner_id=caller.partner_id, roles=sorted(r.value for r in caller.roles)
            ),
            action=audit_pb2.AccessAction.ValueType(action.value),
            service=self._service,
            resource_type=resource_type,
            resource_id=resource_id,
            fields=sorted(fields),
            purpose=caller.purpose,
            outcome=audit_pb2.ACCESS_OUTCOME_ALLOWED if allowed else audit_pb2.ACCESS_OUTCOME_DENIED,
            remote_address=caller.remote_address,
            request_id=caller.request_id,
            occurred_at=occurred_at,
            state_code=self._state_code,
        )
        return Event.from_message(message, source=f"/mrc/{self._service}", subject=resource_id, topic=AUDIT_TOPIC)

    def record(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
    ) -> None:
        """Publish now and wait for the broker; raise Unavailable (fail closed) if it cannot be recorded."""
        event = self.event(caller, action, resource_type, resource_id, fields, allowed=allowed)
        if self._producer is None:
            raise Unavailable("the audit trail is not configured; personal data is not served")
        try:
            self._producer.send(AUDIT_TOPIC, key=event.key, value=event.data, headers=event.kafka_headers()).get(
                timeout=self._timeout
            )
        except Exception as exc:
            log.error("audit record could not be published", extra={"error": str(exc)})
            raise Unavailable("the audit trail is unavailable; personal data is not served") from exc
