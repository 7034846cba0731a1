"""Households and migrations over REST and gRPC: authentication, scopes, status codes, field names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import household_pb2, households_service_pb2_grpc, migration_pb2
from mrc.registry.v1 import households_service_pb2 as pb
from mrc_kernel.idempotency import scoped_key
from mrc_kernel.roles import Role
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from mrc_registry.entrypoints.grpc_households import HouseholdsServicer
from mrc_registry.entrypoints.http_households import households_router
from tests.support.auth import (
    StaticVerifier,
    bearer,
    caller_for,
    grpc_auth,
    grpc_metadata,
    http_auth,
    serve_grpc,
)

from .fakes import ARARIA, IDS, make_registry, registered

# Partner A's first worker in the harness (Ravi Kumar, Patna): its id derives from partner and key.
WORKER_ID = IDS.derive("worker", scoped_key("partner-a", "key-1"))


class Platform:
    """The registry harness with partner A's worker Ravi Kumar (Patna) and partner B's Mohan Lal (Araria)."""

    def __init__(self) -> None:
        self.registry = make_registry()
        self.audit = self.registry.audit
        self.households = self.registry.households
        self.migrations = self.registry.migrations
        self.worker_id = registered(self.registry).worker_id
        assert self.worker_id == WORKER_ID
        self.other_worker_id = registered(
            self.registry,
            caller_for(Role.REGISTRAR, partner_id="partner-b"),
            "b-1",
            full_name="Mohan Lal",
            phone="9123456789",
            home=ARARIA,
        ).worker_id
        self.verifier = StaticVerifier(
            {
                "registrar": caller_for(Role.REGISTRAR, partner_id="partner-a", states=["10"]),
                "caseworker": caller_for(Role.CASEWORKER, partner_id="partner-a"),
                "araria-caseworker": caller_for(
                    Role.CASEWORKER, partner_id="partner-a", states=["10"], districts=["188"]
                ),
                "other-partner": caller_for(Role.CASEWORKER, partner_id="partner-b"),
                "helpline": caller_for(Role.HELPLINE_AGENT, partner_id="partner-a"),
                "auditor": caller_for(Role.AUDITOR, partner_id="audit-1"),
            }
        )

    def household_documents(self) -> dict[Any, dict[str, Any]]:
        return self.registry.store.collection("households").documents


@pytest.fixture
def platform() -> Platform:
    return Platform()


@pytest.fixture
def http(platform: Platform) -> TestClient:
    app = create_http_app(service="registry", title="MRC Registry (test)")
    app.include_router(households_router(platform.households, platform.migrations, http_auth(platform.verifier)))
    return TestClient(app)


@pytest.fixture
def stub(platform: Platform) -> Iterator[households_service_pb2_grpc.HouseholdsServiceStub]:
    servicer = HouseholdsServicer(platform.households, platform.migrations, grpc_auth(platform.verifier))
    with serve_grpc(
        lambda server: households_service_pb2_grpc.add_HouseholdsServiceServicer_to_server(servicer, server)
    ) as channel:
        yield households_service_pb2_grpc.HouseholdsServiceStub(channel)


HOUSEHOLD = {
    "members": [
        {"worker_id": WORKER_ID, "relationship": "head", "birth_year": 1985},
        {"name": "Sunita Devi", "relationship": "spouse", "left_behind": True},
        {"name": "Amit", "relationship": "child", "birth_year": 2015, "left_behind": True, "in_school": True},
    ],
    "ration_card_number": "BR-1234-5678",
}

EPISODE = {
    "origin": {"state_code": "10", "district_code": "212", "village_name": "Athmalgola"},
    "destination": {"state_code": "27", "district_code": "466"},
    "sector": "construction",
    "recruitment_channel": "contractor",
    "start_date": "2025-11-01",
    "status": "ongoing",
}


def headers(token: str, key: str = "") -> dict[str, str]:
    return {**bearer(token), **({"Idempotency-Key": key} if key else {})}


def fields_of(response: Any) -> list[str]:
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    return [e["field"] for e in response.json()["errors"]]


# REST


def test_create_read_and_replace_members(http: TestClient) -> None:
    created = http.post("/v1/households", json=HOUSEHOLD, headers=headers("registrar", "k-1"))
    assert created.status_code == 201, created.json()
    household = created.json()
    assert created.headers["location"] == f"/v1/households/{household['household_id']}"
    assert household["masked_ration_card"] == "XXXXXX5678"
    assert "ration_card_token" not in household and "enc:" not in created.text
    assert household["members"][0]["relationship"] == "head"
    assert household["version"] == 1

    fetched = http.get(f"/v1/households/{household['household_id']}", headers=bearer("caseworker"))
    assert fetched.json() == household

    members = [*HOUSEHOLD["members"][:1], {"name": "Kamla", "relationship": "parent", "birth_year": 1950}]
    url = f"/v1/households/{household['household_id']}/members"
    updated = http.put(url, json={"members": members, "expected_version": 1}, headers=bearer("registrar"))
    assert updated.status_code == 200, updated.json()
    assert updated.json()["version"] == 2
    assert [m["relationship"] for m in updated.json()["members"]] == ["head", "parent"]

    stale = http.put(url, json={"members": members, "expected_version": 1}, headers=bearer("registrar"))
    assert stale.status_code == 409
    assert stale.json()["type"].endswith("/conflict")


def test_a_replay_is_marked(http: TestClient) -> None:
    first = http.post("/v1/households", json=HOUSEHOLD, headers=headers("registrar", "k-1"))
    again = http.post("/v1/households", json=HOUSEHOLD, headers=headers("registrar", "k-1"))
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


def test_another_partner_gets_404_like_for_a_missing_household(http: TestClient) -> None:
    household_id = http.post("/v1/households", json=HOUSEHOLD, headers=headers("registrar")).json()["household_id"]

    hidden = http.get(f"/v1/households/{household_id}", headers=bearer("other-partner"))
    missing = http.get("/v1/households/nope", headers=bearer("other-partner"))
    update = http.put(
        f"/v1/households/{household_id}/members",
        json={"members": HOUSEHOLD["members"], "expected_version": 1},
        headers=bearer("other-partner"),
    )
    assert hidden.status_code == missing.status_code == update.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]


@pytest.mark.parametrize(
    ("method", "path", "token", "status"),
    [
        ("post", "/v1/households", "", 401),
        ("post", "/v1/households", "forged", 401),
        ("post", "/v1/households", "helpline", 403),
        ("get", "/v1/households/x", "auditor", 403),
        ("put", "/v1/households/x/members", "helpline", 403),
        ("post", f"/v1/workers/{WORKER_ID}/migrations", "auditor", 403),
        ("get", f"/v1/workers/{WORKER_ID}/migrations", "helpline", 403),
    ],
)
def test_scopes(http: TestClient, method: str, path: str, token: str, status: int) -> None:
    body = {
        "post": HOUSEHOLD if "households" in path else EPISODE,
        "put": {"members": HOUSEHOLD["members"], "expected_version": 1},
    }
    response = http.request(method.upper(), path, json=body.get(method), headers=bearer(token) if token else {})
    assert response.status_code == status


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**HOUSEHOLD, "nickname": "x"}, "nickname"),
        ({**HOUSEHOLD, "members": []}, "members"),
        ({**HOUSEHOLD, "members": [{"name": "A", "relationship": "HEAD"}]}, "members.0.relationship"),
        ({**HOUSEHOLD, "members": [{"name": "A"}]}, "members.0.relationship"),
        ({**HOUSEHOLD, "members": [{"name": "A", "relationship": "child"}]}, "members"),
        ({**HOUSEHOLD, "members": [{"name": "A", "relationship": "head", "worker_id": "w"}]}, "members.0.name"),
        ({**HOUSEHOLD, "ration_card_number": "12"}, "ration_card_number"),
    ],
)
def test_bad_households_name_the_field(http: TestClient, platform: Platform, body: dict[str, Any], field: str) -> None:
    response = http.post("/v1/households", json=body, headers=bearer("registrar"))
    assert response.status_code == 422
    assert field in fields_of(response), response.json()
    assert platform.household_documents() == {}


def test_replace_members_needs_the_expected_version(http: TestClient) -> None:
    response = http.put("/v1/households/x/members", json={"members": HOUSEHOLD["members"]}, headers=bearer("registrar"))
    assert response.status_code == 422
    assert "expected_version" in fields_of(response)


def test_reads_fail_closed_when_the_audit_trail_is_down(http: TestClient, platform: Platform) -> None:
    household_id = http.post("/v1/households", json=HOUSEHOLD, headers=headers("registrar")).json()["household_id"]
    platform.audit.failing = True
    assert http.get(f"/v1/households/{household_id}", headers=bearer("registrar")).status_code == 503
    assert http.get(f"/v1/workers/{WORKER_ID}/migrations", headers=bearer("registrar")).status_code == 503


def test_record_and_list_migrations(http: TestClient) -> None:
    url = f"/v1/workers/{WORKER_ID}/migrations"
    first = http.post(url, json=EPISODE, headers=headers("registrar", "m-1"))
    assert first.status_code == 201, first.json()
    episode = first.json()
    assert episode["recruitment_channel"] == "contractor" and episode["status"] == "ongoing"
    assert episode["worker_id"] == WORKER_ID and episode["end_date"] == ""
    abroad = {**EPISODE, "destination": None, "destination_country": "AE", "start_date": "2023-04-01"}
    assert http.post(url, json=abroad, headers=bearer("registrar")).status_code == 201

    listed = http.get(url, headers=bearer("caseworker")).json()["episodes"]
    assert [e["start_date"] for e in listed] == ["2023-04-01", "2025-11-01"]
    assert listed[0]["destination"] is None and listed[0]["destination_country"] == "AE"
    assert listed[1] == episode
    hidden = http.get(url, headers=bearer("other-partner"))
    missing = http.get("/v1/workers/no-such-worker/migrations", headers=bearer("other-partner"))
    assert hidden.status_code == missing.status_code == 404  # no existence oracle
    assert hidden.json()["detail"] == missing.json()["detail"] == "no such worker"
    assert http.post(url, json=EPISODE, headers=bearer("other-partner")).status_code == 404
    assert http.get(url, headers=bearer("araria-caseworker")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**EPISODE, "destination_country": "NP"}, "destination_country"),
        ({**EPISODE, "destination": None}, "destination"),
        ({**EPISODE, "status": "ONGOING"}, "status"),
        ({**EPISODE, "recruitment_channel": "smuggler"}, "recruitment_channel"),
        ({**EPISODE, "start_date": "01-11-2025"}, "start_date"),
        ({**EPISODE, "end_date": "2025-10-01"}, "end_date"),
        ({**EPISODE, "origin": {"state_code": "10", "district_code": "466"}}, "origin.district_code"),
        ({**EPISODE, "worker_id": WORKER_ID}, "worker_id"),
    ],
)
def test_bad_episodes_name_the_field(http: TestClient, body: dict[str, Any], field: str) -> None:
    response = http.post(f"/v1/workers/{WORKER_ID}/migrations", json=body, headers=bearer("registrar"))
    assert response.status_code == 422
    assert field in fields_of(response), response.json()


def test_migrations_of_an_unknown_worker_are_404(http: TestClient) -> None:
    url = "/v1/workers/ghost/migrations"
    assert http.post(url, json=EPISODE, headers=bearer("registrar")).status_code == 404
    assert http.get(url, headers=bearer("registrar")).status_code == 404


# gRPC


def members() -> list[household_pb2.HouseholdMember]:
    return [
        household_pb2.HouseholdMember(worker_id=WORKER_ID, relationship=household_pb2.RELATIONSHIP_HEAD),
        household_pb2.HouseholdMember(name="Amit", relationship=household_pb2.RELATIONSHIP_CHILD, birth_year=2015),
    ]


def episode(**overrides: Any) -> migration_pb2.MigrationEpisode:
    values: dict[str, Any] = {
        "worker_id": WORKER_ID,
        "origin": common_pb2.LgdLocation(state_code="10", district_code="212"),
        "destination": common_pb2.LgdLocation(state_code="27", district_code="466"),
        "sector": "construction",
        "recruitment_channel": migration_pb2.RECRUITMENT_CHANNEL_AGENT,
        "start_date": "2025-11-01",
        "status": migration_pb2.MIGRATION_STATUS_ONGOING,
    }
    values.update(overrides)
    return migration_pb2.MigrationEpisode(**values)


def code_of(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error: Any = caught.value  # the raised RpcError is also a grpc.Call
    return error.code(), error.details() or ""


def test_grpc_households(stub: households_service_pb2_grpc.HouseholdsServiceStub) -> None:
    registrar = grpc_metadata("registrar")
    created = stub.CreateHousehold(
        pb.CreateHouseholdRequest(idempotency_key="k", members=members(), ration_card_number="WB 55 1234"),
        metadata=registrar,
    ).household
    assert created.masked_ration_card == "XXXXXX1234" and created.version == 1

    fetched = stub.GetHousehold(pb.GetHouseholdRequest(household_id=created.household_id), metadata=registrar)
    assert fetched.household == created

    update = pb.UpdateHouseholdMembersRequest(
        household_id=created.household_id, members=members()[:1], expected_version=1
    )
    assert stub.UpdateHouseholdMembers(update, metadata=registrar).household.version == 2
    assert code_of(lambda: stub.UpdateHouseholdMembers(update, metadata=registrar))[0] == grpc.StatusCode.ABORTED

    get_other = pb.GetHouseholdRequest(household_id=created.household_id)
    assert code_of(lambda: stub.GetHousehold(get_other, metadata=grpc_metadata("other-partner")))[0] == (
        grpc.StatusCode.NOT_FOUND
    )
    no_head = pb.CreateHouseholdRequest(members=members()[1:])
    code, details = code_of(lambda: stub.CreateHousehold(no_head, metadata=registrar))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "members" in details
    unspecified = pb.CreateHouseholdRequest(members=[household_pb2.HouseholdMember(name="A")])
    code, details = code_of(lambda: stub.CreateHousehold(unspecified, metadata=registrar))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "members.0.relationship" in details
    assert code_of(lambda: stub.GetHousehold(pb.GetHouseholdRequest(), metadata=registrar))[0] == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    assert code_of(lambda: stub.GetHousehold(get_other, metadata=grpc_metadata("helpline")))[0] == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert code_of(lambda: stub.GetHousehold(get_other))[0] == grpc.StatusCode.UNAUTHENTICATED


def test_grpc_migrations(stub: households_service_pb2_grpc.HouseholdsServiceStub) -> None:
    registrar = grpc_metadata("registrar")
    recorded = stub.RecordMigration(
        pb.RecordMigrationRequest(idempotency_key="m", episode=episode()), metadata=registrar
    ).episode
    assert recorded.recorded_by_partner_id == "partner-a" and recorded.episode_id
    abroad = episode(destination=None, destination_country="SA", start_date="2024-01-10")
    stub.RecordMigration(pb.RecordMigrationRequest(episode=abroad), metadata=registrar)

    listed = stub.ListMigrations(pb.ListMigrationsRequest(worker_id=WORKER_ID), metadata=registrar).episodes
    assert [e.start_date for e in listed] == ["2024-01-10", "2025-11-01"]
    assert listed[1] == recorded
    assert not listed[0].HasField("destination")

    both = pb.RecordMigrationRequest(episode=episode(destination_country="SA"))
    code, details = code_of(lambda: stub.RecordMigration(both, metadata=registrar))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "episode.destination_country" in details
    unspecified = pb.RecordMigrationRequest(episode=episode(status=migration_pb2.MIGRATION_STATUS_UNSPECIFIED))
    code, details = code_of(lambda: stub.RecordMigration(unspecified, metadata=registrar))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "episode.status" in details
    ghost = pb.RecordMigrationRequest(episode=episode(worker_id="ghost"))
    assert code_of(lambda: stub.RecordMigration(ghost, metadata=registrar))[0] == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: stub.ListMigrations(pb.ListMigrationsRequest(), metadata=registrar))[0] == (
        grpc.StatusCode.INVALID_ARGUMENT
    )


def test_another_partner_cannot_name_a_worker_it_does_not_reach_nor_write_outside_its_geography(
    http: TestClient, stub: households_service_pb2_grpc.HouseholdsServiceStub, platform: Platform
) -> None:
    theirs = http.post("/v1/households", json=HOUSEHOLD, headers=headers("other-partner"))
    unknown_member = {**HOUSEHOLD, "members": [{"worker_id": "no-such-worker", "relationship": "head"}]}
    unknown = http.post("/v1/households", json=unknown_member, headers=headers("other-partner"))
    unregistered = {"members": [{"name": "Kamla Devi", "relationship": "head"}]}
    elsewhere = http.post(
        "/v1/households",
        json={**unregistered, "home": {"state_code": "27", "district_code": "490"}},
        headers=headers("registrar"),  # limited to Bihar
    )
    other_district = http.post(
        "/v1/households",
        json={**unregistered, "home": {"state_code": "10", "district_code": "212"}},
        headers=headers("araria-caseworker"),
    )

    assert theirs.status_code == unknown.status_code == 422
    assert fields_of(theirs) == fields_of(unknown) == ["members.0.worker_id"]
    assert theirs.json()["errors"] == unknown.json()["errors"]
    assert elsewhere.status_code == 422 and fields_of(elsewhere) == ["home.state_code"]
    assert other_district.status_code == 422 and fields_of(other_district) == ["home.district_code"]
    assert platform.household_documents() == {}

    over_grpc = pb.CreateHouseholdRequest(members=members()[:1])
    code, details = code_of(lambda: stub.CreateHousehold(over_grpc, metadata=grpc_metadata("other-partner")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "members.0.worker_id" in details
    assert WORKER_ID not in details


def test_a_client_limited_to_another_district_reads_no_household_there(http: TestClient) -> None:
    household_id = http.post("/v1/households", json=HOUSEHOLD, headers=headers("registrar")).json()["household_id"]

    assert http.get(f"/v1/households/{household_id}", headers=bearer("caseworker")).status_code == 200
    assert http.get(f"/v1/households/{household_id}", headers=bearer("araria-caseworker")).status_code == 404


def test_grpc_migrations_of_a_worker_the_caller_does_not_reach_are_not_found(
    stub: households_service_pb2_grpc.HouseholdsServiceStub,
) -> None:
    other = grpc_metadata("other-partner")
    stub.RecordMigration(pb.RecordMigrationRequest(episode=episode()), metadata=grpc_metadata("registrar"))

    listing = code_of(lambda: stub.ListMigrations(pb.ListMigrationsRequest(worker_id=WORKER_ID), metadata=other))
    missing = code_of(lambda: stub.ListMigrations(pb.ListMigrationsRequest(worker_id="nobody"), metadata=other))
    recording = code_of(lambda: stub.RecordMigration(pb.RecordMigrationRequest(episode=episode()), metadata=other))

    assert listing == missing == recording == (grpc.StatusCode.NOT_FOUND, "no such worker")
