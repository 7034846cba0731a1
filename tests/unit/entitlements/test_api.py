"""REST and gRPC over the same use cases: paths as the issue names them, problem answers, the same policy."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from fastapi.testclient import TestClient

from mrc.entitlements.v1 import application_pb2, determination_pb2
from mrc.entitlements.v1 import entitlements_service_pb2 as pb
from mrc.entitlements.v1 import entitlements_service_pb2_grpc as pb_grpc
from mrc_entitlements.entrypoints.grpc_api import EntitlementsServicer
from mrc_entitlements.entrypoints.http_api import entitlements_router
from mrc_kernel.roles import Role
from mrc_plumbing.http_app import create_http_app
from tests.support.auth import StaticVerifier, bearer, caller_for, grpc_auth, grpc_metadata, http_auth, serve_grpc
from tests.unit.entitlements.fakes import PARTNER_B, World, caseworker, registered

CONDITIONS = [{"name": "adult", "expression": "age >= 18", "description": "Aged 18 or more", "reads": ["age"]}]


@pytest.fixture
def world() -> World:
    world = World()
    world.deliver(registered())
    return world


@pytest.fixture
def verifier() -> StaticVerifier:
    return StaticVerifier(
        {
            "a": caseworker(),
            "b": caseworker(PARTNER_B),
            "operator": caller_for(Role.OPERATOR, partner_id="ops"),
            "auditor": caller_for(Role.AUDITOR),
        }
    )


@pytest.fixture
def client(world: World, verifier: StaticVerifier) -> TestClient:
    app = create_http_app(service="entitlements", title="MRC Entitlements (test)")
    s = world.service
    app.include_router(entitlements_router(s.catalogue, s.eligibility, s.applications, s.funnel, http_auth(verifier)))
    return TestClient(app)


@pytest.fixture
def channel(world: World, verifier: StaticVerifier) -> Iterator[grpc.Channel]:
    s = world.service
    servicer = EntitlementsServicer(s.catalogue, s.eligibility, s.applications, s.funnel, grpc_auth(verifier))
    with serve_grpc(lambda server: pb_grpc.add_EntitlementsServiceServicer_to_server(servicer, server)) as channel:
        yield channel


def test_eligibility_lists_schemes_with_their_conditions(client: TestClient) -> None:
    reply = client.get("/v1/eligibility/w-1", headers=bearer("a"))
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "assessed"
    bocw = next(s for s in body["schemes"] if s["scheme_code"] == "bocw-welfare-board")
    assert set(bocw) >= {"scheme_code", "outcome", "rule_version", "conditions", "missing_facts"}
    assert bocw["missing_facts"] == ["construction_days_last_12_months"]


def test_another_partner_gets_the_404_a_missing_worker_gets(client: TestClient) -> None:
    refused = client.get("/v1/eligibility/w-1", headers=bearer("b"))
    missing = client.get("/v1/eligibility/nobody", headers=bearer("b"))
    assert refused.status_code == missing.status_code == 404
    assert {k: v for k, v in refused.json().items() if k != "instance"} == {
        k: v for k, v in missing.json().items() if k != "instance"
    }
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/eligibility/w-1").status_code == 401


def test_applications_deliveries_and_an_illegal_transition(client: TestClient) -> None:
    headers = {**bearer("a"), "Idempotency-Key": "app-1"}
    created = client.post("/v1/applications", json={"worker_id": "w-1", "scheme_code": "pmsby"}, headers=headers)
    assert created.status_code == 201
    application_id = created.json()["application_id"]
    replayed = client.post("/v1/applications", json={"worker_id": "w-1", "scheme_code": "pmsby"}, headers=headers)
    assert replayed.status_code == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["application_id"] == application_id
    illegal = client.post(
        f"/v1/applications/{application_id}:transition", json={"to_status": "approved"}, headers=bearer("a")
    )
    assert illegal.status_code == 409 and "identified" in illegal.json()["detail"]
    for status in ("applied", "submitted", "approved"):
        moved = client.post(
            f"/v1/applications/{application_id}:transition", json={"to_status": status}, headers=bearer("a")
        )
        assert moved.status_code == 200, moved.json()
    delivery = {"external_reference": "PFMS-1", "kind": "enrolment", "delivered_on": "2026-12-01"}
    first = client.post(f"/v1/applications/{application_id}/deliveries", json=delivery, headers=bearer("a"))
    again = client.post(f"/v1/applications/{application_id}/deliveries", json=delivery, headers=bearer("a"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert len(again.json()["deliveries"]) == 1 and again.json()["status"] == "delivered"
    assert client.get(f"/v1/applications/{application_id}", headers=bearer("b")).status_code == 404


def test_operators_draft_and_publish_and_the_job_is_readable(client: TestClient) -> None:
    assert (
        client.post("/v1/schemes/pmsby/versions", json={"conditions": CONDITIONS}, headers=bearer("a")).status_code
        == 403
    )
    drafted = client.post("/v1/schemes/pmsby/versions", json={"conditions": CONDITIONS}, headers=bearer("operator"))
    assert drafted.status_code == 201
    version = drafted.json()["rule_version"]["version"]
    published = client.post(f"/v1/schemes/pmsby/versions/{version}:publish", headers=bearer("operator"))
    assert published.status_code == 202
    job = published.json()["job"]
    assert client.get(f"/v1/reevaluations/{job['job_id']}", headers=bearer("a")).json()["status"] == "pending"
    assert (
        client.get("/v1/schemes/pmsby", headers=bearer("auditor")).json()["rule_versions"][-1]["status"] == "published"
    )
    assert len(client.get("/v1/schemes", headers=bearer("a")).json()["schemes"]) == 9


def test_declared_facts_and_the_funnel(client: TestClient) -> None:
    declared = client.post(
        "/v1/workers/w-1/facts", json={"facts": {"construction_days_last_12_months": 100}}, headers=bearer("a")
    )
    assert declared.status_code == 200
    assert "bocw-welfare-board" in declared.json()["eligible_scheme_codes"]
    bad = client.post("/v1/workers/w-1/facts", json={"facts": {"sector": "x"}}, headers=bearer("a"))
    assert bad.status_code == 422
    funnel = client.get("/v1/statistics/funnel", headers=bearer("auditor"))
    assert funnel.status_code == 200 and funnel.json()["total"] is None


def test_grpc_answers_like_rest(channel: grpc.Channel, world: World) -> None:
    stub = pb_grpc.EntitlementsServiceStub(channel)
    reply = stub.GetEligibility(pb.GetEligibilityRequest(worker_id="w-1"), metadata=grpc_metadata("a"))
    assert len(reply.eligibility.schemes) == 9
    for worker_id in ("w-1", "nobody"):
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetEligibility(pb.GetEligibilityRequest(worker_id=worker_id), metadata=grpc_metadata("b"))
        assert refused.value.code() is grpc.StatusCode.NOT_FOUND and refused.value.details() == "no such worker"
    created = stub.CreateApplication(
        pb.CreateApplicationRequest(idempotency_key="g-1", worker_id="w-1", scheme_code="pmsby"),
        metadata=grpc_metadata("a"),
    )
    with pytest.raises(grpc.RpcError) as illegal:
        stub.TransitionApplication(
            pb.TransitionApplicationRequest(
                application_id=created.application.application_id, to_status=application_pb2.APPLICATION_STATUS_APPROVED
            ),
            metadata=grpc_metadata("a"),
        )
    assert illegal.value.code() in (grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION)
    refusals = stub.ListRefusalsOfEligible(
        pb.ListRefusalsOfEligibleRequest(worker_id="w-1"), metadata=grpc_metadata("a")
    )
    assert not refusals.refused_while_eligible
    declared = stub.DeclareFacts(
        pb.DeclareFactsRequest(worker_id="w-1", facts={"epfo_member": determination_pb2.FactValue(bool_value=False)}),
        metadata=grpc_metadata("a"),
    )
    assert declared.eligibility.worker_id == "w-1"
    schemes = stub.ListSchemes(pb.ListSchemesRequest(), metadata=grpc_metadata("auditor"))
    assert len(schemes.schemes) == 9
