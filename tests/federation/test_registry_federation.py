"""The registry's part of the cross-state federation, end to end: Bihar's and Kerala's clusters, each with its
own Kafka, FerretDB, access service and registry, and MirrorMaker 2 between them.

- A worker registered in Bihar with cross-state consent appears in Kerala, read-only, to Kerala's partners.
- Without that consent nothing about the worker reaches Kerala: not its topics, not its store.
- Revocation and erasure in Bihar remove the copy in Kerala.
- The same person registered in Kerala links to Bihar's record instead of becoming a second one.
- MirrorMaker 2 killed in the middle of a stream: every worker arrives, and each is applied once.
- The national cluster receives Bihar's registry counts, with small cells suppressed, and no record.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc_devstack.federation import Federation
from mrc_devstack.mirror_maker import AGGREGATES_TOPIC, remote_topic
from mrc_registry.adapters.federation_mapping import HOUSEHOLDS, WORKERS, mirrored_topics
from mrc_registry.domain.identity.aadhaar import verhoeff_check_digit
from mrc_registry.entrypoints.federation_consumer import CONSUMER_GROUP
from tests.federation.conftest import DESTINATION, NATIONAL, SOURCE, STATE_CODES
from tests.support.access import AccessClient, Actor
from tests.support.kafka import Record, group_lag, read_all, read_topic, records_with_subject
from tests.support.polling import eventually

pytestmark = pytest.mark.federation

SERVICES = ("access", "registry")
TO_KERALA = f"mrc.federation.workers.{STATE_CODES[DESTINATION]}.v1"
LOCAL_TOPIC = "mrc.registry.workers.v1"
# Patna (Bihar) and Ernakulam (Kerala), LGD.
PATNA = {"state_code": STATE_CODES[SOURCE], "district_code": "212", "village_name": "Phulwari"}
ERNAKULAM = {"state_code": STATE_CODES[DESTINATION], "district_code": "555", "village_name": "Kakkanad"}
ARRIVAL_TIMEOUT = 90.0
# What the registries may still have to apply of earlier modules' records when this module starts.
CATCH_UP_TIMEOUT = 200.0


def new_aadhaar() -> str:
    payload = str(random.randint(2, 9)) + "".join(str(random.randint(0, 9)) for _ in range(10))
    return payload + verhoeff_check_digit(payload)


def registration(home: dict[str, str], aadhaar: str, *, crossing: bool, name: str = "") -> dict[str, Any]:
    purposes = ["registration", "entitlement_linkage", *(["cross_state_sharing"] if crossing else [])]
    return {
        "full_name": name or f"Sunita Devi {uuid.uuid4().hex[:6]}",
        "gender": "female",
        "birth_year": 1994,
        "home": home,
        "occupation": "brick moulder",
        "sector": "brick_kiln",
        "father_or_spouse_name": "Ramesh Mandal",
        "phone": f"+91 9{random.randint(100000000, 999999999)}",
        "identity_documents": [{"kind": "aadhaar", "number": aadhaar}],
        "consent": {
            "purposes": purposes,
            "method": "thumbprint",
            **({"shared_with_state_codes": [STATE_CODES[DESTINATION]]} if crossing else {}),
        },
    }


@dataclass
class State:
    """One state's cluster as a test reaches it: its registry, a CSO with a registrar and a supervisor, its store."""

    name: str
    federation: Federation
    registry: httpx.Client
    registrar: Actor
    caseworker: Actor
    supervisor: Actor
    mongo: MongoClient[dict[str, Any]]
    created: list[str] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return self.federation.bootstrap(self.name)

    def register(self, body: dict[str, Any], actor: Actor | None = None) -> httpx.Response:
        headers = (actor or self.registrar).headers(**{"Idempotency-Key": str(uuid.uuid4())})
        return self.registry.post("/v1/workers", json=body, headers=headers)

    def registered(self, body: dict[str, Any]) -> str:
        response = self.register(body)
        assert response.status_code == 201, response.text
        return str(response.json()["worker_id"])

    def get(self, worker_id: str, actor: Actor | None = None) -> httpx.Response:
        return self.registry.get(f"/v1/workers/{worker_id}", headers=(actor or self.caseworker).headers())

    def stored(self, worker_id: str) -> dict[str, Any] | None:
        return self.mongo["mrc_registry"]["workers"].find_one({"_id": worker_id})

    def live_copy(self, worker_id: str) -> dict[str, Any] | None:
        doc = self.stored(worker_id)
        return doc if doc and doc.get("foreign") and doc.get("status") == "active" else None


