"""An outage of the store or the broker is not an error of ours: 503 with Retry-After, UNAVAILABLE on gRPC,
and nothing half-written.

The registry's REST and gRPC entrypoints run in this process on the real store and broker of the test
stack; FerretDB (then Kafka) is stopped in the middle of a stream of registrations and started again.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient

from mrc.registry.v1 import registry_service_pb2 as pb
from mrc.registry.v1 import registry_service_pb2_grpc as pb_grpc
from mrc_devstack.stack import Stack
from mrc_kernel.roles import Role
from mrc_plumbing import kafka_wiring
from mrc_plumbing.audit import AuditTrail
from mrc_plumbing.crypto import build_crypto
from mrc_plumbing.http_app import create_http_app
from mrc_plumbing.settings import InfraSettings
from mrc_plumbing.store import OUTBOX_FIELD
from mrc_plumbing.store.wiring import open_store
from mrc_registry.adapters.crypto_protector import CryptoProtector
from mrc_registry.adapters.erasure_requests import StoredErasureRequests
from mrc_registry.adapters.mongo_repository import StoredWorkers
from mrc_registry.adapters.mongo_reviews import StoredReviews
from mrc_registry.entrypoints.grpc_api import RegistryServicer
from mrc_registry.entrypoints.http_api import workers_router
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.erasure import ErasureService
from mrc_registry.service_layer.reviews import ReviewService
from mrc_registry.service_layer.workers import WorkerService
from tests.support.auth import bearer, caller_for, grpc_auth, grpc_metadata, http_auth, role_tokens, serve_grpc

pytestmark = pytest.mark.integration

REGISTRAR = caller_for(Role.REGISTRAR, partner_id="cso-outage", states={"10"})


class NoMessages:
    def send(self, phone_e164: str, text: str, *, reference: str) -> None:
        raise AssertionError("no code is sent in these tests")


@dataclass
class Registry:
    http: TestClient
    workers: StoredWorkers
    servicer: RegistryServicer
    database: Any


@pytest.fixture
def registry(infra: InfraSettings) -> Iterator[Registry]:
    name = f"outage_{uuid.uuid4().hex[:10]}"
    store = open_store(infra, name)
    crypto = build_crypto(store)
    producer = kafka_wiring.create_producer(infra, "it-outage-audit", linger_ms=0)
    audit = AuditTrail(producer, service="registry", state_code="10", timeout_seconds=3)
    workers_repo, reviews_repo = StoredWorkers(store), StoredReviews(store)
    workers_repo.ensure_indexes()
    reviews_repo.ensure_indexes()
    protector = CryptoProtector(crypto)
    workers = WorkerService(
        workers_repo, protector, audit, Deduplicator(workers_repo, reviews_repo, crypto.ids), crypto.ids
    )
    reviews = ReviewService(workers_repo, reviews_repo, audit, protector, NoMessages())
    verifier = role_tokens(registrar=REGISTRAR)
    app = create_http_app(service="registry", title="outage")
    erasures = ErasureService(workers, StoredErasureRequests(store), protector, NoMessages())
    app.include_router(workers_router(workers, reviews, erasures, http_auth(verifier)))
    inspector: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_uri, serverSelectionTimeoutMS=20000)
    database = inspector[name]
    try:
        yield Registry(
            TestClient(app, raise_server_exceptions=False),
            workers_repo,
            RegistryServicer(workers, grpc_auth(verifier)),
            database,
        )
    finally:
        producer.close()
        inspector.drop_database(name)
        inspector.close()


def body(n: int) -> dict[str, Any]:
    return {
        "full_name": f"Outage Worker {n}",
        "gender": "female",
        "birth_year": 1990,
        "home": {"state_code": "10", "district_code": "188"},
        "phone": f"98{n:08d}",
        "consent": {"purposes": ["registration"], "method": "thumbprint"},
    }


def test_a_store_outage_answers_503_with_retry_after_and_leaves_nothing_half_written(
    stack: Stack, registry: Registry
) -> None:
    outcomes: list[tuple[str, int, dict[str, str], Any]] = []
    stop = threading.Event()

    def register_continuously() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            key = f"outage-{n}"
            response = registry.http.post(
                "/v1/workers", json=body(n), headers={**bearer("registrar"), "Idempotency-Key": key}
            )
            outcomes.append((key, response.status_code, dict(response.headers), response.json()))

    thread = threading.Thread(target=register_continuously)
    thread.start()
    try:
        time.sleep(1.0)
        stack.stop(["ferretdb"])
        time.sleep(8.0)  # longer than the client's server-selection timeout
        stack.start(["ferretdb"])
        time.sleep(2.0)
    finally:
        stop.set()
        thread.join(60)
        if not stack.is_running("ferretdb"):
            stack.start(["ferretdb"])

    statuses = {status for _, status, _, _ in outcomes}
    assert statuses <= {201, 503}, statuses
    assert 201 in statuses and 503 in statuses
    for _, status, headers, problem in outcomes:
        if status == 503:
            assert headers["content-type"].startswith("application/problem+json")
            assert int(headers["retry-after"]) > 0
            assert problem["status"] == 503
    # Nothing half-written: every worker answered 201 is stored with its registration event, and no stored
    # worker lacks it; a request answered 503 and retried with its key stores the worker once.
    documents = {d["_id"]: d for d in registry.database.workers.find({}, {OUTBOX_FIELD: 1})}
    for worker_id, document in documents.items():
        types = [entry["type"] for entry in document.get(OUTBOX_FIELD, [])]
        assert "mrc.registry.v1.WorkerRegistered" in types, worker_id
    created = [problem["worker_id"] for _, status, _, problem in outcomes if status == 201]
    assert set(created) <= set(documents)
    for key, status, _, _ in outcomes[-5:]:
        if status == 503:
            n = int(key.split("-")[1])
            retry = registry.http.post(
                "/v1/workers", json=body(n), headers={**bearer("registrar"), "Idempotency-Key": key}
            )
            assert retry.status_code in (200, 201)
    assert registry.database.workers.count_documents({}) == len(
        {d["_id"] for d in registry.database.workers.find({}, {"_id": 1})}
    )


def test_a_broker_outage_refuses_audited_reads_with_503_and_unavailable_but_writes_go_on(
    stack: Stack, registry: Registry
) -> None:
    created = registry.http.post("/v1/workers", json=body(1), headers={**bearer("registrar"), "Idempotency-Key": "b-1"})
    assert created.status_code == 201, created.text
    worker_id = created.json()["worker_id"]
    stack.stop(["kafka"])
    try:
        # A read must be audited first; with the broker down it fails closed.
        read = registry.http.get(f"/v1/workers/{worker_id}", headers=bearer("registrar"))
        assert read.status_code == 503
        assert read.headers["content-type"].startswith("application/problem+json")
        assert int(read.headers["retry-after"]) > 0
        with serve_grpc(
            lambda server: pb_grpc.add_RegistryServiceServicer_to_server(registry.servicer, server)
        ) as channel:
            with pytest.raises(grpc.RpcError) as refused:
                pb_grpc.RegistryServiceStub(channel).GetWorker(
                    pb.GetWorkerRequest(worker_id=worker_id), metadata=grpc_metadata("registrar"), timeout=30
                )
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
            assert dict(refused.value.trailing_metadata() or ()).get("retry-after")
        # A registration stores its events in its own document: it needs no broker, and they wait there.
        later = registry.http.post(
            "/v1/workers", json=body(2), headers={**bearer("registrar"), "Idempotency-Key": "b-2"}
        )
        assert later.status_code == 201, later.text
    finally:
        stack.start(["kafka"])
