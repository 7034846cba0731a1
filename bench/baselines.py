"""Raw store and broker rates, measured in the same run, that the platform's figures are compared with.

* store: pymongo ``insert_many`` of 1 KiB worker-like documents in batches of 1,000 into a scratch
  database (no secondary indexes), and ``insert_one`` of the same documents one at a time;
* broker: a kafka-python producer configured as the platform's (acks=all, idempotent, linger 5 ms)
  sending 1 KiB records to a 6-partition topic, then one record at a time waiting for each ack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from pymongo import MongoClient

from bench.report import Report, log
from bench.synthetic import Population
from bench.worker_docs import raw_document

SECTION = "raw baselines"
SCRATCH_DATABASE = "bench_scratch"
TOPIC = "bench.raw.v1"
RECORD_BYTES = 1024
BATCH = 1000


@dataclass(frozen=True)
class BaselineSizes:
    insert_many_batches: int
    insert_one_docs: int
    kafka_records: int
    kafka_single_records: int

    @classmethod
    def of(cls, quick: bool) -> BaselineSizes:
        if quick:
            return cls(insert_many_batches=20, insert_one_docs=1_000, kafka_records=30_000, kafka_single_records=300)
        return cls(insert_many_batches=100, insert_one_docs=5_000, kafka_records=200_000, kafka_single_records=1_000)


def store(mongo_uri: str, sizes: BaselineSizes, report: Report) -> None:
    population = Population(seed=1)
    now = datetime.now(UTC)
    client: MongoClient[dict[str, object]] = MongoClient(mongo_uri)
    try:
        database = client[SCRATCH_DATABASE]
        database.drop_collection("raw_many")
        database.drop_collection("raw_one")
        batches = [
            [raw_document(population.person(), population, now) for _ in range(BATCH)]
            for _ in range(sizes.insert_many_batches)
        ]
        many = database["raw_many"]
        many.insert_many([raw_document(population.person(), population, now) for _ in range(BATCH)])  # warm-up
        log(f"raw store: insert_many {sizes.insert_many_batches} x {BATCH} docs of {RECORD_BYTES} B")
        began = time.perf_counter()
        for batch in batches:
            many.insert_many(batch, ordered=False)
        elapsed = time.perf_counter() - began
        report.add(
            SECTION, "store insert_many", len(batches) * BATCH / elapsed, "docs/s", "1 KiB docs, batches of 1000"
        )

        singles = [raw_document(population.person(), population, now) for _ in range(sizes.insert_one_docs)]
        one = database["raw_one"]
        latencies: list[float] = []
        log(f"raw store: insert_one x {len(singles)}")
        began = time.perf_counter()
        for document in singles:
            start = time.perf_counter()
            one.insert_one(document)
            latencies.append(time.perf_counter() - start)
        elapsed = time.perf_counter() - began
        report.add(SECTION, "store insert_one", len(singles) / elapsed, "docs/s", "1 KiB docs, one client, sequential")
        report.add_latencies(SECTION, "store insert_one latency", latencies)
        client.drop_database(SCRATCH_DATABASE)
    finally:
        client.close()


def broker(bootstrap: str, sizes: BaselineSizes, report: Report) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    try:
        if TOPIC not in set(admin.list_topics()):
            admin.create_topics([NewTopic(TOPIC, 6, 1)], wait_for_metadata=True)
    finally:
        admin.close()
    population = Population(seed=2)
    value = population.token(RECORD_BYTES).encode()
    keys = [population.uuid().encode() for _ in range(1_000)]
    producer = _producer(bootstrap, linger_ms=5)
    try:
        for index in range(1_000):  # warm-up: metadata, connections, producer id
            producer.send(TOPIC, key=keys[index], value=value)
        producer.flush()
        log(f"raw broker: {sizes.kafka_records} records of {RECORD_BYTES} B, acks=all, idempotent")
        began = time.perf_counter()
        for index in range(sizes.kafka_records):
            producer.send(TOPIC, key=keys[index % len(keys)], value=value)
        producer.flush()
        elapsed = time.perf_counter() - began
        report.add(SECTION, "broker produce", sizes.kafka_records / elapsed, "records/s", "1 KiB, acks=all, idempotent")
    finally:
        producer.close(timeout=10)
    # Latency without batching delay: linger 0, otherwise the same producer.
    single = _producer(bootstrap, linger_ms=0)
    try:
        for index in range(100):
            single.send(TOPIC, key=keys[index], value=value).get(timeout=30)
        latencies: list[float] = []
        log(f"raw broker: {sizes.kafka_single_records} single records, each waiting for its ack")
        for index in range(sizes.kafka_single_records):
            start = time.perf_counter()
            single.send(TOPIC, key=keys[index % len(keys)], value=value).get(timeout=30)
            latencies.append(time.perf_counter() - start)
        report.add_latencies(SECTION, "broker produce+ack latency", latencies, "one record at a time, linger 0")
    finally:
        single.close(timeout=10)


def _producer(bootstrap: str, *, linger_ms: int) -> KafkaProducer:
    """Configured as mrc_plumbing.kafka_wiring.create_producer."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-producer",
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=5,
        linger_ms=linger_ms,
        retries=2**31 - 1,
        request_timeout_ms=15_000,
        delivery_timeout_ms=60_000,
    )


def run(mongo_uri: str, bootstrap: str, quick: bool, report: Report) -> None:
    sizes = BaselineSizes.of(quick)
    store(mongo_uri, sizes, report)
    broker(bootstrap, sizes, report)
