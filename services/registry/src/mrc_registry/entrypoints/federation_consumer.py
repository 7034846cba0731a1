"""Reads what other states' registries share with this one: the copies MirrorMaker 2 makes in this cluster
of each peer's topics for this state (`<peer alias>.mrc.federation.{workers,households}.<own code>.v1`),
and hands each record to the intake (`service_layer.federation`).

It runs in the registry process (on the embedded FerretDB default one process per service writes the
workers collection). One consumer group, reading committed records only (MirrorMaker 2 writes them in
transactions); offsets are committed after the records are applied, so a crash applies them again, which
`apply_once` and the version check make harmless. It subscribes by name to those of the copies that exist,
and looks for the others every `refresh_seconds` (MirrorMaker 2 creates them when it first runs; a
subscription by pattern that matched nothing at first did not notice them later). A record that can never
be applied (not a CloudEvent, a name that does not open with this state's federation keys, a malformed
summary) goes to the dead-letter topic with the reason in its headers, and reading goes on; an unreachable
store stops reading until it answers. The loop is the shared `mrc_plumbing.federation.MirroredTopicsConsumer`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kafka import KafkaProducer

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc_kernel.events import Event
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.federation import MirroredTopicsConsumer
from mrc_plumbing.kafka_security import KafkaSecuritySettings
from mrc_registry.adapters.federation_mapping import (
    RefusedRecord,
    household_links_from,
    shared_worker_from,
    withdrawn_from,
)
from mrc_registry.service_layer.federation import FederationIntake, Outcome

CONSUMER_GROUP = "mrc-registry-federation"
# Under the registry's own topic prefix (its Kafka user writes `mrc.registry.*`).
DEAD_LETTER_TOPIC = "mrc.registry.federation-rejected.v1"


def apply_event(event: Event, intake: FederationIntake, cipher: FederationCipher, decoder: EventDecoder) -> Outcome:
    """Apply one record of a peer's federation topics (raises for one that can never be applied)."""
    message = decoder.decode(event)
    if isinstance(message, federation_pb2.WorkerShared):
        return intake.worker_shared(shared_worker_from(message, cipher), event.id)
    if isinstance(message, federation_pb2.WorkerWithdrawn):
        return intake.worker_withdrawn(withdrawn_from(message), event.id)
    if isinstance(message, federation_pb2.HouseholdLinksShared):
        return intake.household_links(household_links_from(message), event.id)
    raise RefusedRecord(f"{event.type} is not read from the federation's worker and household topics")


class FederationConsumer(MirroredTopicsConsumer):
    """The shared consumer of mirrored federation topics, applying each record with the registry's intake."""

    def __init__(
        self,
        bootstrap_servers: str,
        security: KafkaSecuritySettings,
        topics: Sequence[str],
        intake: FederationIntake,
        cipher: FederationCipher,
        dead_letters: KafkaProducer,
        *,
        refresh_seconds: float = 10.0,
        on_applied: Callable[[Event, Outcome], None] | None = None,
    ) -> None:
        super().__init__(
            bootstrap_servers,
            security,
            dict.fromkeys(topics, ""),
            self._apply_record,
            dead_letters,
            group_id=CONSUMER_GROUP,
            dead_letter_topic=DEAD_LETTER_TOPIC,
            refresh_seconds=refresh_seconds,
        )
        self._intake = intake
        self._cipher = cipher
        self._on_applied = on_applied
        self._decoder = EventDecoder()

    def apply(self, event: Event) -> Outcome:
        return apply_event(event, self._intake, self._cipher, self._decoder)

    def _apply_record(self, event: Event, peer_state_code: str) -> str:
        outcome = self.apply(event)
        if self._on_applied is not None:
            self._on_applied(event, outcome)
        return outcome.value
