"""The event envelope: CloudEvents 1.0 over Kafka in binary mode, with a protobuf payload.

A record's value is the serialized protobuf message; its metadata travels as headers (`ce_id`,
`ce_type`, `ce_source`, `ce_time`, `ce_specversion`, `ce_subject`, `content-type`), and its key is the
aggregate id so all events of one aggregate stay ordered in one partition. `ce_type` is the
message's full protobuf name, which carries the contract version (`mrc.registry.v1.WorkerRegistered`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from mrc_kernel.clock import utc_now


class ProtobufMessage(Protocol):
    """What the envelope needs of a protobuf message (kept structural: the kernel imports no protobuf)."""

    @property
    def DESCRIPTOR(self) -> Any: ...  # noqa: N802 - protobuf's name

    def SerializeToString(self, *, deterministic: bool = ...) -> bytes: ...  # noqa: N802 - protobuf's name


SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"


@dataclass(frozen=True)
class Event:
    """One event, ready to be stored in an outbox or produced to Kafka."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str
    topic: str
    data: bytes

    @classmethod
    def from_message(cls, message: ProtobufMessage, *, source: str, subject: str, topic: str) -> Event:
        return cls(
            id=str(uuid.uuid4()),
            type=message.DESCRIPTOR.full_name,
            source=source,
            time=utc_now(),
            subject=subject,
            topic=topic,
            data=message.SerializeToString(deterministic=True),
        )

    @property
    def key(self) -> bytes:
        return self.subject.encode()

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        return [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("ce_subject", self.subject.encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]

    @classmethod
    def from_kafka(cls, topic: str, key: bytes | None, value: bytes, headers: Iterable[tuple[str, bytes]]) -> Event:
        h = {name: raw.decode() for name, raw in headers}
        missing = [n for n in ("ce_id", "ce_type", "ce_source", "ce_time") if n not in h]
        if missing or h.get("ce_specversion") != SPEC_VERSION:
            raise MalformedEvent(f"not a CloudEvents {SPEC_VERSION} record: missing {missing}")
        return cls(
            id=h["ce_id"],
            type=h["ce_type"],
            source=h["ce_source"],
            time=datetime.fromisoformat(h["ce_time"]),
            subject=h.get("ce_subject", key.decode() if key else ""),
            topic=topic,
            data=value,
        )

    # The outbox keeps events inside the aggregate's document; these are the stored fields.
    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "time": self.time,
            "subject": self.subject,
            "topic": self.topic,
            "data": self.data,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Event:
        time = doc["time"]
        if time.tzinfo is None:  # BSON dates come back naive, in UTC
            time = time.replace(tzinfo=UTC)
        return cls(
            id=doc["id"],
            type=doc["type"],
            source=doc["source"],
            time=time,
            subject=doc["subject"],
            topic=doc["topic"],
            data=bytes(doc["data"]),
        )


class MalformedEvent(ValueError):
    """A record that is not one of our events; it goes to the dead-letter topic."""
