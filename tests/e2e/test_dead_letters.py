"""A poison record goes to the consumer's dead-letter topic and the consumer carries on."""

from __future__ import annotations

import httpx
import pytest
from kafka import KafkaProducer

from mrc_devstack.stack import Stack
from tests.e2e.payloads import worker_body
from tests.support.access import Actor
from tests.support.kafka import read_topic
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


def test_poison_record_is_dead_lettered_without_stopping_the_agent(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    headers = actors["registrar"].headers()
    producer = KafkaProducer(bootstrap_servers=running_services.kafka_bootstrap)
    try:
        producer.send("mrc.registry.workers.v1", key=b"poison", value=b"\x00not protobuf", headers=[("x", b"1")])
        producer.send(
            "mrc.registry.workers.v1",
            key=b"poison-2",
            value=b"\xff\xff",
            headers=[
                ("ce_specversion", b"1.0"),
                ("ce_id", b"poison-2"),
                ("ce_type", b"mrc.registry.v1.WorkerRegistered"),
                ("ce_source", b"/attacker"),
                ("ce_time", b"2026-01-01T00:00:00+00:00"),
            ],
        )
        producer.flush()
    finally:
        producer.close()

    worker_id = (
        http["registry"].post("/v1/workers", json=worker_body("After Poison"), headers=headers).json()["worker_id"]
    )
    eventually(
        lambda: http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=headers).status_code == 200,
        timeout=30,
    )

    dead = read_topic(
        running_services.kafka_bootstrap,
        "mrc-entitlements.dlq",
        until=lambda rs: {b"poison", b"poison-2"} <= {r.key for r in rs},
    )
    by_key = {r.key: r for r in dead}
    assert by_key[b"poison"].headers["mrc_dlq_error"].startswith(b"malformed")
    assert by_key[b"poison"].headers["mrc_dlq_topic"] == b"mrc.registry.workers.v1"
    assert by_key[b"poison-2"].headers["mrc_dlq_error"]  # failed its retries: the reason travels along
