"""Decoding events back into protobuf messages, upcasting old versions (the envelope is `mrc_kernel.events`)."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf import symbol_database
from google.protobuf.message import Message

from mrc_kernel.events import Event, MalformedEvent

__all__ = ["EventDecoder", "Upcaster"]

Upcaster = Callable[[bytes], Message]


class EventDecoder:
    """Turns an event back into its protobuf message, upcasting old versions to the current one.

    When `mrc.registry.v2.WorkerRegistered` replaces v1, register an upcaster for the v1 type name
    and consumers keep receiving one message type, whatever version sits on the topic.
    """

    def __init__(self) -> None:
        self._upcasters: dict[str, Upcaster] = {}

    def register_upcaster(self, old_type: str, upcaster: Upcaster) -> None:
        self._upcasters[old_type] = upcaster

    def decode(self, event: Event) -> Message:
        if upcaster := self._upcasters.get(event.type):
            return upcaster(event.data)
        try:
            message_class = symbol_database.Default().GetSymbol(event.type)
        except KeyError as exc:
            raise MalformedEvent(f"unknown event type {event.type!r}") from exc
        message: Message = message_class()
        message.ParseFromString(event.data)
        return message