def _state(federation: Federation, name: str) -> State:
    stack = federation.stacks[name]
    access = AccessClient(stack.http_url("access"))
    partner = access.partner("cso", states=[STATE_CODES[name]])
    return State(
        name,
        federation,
        httpx.Client(base_url=stack.http_url("registry"), timeout=30),
        access.actor("registrar", partner, states=[STATE_CODES[name]]),
        access.actor("caseworker", partner, states=[STATE_CODES[name]]),
        access.actor("supervisor", partner, states=[STATE_CODES[name]]),
        MongoClient(stack.mongo_uri, serverSelectionTimeoutMS=10_000),
    )


def read_by_registry(state: str) -> list[str]:
    """What the registry of `state` reads: the other state's workers and households topics addressed to it, as
    MirrorMaker 2 names them in `state`'s cluster (not the entitlements and grievances topics)."""
    peer = DESTINATION if state == SOURCE else SOURCE
    return mirrored_topics([peer], STATE_CODES[state], (WORKERS, HOUSEHOLDS))


def caught_up(federation: Federation) -> None:
    """Wait until each registry has applied what was addressed to its state before this module's tests (other
    modules publish thousands of records on the same topics): the tests' arrival timeouts are for their own."""
    began = time.monotonic()

    def applied_everything(state: str) -> bool:
        return group_lag(federation.bootstrap(state), CONSUMER_GROUP, read_by_registry(state)) == 0

    for state in (SOURCE, DESTINATION):
        eventually(lambda: applied_everything(state), timeout=CATCH_UP_TIMEOUT, interval=1.0)  # noqa: B023
    print(f"\nregistries applied the federation topics' backlog in {time.monotonic() - began:.1f} s")


@pytest.fixture(scope="module")
def states(federation_services: Callable[[list[str]], Federation]) -> Iterator[tuple[State, State]]:
    federation = federation_services(list(SERVICES))
    caught_up(federation)
    bihar, kerala = _state(federation, SOURCE), _state(federation, DESTINATION)
    yield bihar, kerala
    for state in (bihar, kerala):
        state.registry.close()
        state.mongo.close()


def mirrored(kerala: State) -> list[Record]:
    return read_all(kerala.bootstrap, remote_topic(SOURCE, TO_KERALA))


def local_events_of(state: State, worker_id: str) -> list[bytes]:
    """The types of the events the state's registry published about a worker on its own topic, in order."""
    return [r.headers["ce_type"] for r in records_with_subject(read_all(state.bootstrap, LOCAL_TOPIC), worker_id)]


def arrived(kerala: State, worker_id: str) -> dict[str, Any]:
    return eventually(lambda: kerala.live_copy(worker_id), timeout=ARRIVAL_TIMEOUT, interval=0.5)


# ---------------------------------------------------------------- shared, read-only


def test_a_worker_shared_by_bihar_is_visible_read_only_to_kerala_s_partners(states: tuple[State, State]) -> None:
    bihar, kerala = states
    worker_id = bihar.registered(registration(PATNA, new_aadhaar(), crossing=True, name="Sunita Devi"))
    began = time.monotonic()
    copy = arrived(kerala, worker_id)
    print(f"\nshared worker visible in Kerala's store {time.monotonic() - began:.1f} s after Bihar answered")
    assert copy["foreign"]["home_state_code"] == STATE_CODES[SOURCE]

    shown = kerala.get(worker_id)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["federated_from_state_code"] == STATE_CODES[SOURCE]
    assert body["full_name"] == "Sunita Devi"
    assert body["phone"].startswith("XXXXXX"), "only the masked number crossed"
    assert body["identity_documents"][0]["masked_number"].startswith("XXXX XXXX ")

    changed = kerala.registry.patch(
        f"/v1/workers/{worker_id}", json={"occupation": "mason"}, headers=kerala.caseworker.headers()
    )
    assert changed.status_code == 409, changed.text
    assert "held by state 10 (Bihar)" in changed.json()["detail"]
    erased = kerala.registry.post(
        f"/v1/workers/{worker_id}:erase", json={"reason": "asked"}, headers=kerala.supervisor.headers()
    )
    assert erased.status_code == 409, erased.text

    # Kerala's own services learn of the copy on Kerala's registry topic, marked with its home state.
    local = eventually(lambda: local_events_of(kerala, worker_id), timeout=ARRIVAL_TIMEOUT, interval=0.5)
    assert local[0] == b"mrc.registry.v1.WorkerRegistered"


