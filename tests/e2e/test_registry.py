"""The registry through its real interfaces: every change publishes its past-tense event on the topic,
deduplication across partners, households and migration episodes over REST and gRPC."""

from __future__ import annotations

import grpc
import httpx
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from mrc.registry.v1 import events_pb2, households_service_pb2, households_service_pb2_grpc, migration_pb2, worker_pb2
from mrc.registry.v1 import registry_service_pb2 as reg_pb
from mrc.registry.v1 import registry_service_pb2_grpc as reg_grpc
from mrc_devstack.stack import Stack
from tests.e2e.payloads import mobile, new_key, verhoeff_aadhaar, worker_body
from tests.support.access import Actor
from tests.support.kafka import Record, read_topic, records_with_subject

pytestmark = pytest.mark.e2e

WORKERS_TOPIC = "mrc.registry.workers.v1"
HOUSEHOLDS_TOPIC = "mrc.registry.households.v1"


def _types(stack: Stack, topic: str, subject: str, expected: set[str]) -> list[Record]:
    records = read_topic(
        stack.kafka_bootstrap,
        topic,
        until=lambda rs: expected <= {r.headers["ce_type"].decode() for r in records_with_subject(rs, subject)},
        timeout=60,  # the relay may be in one of its periodic scans on a loaded CI machine
    )
    found = records_with_subject(records, subject)
    assert expected <= {r.headers["ce_type"].decode() for r in found}, [r.headers["ce_type"] for r in found]
    return found


