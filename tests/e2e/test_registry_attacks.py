"""Issue 8's registry attacks against the running services, over REST and gRPC, each expecting refusal; the link
flow end to end (a link request and no data, the one-time code read from the local SMS outbox, and only then the
worker, within the consented purposes); erasure on a verified request; consent expiry announced on the topic;
and no names on the registry's topics.

Partner A (a CSO in Bihar) registered Sita (a bonded-labour risk, with a phone, an Aadhaar number and an e-Shram
UAN). Partner B, another CSO in Bihar, and a CSO of Uttar Pradesh hold ordinary credentials and try to find, read,
change or erase her.
"""

from __future__ import annotations

import csv
import io
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import events_pb2, household_pb2, households_service_pb2_grpc, migration_pb2, worker_pb2
from mrc.registry.v1 import households_service_pb2 as households_pb
from mrc.registry.v1 import registry_service_pb2 as reg_pb
from mrc.registry.v1 import registry_service_pb2_grpc as reg_grpc
from mrc_devstack.stack import Stack
from tests.e2e.payloads import mobile, new_key, verhoeff_aadhaar
from tests.support.access import AccessClient, Actor
from tests.support.kafka import read_topic, records_with_subject
from tests.support.polling import eventually
from tests.support.sms import last_code, texts_sent

pytestmark = pytest.mark.e2e

WORKERS_TOPIC = "mrc.registry.workers.v1"
HOUSEHOLDS_TOPIC = "mrc.registry.households.v1"
MISSING = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Partners:
    registrar_a: Actor
    caseworker_a: Actor
    supervisor_a: Actor
    registrar_b: Actor
    caseworker_b: Actor
    supervisor_b: Actor
    registrar_up: Actor  # a CSO of Uttar Pradesh (state 9)
    caseworker_up: Actor
    araria_registrar: Actor  # partner A's client limited to Araria (district 188)
    araria_caseworker: Actor


@pytest.fixture(scope="module")
def partners(access: AccessClient) -> Partners:
    a, b = access.partner("cso", states=["10"]), access.partner("cso", states=["10"])
    up = access.partner("cso", states=["9"])
    return Partners(
        registrar_a=access.actor("registrar", a, states=["10"]),
        caseworker_a=access.actor("caseworker", a, states=["10"]),
        supervisor_a=access.actor("supervisor", a, states=["10"]),
        registrar_b=access.actor("registrar", b, states=["10"]),
        caseworker_b=access.actor("caseworker", b, states=["10"]),
        supervisor_b=access.actor("supervisor", b, states=["10"]),
        registrar_up=access.actor("registrar", up, states=["9"]),
        caseworker_up=access.actor("caseworker", up, states=["9"]),
        araria_registrar=access.actor("registrar", a, states=["10"], district_codes=["188"]),
        araria_caseworker=access.actor("caseworker", a, states=["10"], district_codes=["188"]),
    )


def unique_name(first: str) -> str:
    """A name no other test uses, so matching and the topic checks only ever meet this test's people."""
    surname = "".join(random.choice("bcdfghjklmnprstvz") + random.choice("aeiou") for _ in range(4)).title()
    return f"{first} {surname}"


@dataclass(frozen=True)
class Sita:
    worker_id: str
    name: str
    father: str
    aadhaar: str
    uan: str
    phone: str
    consent_id: str


def body(name: str, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "full_name": name,
        "gender": "female",
        "birth_year": 1994,
        "home": {"state_code": "10", "district_code": "188", "village_name": "Kusiyargaon"},
        "consent": {"purposes": ["registration", "entitlement_linkage"], "method": "thumbprint"},
    }
    values.update(extra)
    return values


def register(http: dict[str, httpx.Client], actor: Actor, payload: dict[str, Any]) -> httpx.Response:
    return http["registry"].post("/v1/workers", json=payload, headers=actor.headers(**{"Idempotency-Key": new_key()}))


