"""Cross-state federation in the registry, on the real adapters over two in-memory stores: Bihar (10) shares
with its peers Kerala (32) and Tamil Nadu (33); Kerala applies what Bihar addresses to it.

Publishing is gated by the worker's cross-state consent (nothing leaves without it, and only to the states
it names), withdrawals follow revocation, expiry, narrowing, erasure and merges; copies are read-only,
visible to Kerala's CSO and government partners under that consent, found by deduplication (a Kerala
registration of the same person links to the copy), replaced only by newer versions, and removed by a
withdrawal.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc.registry.v1 import worker_pb2
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.kafka_security import KafkaSecuritySettings
from mrc_plumbing.store.memory import InMemoryStore
from mrc_plumbing.tabular import read_table
from mrc_registry.adapters.aggregates import StoredRegistryCounts
from mrc_registry.adapters.import_jobs import StoredImportJobs
from mrc_registry.adapters.mongo_repository import StoredWorkerCounts
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.federation import FederationScope
from mrc_registry.domain.household import Member, Relationship
from mrc_registry.entrypoints.federation_consumer import DEAD_LETTER_TOPIC, FederationConsumer, apply_event
from mrc_registry.service_layer.aggregates import AggregatesService, AggregatesSnapshot
from mrc_registry.service_layer.bulk_import import BulkImporter
from mrc_registry.service_layer.commands import UpdateWorker
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.federation import Outcome
from mrc_registry.service_layer.households import CreateHousehold
from mrc_registry.service_layer.statistics import GroupBy, StatisticsService
from tests.support.auth import caller_for
from tests.support.polling import eventually
from tests.unit.registry.fakes import (
    AADHAAR,
    FEDERATION_CIPHER,
    IDS,
    PHONE_E164,
    REGISTRAR_A,
    SUPERVISOR_A,
    FakeProtector,
    Registry,
    aadhaar,
    acting_for,
    consent_input,
    make_registry,
    register_command,
    worker_input,
)

BIHAR, KERALA, TAMIL_NADU = "10", "32", "33"
BIHAR_SCOPE = FederationScope(BIHAR, frozenset({KERALA, TAMIL_NADU}))
KERALA_SCOPE = FederationScope(KERALA, frozenset({BIHAR, TAMIL_NADU}))
KOCHI = Place(state_code=KERALA, district_code="555")  # Ernakulam

KERALA_CSO = caller_for(Role.CASEWORKER, partner_id="kerala-cso", states={KERALA}, client_id="kerala-cso")
KERALA_REGISTRAR = caller_for(Role.REGISTRAR, partner_id="kerala-cso", states={KERALA}, client_id="kerala-reg")
KERALA_SUPERVISOR = caller_for(Role.SUPERVISOR, partner_id="kerala-cso", states={KERALA}, client_id="kerala-sup")
KERALA_LABOUR = dataclasses.replace(
    caller_for(Role.CASEWORKER, partner_id="kerala-labour", states={KERALA}, client_id="kerala-labour"),
    partner_kind="government",
)
KERALA_EMPLOYER = dataclasses.replace(KERALA_CSO, partner_id="kerala-employer", partner_kind="employer")
TAMIL_NADU_CSO = caller_for(Role.CASEWORKER, partner_id="tn-cso", states={TAMIL_NADU}, client_id="tn-cso")

DECODER = EventDecoder()


def crossing(*states: str, **overrides: object) -> object:
    """A registration consent that also shares across states (with `states`, or every peer)."""
    purposes = {ConsentPurpose.REGISTRATION, ConsentPurpose.ENTITLEMENT_LINKAGE, ConsentPurpose.CROSS_STATE_SHARING}
    return consent_input(purposes=frozenset(purposes), shared_with_state_codes=frozenset(states), **overrides)


@pytest.fixture
def bihar() -> Registry:
    return make_registry(federation=BIHAR_SCOPE)


@pytest.fixture
def kerala() -> Registry:
    return make_registry(federation=KERALA_SCOPE)


def federated(registry: Registry, kind: str = "workers") -> dict[str, list[Event]]:
    """The federation events a registry stored, by topic (`mrc.federation.workers.32.v1`...)."""
    found: dict[str, list[Event]] = {}
    stored = [e for collection in ("workers", "households") for e in registry.outbox_of(collection)]
    for event in sorted(stored, key=lambda e: e.time):
        if event.topic.startswith(f"mrc.federation.{kind}."):
            found.setdefault(event.topic, []).append(event)
    return found


def to(state: str, kind: str = "workers") -> str:
    return f"mrc.federation.{kind}.{state}.v1"


def deliver(events: list[Event], destination: Registry) -> list[Outcome]:
    assert destination.intake is not None
    return [apply_event(e, destination.intake, FEDERATION_CIPHER, DECODER) for e in events]


def register_shared(bihar: Registry, *states: str, key: str = "key-1", **details: object) -> str:
    registration = bihar.workers.register(
        register_command(key, crossing(*states), **{"identity_documents": aadhaar(), **details}), REGISTRAR_A
    )
    return registration.view.worker.worker_id


def as_message(event: Event) -> object:
    return DECODER.decode(event)


# ---------------------------------------------------------------- the consent


def test_a_cross_state_consent_names_known_states_other_than_its_own(bihar: Registry) -> None:
    for codes, problem in (
        ({"99"}, "unknown LGD state code"),
        ({BIHAR}, "this registry's own state"),
    ):
        with pytest.raises(InvalidArgument) as raised:
            bihar.workers.register(register_command(consent=crossing(*codes)), REGISTRAR_A)
        assert [v.field for v in raised.value.violations] == ["consent.shared_with_state_codes"]
        assert problem in raised.value.violations[0].description
    with pytest.raises(InvalidArgument, match="only with the purpose 'cross_state_sharing'"):
        bihar.workers.register(
            register_command(consent=consent_input(shared_with_state_codes=frozenset({KERALA}))), REGISTRAR_A
        )
    worker_id = register_shared(bihar, KERALA)
    stored = bihar.repository.get(worker_id)
    assert stored is not None and stored.consents[0].shared_with_state_codes == {KERALA}


# ---------------------------------------------------------------- publishing, gated by consent


def test_nothing_crosses_without_a_cross_state_consent(bihar: Registry) -> None:
    worker_id = bihar.workers.register(
        register_command(identity_documents=aadhaar()), REGISTRAR_A
    ).view.worker.worker_id
    bihar.workers.update(
        UpdateWorker(worker_id, worker_input(occupation="plasterer"), frozenset({"occupation"})),
        acting_for(REGISTRAR_A, "case_management"),
    )
    assert federated(bihar) == {}
    assert bihar.repository.get(worker_id).shared_with_states == frozenset()  # type: ignore[union-attr]


def test_the_summary_goes_only_to_the_states_the_consent_names(bihar: Registry) -> None:
    worker_id = register_shared(bihar, KERALA)
    assert set(federated(bihar)) == {to(KERALA)}
    (event,) = federated(bihar)[to(KERALA)]
    shared = as_message(event)
    assert isinstance(shared, federation_pb2.WorkerShared)
    assert (shared.worker_id, shared.home_state_code, list(shared.shared_with_state_codes)) == (
        worker_id,
        BIHAR,
        [KERALA],
    )
    assert event.key == worker_id.encode()
    # A consent naming no state shares with every peer.
    register_shared(bihar, key="key-2", full_name="Sita Devi", identity_documents=aadhaar("9876 5432 1012"))
    assert set(federated(bihar)) == {to(KERALA), to(TAMIL_NADU)}


def test_the_summary_carries_no_phone_number_identity_number_or_name_in_clear(bihar: Registry) -> None:
    worker_id = register_shared(bihar, KERALA)
    (event,) = federated(bihar)[to(KERALA)]
    shared = as_message(event)
    assert isinstance(shared, federation_pb2.WorkerShared)
    raw = event.data.decode("latin-1")
    # The unit tests' blind indexes are readable (`bi:<kind>:<value>`); the real ones are keyed hashes.
    for index in (shared.phone.blind_index, *(d.blind_index for d in shared.documents), *shared.name_keys):
        raw = raw.replace(index, "")
    for secret in ("Ravi", "Kumar", "Shyam", PHONE_E164, PHONE_E164[-10:], AADHAAR.replace(" ", "")):
        assert secret not in raw
    assert FEDERATION_CIPHER.open(f"worker.full_name/{worker_id}", shared.full_name_token) == "Ravi Kumar"
    assert FEDERATION_CIPHER.open(f"worker.father_or_spouse_name/{worker_id}", shared.father_or_spouse_name_token) == (
        "Shyam Kumar"
    )
    assert shared.phone.masked_number == "XXXXXX3210" and shared.phone.blind_index.startswith("bi:phone:")
    (document,) = shared.documents
    assert document.blind_index.startswith("bi:aadhaar:") and document.masked_number.endswith("0124")
    assert shared.name_keys and all(k.startswith("bi:name-key:") for k in shared.name_keys)
    assert shared.facts.home.village_name == ""
    assert worker_pb2.CONSENT_PURPOSE_CROSS_STATE_SHARING in shared.consent_purposes
    assert shared.version == 1


def test_changes_of_a_shared_worker_send_the_new_version(bihar: Registry) -> None:
    worker_id = register_shared(bihar, KERALA)
    bihar.workers.update(
        UpdateWorker(worker_id, worker_input(occupation="plasterer"), frozenset({"occupation"})),
        acting_for(REGISTRAR_A, "case_management"),
    )
    versions = [as_message(e).version for e in federated(bihar)[to(KERALA)]]  # type: ignore[attr-defined]
    assert versions == [1, 2]


def withdrawals(registry: Registry, state: str) -> list[federation_pb2.WorkerWithdrawn]:
    return [
        m
        for m in map(as_message, federated(registry).get(to(state), []))
        if isinstance(m, federation_pb2.WorkerWithdrawn)
    ]


def test_revoking_the_consent_withdraws_the_record(bihar: Registry) -> None:
    worker_id = register_shared(bihar, KERALA)
    consent_id = bihar.repository.get(worker_id).consents[0].consent_id  # type: ignore[union-attr]
    bihar.workers.revoke_consent(worker_id, consent_id, REGISTRAR_A)
    (withdrawn,) = withdrawals(bihar, KERALA)
    assert withdrawn.reason == federation_pb2.WITHDRAWAL_REASON_CONSENT_REVOKED
    assert list(withdrawn.withdrawn_from_state_codes) == [KERALA]
    assert bihar.repository.get(worker_id).shared_with_states == frozenset()  # type: ignore[union-attr]


def test_narrowing_withdraws_from_the_states_no_longer_named(bihar: Registry) -> None:
    worker_id = register_shared(bihar)  # every peer
    consent_id = bihar.repository.get(worker_id).consents[0].consent_id  # type: ignore[union-attr]
    bihar.workers.grant_consent(
        worker_id,
        consent_input(
            purposes=frozenset({ConsentPurpose.CROSS_STATE_SHARING}), shared_with_state_codes=frozenset({TAMIL_NADU})
        ),
        "narrow",
        REGISTRAR_A,
    )
    bihar.workers.revoke_consent(worker_id, consent_id, REGISTRAR_A)
    (withdrawn,) = withdrawals(bihar, KERALA)
    assert withdrawn.reason == federation_pb2.WITHDRAWAL_REASON_CONSENT_NARROWED
    assert not withdrawals(bihar, TAMIL_NADU)
    assert bihar.repository.get(worker_id).shared_with_states == {TAMIL_NADU}  # type: ignore[union-attr]


def test_an_expired_consent_withdraws_the_record(bihar: Registry) -> None:
    worker_id = register_shared(bihar, KERALA)
    bihar.workers.grant_consent(
        worker_id,
        consent_input(
            purposes=frozenset({ConsentPurpose.CROSS_STATE_SHARING}),
            shared_with_state_codes=frozenset({TAMIL_NADU}),
            expires_at=bihar.clock.now + timedelta(days=30),
        ),
        "limited",
        REGISTRAR_A,
    )
    assert not withdrawals(bihar, TAMIL_NADU)
    bihar.clock.now += timedelta(days=31)
    assert bihar.workers.announce_expired_consents() == 1
    (withdrawn,) = withdrawals(bihar, TAMIL_NADU)
    assert withdrawn.reason == federation_pb2.WITHDRAWAL_REASON_CONSENT_EXPIRED
    assert not withdrawals(bihar, KERALA)


def test_erasure_withdraws_the_record_everywhere_it_was_shared(bihar: Registry) -> None:
    worker_id = register_shared(bihar)
    bihar.workers.erase(worker_id, "the worker asked", SUPERVISOR_A)
    for state in (KERALA, TAMIL_NADU):
        (withdrawn,) = withdrawals(bihar, state)
        assert withdrawn.reason == federation_pb2.WITHDRAWAL_REASON_ERASED


def test_households_of_a_shared_worker_are_shared_with_the_same_states(bihar: Registry) -> None:
    worker_id = register_shared(bihar, KERALA)
    other = bihar.workers.register(register_command("key-2", full_name="Sita Devi"), REGISTRAR_A).view.worker
    members = (Member(Relationship.HEAD, worker_id=worker_id), Member(Relationship.SPOUSE, worker_id=other.worker_id))
    household = bihar.households.create(REGISTRAR_A, CreateHousehold(members, idempotency_key="h")).household
    (event,) = federated(bihar, "households")[to(KERALA, "households")]
    links = as_message(event)
    assert isinstance(links, federation_pb2.HouseholdLinksShared)
    # Only the member whose consent shares across states is named; the size counts everyone.
    assert (links.household_id, list(links.member_worker_ids), links.size) == (household.household_id, [worker_id], 2)
    # Revoking the worker's consent sends the household again, without them.
    consent_id = bihar.repository.get(worker_id).consents[0].consent_id  # type: ignore[union-attr]
    bihar.workers.revoke_consent(worker_id, consent_id, REGISTRAR_A)
    latest = as_message(federated(bihar, "households")[to(KERALA, "households")][-1])
    assert list(latest.member_worker_ids) == []  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the copies in the destination


def share_to_kerala(bihar: Registry, kerala: Registry, *states: str, **details: object) -> str:
    worker_id = register_shared(bihar, *(states or (KERALA,)), **details)
    assert deliver(federated(bihar)[to(KERALA)], kerala) == [Outcome.APPLIED]
    return worker_id


def test_a_shared_worker_is_visible_read_only_to_the_destination_s_partners(bihar: Registry, kerala: Registry) -> None:
    worker_id = share_to_kerala(bihar, kerala)
    view = kerala.workers.get(worker_id, KERALA_CSO)
    assert view.worker.details.full_name == "Ravi Kumar"
    assert view.worker.foreign is not None and view.worker.foreign.home_state_code == BIHAR
    assert view.phone == "XXXXXX3210", "only the masked number crosses"
    assert kerala.workers.get(worker_id, KERALA_LABOUR).worker.worker_id == worker_id
    for outsider in (KERALA_EMPLOYER, TAMIL_NADU_CSO):
        with pytest.raises(NotFound):
            kerala.workers.get(worker_id, outsider)
    # Local facts for Kerala's services, marked with the home state and carrying the consent's grants.
    (registered,) = kerala.repository.messages("mrc.registry.v1.WorkerRegistered")
    assert registered.facts.federated_from_state_code == BIHAR
    assert {g.partner_kind for g in registered.facts.grants} == {"cso", "government"}
    assert federated(kerala) == {}, "a copy is never passed on"


def test_local_writes_on_a_copy_are_refused_naming_the_home_state(bihar: Registry, kerala: Registry) -> None:
    worker_id = share_to_kerala(bihar, kerala)
    writer = acting_for(KERALA_CSO, "case_management")
    with pytest.raises(Conflict, match=r"read-only copy of a record held by state 10 \(Bihar\)"):
        kerala.workers.update(UpdateWorker(worker_id, worker_input(occupation="x"), frozenset({"occupation"})), writer)
    supervisor = acting_for(KERALA_SUPERVISOR, "registration")
    with pytest.raises(Conflict, match="erasure is requested there"):
        kerala.workers.erase(worker_id, "asked", supervisor)
    with pytest.raises(Conflict, match="erasure is requested there"):
        kerala.erasures.request(worker_id, "asked", acting_for(KERALA_REGISTRAR, "registration"))


def test_a_registration_of_the_same_person_links_to_the_copy(bihar: Registry, kerala: Registry) -> None:
    worker_id = share_to_kerala(bihar, kerala)
    registration = kerala.workers.register(
        register_command("kerala-1", full_name="Ravi Kumar", home=KOCHI, identity_documents=aadhaar()),
        KERALA_REGISTRAR,
    )
    assert registration.linked_to_existing and registration.view.worker.worker_id == worker_id
    assert list(kerala.repository.workers) == [worker_id], "no second record"
    copy = kerala.repository.get(worker_id)
    assert copy is not None and [c.captured_by_partner_id for c in copy.consents] == ["kerala-cso"]
    # Bihar's next version replaces the copy and keeps Kerala's consent.
    bihar.workers.update(
        UpdateWorker(worker_id, worker_input(occupation="plasterer"), frozenset({"occupation"})),
        acting_for(REGISTRAR_A, "case_management"),
    )
    assert deliver(federated(bihar)[to(KERALA)], kerala) == [Outcome.STALE, Outcome.APPLIED]
    copy = kerala.repository.get(worker_id)
    assert copy is not None and copy.details.occupation == "plasterer"
    assert [c.captured_by_partner_id for c in copy.consents] == ["kerala-cso"]
    assert federated(kerala) == {}


def test_redelivered_and_older_summaries_change_nothing(bihar: Registry, kerala: Registry) -> None:
    worker_id = share_to_kerala(bihar, kerala)
    bihar.workers.update(
        UpdateWorker(worker_id, worker_input(occupation="plasterer"), frozenset({"occupation"})),
        acting_for(REGISTRAR_A, "case_management"),
    )
    first, second = federated(bihar)[to(KERALA)]
    assert deliver([second, second, first], kerala) == [Outcome.APPLIED, Outcome.STALE, Outcome.STALE]
    assert kerala.repository.get(worker_id).details.occupation == "plasterer"  # type: ignore[union-attr]
    assert len(kerala.repository.envelopes("mrc.registry.v1.WorkerUpdated")) == 1


def test_records_not_addressed_here_or_from_here_are_not_applied(bihar: Registry, kerala: Registry) -> None:
    register_shared(bihar, TAMIL_NADU)
    (for_tamil_nadu,) = federated(bihar)[to(TAMIL_NADU)]
    assert deliver([for_tamil_nadu], kerala) == [Outcome.NOT_ADDRESSED]
    own = register_shared(kerala, BIHAR, key="kerala-own", home=KOCHI)
    assert own and deliver(federated(kerala)[to(BIHAR)], kerala) == [Outcome.REFUSED]
    assert len(kerala.repository.workers) == 1


def test_a_withdrawal_removes_the_copy_and_what_kerala_derived_from_it(bihar: Registry, kerala: Registry) -> None:
    worker_id = share_to_kerala(bihar, kerala)
    kerala.workers.register(
        register_command("kerala-1", full_name="Ravi Kumar", home=KOCHI, identity_documents=aadhaar()),
        KERALA_REGISTRAR,
    )
    members = (Member(Relationship.HEAD, worker_id=worker_id), Member(Relationship.CHILD, name="Anu"))
    household = kerala.households.create(KERALA_REGISTRAR, CreateHousehold(members, home=KOCHI)).household
    bihar.workers.erase(worker_id, "the worker asked", SUPERVISOR_A)
    events = federated(bihar)[to(KERALA)]
    assert deliver(events[-1:], kerala) == [Outcome.APPLIED]
    with pytest.raises(NotFound):
        kerala.workers.get(worker_id, KERALA_CSO)
    (erased,) = kerala.repository.messages("mrc.registry.v1.WorkerErased")
    assert erased.worker_id == worker_id
    stored = kerala.households.get(KERALA_REGISTRAR, household.household_id)
    assert [m.worker_id for m in stored.members] == [""], "the copy left Kerala's household"
    # The summary delivered again after the withdrawal does not bring the copy back.
    assert deliver(events[:1], kerala) == [Outcome.STALE]
    copy = kerala.repository.adapter.get(worker_id)
    assert copy is not None and copy.details.full_name == "" and not copy.consents
    assert kerala.repository.match_keys(worker_id) == set()


def test_a_copy_goes_when_the_consent_sharing_it_expires(bihar: Registry, kerala: Registry) -> None:
    limited = crossing(KERALA, expires_at=bihar.clock.now + timedelta(days=10))
    registration = bihar.workers.register(register_command("key-1", limited, identity_documents=aadhaar()), REGISTRAR_A)
    worker_id = registration.view.worker.worker_id
    deliver(federated(bihar)[to(KERALA)], kerala)
    assert kerala.workers.get(worker_id, KERALA_CSO)
    kerala.clock.now += timedelta(days=11)
    assert kerala.workers.announce_expired_consents() == 1
    with pytest.raises(NotFound):
        kerala.workers.get(worker_id, KERALA_CSO)
    assert [m.worker_id for m in kerala.repository.messages("mrc.registry.v1.WorkerErased")] == [worker_id]


def test_household_links_are_kept_and_replaced_by_newer_snapshots(bihar: Registry, kerala: Registry) -> None:
    worker_id = share_to_kerala(bihar, kerala)
    members = (Member(Relationship.HEAD, worker_id=worker_id), Member(Relationship.CHILD, name="Anu"))
    household = bihar.households.create(REGISTRAR_A, CreateHousehold(members, idempotency_key="h")).household
    events = federated(bihar, "households")[to(KERALA, "households")]
    assert deliver(events, kerala) == [Outcome.APPLIED]
    assert deliver(events, kerala) == [Outcome.STALE]
    assert kerala.intake is not None
    links = kerala.intake._households.get_links(household.household_id)
    assert links is not None and links.member_worker_ids == (worker_id,) and links.size == 2


# ---------------------------------------------------------------- counts


def test_statistics_and_aggregates_count_this_state_s_own_records_only(bihar: Registry, kerala: Registry) -> None:
    share_to_kerala(bihar, kerala)
    for n in range(5):
        kerala.workers.register(
            register_command(f"k-{n}", full_name=f"Worker {n} Nair", home=KOCHI, phone="", identity_documents=()),
            KERALA_REGISTRAR,
        )
    kerala.workers.register(
        register_command("k-odd", full_name="Lone Agri", home=KOCHI, phone="", sector=None), KERALA_REGISTRAR
    )
    counts = StatisticsService(StoredWorkerCounts(kerala.store), min_cell_size=5)
    operator = caller_for(Role.SUPERVISOR, partner_id="ops")
    assert counts.workers_by(GroupBy.HOME_STATE, operator).cells == {KERALA: 6}
    snapshot: AggregatesSnapshot = AggregatesService(
        StoredRegistryCounts(kerala.store), _Outbox(), own_state_code=KERALA, min_cell_size=5
    ).publish()
    cells = {c.key: (c.count, c.suppressed) for c in snapshot.sectors}
    assert cells == {(KERALA, "555", "construction"): (5, False), (KERALA, "555", "unknown"): (0, True)}
    assert snapshot.aggregates_id.startswith(f"{KERALA}:")


class _Outbox:
    def publish(self, snapshot: AggregatesSnapshot) -> None:
        self.snapshot = snapshot


def test_without_peers_nothing_is_published() -> None:
    registry = make_registry(InMemoryStore(), federation=FederationScope(BIHAR, frozenset()))
    register_shared(registry)
    assert federated(registry) == {}


# ---------------------------------------------------------------- the consumer


class _DeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, list[tuple[str, bytes]]]] = []

    def send(self, topic: str, *, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> _DeadLetters:
        self.sent.append((topic, key, headers))
        return self

    def get(self, timeout: float) -> None:
        return None


@dataclasses.dataclass
class _Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class _Broker:
    """What the consumer loop asks of Kafka: records once, then nothing; every poll and commit in order."""

    def __init__(self, topic: str, records: list[_Record]) -> None:
        self.topic, self.records = topic, records
        self.calls: list[str] = []

    def topics(self) -> set[str]:
        return {self.topic}

    def subscribe(self, topics: list[str]) -> None:
        self.calls.append("subscribe")

    def poll(self, timeout_ms: int) -> dict[str, list[_Record]]:
        records, self.records = self.records, []
        self.calls.append("records" if records else "nothing")
        return {self.topic: records} if records else {}

    def commit(self) -> None:
        self.calls.append("commit")

    def close(self, autocommit: bool) -> None:
        pass


def test_the_consumer_commits_its_position_again_after_the_last_records(bihar: Registry, kerala: Registry) -> None:
    """MirrorMaker 2's transaction marker moves the position in a poll that returns no record; committed, the
    group's lag returns to zero instead of staying at one until the next record."""
    assert kerala.intake is not None
    register_shared(bihar, KERALA)
    (event,) = federated(bihar)[to(KERALA)]
    topic = f"bihar.{to(KERALA)}"
    broker = _Broker(topic, [_Record(topic, event.key, event.data, event.kafka_headers())])

    class Consumer(FederationConsumer):
        def _consumer(self) -> Any:
            return broker

    dead_letters: Any = _DeadLetters()
    consumer = Consumer("127.0.0.1:1", KafkaSecuritySettings(), [topic], kerala.intake, FEDERATION_CIPHER, dead_letters)
    consumer.start()
    try:
        eventually(lambda: broker.calls.count("nothing") >= 3, timeout=10)
    finally:
        consumer.stop()
    assert consumer.outcomes == {"applied": 1}
    calls = broker.calls[: broker.calls.index("nothing") + 2]
    assert calls == ["subscribe", "records", "commit", "nothing", "commit"]


