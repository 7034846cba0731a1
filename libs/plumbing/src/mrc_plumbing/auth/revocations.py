"""Follows the access service's client events so a revoked client's tokens stop working everywhere."""

from __future__ import annotations

import logging
import threading

from kafka import KafkaConsumer, TopicPartition

from mrc.access.v1 import events_pb2 as access_events
from mrc_kernel.events import Event, MalformedEvent
from mrc_plumbing.auth.verifier import RevokedClients
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.kafka_security import KafkaSecuritySettings

log = logging.getLogger(__name__)

CLIENTS_TOPIC = "mrc.access.clients.v1"


class RevocationWatcher:
    """Reads the whole clients topic from the beginning (no consumer group: every replica needs all of it).

    `security` is the process's Kafka transport security (`InfraSettings.kafka_security`), the same the
    process's producers use: the watcher never reads the environment on its own.
    """

    def __init__(self, bootstrap_servers: str, revoked: RevokedClients, *, security: KafkaSecuritySettings) -> None:
        self._bootstrap = bootstrap_servers
        self._security = security
        self._revoked = revoked
        self._decoder = EventDecoder()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def apply(self, event: Event) -> None:
        message = self._decoder.decode(event)
        if isinstance(message, access_events.ClientRevoked):
            self._revoked.revoke(message.client.client_id, event.time.timestamp())

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer = KafkaConsumer(
                        bootstrap_servers=self._bootstrap,
                        enable_auto_commit=False,
                        **self._security.kafka_python_kwargs(),
                    )
                    partitions = consumer.partitions_for_topic(CLIENTS_TOPIC)
                    if not partitions:
                        consumer.close()
                        consumer = None
                        self._stop.wait(5)  # the access service has not declared it yet
                        continue
                    assigned = [TopicPartition(CLIENTS_TOPIC, p) for p in sorted(partitions)]
                    consumer.assign(assigned)
                    consumer.seek_to_beginning(*assigned)
                for batch in consumer.poll(timeout_ms=1000).values():
                    for record in batch:
                        try:
                            self.apply(Event.from_kafka(record.topic, record.key, record.value, record.headers or []))
                        except (MalformedEvent, ValueError):
                            log.warning("ignoring a malformed record on the clients topic")
            except Exception:
                log.exception("revocation watcher failed; reconnecting")
                if consumer is not None:
                    consumer.close()
                consumer = None
                self._stop.wait(5)
        if consumer is not None:
            consumer.close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="revocation-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