@pytest.fixture
def sita(http: dict[str, httpx.Client], partners: Partners) -> Sita:
    name, father = unique_name("Sita"), unique_name("Ram")
    aadhaar, uan, phone = verhoeff_aadhaar(), "".join(random.choice("0123456789") for _ in range(12)), mobile()
    response = register(
        http,
        partners.registrar_a,
        body(
            name,
            father_or_spouse_name=father,
            phone=phone,
            vulnerabilities=["bonded_labour_risk"],
            identity_documents=[{"kind": "aadhaar", "number": aadhaar}, {"kind": "e_shram_uan", "number": uan}],
            consent={"purposes": ["registration"], "method": "verbal_with_witness", "witness_name": "Kamla (ASHA)"},
        ),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    return Sita(created["worker_id"], name, father, aadhaar, uan, phone, created["consents"][0]["consent_id"])


def secrets_of(sita: Sita) -> list[str]:
    """What partner A recorded of Sita and no other partner may learn through the registry."""
    return [sita.worker_id, sita.father, sita.phone, sita.aadhaar, sita.uan, "bonded_labour_risk", "Kamla (ASHA)"]


def assert_kept_apart(
    response: httpx.Response, sita: Sita, *, link_request: bool, sent: tuple[str, ...] = ()
) -> dict[str, Any]:
    """B's answer is B's own record: nothing of Sita's but what B itself sent."""
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["worker_id"] != sita.worker_id
    assert created["linked_to_existing"] is False and created["possible_duplicates"] == []
    assert (created["link_request"] is not None) is link_request
    assert [c["captured_by_partner_id"] for c in created["consents"]] == [created["registering_partner_id"]]
    for secret in secrets_of(sita):
        if secret not in sent:
            assert secret not in response.text, secret
    return dict(created)


def assert_sita_unreached(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], sita: Sita, *by: Actor
) -> None:
    registry = reg_grpc.RegistryServiceStub(channels["registry"])
    for actor in by:
        for purpose in ("", "sharing", "registration"):
            headers = actor.headers(**({"X-Purpose": purpose} if purpose else {}))
            assert http["registry"].get(f"/v1/workers/{sita.worker_id}", headers=headers).status_code == 404
        with pytest.raises(grpc.RpcError) as caught:
            registry.GetWorker(reg_pb.GetWorkerRequest(worker_id=sita.worker_id), metadata=actor.metadata())
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def assert_sita_untouched(http: dict[str, httpx.Client], partners: Partners, sita: Sita) -> None:
    seen = http["registry"].get(f"/v1/workers/{sita.worker_id}", headers=partners.caseworker_a.headers())
    assert seen.status_code == 200, seen.text
    assert seen.json()["version"] == 1 and seen.json()["status"] == "active"
    assert [c["captured_by_partner_id"] for c in seen.json()["consents"]] == [partners.registrar_a.partner_id]


