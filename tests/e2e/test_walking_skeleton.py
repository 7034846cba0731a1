"""The walking skeleton through the running services: REST, gRPC and Kafka together."""

from __future__ import annotations

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mrc.entitlements.v1 import entitlements_service_pb2 as ent_pb
from mrc.entitlements.v1 import entitlements_service_pb2_grpc as ent_grpc
from mrc.registry.v1 import events_pb2 as registry_events
from mrc.registry.v1 import registry_service_pb2 as reg_pb
from mrc.registry.v1 import registry_service_pb2_grpc as reg_grpc
from mrc.registry.v1 import worker_pb2
from mrc_devstack.stack import Stack
from tests.e2e.payloads import new_key, worker_body
from tests.support.access import Actor
from tests.support.kafka import read_topic, records_with_subject
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e

WORKERS_TOPIC = "mrc.registry.workers.v1"
ELIGIBILITY_TOPIC = "mrc.entitlements.eligibility.v1"


def test_register_a_worker_and_see_it_everywhere(
    running_services: Stack, http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], actors: dict[str, Actor]
) -> None:
    registrar = actors["registrar"]
    created = http["registry"].post(
        "/v1/workers", json=worker_body(), headers=registrar.headers(**{"Idempotency-Key": new_key()})
    )
    assert created.status_code == 201, created.text
    worker_id = created.json()["worker_id"]

    # The event is on the topic, keyed by the worker, with its CloudEvents headers.
    records = read_topic(
        running_services.kafka_bootstrap,
        WORKERS_TOPIC,
        until=lambda rs: bool(records_with_subject(rs, worker_id)),
    )
    [record] = records_with_subject(records, worker_id)
    assert record.key == worker_id.encode()
    assert record.headers["ce_type"] == b"mrc.registry.v1.WorkerRegistered"
    assert record.headers["ce_source"] == b"/mrc/registry"
    assert record.headers["ce_specversion"] == b"1.0"
    assert record.headers["content-type"] == b"application/protobuf"
    assert {"ce_id", "ce_time"} <= set(record.headers)
    event = registry_events.WorkerRegistered.FromString(record.value)
    # Events carry ids and facts, never names: the name stays in the registry.
    assert event.worker.full_name == "" and b"Sunita" not in record.value
    assert (event.facts.worker_id, event.facts.home.district_code) == (worker_id, "212")
    assert event.facts.registering_partner_id == registrar.partner_id

    # gRPC reads the same worker.
    registry = reg_grpc.RegistryServiceStub(channels["registry"])
    worker = registry.GetWorker(reg_pb.GetWorkerRequest(worker_id=worker_id), metadata=registrar.metadata()).worker
    assert worker.home.district_code == "212"
    assert worker.gender == worker_pb2.GENDER_FEMALE

    # The entitlements consumer recorded the worker: over REST and gRPC.
    eligibility = eventually(
        lambda: (
            (r := http["entitlements"].get(f"/v1/eligibility/{worker_id}", headers=registrar.headers())).status_code
            == 200
            and r.json()
        )
    )
    assert eligibility["status"] == "assessed"
    assert eligibility["source_event_id"] == record.headers["ce_id"].decode()
    entitlements = ent_grpc.EntitlementsServiceStub(channels["entitlements"])
    reply = entitlements.GetEligibility(
        ent_pb.GetEligibilityRequest(worker_id=worker_id), metadata=registrar.metadata()
    )
    assert reply.eligibility.source_event_id == eligibility["source_event_id"]

    # ... and published its own event through its outbox.
    recorded = read_topic(
        running_services.kafka_bootstrap, ELIGIBILITY_TOPIC, until=lambda rs: bool(records_with_subject(rs, worker_id))
    )
    assert {r.headers["ce_type"] for r in records_with_subject(recorded, worker_id)} == {
        b"mrc.entitlements.v1.EligibilityDetermined"
    }


def test_register_over_grpc_with_a_retry(
    running_services: Stack, channels: dict[str, grpc.Channel], actors: dict[str, Actor]
) -> None:
    registry = reg_grpc.RegistryServiceStub(channels["registry"])
    registrar = actors["registrar"]
    request = reg_pb.RegisterWorkerRequest(
        idempotency_key=new_key(),
        full_name="Mohammad Aslam",
        gender=worker_pb2.GENDER_MALE,
        birth_year=1985,
        home={"state_code": "10", "district_code": "196"},  # Gaya, Bihar: the registrar's state
        occupation="brick kiln",
        consent=worker_pb2.ConsentInput(
            purposes=[worker_pb2.CONSENT_PURPOSE_REGISTRATION],
            method=worker_pb2.CONSENT_CAPTURE_METHOD_VERBAL_WITH_WITNESS,
            witness_name="Anita (ASHA worker)",
        ),
    )
    first = registry.RegisterWorker(request, metadata=registrar.metadata()).worker
    again = registry.RegisterWorker(request, metadata=registrar.metadata()).worker
    assert again.worker_id == first.worker_id
    assert first.registering_partner_id == registrar.partner_id
    records = read_topic(
        running_services.kafka_bootstrap,
        WORKERS_TOPIC,
        until=lambda rs: bool(records_with_subject(rs, first.worker_id)),
    )
    assert len(records_with_subject(records, first.worker_id)) == 1


def test_grpc_errors_carry_standard_codes(channels: dict[str, grpc.Channel], actors: dict[str, Actor]) -> None:
    registry = reg_grpc.RegistryServiceStub(channels["registry"])
    metadata = actors["registrar"].metadata()
    with pytest.raises(grpc.RpcError) as missing:
        registry.GetWorker(reg_pb.GetWorkerRequest(worker_id="nobody"), metadata=metadata)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as unauthenticated:
        registry.GetWorker(reg_pb.GetWorkerRequest(worker_id="nobody"))
    assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as invalid:
        registry.RegisterWorker(
            reg_pb.RegisterWorkerRequest(
                full_name="",
                home={"state_code": "10"},
                consent=worker_pb2.ConsentInput(
                    purposes=[worker_pb2.CONSENT_PURPOSE_REGISTRATION],
                    method=worker_pb2.CONSENT_CAPTURE_METHOD_SIGNATURE,
                ),
            ),
            metadata=metadata,
        )
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "full_name" in (invalid.value.details() or "")
    assert "gender" in (invalid.value.details() or "")


@pytest.mark.parametrize("service", ["registry", "entitlements", "grievance", "employer", "access"])
def test_health_over_http_and_grpc(
    service: str, http: dict[str, httpx.Client], channels: dict[str, grpc.Channel]
) -> None:
    assert http[service].get("/healthz").status_code == 200
    ready = http[service].get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"store": True, "kafka": True}
    assert "mrc_http_requests_total" in http[service].get("/metrics").text
    health = health_pb2_grpc.HealthStub(channels[service])
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
