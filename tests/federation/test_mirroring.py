"""MirrorMaker 2 between two state clusters and the national one, end to end on real Kafka brokers.

What crosses a border: the federation topics, with their CloudEvents headers and keys, into the other
state as `<source alias>.<topic>`; the aggregates, and only they, into the national cluster. What does not:
anything else. And a crash of MirrorMaker 2 in the middle of a stream loses nothing and, read as a
transactional consumer reads it, repeats nothing; a consumer that applies events once by ce_id (as the
services do) applies each exactly once even reading uncommitted records.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from mrc.federation.v1 import events_pb2 as contract
from mrc.registry.v1 import worker_pb2 as registry
from mrc_devstack.federation import Federation
from mrc_devstack.mirror_maker import AGGREGATES_TOPIC, remote_topic, state_topics
from mrc_kernel.events import Event
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.events import EventDecoder
from tests.federation.conftest import DESTINATION, NATIONAL, SOURCE, STATE_CODES
from tests.support.idempotent import IdempotentConsumer
from tests.support.kafka import Record, publish, read_topic

pytestmark = pytest.mark.federation

# What Bihar addresses to Kerala (32), and what Kerala addresses to Bihar (10).
WORKERS_TOPIC = "mrc.federation.workers.32.v1"
TO_BIHAR = "mrc.federation.workers.10.v1"
CIPHER = FederationCipher.from_settings()
# A copy of a copy: two cluster aliases in front of a federation topic (`kerala.bihar.mrc.federation...`).
ECHO = re.compile(r"^[a-z_]+\.[a-z_]+\.mrc\.federation\.")  # the public dev key, as every local state uses


def worker_shared(worker_id: str, version: int = 1, home_state: str = SOURCE, topic: str = WORKERS_TOPIC) -> Event:
    message = contract.WorkerShared(
        worker_id=worker_id,
        home_state_code=STATE_CODES[home_state],
        facts=contract.SharedWorkerFacts(birth_year=1994, gender=registry.GENDER_FEMALE, sector="brick_kiln"),
        documents=[
            contract.DocumentIndex(
                kind=registry.IDENTITY_DOCUMENT_KIND_AADHAAR, blind_index="Zm9v" * 8, masked_number="XXXX XXXX 1234"
            )
        ],
        full_name_token=CIPHER.seal(f"worker.full_name/{worker_id}", "सुनीता देवी"),
        version=version,
    )
    return Event.from_message(message, source=f"mrc-registry/{home_state}", subject=worker_id, topic=topic)


def aggregates(home_state: str = SOURCE) -> Event:
    message = contract.AggregatesPublished(
        home_state_code=STATE_CODES[home_state],
        aggregates_id=str(uuid.uuid4()),
        min_cell_size=5,
        sectors=[contract.SectorCell(state_code="10", district_code="212", sector="brick_kiln", count=42)],
    )
    return Event.from_message(
        message, source=f"mrc-registry/{home_state}", subject=STATE_CODES[home_state], topic=AGGREGATES_TOPIC
    )


def with_id(event_id: str) -> Callable[[list[Record]], bool]:
    return lambda records: any(r.headers.get("ce_id") == event_id.encode() for r in records)


def topics_of(bootstrap: str) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="federation-test")
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def record_count(bootstrap: str, topic: str) -> int:
    """Records in the log (end minus beginning offsets, control records included)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends, starts = consumer.end_offsets(partitions), consumer.beginning_offsets(partitions)
        return sum(ends[p] - starts[p] for p in partitions)
    finally:
        consumer.close()


# ---------------------------------------------------------------- what crosses, unchanged


@pytest.mark.parametrize("topic", state_topics(STATE_CODES[DESTINATION]))
def test_a_federation_event_arrives_in_the_other_state_with_its_headers_and_key(
    federation: Federation, topic: str
) -> None:
    event = worker_shared(f"w-{uuid.uuid4()}", topic=topic)
    publish(federation.bootstrap(SOURCE), [event])

    mirrored = remote_topic(SOURCE, topic)
    assert mirrored == f"bihar.{topic}"
    found = [
        r
        for r in read_topic(federation.bootstrap(DESTINATION), mirrored, until=with_id(event.id), timeout=60)
        if r.headers.get("ce_id") == event.id.encode()
    ]
    assert len(found) == 1, f"{event.id} did not arrive once on {DESTINATION}'s {mirrored}"
    (record,) = found
    assert record.key == event.key
    assert record.value == event.data
    assert list(record.headers.items()) == [(name, value) for name, value in event.kafka_headers()], "headers in order"
    decoded = EventDecoder().decode(Event.from_kafka(record.topic, record.key, record.value, event.kafka_headers()))
    assert isinstance(decoded, contract.WorkerShared)
    assert decoded.home_state_code == "10"
    # Kerala's processes hold the same federation key: the name opens there, in its field only.
    assert CIPHER.open(f"worker.full_name/{decoded.worker_id}", decoded.full_name_token) == "सुनीता देवी"