def rpc_code(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    try:
        call()
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


def problem(response: httpx.Response) -> dict[str, Any]:
    """A problem document without the request path it was about."""
    assert response.headers["content-type"] == "application/problem+json"
    return {k: v for k, v in response.json().items() if k != "instance"}


def fields_of(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def consent_pb(*purposes: int) -> worker_pb2.ConsentInput:
    return worker_pb2.ConsentInput(
        purposes=list(purposes or [worker_pb2.CONSENT_PURPOSE_REGISTRATION]),
        method=worker_pb2.CONSENT_CAPTURE_METHOD_THUMBPRINT,
    )


# -- linking hands over the record ---------------------------------------------------------------


def test_her_aadhaar_alone_gets_a_link_request_and_nothing_of_hers_over_rest_and_grpc(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    aadhaar = [{"kind": "aadhaar", "number": sita.aadhaar}]
    over_rest = register(
        http, partners.registrar_b, body(unique_name("Radha"), gender="male", identity_documents=aadhaar)
    )
    over_grpc = reg_grpc.RegistryServiceStub(channels["registry"]).RegisterWorker(
        reg_pb.RegisterWorkerRequest(
            idempotency_key=new_key(),
            full_name=unique_name("Mohan"),
            gender=worker_pb2.GENDER_MALE,
            home=common_pb2.LgdLocation(state_code="9", district_code="162"),
            identity_documents=[
                worker_pb2.IdentityDocumentInput(kind=worker_pb2.IDENTITY_DOCUMENT_KIND_AADHAAR, number=sita.aadhaar)
            ],
            consent=consent_pb(),
        ),
        metadata=partners.registrar_up.metadata(),
    )

    assert_kept_apart(over_rest, sita, link_request=True)
    assert over_grpc.HasField("link_request") and not over_grpc.linked_to_existing
    assert over_grpc.worker.worker_id != sita.worker_id and list(over_grpc.possible_duplicates) == []
    raw = over_grpc.SerializeToString()
    for secret in secrets_of(sita):
        assert secret.encode() not in raw
    assert_sita_unreached(http, channels, sita, partners.caseworker_b, partners.registrar_b, partners.registrar_up)
    assert_sita_untouched(http, partners, sita)


def test_her_e_shram_uan_with_another_name_gender_and_state_gets_a_link_request_and_nothing_of_hers(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    uan = [{"kind": "e_shram_uan", "number": sita.uan}]
    lucknow = {"state_code": "9", "district_code": "162"}
    over_rest = register(
        http, partners.registrar_up, body(unique_name("Suresh"), gender="male", home=lucknow, identity_documents=uan)
    )
    over_grpc = reg_grpc.RegistryServiceStub(channels["registry"]).RegisterWorker(
        reg_pb.RegisterWorkerRequest(
            idempotency_key=new_key(),
            full_name=unique_name("Ramesh"),
            gender=worker_pb2.GENDER_MALE,
            home=common_pb2.LgdLocation(state_code="10", district_code="212"),
            identity_documents=[
                worker_pb2.IdentityDocumentInput(kind=worker_pb2.IDENTITY_DOCUMENT_KIND_E_SHRAM_UAN, number=sita.uan)
            ],
            consent=consent_pb(),
        ),
        metadata=partners.registrar_b.metadata(),
    )

    created = assert_kept_apart(over_rest, sita, link_request=True)
    assert created["home"]["state_code"] == "9" and created["gender"] == "male"  # its own record, as sent
    assert over_grpc.HasField("link_request") and over_grpc.worker.worker_id != sita.worker_id
    assert_sita_unreached(http, channels, sita, partners.registrar_up, partners.caseworker_b)
    assert_sita_untouched(http, partners, sita)


def test_her_name_and_phone_get_a_link_request_and_nothing_more_of_hers(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    response = register(http, partners.registrar_b, body(sita.name, birth_year=None, phone=sita.phone))

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["worker_id"] != sita.worker_id and created["link_request"] is not None
    assert created["father_or_spouse_name"] == "" and created["vulnerabilities"] == []
    for secret in (sita.worker_id, sita.father, sita.aadhaar, "bonded_labour_risk", "Kamla (ASHA)"):
        assert secret not in response.text
    assert_sita_unreached(http, channels, sita, partners.caseworker_b)
    assert_sita_untouched(http, partners, sita)


def test_facts_on_public_voter_lists_get_nothing_not_even_a_link_request(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    # Name, father's name, birth year and district: no phone, no document.
    facts = body(sita.name, father_or_spouse_name=sita.father, home={"state_code": "10", "district_code": "188"})
    response = register(http, partners.registrar_b, facts)

    assert_kept_apart(response, sita, link_request=False, sent=(sita.father,))
    assert_sita_unreached(http, channels, sita, partners.caseworker_b)
    assert_sita_untouched(http, partners, sita)


def test_the_matching_partner_can_neither_change_revoke_nor_erase_her_over_rest_and_grpc(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    register(
        http,
        partners.registrar_b,
        body(unique_name("Lata"), identity_documents=[{"kind": "aadhaar", "number": sita.aadhaar}]),
    )
    path = f"/v1/workers/{sita.worker_id}"
    registry = reg_grpc.RegistryServiceStub(channels["registry"])

    rest = [
        http["registry"].patch(path, json={"phone": mobile()}, headers=partners.caseworker_b.headers()),
        http["registry"].patch(
            path, json={"home": {"state_code": "10", "district_code": "212"}}, headers=partners.supervisor_b.headers()
        ),
        http["registry"].post(f"{path}/consents/{sita.consent_id}:revoke", headers=partners.registrar_b.headers()),
        http["registry"].post(f"{path}:erase", json={"reason": "asked"}, headers=partners.supervisor_b.headers()),
        http["registry"].post(
            f"{path}/erasure-requests", json={"reason": "asked"}, headers=partners.supervisor_b.headers()
        ),
        http["registry"].post(
            f"{path}/consents",
            json={"purposes": ["registration"], "method": "signature"},
            headers=partners.registrar_b.headers(),
        ),
    ]
    grpc_codes = [
        rpc_code(
            lambda: registry.UpdateWorker(
                reg_pb.UpdateWorkerRequest(
                    worker_id=sita.worker_id,
                    worker=worker_pb2.Worker(phone=mobile()),
                    update_mask=FieldMask(paths=["phone"]),
                ),
                metadata=partners.caseworker_b.metadata(),
            )
        ),
        rpc_code(
            lambda: registry.RevokeConsent(
                reg_pb.RevokeConsentRequest(worker_id=sita.worker_id, consent_id=sita.consent_id),
                metadata=partners.registrar_b.metadata(),
            )
        ),
        rpc_code(
            lambda: registry.EraseWorker(
                reg_pb.EraseWorkerRequest(worker_id=sita.worker_id, reason="asked"),
                metadata=partners.supervisor_b.metadata(),
            )
        ),
        rpc_code(
            lambda: registry.GrantConsent(
                reg_pb.GrantConsentRequest(worker_id=sita.worker_id, consent=consent_pb(), idempotency_key=new_key()),
                metadata=partners.registrar_b.metadata(),
            )
        ),
    ]

    assert [r.status_code for r in rest] == [404] * len(rest), [r.text for r in rest]
    assert {r.json()["detail"] for r in rest} == {"no such worker"}
    assert grpc_codes == [(grpc.StatusCode.NOT_FOUND, "no such worker")] * len(grpc_codes)
    assert_sita_untouched(http, partners, sita)


# -- the link flow -------------------------------------------------------------------------------


def test_a_link_is_confirmed_by_the_code_sent_to_her_phone_and_then_shows_only_b_purposes(
    running_services: Stack,
    http: dict[str, httpx.Client],
    channels: dict[str, grpc.Channel],
    partners: Partners,
    sita: Sita,
) -> None:
    registrar_b = partners.registrar_b
    created = assert_kept_apart(
        register(
            http,
            registrar_b,
            body(unique_name("Meera"), identity_documents=[{"kind": "aadhaar", "number": sita.aadhaar}]),
        ),
        sita,
        link_request=True,
    )
    link = created["link_request"]
    assert link["can_send_code"] is True
    review_url = f"/v1/match-reviews/{link['review_id']}"

    # Nothing to read until the person proves it: the code goes to the phone on record, never to B.
    assert_sita_unreached(http, channels, sita, partners.caseworker_b)
    sent = http["registry"].post(f"{review_url}:send-code", headers=registrar_b.headers())
    assert sent.status_code == 202, sent.text
    assert sent.json()["code_sent"] is True and sent.json()["candidate_id"] == ""
    code = last_code(running_services.mongo_uri, link["review_id"])
    assert code not in sent.text and sita.phone not in sent.text
    assert all(sita.phone not in text for text in texts_sent(running_services.mongo_uri, link["review_id"]))
    wrong = http["registry"].post(
        f"{review_url}:confirm-code",
        json={"code": "000000" if code != "000000" else "111111"},
        headers=registrar_b.headers(),
    )
    assert wrong.status_code == 422 and fields_of(wrong) == ["code"]
    by_a = http["registry"].post(
        f"{review_url}:confirm-code", json={"code": code}, headers=partners.registrar_a.headers()
    )
    assert by_a.status_code == 404  # only the requesting partner confirms with the code
    assert_sita_unreached(http, channels, sita, partners.caseworker_b)

    confirmed = http["registry"].post(f"{review_url}:confirm-code", json={"code": code}, headers=registrar_b.headers())

    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["evidence"]) == ("merged", "one_time_code")
    seen = http["registry"].get(f"/v1/workers/{sita.worker_id}", headers=partners.caseworker_b.headers())
    assert seen.status_code == 200, seen.text
    record = seen.json()
    # B's consent was for registration and entitlement linkage: identity, contact, documents and work;
    # never the vulnerabilities A recorded, nor A's witness.
    assert record["full_name"] == sita.name and record["phone"] == f"+91{sita.phone}"
    assert record["vulnerabilities"] == [] and "vulnerabilities" not in record["visible_fields"]
    assert "Kamla (ASHA)" not in seen.text
    over_grpc = (
        reg_grpc.RegistryServiceStub(channels["registry"])
        .GetWorker(reg_pb.GetWorkerRequest(worker_id=sita.worker_id), metadata=partners.caseworker_b.metadata())
        .worker
    )
    assert over_grpc.full_name == sita.name and list(over_grpc.vulnerabilities) == []
    not_consented = http["registry"].get(
        f"/v1/workers/{sita.worker_id}", headers=partners.caseworker_b.headers(**{"X-Purpose": "grievance_follow_up"})
    )
    assert not_consented.status_code == 404
    # Still not B's to revoke A's consent or erase at once; A keeps seeing everything it recorded.
    revoke = http["registry"].post(
        f"/v1/workers/{sita.worker_id}/consents/{sita.consent_id}:revoke", headers=registrar_b.headers()
    )
    erase = http["registry"].post(
        f"/v1/workers/{sita.worker_id}:erase", json={"reason": "asked"}, headers=partners.supervisor_b.headers()
    )
    assert (revoke.status_code, erase.status_code) == (404, 403)
    own = http["registry"].get(f"/v1/workers/{sita.worker_id}", headers=partners.caseworker_a.headers()).json()
    assert own["vulnerabilities"] == ["bonded_labour_risk"]
    records = read_topic(
        running_services.kafka_bootstrap,
        WORKERS_TOPIC,
        until=lambda rs: any(
            r.headers["ce_type"] == b"mrc.registry.v1.WorkersMerged"
            for r in records_with_subject(rs, created["worker_id"])
        ),
        timeout=60,
    )
    [merged] = [
        r
        for r in records_with_subject(records, created["worker_id"])
        if r.headers["ce_type"] == b"mrc.registry.v1.WorkersMerged"
    ]
    message = events_pb2.WorkersMerged.FromString(merged.value)
    assert (message.surviving_worker_id, message.merged_worker_id) == (sita.worker_id, created["worker_id"])


def test_a_supervisor_of_the_partner_holding_her_record_may_confirm_the_link_instead(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    created = assert_kept_apart(
        register(
            http,
            partners.registrar_b,
            body(unique_name("Asha"), identity_documents=[{"kind": "e_shram_uan", "number": sita.uan}]),
        ),
        sita,
        link_request=True,
    )
    review_id = created["link_request"]["review_id"]

    queue = http["registry"].get("/v1/match-reviews", headers=partners.supervisor_a.headers())
    assert queue.status_code == 200, queue.text
    [listed] = [r for r in queue.json() if r["review_id"] == review_id]
    assert (listed["side"], listed["candidate_id"], listed["worker_id"]) == ("candidate", sita.worker_id, "")
    by_b = http["registry"].post(
        f"/v1/match-reviews/{review_id}:resolve", json={"decision": "link"}, headers=partners.supervisor_b.headers()
    )
    by_caseworker = http["registry"].post(
        f"/v1/match-reviews/{review_id}:resolve", json={"decision": "link"}, headers=partners.caseworker_a.headers()
    )
    assert (by_b.status_code, by_caseworker.status_code) == (422, 403)
    assert_sita_unreached(http, channels, sita, partners.caseworker_b)

    linked = http["registry"].post(
        f"/v1/match-reviews/{review_id}:resolve", json={"decision": "link"}, headers=partners.supervisor_a.headers()
    )

    assert linked.status_code == 200, linked.text
    assert (linked.json()["status"], linked.json()["evidence"]) == ("merged", "supervisor_approval")
    seen = http["registry"].get(f"/v1/workers/{sita.worker_id}", headers=partners.caseworker_b.headers())
    assert seen.status_code == 200 and seen.json()["vulnerabilities"] == []


def test_another_partner_erases_her_only_on_a_request_confirmed_by_the_code_sent_to_her_phone(
    running_services: Stack,
    http: dict[str, httpx.Client],
    channels: dict[str, grpc.Channel],
    partners: Partners,
    sita: Sita,
) -> None:
    shared = http["registry"].post(
        f"/v1/workers/{sita.worker_id}/consents",
        json={
            "purposes": ["registration", "partner_sharing"],
            "method": "signature",
            "shared_with_partner_ids": [partners.registrar_b.partner_id],
        },
        headers=partners.registrar_a.headers(**{"Idempotency-Key": new_key()}),
    )
    assert shared.status_code == 201, shared.text
    path = f"/v1/workers/{sita.worker_id}"
    supervisor_b = partners.supervisor_b

    at_once = http["registry"].post(f"{path}:erase", json={"reason": "asked"}, headers=supervisor_b.headers())
    requested = http["registry"].post(
        f"{path}/erasure-requests", json={"reason": "asked at the Purnia office"}, headers=supervisor_b.headers()
    )
    assert at_once.status_code == 403
    assert requested.status_code == 202, requested.text
    request_id = requested.json()["request_id"]
    code = last_code(running_services.mongo_uri, request_id)
    by_a = http["registry"].post(
        f"/v1/erasure-requests/{request_id}:confirm", json={"code": code}, headers=partners.supervisor_a.headers()
    )
    assert by_a.status_code == 404
    assert http["registry"].get(path, headers=partners.caseworker_a.headers()).status_code == 200

    done = http["registry"].post(
        f"/v1/erasure-requests/{request_id}:confirm", json={"code": code}, headers=supervisor_b.headers()
    )

    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    for actor in (partners.caseworker_a, partners.caseworker_b):
        assert http["registry"].get(path, headers=actor.headers()).status_code == 404
    records = read_topic(
        running_services.kafka_bootstrap,
        WORKERS_TOPIC,
        until=lambda rs: any(
            r.headers["ce_type"] == b"mrc.registry.v1.WorkerErased" for r in records_with_subject(rs, sita.worker_id)
        ),
        timeout=60,
    )
    assert b"mrc.registry.v1.WorkerErased" in {
        r.headers["ce_type"] for r in records_with_subject(records, sita.worker_id)
    }


# -- writes ignore geography ---------------------------------------------------------------------


def test_writes_outside_the_callers_geography_are_refused_naming_the_field(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners
) -> None:
    registry = reg_grpc.RegistryServiceStub(channels["registry"])
    patna = {"state_code": "10", "district_code": "212"}

    up_in_bihar = register(http, partners.registrar_up, body(unique_name("Kiran"), home=patna))
    araria_in_patna = register(http, partners.araria_registrar, body(unique_name("Kiran"), home=patna))
    own = register(http, partners.araria_registrar, body(unique_name("Kiran")))
    assert own.status_code == 201, own.text
    moved = http["registry"].patch(
        f"/v1/workers/{own.json()['worker_id']}",
        json={"home": {"state_code": "27", "district_code": "490"}},
        headers=partners.araria_caseworker.headers(),
    )
    over_grpc = [
        rpc_code(
            lambda actor=actor, home=home: registry.RegisterWorker(
                reg_pb.RegisterWorkerRequest(
                    idempotency_key=new_key(),
                    full_name=unique_name("Kiran"),
                    gender=worker_pb2.GENDER_FEMALE,
                    home=common_pb2.LgdLocation(**home),
                    consent=consent_pb(),
                ),
                metadata=actor.metadata(),
            )
        )
        for actor, home in ((partners.registrar_up, patna), (partners.araria_registrar, patna))
    ]
    moved_grpc = rpc_code(
        lambda: registry.UpdateWorker(
            reg_pb.UpdateWorkerRequest(
                worker_id=own.json()["worker_id"],
                worker=worker_pb2.Worker(home=common_pb2.LgdLocation(state_code="10", district_code="212")),
                update_mask=FieldMask(paths=["home"]),
            ),
            metadata=partners.araria_caseworker.metadata(),
        )
    )
    household = http["registry"].post(
        "/v1/households",
        json={"members": [{"name": unique_name("Kamla"), "relationship": "head"}], "home": patna},
        headers=partners.araria_registrar.headers(),
    )

    assert (up_in_bihar.status_code, fields_of(up_in_bihar)) == (422, ["home.state_code"])
    assert (araria_in_patna.status_code, fields_of(araria_in_patna)) == (422, ["home.district_code"])
    assert (moved.status_code, fields_of(moved)) == (422, ["home.state_code"])
    assert over_grpc[0][0] == over_grpc[1][0] == moved_grpc[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert "home.state_code" in over_grpc[0][1] and "home.district_code" in over_grpc[1][1]
    assert "home.district_code" in moved_grpc[1]
    assert (household.status_code, fields_of(household)) == (422, ["home.district_code"])
    unchanged = http["registry"].get(
        f"/v1/workers/{own.json()['worker_id']}", headers=partners.araria_caseworker.headers()
    )
    assert unchanged.json()["home"]["district_code"] == "188"


def test_imported_rows_outside_the_callers_geography_are_reported(
    http: dict[str, httpx.Client], partners: Partners
) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=[
            "row_key",
            "full_name",
            "gender",
            "home_state_code",
            "home_district_code",
            "consent_purposes",
            "consent_method",
        ],
    )
    writer.writeheader()
    for key, district in (("in-araria", "188"), ("in-patna", "212")):
        writer.writerow(
            {
                "row_key": f"{key}-{uuid.uuid4().hex[:6]}",
                "full_name": unique_name("Parvati"),
                "gender": "female",
                "home_state_code": "10",
                "home_district_code": district,
                "consent_purposes": "registration",
                "consent_method": "thumbprint",
            }
        )
    registrar = partners.araria_registrar
    accepted = http["registry"].post(
        "/v1/imports", files={"file": ("survey.csv", out.getvalue().encode(), "text/csv")}, headers=registrar.headers()
    )
    assert accepted.status_code == 202, accepted.text

    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = http["registry"].get(accepted.headers["Location"], headers=registrar.headers()).json()
        return job if job["status"] != "running" else None

    job = eventually(finished, timeout=120, interval=0.5)
    assert job["counts"] == {"total": 2, "registered": 1, "linked": 0, "failed": 1}
    report = http["registry"].get(job["report_url"], headers=registrar.headers())
    assert "home_district_code" in report.text and "outside" in report.text


# -- sub-resources: households and migrations ----------------------------------------------------


EPISODE = {
    "origin": {"state_code": "10", "district_code": "188"},
    "destination": {"state_code": "27", "district_code": "490"},
    "sector": "construction",
    "recruitment_channel": "agent",
    "start_date": "2025-11-01",
    "status": "ongoing",
}


def episode_pb(worker_id: str) -> migration_pb2.MigrationEpisode:
    return migration_pb2.MigrationEpisode(
        worker_id=worker_id,
        origin=common_pb2.LgdLocation(state_code="10", district_code="188"),
        destination=common_pb2.LgdLocation(state_code="27", district_code="490"),
        sector="construction",
        recruitment_channel=migration_pb2.RECRUITMENT_CHANNEL_AGENT,
        start_date="2025-11-01",
        status=migration_pb2.MIGRATION_STATUS_ONGOING,
    )


def test_another_partner_neither_records_nor_reads_her_migrations_and_cannot_tell_her_from_nobody(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    recorded = http["registry"].post(
        f"/v1/workers/{sita.worker_id}/migrations",
        json=EPISODE,
        headers=partners.registrar_a.headers(**{"Idempotency-Key": new_key()}),
    )
    assert recorded.status_code == 201, recorded.text
    households = households_service_pb2_grpc.HouseholdsServiceStub(channels["registry"])
    b = partners.registrar_b

    outcomes = {}
    for label, worker_id in (("real", sita.worker_id), ("missing", MISSING)):
        url = f"/v1/workers/{worker_id}/migrations"
        outcomes[label] = (
            problem(http["registry"].post(url, json=EPISODE, headers=b.headers())),
            problem(http["registry"].get(url, headers=b.headers())),
            rpc_code(
                lambda w=worker_id: households.RecordMigration(
                    households_pb.RecordMigrationRequest(episode=episode_pb(w)), metadata=b.metadata()
                )
            ),
            rpc_code(
                lambda w=worker_id: households.ListMigrations(
                    households_pb.ListMigrationsRequest(worker_id=w), metadata=b.metadata()
                )
            ),
        )

    assert outcomes["real"] == outcomes["missing"]
    rest_record, rest_list, grpc_record, grpc_list = outcomes["real"]
    assert rest_record["status"] == rest_list["status"] == 404
    assert grpc_record == grpc_list == (grpc.StatusCode.NOT_FOUND, "no such worker")
    mine = http["registry"].get(f"/v1/workers/{sita.worker_id}/migrations", headers=partners.caseworker_a.headers())
    assert [e["episode_id"] for e in mine.json()["episodes"]] == [recorded.json()["episode_id"]]


def test_another_partner_cannot_put_her_into_a_household_and_cannot_tell_her_from_nobody(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    households = households_service_pb2_grpc.HouseholdsServiceStub(channels["registry"])
    b = partners.registrar_b
    answers = {}
    for label, worker_id in (("real", sita.worker_id), ("missing", MISSING)):
        rest = http["registry"].post(
            "/v1/households",
            json={"members": [{"worker_id": worker_id, "relationship": "head"}]},
            headers=b.headers(**{"Idempotency-Key": new_key()}),
        )
        over_grpc = rpc_code(
            lambda w=worker_id: households.CreateHousehold(
                households_pb.CreateHouseholdRequest(
                    idempotency_key=new_key(),
                    members=[household_pb2.HouseholdMember(worker_id=w, relationship=household_pb2.RELATIONSHIP_HEAD)],
                ),
                metadata=b.metadata(),
            )
        )
        answers[label] = (rest.status_code, problem(rest)["errors"], over_grpc)

    assert answers["real"] == answers["missing"]
    status, errors, (code, details) = answers["real"]
    assert (status, [e["field"] for e in errors]) == (422, ["members.0.worker_id"])
    assert code == grpc.StatusCode.INVALID_ARGUMENT and sita.worker_id not in details


def test_a_district_client_reads_no_household_or_migration_of_another_district(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners
) -> None:
    in_patna = register(
        http, partners.registrar_a, body(unique_name("Geeta"), home={"state_code": "10", "district_code": "212"})
    )
    assert in_patna.status_code == 201, in_patna.text
    worker_id = in_patna.json()["worker_id"]
    household = http["registry"].post(
        "/v1/households",
        json={"members": [{"worker_id": worker_id, "relationship": "head"}]},
        headers=partners.registrar_a.headers(**{"Idempotency-Key": new_key()}),
    )
    assert household.status_code == 201, household.text
    household_id = household.json()["household_id"]
    migration = http["registry"].post(
        f"/v1/workers/{worker_id}/migrations",
        json={**EPISODE, "origin": {"state_code": "10", "district_code": "212"}},
        headers=partners.registrar_a.headers(**{"Idempotency-Key": new_key()}),
    )
    assert migration.status_code == 201, migration.text
    araria = partners.araria_caseworker
    stub = households_service_pb2_grpc.HouseholdsServiceStub(channels["registry"])

    assert http["registry"].get(f"/v1/households/{household_id}", headers=araria.headers()).status_code == 404
    assert http["registry"].get(f"/v1/workers/{worker_id}/migrations", headers=araria.headers()).status_code == 404
    assert http["registry"].get(f"/v1/workers/{worker_id}", headers=araria.headers()).status_code == 404
    assert (
        rpc_code(
            lambda: stub.GetHousehold(
                households_pb.GetHouseholdRequest(household_id=household_id), metadata=araria.metadata()
            )
        )[0]
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        rpc_code(
            lambda: stub.ListMigrations(
                households_pb.ListMigrationsRequest(worker_id=worker_id), metadata=araria.metadata()
            )
        )[0]
        == grpc.StatusCode.NOT_FOUND
    )
    # The same partner's client for the whole state reads both.
    assert (
        http["registry"].get(f"/v1/households/{household_id}", headers=partners.caseworker_a.headers()).status_code
        == 200
    )


# -- the existence oracle, search, statistics, ids -----------------------------------------------


def test_a_real_worker_out_of_reach_answers_exactly_like_a_random_id(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    registry = reg_grpc.RegistryServiceStub(channels["registry"])
    b = partners.caseworker_b

    def answers(worker_id: str) -> list[Any]:
        path = f"/v1/workers/{worker_id}"
        return [
            problem(http["registry"].get(path, headers=b.headers())),
            problem(http["registry"].get(path, headers=b.headers(**{"X-Purpose": "sharing"}))),
            problem(http["registry"].get(f"{path}/migrations", headers=b.headers())),
            problem(http["registry"].patch(path, json={"occupation": "x"}, headers=b.headers())),
            rpc_code(lambda: registry.GetWorker(reg_pb.GetWorkerRequest(worker_id=worker_id), metadata=b.metadata())),
        ]

    real, missing = answers(sita.worker_id), answers(MISSING)

    assert real == missing
    assert all(sita.worker_id not in str(answer) for answer in real)


def test_her_identifiers_find_nothing_for_another_partner_and_a_sector_alone_is_refused(
    http: dict[str, httpx.Client], channels: dict[str, grpc.Channel], partners: Partners, sita: Sita
) -> None:
    b = partners.caseworker_b
    searches = [
        {"phone": sita.phone},
        {"identity_document": {"kind": "aadhaar", "number": sita.aadhaar}},
        {"identity_document": {"kind": "e_shram_uan", "number": sita.uan}},
        {"name": sita.name, "district_code": "188"},
        {"registering_partner_id": partners.registrar_a.partner_id},
    ]
    for search in searches:
        for purpose in ("case_management", "sharing", "registration"):
            found = http["registry"].post(
                "/v1/workers:search", json=search, headers=b.headers(**{"X-Purpose": purpose})
            )
            assert found.status_code == 200, found.text
            assert sita.worker_id not in found.text, (search, purpose)
    sector = http["registry"].post("/v1/workers:search", json={"sector": "agriculture"}, headers=b.headers())
    assert (sector.status_code, fields_of(sector)) == (422, ["sector"])
    code, details = rpc_code(
        lambda: reg_grpc.RegistryServiceStub(channels["registry"]).SearchWorkers(
            reg_pb.SearchWorkersRequest(sector="agriculture"), metadata=b.metadata()
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "sector" in details
    listing = http["registry"].post(
        "/v1/workers:search", json={"district_code": "188", "page_size": 5}, headers=b.headers()
    )
    assert listing.status_code == 200 and len(listing.json()["workers"]) <= 5


def test_a_partner_of_one_state_gets_no_statistics_of_another(
    http: dict[str, httpx.Client], partners: Partners
) -> None:
    params = {"group_by": "home_district", "state_code": "10"}
    refused = http["registry"].get("/v1/statistics/workers", params=params, headers=partners.caseworker_up.headers())
    own = http["registry"].get(
        "/v1/statistics/workers", params={"group_by": "home_state"}, headers=partners.caseworker_up.headers()
    )

    assert refused.status_code == 422 and fields_of(refused) == ["state_code"]
    assert own.status_code == 200, own.text
    assert {cell["key"] for cell in own.json()["cells"]} <= {"9"}


def test_ids_are_not_computed_from_the_partner_and_its_idempotency_key(
    http: dict[str, httpx.Client], partners: Partners
) -> None:
    key = new_key()
    headers = partners.registrar_a.headers(**{"Idempotency-Key": key})
    first = http["registry"].post("/v1/workers", json=body(unique_name("Usha")), headers=headers)
    again = http["registry"].post("/v1/workers", json=body(first.json()["full_name"]), headers=headers)

    worker_id = first.json()["worker_id"]
    assert again.json()["worker_id"] == worker_id  # a retry finds the same worker
    old_scheme = uuid.uuid5(
        uuid.UUID("6b1f0c52-5d0e-4f3c-9a61-2f7e0d1c9b40"), f"worker:{partners.registrar_a.partner_id}:{key}"
    )
    assert worker_id != str(old_scheme)
    assert uuid.UUID(worker_id).version == 8


# -- what the topics carry -----------------------------------------------------------------------


def test_registry_events_carry_no_names_villages_phones_or_numbers(
    running_services: Stack, http: dict[str, httpx.Client], partners: Partners, sita: Sita
) -> None:
    household = http["registry"].post(
        "/v1/households",
        json={
            "members": [
                {"worker_id": sita.worker_id, "relationship": "head"},
                {"name": unique_name("Chhotu"), "relationship": "child", "birth_year": 2015},
            ],
            "ration_card_number": "BR1234567890",
        },
        headers=partners.registrar_a.headers(**{"Idempotency-Key": new_key()}),
    )
    assert household.status_code == 201, household.text
    child = household.json()["members"][1]["name"]
    renamed = http["registry"].patch(
        f"/v1/workers/{sita.worker_id}",
        json={"full_name": f"{sita.name} Kumari"},
        headers=partners.caseworker_a.headers(),
    )
    assert renamed.status_code == 200, renamed.text

    workers = read_topic(
        running_services.kafka_bootstrap,
        WORKERS_TOPIC,
        until=lambda rs: (
            {"mrc.registry.v1.WorkerRegistered", "mrc.registry.v1.WorkerUpdated"}
            <= {r.headers["ce_type"].decode() for r in records_with_subject(rs, sita.worker_id)}
        ),
        timeout=60,
    )
    households = read_topic(
        running_services.kafka_bootstrap,
        HOUSEHOLDS_TOPIC,
        until=lambda rs: bool(records_with_subject(rs, household.json()["household_id"])),
        timeout=60,
    )
    mine = records_with_subject(workers, sita.worker_id) + records_with_subject(
        households, household.json()["household_id"]
    )
    assert {r.headers["ce_type"] for r in mine} >= {
        b"mrc.registry.v1.WorkerRegistered",
        b"mrc.registry.v1.WorkerUpdated",
        b"mrc.registry.v1.HouseholdChanged",
    }
    registered = next(r for r in mine if r.headers["ce_type"] == b"mrc.registry.v1.WorkerRegistered")
    facts = events_pb2.WorkerRegistered.FromString(registered.value).facts
    assert (facts.worker_id, facts.home.district_code, facts.home.village_name) == (sita.worker_id, "188", "")
    secrets = [
        sita.name.split()[1],
        sita.father.split()[1],
        child.split()[1],
        "Kusiyargaon",
        "Kamla",
        sita.phone,
        sita.aadhaar,
        sita.uan,
        "1234567890",
    ]
    for record in workers + households:  # every record on both topics, whoever wrote it
        raw = record.value + b"".join(record.headers.values())
        for secret in secrets:
            assert secret.encode() not in raw, (record.headers["ce_type"], secret)


def test_a_consent_reaching_its_expiry_is_announced_on_the_topic(
    running_services: Stack, http: dict[str, httpx.Client], partners: Partners, sita: Sita
) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=3)
    granted = http["registry"].post(
        f"/v1/workers/{sita.worker_id}/consents",
        json={
            "purposes": ["partner_sharing"],
            "method": "signature",
            "shared_with_partner_ids": [partners.registrar_b.partner_id],
            "expires_at": expires.isoformat(),
        },
        headers=partners.registrar_a.headers(**{"Idempotency-Key": new_key()}),
    )
    assert granted.status_code == 201, granted.text
    consent_id = granted.json()["consents"][-1]["consent_id"]
    sharing = partners.caseworker_b.headers(**{"X-Purpose": "sharing"})
    assert http["registry"].get(f"/v1/workers/{sita.worker_id}", headers=sharing).status_code == 200

    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.5)
    assert http["registry"].get(f"/v1/workers/{sita.worker_id}", headers=sharing).status_code == 404  # at once

    def expiry_announced(records: list[Any]) -> bool:
        for record in records_with_subject(records, sita.worker_id):
            if record.headers["ce_type"] == b"mrc.registry.v1.ConsentChanged":
                message = events_pb2.ConsentChanged.FromString(record.value)
                if message.expired and message.consent.consent_id == consent_id:
                    return True
        return False

    # The registry's sweep runs every 30 s by default.
    records = read_topic(running_services.kafka_bootstrap, WORKERS_TOPIC, until=expiry_announced, timeout=90)
    assert expiry_announced(records)