def test_every_change_publishes_its_event(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    registrar, supervisor = actors["registrar"], actors["supervisor"]
    created = (
        http["registry"]
        .post(
            "/v1/workers",
            json=worker_body("Kavita Kumari"),
            headers=registrar.headers(**{"Idempotency-Key": new_key()}),
        )
        .json()
    )
    worker_id = created["worker_id"]
    path = f"/v1/workers/{worker_id}"

    updated = http["registry"].patch(
        path, json={"occupation": "mason", "phone": mobile()}, headers=registrar.headers(**{"If-Match": '"1"'})
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    stale = http["registry"].patch(
        path, json={"occupation": "helper"}, headers=registrar.headers(**{"If-Match": '"1"'})
    )
    assert stale.status_code == 409

    consent = (
        http["registry"]
        .post(
            f"{path}/consents",
            json={"purposes": ["government_sharing"], "method": "signature"},
            headers=registrar.headers(**{"Idempotency-Key": new_key()}),
        )
        .json()["consents"][-1]
    )
    http["registry"].post(f"{path}/consents/{consent['consent_id']}:revoke", headers=registrar.headers())
    migration = http["registry"].post(
        f"{path}/migrations",
        json={
            "origin": {"state_code": "10", "district_code": "212"},
            "destination": {"state_code": "27", "district_code": "490"},  # Pune
            "sector": "construction",
            "recruitment_channel": "contractor",
            "start_date": "2026-03-01",
            "status": "ongoing",
        },
        headers=registrar.headers(**{"Idempotency-Key": new_key()}),
    )
    assert migration.status_code == 201, migration.text
    assert (
        http["registry"].post(f"{path}:erase", json={"reason": "asked"}, headers=supervisor.headers()).status_code
        == 204
    )

    records = _types(
        running_services,
        WORKERS_TOPIC,
        worker_id,
        {
            "mrc.registry.v1.WorkerRegistered",
            "mrc.registry.v1.WorkerUpdated",
            "mrc.registry.v1.ConsentChanged",
            "mrc.registry.v1.MigrationRecorded",
            "mrc.registry.v1.WorkerErased",
        },
    )
    update = next(r for r in records if r.headers["ce_type"] == b"mrc.registry.v1.WorkerUpdated")
    changed = events_pb2.WorkerUpdated.FromString(update.value)
    assert set(changed.changed_fields) == {"occupation", "phone"}
    assert changed.worker.phone == ""  # never on the topic
    order = [r.headers["ce_type"].decode() for r in records]
    assert order.index("mrc.registry.v1.WorkerRegistered") < order.index("mrc.registry.v1.WorkerErased")


def test_the_same_person_registered_again_is_linked_by_the_same_partner_and_kept_apart_by_another(
    running_services: Stack, http: dict[str, httpx.Client], actors: dict[str, Actor]
) -> None:
    aadhaar = verhoeff_aadhaar()
    documents = [{"kind": "aadhaar", "number": aadhaar}]
    first = (
        http["registry"]
        .post(
            "/v1/workers",
            json=worker_body("Rekha Devi", identity_documents=documents, phone=mobile()),
            headers=actors["registrar"].headers(**{"Idempotency-Key": new_key()}),
        )
        .json()
    )
    # The same partner meets her again (another survey, her name in Devanagari): one record, two consents.
    again = http["registry"].post(
        "/v1/workers",
        json=worker_body("रेखा देवी", identity_documents=documents),
        headers=actors["caseworker"].headers(**{"Idempotency-Key": new_key()}),
    )
    assert again.status_code == 200, again.text
    assert again.json()["linked_to_existing"] is True
    assert again.json()["worker_id"] == first["worker_id"]
    assert len(again.json()["consents"]) == 2

    # Another partner registering her gets its own record and a link request; nothing of hers.
    other = http["registry"].post(
        "/v1/workers",
        json=worker_body("रेखा देवी", identity_documents=documents),
        headers=actors["other_registrar"].headers(**{"Idempotency-Key": new_key()}),
    )
    assert other.status_code == 201, other.text
    assert other.json()["worker_id"] != first["worker_id"]
    assert other.json()["linked_to_existing"] is False
    assert set(other.json()["link_request"]) == {"review_id", "can_send_code"}
    assert first["worker_id"] not in other.text and first["phone"] not in other.text
    hidden = http["registry"].get(f"/v1/workers/{first['worker_id']}", headers=actors["other_registrar"].headers())
    assert hidden.status_code == 404
    found = (
        http["registry"]
        .post(
            "/v1/workers:search",
            json={"identity_document": {"kind": "aadhaar", "number": aadhaar}},
            headers=actors["registrar"].headers(),
        )
        .json()
    )
    assert [w["worker_id"] for w in found["workers"]] == [first["worker_id"]]


def test_search_by_name_across_scripts(http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    registrar = actors["registrar"]
    created = (
        http["registry"]
        .post(
            "/v1/workers", json=worker_body("प्रमोद यादव"), headers=registrar.headers(**{"Idempotency-Key": new_key()})
        )
        .json()
    )
    found = http["registry"].post(
        "/v1/workers:search", json={"name": "Pramod Yadav", "district_code": "212"}, headers=registrar.headers()
    )
    assert found.status_code == 200, found.text
    assert created["worker_id"] in [w["worker_id"] for w in found.json()["workers"]]


def test_grpc_update_search_and_households(
    running_services: Stack, channels: dict[str, grpc.Channel], actors: dict[str, Actor]
) -> None:
    registry = reg_grpc.RegistryServiceStub(channels["registry"])
    households = households_service_pb2_grpc.HouseholdsServiceStub(channels["registry"])
    metadata = actors["registrar"].metadata()
    phone = mobile()
    worker = registry.RegisterWorker(
        reg_pb.RegisterWorkerRequest(
            idempotency_key=new_key(),
            full_name="Shankar Manjhi",
            gender=worker_pb2.GENDER_MALE,
            birth_year=1980,
            home={"state_code": "10", "district_code": "212"},
            phone=phone,
            consent=worker_pb2.ConsentInput(
                purposes=[worker_pb2.CONSENT_PURPOSE_REGISTRATION], method=worker_pb2.CONSENT_CAPTURE_METHOD_THUMBPRINT
            ),
        ),
        metadata=metadata,
    ).worker
    assert worker.phone == f"+91{phone}"
    updated = registry.UpdateWorker(
        reg_pb.UpdateWorkerRequest(
            worker_id=worker.worker_id,
            worker=worker_pb2.Worker(occupation="brick moulder"),
            update_mask=FieldMask(paths=["occupation"]),
            expected_version=worker.version,
        ),
        metadata=metadata,
    ).worker
    assert updated.occupation == "brick moulder"
    found = registry.SearchWorkers(reg_pb.SearchWorkersRequest(phone=phone), metadata=metadata).workers
    assert [w.worker_id for w in found] == [worker.worker_id]

    household = households.CreateHousehold(
        households_service_pb2.CreateHouseholdRequest(
            idempotency_key=new_key(),
            members=[
                {"worker_id": worker.worker_id, "relationship": 1},
                {"name": "Child One", "relationship": 3, "birth_year": 2015, "left_behind": True, "in_school": True},
            ],
            ration_card_number="BR1234567890",
        ),
        metadata=metadata,
    ).household
    assert household.masked_ration_card.endswith("7890")
    episode = households.RecordMigration(
        households_service_pb2.RecordMigrationRequest(
            idempotency_key=new_key(),
            episode=migration_pb2.MigrationEpisode(
                worker_id=worker.worker_id,
                origin={"state_code": "10", "district_code": "212"},
                destination_country="AE",
                sector="construction",
                recruitment_channel=migration_pb2.RECRUITMENT_CHANNEL_AGENT,
                start_date="2026-01-15",
                status=migration_pb2.MIGRATION_STATUS_ONGOING,
            ),
        ),
        metadata=metadata,
    ).episode
    listed = households.ListMigrations(
        households_service_pb2.ListMigrationsRequest(worker_id=worker.worker_id), metadata=metadata
    ).episodes
    assert [e.episode_id for e in listed] == [episode.episode_id]
    _types(running_services, HOUSEHOLDS_TOPIC, household.household_id, {"mrc.registry.v1.HouseholdChanged"})
    with pytest.raises(grpc.RpcError) as bad:
        households.RecordMigration(
            households_service_pb2.RecordMigrationRequest(
                episode=migration_pb2.MigrationEpisode(
                    worker_id=worker.worker_id, origin={"state_code": "10", "district_code": "9999"}
                )
            ),
            metadata=metadata,
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