# ---------------------------------------------------------------- nothing without consent


def test_a_worker_without_cross_state_consent_never_reaches_kerala(states: tuple[State, State]) -> None:
    bihar, kerala = states
    private = bihar.registered(registration(PATNA, new_aadhaar(), crossing=False))
    # A shared worker registered after it: once that one is in Kerala, the private one would be too.
    marker = bihar.registered(registration(PATNA, new_aadhaar(), crossing=True))
    arrived(kerala, marker)

    assert not records_with_subject(read_all(bihar.bootstrap, TO_KERALA), private), "never published"
    assert not records_with_subject(mirrored(kerala), private)
    assert not records_with_subject(read_all(kerala.bootstrap, LOCAL_TOPIC), private)
    assert kerala.stored(private) is None
    assert kerala.get(private).status_code == 404


# ---------------------------------------------------------------- revocation and erasure


def test_revoking_the_consent_in_bihar_removes_the_copy_in_kerala(states: tuple[State, State]) -> None:
    bihar, kerala = states
    worker_id = bihar.registered(registration(PATNA, new_aadhaar(), crossing=True))
    arrived(kerala, worker_id)
    consent_id = bihar.get(worker_id, bihar.registrar).json()["consents"][0]["consent_id"]
    revoked = bihar.registry.post(
        f"/v1/workers/{worker_id}/consents/{consent_id}:revoke", headers=bihar.registrar.headers()
    )
    assert revoked.status_code in (200, 204), revoked.text
    eventually(lambda: kerala.live_copy(worker_id) is None, timeout=ARRIVAL_TIMEOUT, interval=0.5)
    gone = kerala.stored(worker_id)
    assert gone is not None and gone["full_name"] == "" and not gone["consents"] and not gone.get("match_keys")
    assert kerala.get(worker_id).status_code == 404
    # Kerala's registry publishes the erasure of the copy on its own topic (its relay, after the write).
    eventually(
        lambda: (local := local_events_of(kerala, worker_id)) and local[-1] == b"mrc.registry.v1.WorkerErased",
        timeout=ARRIVAL_TIMEOUT,
        interval=0.5,
    )


def test_erasure_in_bihar_removes_the_copy_in_kerala(states: tuple[State, State]) -> None:
    bihar, kerala = states
    worker_id = bihar.registered(registration(PATNA, new_aadhaar(), crossing=True))
    arrived(kerala, worker_id)
    erased = bihar.registry.post(
        f"/v1/workers/{worker_id}:erase", json={"reason": "the worker asked"}, headers=bihar.supervisor.headers()
    )
    assert erased.status_code == 204, erased.text
    eventually(lambda: kerala.live_copy(worker_id) is None, timeout=ARRIVAL_TIMEOUT, interval=0.5)
    assert kerala.get(worker_id).status_code == 404


# ---------------------------------------------------------------- deduplication across states


def test_the_same_person_registered_in_kerala_links_to_bihar_s_record(states: tuple[State, State]) -> None:
    bihar, kerala = states
    aadhaar = new_aadhaar()
    worker_id = bihar.registered(registration(PATNA, aadhaar, crossing=True, name="Meena Kumari"))
    arrived(kerala, worker_id)

    # Met again at a brick kiln near Kochi: Kerala's partner registers her with the same Aadhaar.
    response = kerala.register(registration(ERNAKULAM, aadhaar, crossing=False, name="Meena Kumari"))
    assert response.status_code == 200, response.text
    linked = response.json()
    assert linked["linked_to_existing"] is True and linked["worker_id"] == worker_id
    workers = kerala.mongo["mrc_registry"]["workers"]
    assert workers.count_documents({"document_indexes": {"$in": kerala.stored(worker_id)["document_indexes"]}}) == 1
    copy = kerala.live_copy(worker_id)
    assert copy is not None and [c["captured_by_partner_id"] for c in copy["consents"]] == [kerala.registrar.partner_id]

    # Bihar's next change replaces the copy's details and keeps the consent Kerala's partner captured.
    updated = bihar.registry.patch(
        f"/v1/workers/{worker_id}", json={"occupation": "plasterer"}, headers=bihar.registrar.headers()
    )
    assert updated.status_code == 200, updated.text
    copy = eventually(
        lambda: (doc := kerala.live_copy(worker_id)) and doc["occupation"] == "plasterer" and doc,
        timeout=ARRIVAL_TIMEOUT,
        interval=0.5,
    )
    assert [c["captured_by_partner_id"] for c in copy["consents"]] == [kerala.registrar.partner_id]


