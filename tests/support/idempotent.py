"""Applying events once by CloudEvents id, as the services' consumers do (`DocumentCollection.apply_once`).

Kafka delivers at least once, and so does MirrorMaker 2 to a reader that sees uncommitted or aborted
records; a consumer that keys its effects on `ce_id` applies every event exactly once anyway. Use it in
tests that consume mirrored topics (`<state>.mrc.federation.*`) the way a service would::

    ledger = IdempotentConsumer()
    ledger.offer_all(read_topic(bootstrap, "bihar.mrc.federation.workers.v1"))
    assert ledger.duplicates == ...; ledger.applied["<ce_id>"]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mrc_kernel.events import Event
from tests.support.kafka import Record, as_event


@dataclass
class IdempotentConsumer:
    """Applies each event once: a `ce_id` seen before is counted as a duplicate and not applied again."""

    apply: Callable[[Event], None] = lambda event: None
    applied: dict[str, Event] = field(default_factory=dict)
    duplicates: int = 0

    def offer(self, record: Record) -> bool:
        """Apply the record's event unless its `ce_id` was applied already; True when applied."""
        event = as_event(record)
        if event.id in self.applied:
            self.duplicates += 1
            return False
        self.apply(event)
        self.applied[event.id] = event
        return True

    def offer_all(self, records: Iterable[Record]) -> int:
        """Offer every record in order; returns how many were applied."""
        return sum(self.offer(record) for record in records)
