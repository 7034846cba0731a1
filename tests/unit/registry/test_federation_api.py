"""The cross-state consent and the read-only copies at the registry's edges: REST, gRPC mapping, the bulk
import column, and the federation contract mapping both ways."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc.registry.v1 import worker_pb2
from mrc_kernel.roles import Role
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.http_app import create_http_app
from mrc_registry.adapters.federation_mapping import mirrored_topics, shared_worker_from, worker_shared
from mrc_registry.adapters.household_links import StoredHouseholdLinks
from mrc_registry.adapters.protobuf_mapping import worker_to_proto
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.federation import FederationScope, SharingGrant, WithdrawalReason
from mrc_registry.domain.household import Member, Relationship
from mrc_registry.entrypoints.grpc_api import _consent
from mrc_registry.entrypoints.http_api import workers_router
from mrc_registry.entrypoints.http_federation import federation_router
from mrc_registry.service_layer.federation import SharedHouseholdReads
from mrc_registry.service_layer.households import CreateHousehold
from mrc_registry.service_layer.survey_rows import COLUMNS, column_of, parse_row
from mrc_registry.settings import FederationSettings
from tests.support.auth import StaticVerifier, bearer, caller_for
from tests.unit.registry.fakes import (
    AADHAAR,
    FEDERATION_CIPHER,
    NOW,
    REGISTRAR_A,
    FakeProtector,
    Registry,
    make_registry,
)
from tests.unit.registry.test_federation import BIHAR_SCOPE, KERALA_CSO, KERALA_SCOPE, deliver, federated, to

TOKENS = {"registrar": caller_for(Role.REGISTRAR, partner_id="partner-a"), "kerala-cso": KERALA_CSO}


def body(**consent: Any) -> dict[str, Any]:
    return {
        "full_name": "Ravi Kumar",
        "gender": "male",
        "birth_year": 1990,
        "home": {"state_code": "10", "district_code": "212", "village_name": "Phulwari"},
        "identity_documents": [{"kind": "aadhaar", "number": AADHAAR}],
        "consent": {"purposes": ["registration", "cross_state_sharing"], "method": "thumbprint", **consent},
    }


def client(registry: Registry) -> TestClient:
    app = create_http_app(service="registry", title="MRC Registry (test)")
    auth = HttpAuth(StaticVerifier(TOKENS), RateLimiter(0, 0))
    app.include_router(workers_router(registry.workers, registry.reviews, registry.erasures, auth))
    return TestClient(app)


def test_rest_takes_a_cross_state_consent_and_refuses_bad_state_codes() -> None:
    http = client(make_registry(federation=BIHAR_SCOPE))
    created = http.post("/v1/workers", json=body(shared_with_state_codes=["32"]), headers=bearer("registrar"))
    assert created.status_code == 201, created.json()
    (consent,) = created.json()["consents"]
    assert consent["purposes"] == ["cross_state_sharing", "registration"]
    assert consent["shared_with_state_codes"] == ["32"]
    assert created.json()["federated_from_state_code"] == ""
    refused = http.post("/v1/workers", json=body(shared_with_state_codes=["10", "77"]), headers=bearer("registrar"))
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"consent.shared_with_state_codes"}


def test_rest_shows_a_copy_with_its_home_state_and_refuses_changes_with_409() -> None:
    bihar, kerala = make_registry(federation=BIHAR_SCOPE), make_registry(federation=KERALA_SCOPE)
    created = client(bihar).post("/v1/workers", json=body(shared_with_state_codes=["32"]), headers=bearer("registrar"))
    worker_id = created.json()["worker_id"]
    deliver(federated(bihar)[to("32")], kerala)
    http = client(kerala)
    shown = http.get(f"/v1/workers/{worker_id}", headers=bearer("kerala-cso"))
    assert shown.status_code == 200, shown.json()
    assert shown.json()["federated_from_state_code"] == "10"
    assert shown.json()["full_name"] == "Ravi Kumar"
    changed = http.patch(f"/v1/workers/{worker_id}", json={"occupation": "x"}, headers=bearer("kerala-cso"))
    assert changed.status_code == 409
    assert "read-only copy of a record held by state 10 (Bihar)" in changed.json()["detail"]


def test_grpc_consent_input_carries_the_states() -> None:
    message = worker_pb2.ConsentInput(
        purposes=[worker_pb2.CONSENT_PURPOSE_REGISTRATION, worker_pb2.CONSENT_PURPOSE_CROSS_STATE_SHARING],
        method=worker_pb2.CONSENT_CAPTURE_METHOD_THUMBPRINT,
        shared_with_state_codes=["32", " 33 "],
    )
    consent = _consent(message)
    assert ConsentPurpose.CROSS_STATE_SHARING in consent.purposes
    assert consent.shared_with_state_codes == {"32", "33"}


def test_grpc_worker_of_a_copy_names_its_home_state() -> None:
    bihar, kerala = make_registry(federation=BIHAR_SCOPE), make_registry(federation=KERALA_SCOPE)
    worker_id = client(bihar).post("/v1/workers", json=body(), headers=bearer("registrar")).json()["worker_id"]
    deliver(federated(bihar)[to("32")], kerala)
    copy = kerala.repository.get(worker_id)
    assert copy is not None
    message = worker_to_proto(copy)
    assert message.federated_from_state_code == "10"
    assert worker_to_proto(bihar.repository.get(worker_id)).consents[0].shared_with_state_codes == []  # type: ignore[arg-type]


def test_the_survey_column_names_the_states() -> None:
    assert "consent_shared_with_states" in COLUMNS
    headers = ["full_name", "gender", "home_state_code", "home_district_code", "consent_purposes", "consent_method"]
    headers.append("consent_shared_with_states")
    cells = ["Ravi", "male", "10", "212", "registration;cross_state_sharing", "thumbprint", "32; 33"]
    row = parse_row(2, headers, cells, "sha")
    assert row.command.consent.shared_with_state_codes == {"32", "33"}
    assert column_of("consent.shared_with_state_codes", ()) == "consent_shared_with_states"


def test_the_contract_mapping_round_trips_a_summary() -> None:
    bihar = make_registry(federation=BIHAR_SCOPE)
    worker_id = client(bihar).post("/v1/workers", json=body(), headers=bearer("registrar")).json()["worker_id"]
    worker = bihar.repository.get(worker_id)
    assert worker is not None
    grant = SharingGrant("c-1", frozenset({ConsentPurpose.CROSS_STATE_SHARING}), NOW + timedelta(days=3), frozenset())
    message = worker_shared(worker, grant, "10", FEDERATION_CIPHER, FakeProtector().blind_index)
    wire = federation_pb2.WorkerShared.FromString(message.SerializeToString())
    shared = shared_worker_from(wire, FEDERATION_CIPHER)
    assert shared.details.full_name == "Ravi Kumar" and shared.details.home.village_name == ""
    assert shared.details.identity_documents[0].encrypted == ""
    assert shared.consent_expires_at == NOW + timedelta(days=3)
    assert shared.version == worker.version and shared.home_state_code == "10"


def test_the_consumer_reads_the_copies_of_what_the_peers_address_to_this_state() -> None:
    assert mirrored_topics(["kerala", "tamil_nadu"], "10", ["workers", "households"]) == [
        "kerala.mrc.federation.households.10.v1",
        "kerala.mrc.federation.workers.10.v1",
        "tamil_nadu.mrc.federation.households.10.v1",
        "tamil_nadu.mrc.federation.workers.10.v1",
    ]


def test_peers_are_named_by_state_or_given_their_code() -> None:
    assert FederationSettings(peers="kerala, tamil_nadu").peer_codes() == {"kerala": "32", "tamil_nadu": "33"}
    assert FederationSettings(peers="south=32").peer_codes() == {"south": "32"}
    with pytest.raises(ValueError, match="narnia"):
        FederationSettings(peers="narnia").peer_codes()


def test_a_merged_record_is_withdrawn_naming_the_survivor() -> None:
    bihar = make_registry(federation=BIHAR_SCOPE)
    worker_id = client(bihar).post("/v1/workers", json=body(), headers=bearer("registrar")).json()["worker_id"]
    worker = bihar.repository.get(worker_id)
    assert worker is not None and worker.shared_with_states == {"32", "33"}
    worker.merge_into("survivor-1", NOW)
    plan = worker.plan_sharing(FederationScope("10", frozenset({"32", "33"})), NOW)
    assert plan.withdrawals == {"32": WithdrawalReason.MERGED, "33": WithdrawalReason.MERGED}
    assert plan.merged_into == "survivor-1" and not plan.shares


def test_rest_shows_the_households_bihar_shares_with_a_copy_kerala_reaches() -> None:
    bihar, kerala = make_registry(federation=BIHAR_SCOPE), make_registry(federation=KERALA_SCOPE)
    worker_id = client(bihar).post("/v1/workers", json=body(), headers=bearer("registrar")).json()["worker_id"]
    members = (Member(Relationship.HEAD, worker_id=worker_id), Member(Relationship.CHILD, name="Anu"))
    bihar.households.create(REGISTRAR_A, CreateHousehold(members, idempotency_key="h"))
    deliver([*federated(bihar)[to("32")], *federated(bihar, "households")[to("32", "households")]], kerala)
    app = create_http_app(service="registry", title="MRC Registry (test)")
    auth = HttpAuth(StaticVerifier(TOKENS), RateLimiter(0, 0))
    links = StoredHouseholdLinks(kerala.store)
    app.include_router(federation_router(SharedHouseholdReads(links, kerala.workers.access, kerala.audit), auth))
    http = TestClient(app)
    shown = http.get(f"/v1/workers/{worker_id}/shared-households", headers=bearer("kerala-cso"))
    assert shown.status_code == 200, shown.json()
    (household,) = shown.json()
    assert household["member_worker_ids"] == [worker_id] and household["size"] == 2
    assert household["federated_from_state_code"] == "10" and household["state_code"] == "10"
    assert http.get("/v1/workers/nobody/shared-households", headers=bearer("kerala-cso")).status_code == 404
