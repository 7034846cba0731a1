"""`subscribe(..., concurrency=n)` on real Kafka: events of different keys are handled side by side, the events
of one key one after another in order, each once, and a failing one goes to the dead-letter topic."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mrc_kernel.events import Event
from mrc_plumbing import kafka_wiring
from mrc_plumbing.faust_app import dead_letter_topic_name
from mrc_plumbing.settings import InfraSettings
from tests.support.kafka import publish, read_topic

pytestmark = pytest.mark.integration

CONSUMER = Path(__file__).resolve().parents[1] / "support" / "keyed_consumer.py"
KEYS = [f"worker-{n}" for n in range(6)]
PER_KEY = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def event(topic: str, key: str, data: bytes) -> Event:
    return Event(str(uuid.uuid4()), "mrc.test.v1.Probed", "tests", datetime.now(UTC), key, topic, data)


@pytest.fixture
def consumer(infra: InfraSettings, topic: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    app_id = f"it-keyed-{uuid.uuid4().hex[:8]}"
    kafka_wiring.ensure_topics(infra.model_copy(update={"kafka_topic_partitions": 2}), [topic])
    output = tmp_path / "handled.jsonl"
    output.touch()
    process = subprocess.Popen(
        [
            sys.executable,
            str(CONSUMER),
            infra.kafka_bootstrap_servers,
            app_id,
            topic,
            str(output),
            str(free_port()),
            "4",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("w"),
    )
    try:
        yield app_id, output
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def handled(output: Path, expected: int, timeout: float = 90.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def test_keys_side_by_side_each_key_in_order_and_once(
    infra: InfraSettings, topic: str, consumer: tuple[str, Path]
) -> None:
    app_id, output = consumer
    sent = [event(topic, key, str(seq).encode()) for seq in range(PER_KEY) for key in KEYS]
    publish(infra.kafka_bootstrap_servers, [*sent[:10], event(topic, KEYS[0], b"poison"), *sent[10:]])

    lines = handled(output, len(sent))

    assert sorted(str(line["id"]) for line in lines) == sorted(e.id for e in sent), "each event handled once"
    for key in KEYS:
        assert [line["seq"] for line in lines if line["key"] == key] == list(range(PER_KEY)), key
        spans = [(line["start"], line["end"]) for line in lines if line["key"] == key]
        assert all(start >= previous_end for (_, previous_end), (start, _) in itertools.pairwise(spans))
    # Some events of different keys were handled at the same time.
    spans = sorted((float(line["start"]), float(line["end"])) for line in lines)
    assert any(later_start < end for (_, end), (later_start, _) in itertools.pairwise(spans))

    dead = read_topic(infra.kafka_bootstrap_servers, dead_letter_topic_name(app_id), until=lambda r: len(r) >= 1)
    assert [r.value for r in dead] == [b"poison"]
    assert dead[0].headers["mrc_dlq_error"].startswith(b"ValueError")