def test_records_that_can_never_be_applied_go_to_the_dead_letter_topic(bihar: Registry, kerala: Registry) -> None:
    assert kerala.intake is not None
    dead = _DeadLetters()
    consumer = FederationConsumer(
        "127.0.0.1:1",
        KafkaSecuritySettings(),
        ["x"],
        kerala.intake,
        FEDERATION_CIPHER,
        dead,  # type: ignore[arg-type]
    )
    register_shared(bihar, KERALA)
    (good,) = federated(bihar)[to(KERALA)]
    # A name token altered in transit (same length, so the record still parses): it does not open.
    at = good.data.index(b"fed:v1:dev-insecure:") + len(b"fed:v1:dev-insecure:")
    flipped = b"A" if good.data[at : at + 1] != b"A" else b"B"
    tampered = dataclasses.replace(good, data=good.data[:at] + flipped + good.data[at + 1 :])
    counts = federation_pb2.AggregatesPublished(home_state_code=BIHAR)
    other = Event.from_message(counts, source="t", subject=BIHAR, topic="t")
    for event in (tampered, other):
        consumer.handle(event.topic, event.key, event.data, event.kafka_headers())
    consumer.handle(good.topic, good.key, b"", [("not", b"a cloudevent")])
    assert [topic for topic, _, _ in dead.sent] == [DEAD_LETTER_TOPIC] * 3
    reasons = [dict(headers)["mrc_dlq_reason"].decode() for _, _, headers in dead.sent]
    assert "DecryptionError" in reasons[0] and "RefusedRecord" in reasons[1] and "MalformedEvent" in reasons[2]
    assert all("Ravi" not in reason for reason in reasons)
    consumer.handle(good.topic, good.key, good.data, good.kafka_headers())
    assert consumer.outcomes == {"rejected": 3, "applied": 1}