def test_replication_runs_both_ways_without_echo(federation: Federation) -> None:
    event = worker_shared(f"w-{uuid.uuid4()}", home_state=DESTINATION, topic=TO_BIHAR)
    publish(federation.bootstrap(DESTINATION), [event])
    mirrored = remote_topic(DESTINATION, TO_BIHAR)
    records = read_topic(federation.bootstrap(SOURCE), mirrored, until=with_id(event.id), timeout=60)
    assert with_id(event.id)(records), f"{event.id} did not arrive on {SOURCE}'s {mirrored}"
    # A mirrored topic is never mirrored back (kerala.bihar..., bihar.kerala...).
    for state in (SOURCE, DESTINATION):
        echoes = {t for t in topics_of(federation.bootstrap(state)) if ECHO.match(t)}
        assert not echoes, f"{state} holds mirrored copies of mirrored topics: {echoes}"


# ---------------------------------------------------------------- what never crosses


def test_local_topics_stay_home_and_national_receives_only_aggregates(federation: Federation) -> None:
    source, destination = federation.bootstrap(SOURCE), federation.bootstrap(DESTINATION)
    national = federation.bootstrap(NATIONAL)
    local = worker_shared(f"w-{uuid.uuid4()}", topic="mrc.registry.workers.v1")
    # Addressed to Tamil Nadu (33), and to Bihar itself: neither is Kerala's.
    elsewhere = [worker_shared(f"w-{uuid.uuid4()}", topic=t) for t in ("mrc.federation.workers.33.v1", TO_BIHAR)]
    shared = worker_shared(f"w-{uuid.uuid4()}")
    counts = aggregates()
    publish(source, [local, *elsewhere, shared, counts])

    # The aggregates arrive in national; the state topic in Kerala. Both flows have then run past the
    # local record, published before them.
    arrived = read_topic(national, remote_topic(SOURCE, AGGREGATES_TOPIC), until=with_id(counts.id), timeout=60)
    assert with_id(counts.id)(arrived)
    arrived = read_topic(destination, remote_topic(SOURCE, WORKERS_TOPIC), until=with_id(shared.id), timeout=60)
    assert with_id(shared.id)(arrived)
    time.sleep(6)  # one more topic refresh of MirrorMaker 2 (refresh.topics.interval.seconds = 5)

    # Kerala: Bihar's federation topics addressed to Kerala, nothing else of Bihar's (not its local topics,
    # not what it addresses to other states, not its aggregates, which are for the national cluster).
    mirrored_in_kerala = {t for t in topics_of(destination) if t.startswith(f"{SOURCE}.")}
    expected = {remote_topic(SOURCE, t) for t in state_topics(STATE_CODES[DESTINATION])}
    assert expected <= mirrored_in_kerala
    assert mirrored_in_kerala - expected <= {f"{SOURCE}.heartbeats"}, mirrored_in_kerala - expected

    # National: the aggregates of each state; otherwise only MirrorMaker's heartbeats topics, which stay empty
    # (heartbeats are off; dedicated MirrorMaker 2 creates the topic anyway, and replicates it regardless of
    # the topic filter). No record topic, no local topic, no federation topic for states.
    national_topics = topics_of(national)
    mirrored_in_national = {t for t in national_topics if t.startswith((f"{SOURCE}.", f"{DESTINATION}."))}
    assert remote_topic(SOURCE, AGGREGATES_TOPIC) in mirrored_in_national
    others = mirrored_in_national - {remote_topic(s, AGGREGATES_TOPIC) for s in (SOURCE, DESTINATION)}
    assert all(t.endswith(".heartbeats") for t in others), others
    assert all(record_count(national, t) == 0 for t in others), "heartbeats topics must stay empty"
    assert not {t for t in national_topics if t.startswith("mrc.")}, "national has no topics of its own here"

    # And the local record, and those addressed to other states, are nowhere but home.
    for bootstrap, topics in ((destination, topics_of(destination)), (national, national_topics)):
        assert "mrc.registry.workers.v1" not in topics
        for topic in (t for t in topics if t.startswith(f"{SOURCE}.") and not t.endswith("heartbeats")):
            records = read_topic(bootstrap, topic, timeout=2)
            for event in (local, *elsewhere):
                assert not with_id(event.id)(records), f"{event.topic} reached {topic}"


