"""Crash tests for the transactional outbox: the registry process dies at the worst moments.

`MRC_FAULT_CRASH_BEFORE_PUBLISH` makes the process exit right after the worker and its event are
stored and before the relay publishes; `MRC_FAULT_CRASH_AFTER_PUBLISH` right after publishing and
before the event is cleared from the document. Either way, after a restart consumers see the event's
effect exactly once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import httpx
import pytest

from mrc.entitlements.v1.events_pb2 import EligibilityDetermined
from mrc_devstack.stack import Stack
from tests.e2e.payloads import new_key, worker_body
from tests.support.access import Actor
from tests.support.kafka import read_topic, records_with_subject
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e

WORKERS_TOPIC = "mrc.registry.workers.v1"
ELIGIBILITY_TOPIC = "mrc.entitlements.eligibility.v1"


@pytest.fixture
def crashing_registry(running_services: Stack) -> Iterator[Stack]:
    yield running_services
    # Whatever happened, leave a normal registry running for the other tests.
    running_services.stop_service("registry")
    running_services.start_service("registry")


def post_until_crash(http: httpx.Client, headers: dict[str, str]) -> None:
    # The process may die before answering: the client will retry.
    with contextlib.suppress(httpx.HTTPError):
        http.post("/v1/workers", json=worker_body("Crash Survivor"), headers=headers)


@pytest.mark.parametrize("fault", ["MRC_FAULT_CRASH_BEFORE_PUBLISH", "MRC_FAULT_CRASH_AFTER_PUBLISH"])
def test_event_reaches_consumers_exactly_once_after_a_crash(
    crashing_registry: Stack, http: dict[str, httpx.Client], fault: str, actors: dict[str, Actor]
) -> None:
    stack = crashing_registry
    stack.stop_service("registry")
    stack.start_service("registry", extra_env={fault: "true"})
    registrar = actors["registrar"]
    headers = registrar.headers(**{"Idempotency-Key": new_key()})

    post_until_crash(http["registry"], headers)
    eventually(lambda: not stack.is_running("registry"), timeout=15)

    stack.start_service("registry")
    # The partner's retry finds the worker stored before the crash.
    retry = http["registry"].post("/v1/workers", json=worker_body("Crash Survivor"), headers=headers)
    assert retry.status_code == 201
    assert retry.headers.get("idempotent-replayed") == "true"
    worker_id = retry.json()["worker_id"]

    records = read_topic(
        stack.kafka_bootstrap, WORKERS_TOPIC, until=lambda rs: bool(records_with_subject(rs, worker_id))
    )
    published = records_with_subject(records, worker_id)
    event_ids = {r.headers["ce_id"] for r in published}
    assert len(event_ids) == 1, "one event, whatever was retried"
    if fault == "MRC_FAULT_CRASH_BEFORE_PUBLISH":
        assert len(published) == 1
    # (after a crash after publishing, the relay publishes the same event again: consumers dedupe)

    eligibility = eventually(
        lambda: (
            (r := http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=registrar.headers())).status_code
            == 200
            and r.json()
        )
    )
    assert eligibility["source_event_id"].encode() in event_ids
    time.sleep(2)  # give a duplicate every chance to be applied
    recorded = read_topic(
        stack.kafka_bootstrap, ELIGIBILITY_TOPIC, until=lambda rs: bool(records_with_subject(rs, worker_id))
    )
    # The consumer's effect: one EligibilityDetermined per scheme, each once.
    determined = [
        EligibilityDetermined.FromString(r.value).scheme_code
        for r in records_with_subject(recorded, worker_id)
        if r.headers["ce_type"] == b"mrc.entitlements.v1.EligibilityDetermined"
    ]
    assert determined and len(determined) == len(set(determined)), "the consumer's effect happened once"