def test_a_survey_row_with_cross_state_consent_is_shared_and_one_naming_this_state_is_refused(
    bihar: Registry,
) -> None:
    importer = BulkImporter(
        bihar.repository.adapter,
        StoredImportJobs(bihar.store),
        FakeProtector(),
        bihar.audit,
        Deduplicator(bihar.repository.adapter, bihar.review_repository, IDS),
        IDS,
        read_table,
        clock=bihar.clock,
        own_state_code=BIHAR,
    )
    survey = (
        "row_key,full_name,gender,birth_year,home_state_code,home_district_code,"
        "consent_purposes,consent_method,consent_shared_with_states\n"
        "r1,Ravi Kumar,male,1990,10,212,registration;cross_state_sharing,thumbprint,32\n"
        "r2,Sita Devi,female,1992,10,212,registration,thumbprint,\n"
        "r3,Mohan Lal,male,1991,10,212,registration;cross_state_sharing,thumbprint,10\n"
    )
    job = importer.run("survey.csv", survey.encode(), REGISTRAR_A).job
    assert (job.counts.registered, job.counts.failed) == (2, 1)
    (refused,) = importer.report(job.job_id, REGISTRAR_A)
    assert (refused.row_key, refused.field) == ("r3", "consent_shared_with_states")
    (shared,) = map(as_message, federated(bihar)[to(KERALA)])
    assert shared.home_state_code == BIHAR and set(federated(bihar)) == {to(KERALA)}  # type: ignore[attr-defined]