# ---------------------------------------------------------------- a crash in the middle of a stream


class SteadyPublisher(threading.Thread):
    """Publishes `total` WorkerShared events (a few versions of each of 100 workers) at a steady pace: one
    producer per batch, so the stream lasts about as long whatever the batch size."""

    def __init__(self, bootstrap: str, total: int, batch: int = 100, pause: float = 0.05) -> None:
        super().__init__(daemon=True)
        run = uuid.uuid4().hex[:8]
        self.events = [worker_shared(f"w-{run}-{i % 100}", version=i // 100 + 1) for i in range(total)]
        self.bootstrap, self.batch, self.pause = bootstrap, batch, pause
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for start in range(0, len(self.events), self.batch):
                publish(self.bootstrap, self.events[start : start + self.batch])
                time.sleep(self.pause)
        except BaseException as e:  # reported by the test
            self.error = e


@pytest.fixture
def mirror_maker_restored(federation: Federation) -> Iterator[Federation]:
    yield federation
    federation.start_mirror_maker()  # whatever the test did, later tests find MirrorMaker 2 running


def test_mirror_maker_killed_mid_stream_loses_nothing_and_repeats_nothing(mirror_maker_restored: Federation) -> None:
    federation = mirror_maker_restored
    source, destination = federation.bootstrap(SOURCE), federation.bootstrap(DESTINATION)
    mirrored = remote_topic(SOURCE, WORKERS_TOPIC)
    before = record_count(destination, mirrored)
    # 30 batches of 20: as long a stream as 30 of 100 (one producer each), a fifth of the records, which every
    # registry later applies (the registry module waited 40-55 s for 3,000 of them).
    total = 600
    publisher = SteadyPublisher(source, total, batch=20)
    began = time.monotonic()
    publisher.start()

    # Kill -9 once part of the stream has crossed, while the rest is still being published.
    deadline = time.monotonic() + 60
    while record_count(destination, mirrored) - before < total // 10:
        assert time.monotonic() < deadline, "nothing crossed within 60 s"
        time.sleep(0.05)
    federation.stop_mirror_maker(kill=True)
    crossed_at_kill = record_count(destination, mirrored) - before
    publisher.join(timeout=120)
    assert publisher.error is None, publisher.error
    assert crossed_at_kill < total, "the kill came after the whole stream had crossed"
    federation.start_mirror_maker()
    restarted = time.monotonic()

    ids = {e.id for e in publisher.events}

    def everything(records: list[Record]) -> bool:
        return ids <= {r.headers["ce_id"].decode() for r in records}

    # A transactional reader (read_committed) sees every event exactly once: exactly-once source support.
    committed = [
        r
        for r in read_topic(destination, mirrored, until=everything, timeout=120, isolation_level="read_committed")
        if r.headers["ce_id"].decode() in ids
    ]
    caught_up = time.monotonic()
    seen = [r.headers["ce_id"].decode() for r in committed]
    assert set(seen) == ids, f"{len(ids - set(seen))} of {total} events lost"
    assert len(seen) == len(ids), f"{len(seen) - len(ids)} events repeated for a read_committed consumer"
    # Each worker's versions arrive in order (one partition per key, copied partition to partition).
    versions: dict[bytes | None, list[int]] = defaultdict(list)
    for record in committed:
        versions[record.key].append(federation_version(record))
    assert all(v == sorted(v) for v in versions.values()), "a worker's versions arrived out of order"

    # Any reader, even one that sees aborted records, applies each event once when it keys on ce_id.
    everything_in_log = [
        r for r in read_topic(destination, mirrored, until=everything, timeout=30) if r.headers["ce_id"].decode() in ids
    ]
    consumer = IdempotentConsumer()
    applied = consumer.offer_all(everything_in_log)
    assert applied == total and set(consumer.applied) == ids
    assert consumer.duplicates == len(everything_in_log) - total
    print(
        f"\n{total} events; MirrorMaker 2 killed after {crossed_at_kill} crossed; all {total} committed once "
        f"{caught_up - restarted:.1f} s after the restart ({caught_up - began:.1f} s in all); "
        f"{consumer.duplicates} aborted copies in the log, skipped by ce_id"
    )


def federation_version(record: Record) -> int:
    message = contract.WorkerShared()
    message.ParseFromString(record.value)
    return int(message.version)