# ---------------------------------------------------------------- MirrorMaker 2 killed mid-stream


@pytest.fixture
def mirror_maker_back(states: tuple[State, State]) -> Iterator[Federation]:
    federation = states[0].federation
    yield federation
    federation.start_mirror_maker()  # whatever the test did, later tests find MirrorMaker 2 running


def test_mirror_maker_killed_mid_stream_loses_nothing_and_applies_nothing_twice(
    states: tuple[State, State], mirror_maker_back: Federation
) -> None:
    bihar, kerala = states
    federation = mirror_maker_back
    total = 40
    ids: list[str] = []
    failures: list[BaseException] = []

    def register_all() -> None:
        try:
            for _ in range(total):
                ids.append(bihar.registered(registration(PATNA, new_aadhaar(), crossing=True)))
                time.sleep(0.1)
        except BaseException as e:  # reported by the test
            failures.append(e)

    writer = threading.Thread(target=register_all, daemon=True)
    writer.start()
    eventually(lambda: len(ids) >= 5 and kerala.live_copy(ids[0]), timeout=ARRIVAL_TIMEOUT, interval=0.2)
    federation.stop_mirror_maker(kill=True)
    crossed_at_kill = sum(1 for worker_id in list(ids) if kerala.stored(worker_id))
    writer.join(timeout=120)
    assert not failures, failures
    assert len(ids) == total and crossed_at_kill < total, "the kill came after the whole stream had crossed"
    restarted = time.monotonic()
    federation.start_mirror_maker()

    workers = kerala.mongo["mrc_registry"]["workers"]
    eventually(
        lambda: workers.count_documents({"_id": {"$in": ids}, "status": "active", "foreign": {"$ne": None}}) == total,
        timeout=ARRIVAL_TIMEOUT * 2,
        interval=1.0,
    )
    print(
        f"\n{total} shared workers; {crossed_at_kill} in Kerala at the kill; all {total} there "
        f"{time.monotonic() - restarted:.1f} s after MirrorMaker 2 restarted"
    )
    # Each applied once: one event id recorded on each copy, one WorkerRegistered each on Kerala's topic.
    for doc in workers.find({"_id": {"$in": ids}}, {"applied_event_ids": 1}):
        assert len(doc["applied_event_ids"]) == 1, doc["_id"]
    wanted = {worker_id.encode() for worker_id in ids}

    def all_published(records: list[Record]) -> bool:
        return wanted <= {r.headers.get("ce_subject") for r in records}

    read_topic(kerala.bootstrap, LOCAL_TOPIC, until=all_published, timeout=ARRIVAL_TIMEOUT)
    time.sleep(2)  # and anything a second application would have published after
    local = read_all(kerala.bootstrap, LOCAL_TOPIC)
    assert all_published(local), "Kerala's registry published a WorkerRegistered for each copy"
    for worker_id in ids:
        types = [r.headers["ce_type"] for r in records_with_subject(local, worker_id)]
        assert types == [b"mrc.registry.v1.WorkerRegistered"], (worker_id, types)


# ---------------------------------------------------------------- the national cluster


def test_the_national_cluster_receives_bihar_s_counts_and_nothing_that_names_a_worker(
    states: tuple[State, State],
) -> None:
    bihar, _ = states
    national = bihar.federation.bootstrap(NATIONAL)
    topic = remote_topic(SOURCE, AGGREGATES_TOPIC)
    # The registry publishes its first snapshot soon after it starts, then at its interval.
    records = read_topic(national, topic, until=lambda found: bool(found), timeout=ARRIVAL_TIMEOUT)
    assert records, f"no aggregates on the national cluster's {topic}"
    message = federation_pb2.AggregatesPublished.FromString(records[-1].value)
    assert message.home_state_code == STATE_CODES[SOURCE] and message.min_cell_size >= 5
    for cell in [*message.sectors, *message.migration_flows]:
        assert cell.suppressed or cell.count >= message.min_cell_size, cell
        assert not cell.suppressed or cell.count == 0
    workers = bihar.mongo["mrc_registry"]["workers"]
    for doc in workers.find({}, {"_id": 1}).limit(50):
        assert doc["_id"].encode() not in records[-1].value
