"""The registry attacks of issue 8, replayed against the use cases as one partner's credential would try them:
each must be refused, and a refusal must not tell a real record from a missing one.

Partner A registered Sita Devi (a bonded-labour risk, a phone, an Aadhaar and an e-Shram UAN). Partner B
holds an ordinary credential and tries to find, read, change or erase her."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from mrc_kernel.caller import Caller
from mrc_kernel.errors import DomainError, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.idempotency import IdDeriver, scoped_key
from mrc_kernel.place import Place
from mrc_kernel.roles import Role
from mrc_kernel.vocabulary import Gender, Sector
from mrc_registry.adapters.mongo_repository import StoredWorkerCounts
from mrc_registry.domain.consent import CaptureMethod, ConsentPurpose
from mrc_registry.domain.household import Member, Relationship
from mrc_registry.domain.migration import Location, MigrationStatus, RecruitmentChannel
from mrc_registry.domain.worker import DocumentKind, Vulnerability, WorkerStatus
from mrc_registry.domain.worker_access import EVERY_FIELD, FIELDS_BY_PURPOSE, Purpose
from mrc_registry.service_layer.commands import DocumentInput, RegisterWorker, Search, UpdateWorker
from mrc_registry.service_layer.households import CreateHousehold
from mrc_registry.service_layer.migrations import RecordMigration
from mrc_registry.service_layer.statistics import GroupBy, StatisticsService
from mrc_registry.service_layer.workers import Registration
from tests.support.auth import caller_for

from .fakes import (
    ARARIA,
    CASEWORKER_A,
    CASEWORKER_B,
    IDS,
    PATNA,
    PUNE,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_A,
    SUPERVISOR_B,
    Registry,
    acting_for,
    consent_input,
    make_registry,
    worker_input,
)

SITA_AADHAAR = "2345 6789 0124"
SITA_UAN = "123456789012"
SITA_PHONE = "98765 43210"
# What partner A recorded of Sita and partner B must never learn through the registry.
SITA_SECRETS = ("Ram Prasad", "43210", "bonded_labour_risk", "Kusiyargaon", "Kamla (ASHA worker)")
LUCKNOW = Place("9", "162")


@pytest.fixture
def registry() -> Registry:
    return make_registry()


@pytest.fixture
def sita(registry: Registry) -> str:
    """Partner A's worker, with a witness to her verbal consent."""
    consent = consent_input(method=CaptureMethod.VERBAL_WITH_WITNESS, witness_name="Kamla (ASHA worker)")
    command = RegisterWorker(
        worker_input(
            full_name="Sita Devi",
            gender=Gender.FEMALE,
            birth_year=1994,
            home=ARARIA,
            father_or_spouse_name="Ram Prasad",
            phone=SITA_PHONE,
            vulnerabilities=frozenset({Vulnerability.BONDED_LABOUR_RISK}),
            identity_documents=(
                DocumentInput(DocumentKind.AADHAAR, SITA_AADHAAR),
                DocumentInput(DocumentKind.E_SHRAM_UAN, SITA_UAN),
            ),
        ),
        consent,
        "sita",
    )
    return registry.workers.register(command, REGISTRAR_A).view.worker.worker_id


def b_registers(registry: Registry, key: str = "b-1", **details: Any) -> Registration:
    """Partner B's "new" worker: someone else unless `details` say otherwise."""
    values: dict[str, Any] = {
        "full_name": "Mohan Lal",
        "gender": Gender.MALE,
        "birth_year": 1980,
        "home": PATNA,
        "father_or_spouse_name": "",
        "phone": "",
        "occupation": "",
        "skills": (),
        "languages": (),
        "sector": None,
    }
    values.update(details)
    return registry.workers.register(RegisterWorker(worker_input(**values), consent_input(), key), REGISTRAR_B)


def assert_nothing_disclosed(registration: Registration, sita: str) -> None:
    """The answer is B's own record: no id, value or hint of Sita's."""
    assert registration.created and not registration.linked_to_existing
    own = registration.view.worker
    assert own.worker_id != sita
    assert own.registering_partner_id == "partner-b"
    assert [c.captured_by_partner_id for c in own.consents] == ["partner-b"]
    assert registration.possible_duplicates == ()
    shown = repr(registration)
    for secret in (sita, *SITA_SECRETS):
        assert secret not in shown, secret


def assert_sita_untouched(registry: Registry, sita: str) -> None:
    stored = registry.repository.get(sita)
    assert stored is not None
    assert (stored.status, stored.version) == (WorkerStatus.ACTIVE, 1)
    assert [c.captured_by_partner_id for c in stored.consents] == ["partner-a"]
    assert registry.workers.get(sita, CASEWORKER_A).fields == EVERY_FIELD


# -- linking hands over the record ---------------------------------------------------------------


def test_a_registration_carrying_only_her_aadhaar_gets_a_link_request_and_nothing_of_hers(
    registry: Registry, sita: str
) -> None:
    registration = b_registers(registry, identity_documents=(DocumentInput(DocumentKind.AADHAAR, SITA_AADHAAR),))

    assert_nothing_disclosed(registration, sita)
    assert registration.link_request is not None
    with pytest.raises(NotFound):
        registry.workers.get(sita, CASEWORKER_B)
    assert_sita_untouched(registry, sita)


def test_her_e_shram_uan_with_another_name_gender_and_state_gets_a_link_request_and_nothing_of_hers(
    registry: Registry, sita: str
) -> None:
    registration = b_registers(
        registry, home=LUCKNOW, identity_documents=(DocumentInput(DocumentKind.E_SHRAM_UAN, SITA_UAN),)
    )

    assert_nothing_disclosed(registration, sita)
    assert registration.link_request is not None
    assert registration.view.worker.details.gender is Gender.MALE  # B's own record, as B sent it
    with pytest.raises(NotFound):
        registry.workers.get(sita, CASEWORKER_B)
    assert_sita_untouched(registry, sita)


def test_her_name_and_phone_get_a_link_request_and_nothing_more_of_hers(registry: Registry, sita: str) -> None:
    registration = b_registers(registry, full_name="Sita Devi", gender=Gender.FEMALE, birth_year=None, phone=SITA_PHONE)

    own = registration.view.worker
    assert registration.created and not registration.linked_to_existing and own.worker_id != sita
    assert registration.link_request is not None
    assert own.details.father_or_spouse_name == "" and own.details.vulnerabilities == frozenset()
    shown = repr(registration)
    for secret in (sita, "Ram Prasad", "bonded_labour_risk", "Kusiyargaon"):
        assert secret not in shown
    with pytest.raises(NotFound):
        registry.workers.get(sita, CASEWORKER_B)
    assert_sita_untouched(registry, sita)


def test_public_facts_alone_name_father_birth_year_and_district_get_nothing_not_even_a_hint(
    registry: Registry, sita: str
) -> None:
    # Printed on public voter lists: no phone, no document.
    registration = b_registers(
        registry,
        full_name="Sita Devi",
        gender=Gender.FEMALE,
        birth_year=1994,
        father_or_spouse_name="Ram Prasad",
        home=Place("10", "188"),
    )

    assert registration.created and not registration.linked_to_existing
    assert registration.view.worker.worker_id != sita
    assert registration.possible_duplicates == ()
    assert registration.link_request is None  # a fuzzy match is queued for review, never announced
    [review] = registry.review_repository.reviews.values()
    assert review.candidate_id == sita and review.status.value == "pending"
    assert sita not in repr(registration)
    with pytest.raises(NotFound):
        registry.workers.get(sita, CASEWORKER_B)
    assert_sita_untouched(registry, sita)


def test_after_a_matching_registration_b_can_neither_change_nor_revoke_nor_erase_her_record(
    registry: Registry, sita: str
) -> None:
    b_registers(registry, identity_documents=(DocumentInput(DocumentKind.AADHAAR, SITA_AADHAAR),))
    consent_id = registry.repository.workers[sita].consents[0].consent_id
    change = UpdateWorker(sita, worker_input(phone="9000000001"), frozenset({"phone"}))

    attempts: dict[str, Callable[[], object]] = {
        "patch": lambda: registry.workers.update(change, CASEWORKER_B),
        "revoke": lambda: registry.workers.revoke_consent(sita, consent_id, REGISTRAR_B),
        "erase": lambda: registry.workers.erase(sita, "asked", SUPERVISOR_B),
        "request erasure": lambda: registry.erasures.request(sita, "asked", SUPERVISOR_B),
        "grant consent": lambda: registry.workers.grant_consent(sita, consent_input(), "c-1", REGISTRAR_B),
    }
    for name, attempt in attempts.items():
        with pytest.raises(NotFound) as caught:
            attempt()
        assert str(caught.value) == "no such worker", name

    assert registry.messages.sent == []
    assert_sita_untouched(registry, sita)


def test_even_once_linked_b_sees_only_its_purposes_and_never_revokes_or_erases_as_a_holder_would(
    registry: Registry, sita: str
) -> None:
    link = b_registers(registry, identity_documents=(DocumentInput(DocumentKind.AADHAAR, SITA_AADHAAR),)).link_request
    assert link is not None
    registry.reviews.send_code(link.review_id, REGISTRAR_B)
    registry.reviews.confirm_code(link.review_id, registry.messages.last_code(link.review_id), REGISTRAR_B)
    a_consent = registry.repository.workers[sita].consents[0].consent_id

    view = registry.workers.get(sita, CASEWORKER_B)
    with pytest.raises(NotFound):
        registry.workers.revoke_consent(sita, a_consent, REGISTRAR_B)
    with pytest.raises(PermissionDenied):
        registry.workers.erase(sita, "asked", SUPERVISOR_B)
    with pytest.raises(InvalidArgument) as hidden:
        registry.workers.update(
            UpdateWorker(sita, worker_input(vulnerabilities=frozenset()), frozenset({"vulnerabilities"})),
            CASEWORKER_B,
        )

    assert view.fields == FIELDS_BY_PURPOSE[Purpose.REGISTRATION]
    assert "bonded" not in repr(view.fields) and Vulnerability.BONDED_LABOUR_RISK in view.worker.details.vulnerabilities
    assert [v.field for v in hidden.value.violations] == ["update_mask"]
    stored = registry.repository.get(sita)
    assert stored is not None and stored.status is WorkerStatus.ACTIVE
    assert [c.revoked_at for c in stored.consents] == [None, None]
    # A's own witness stays A's.
    assert stored.consents[0].witness_name == "Kamla (ASHA worker)"


# -- writes ignore geography ---------------------------------------------------------------------


def test_a_partner_of_one_state_cannot_register_a_worker_homed_in_another(registry: Registry) -> None:
    up_registrar = caller_for(Role.REGISTRAR, partner_id="up-cso", states={"9"})
    command = RegisterWorker(worker_input(home=PATNA), consent_input(), "k-1")

    with pytest.raises(InvalidArgument) as caught:
        registry.workers.register(command, up_registrar)

    assert [v.field for v in caught.value.violations] == ["home.state_code"]
    assert registry.repository.workers == {}


def test_a_client_limited_to_one_district_cannot_register_in_another_nor_move_a_worker_away(
    registry: Registry,
) -> None:
    araria = caller_for(Role.REGISTRAR, partner_id="partner-a", states={"10"}, districts={"188"})
    araria_caseworker = dataclasses.replace(araria, roles=CASEWORKER_A.roles, scopes=CASEWORKER_A.scopes)

    with pytest.raises(InvalidArgument) as elsewhere:
        registry.workers.register(RegisterWorker(worker_input(home=PATNA), consent_input(), "k-1"), araria)
    own = registry.workers.register(RegisterWorker(worker_input(home=ARARIA), consent_input(), "k-2"), araria)
    worker_id = own.view.worker.worker_id
    with pytest.raises(InvalidArgument) as to_pune:
        registry.workers.update(
            UpdateWorker(worker_id, worker_input(home=PUNE), frozenset({"home"})), araria_caseworker
        )
    with pytest.raises(InvalidArgument) as to_patna:
        registry.workers.update(
            UpdateWorker(worker_id, worker_input(home=PATNA), frozenset({"home"})), araria_caseworker
        )

    assert [v.field for v in elsewhere.value.violations] == ["home.district_code"]
    assert [v.field for v in to_pune.value.violations] == ["home.state_code"]
    assert [v.field for v in to_patna.value.violations] == ["home.district_code"]
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.details.home.district_code == "188"


# -- sub-resources: households and migrations ----------------------------------------------------


def episode(worker_id: str, key: str = "m-1") -> RecordMigration:
    return RecordMigration(
        worker_id=worker_id,
        origin=Location("10", "188"),
        destination=Location("27", "490"),
        destination_country="",
        sector="construction",
        recruitment_channel=RecruitmentChannel.AGENT,
        start_date="2025-11-01",
        status=MigrationStatus.ONGOING,
        idempotency_key=key,
    )


def test_b_can_neither_record_nor_read_migrations_of_her_and_cannot_tell_her_from_nobody(
    registry: Registry, sita: str
) -> None:
    registry.migrations.record(REGISTRAR_A, episode(sita))

    outcomes = []
    for worker_id in (sita, str(uuid.uuid4())):
        for attempt in (
            lambda w=worker_id: registry.migrations.record(REGISTRAR_B, episode(w, "b-1")),
            lambda w=worker_id: registry.migrations.list_for_worker(CASEWORKER_B, w),
        ):
            with pytest.raises(DomainError) as caught:
                attempt()
            outcomes.append((type(caught.value), str(caught.value)))

    assert set(outcomes) == {(NotFound, "no such worker")}
    assert len(registry.store.collection("migration_episodes").documents) == 1


def test_b_cannot_put_her_into_a_household_and_cannot_tell_her_from_nobody(registry: Registry, sita: str) -> None:
    outcomes = []
    for worker_id in (sita, str(uuid.uuid4())):
        head = Member(relationship=Relationship.HEAD, worker_id=worker_id)
        with pytest.raises(InvalidArgument) as caught:
            registry.households.create(REGISTRAR_B, CreateHousehold(members=(head,), home=ARARIA))
        outcomes.append([(v.field, v.description) for v in caught.value.violations])

    assert outcomes[0] == outcomes[1] == [("members.0.worker_id", "no such worker")]
    assert registry.store.collection("households").documents == {}


def test_a_district_client_reads_no_household_or_migration_of_another_district(registry: Registry, sita: str) -> None:
    patna_worker = registry.workers.register(
        RegisterWorker(worker_input(home=PATNA), consent_input(), "k-patna"), REGISTRAR_A
    ).view.worker.worker_id
    household = registry.households.create(
        REGISTRAR_A, CreateHousehold(members=(Member(relationship=Relationship.HEAD, worker_id=patna_worker),))
    ).household
    registry.migrations.record(REGISTRAR_A, episode(patna_worker))
    araria_only = caller_for(Role.CASEWORKER, partner_id="partner-a", states={"10"}, districts={"188"})

    with pytest.raises(NotFound):
        registry.households.get(araria_only, household.household_id)
    with pytest.raises(NotFound):
        registry.migrations.list_for_worker(araria_only, patna_worker)
    assert registry.migrations.list_for_worker(araria_only, sita) == []  # its own district's worker


# -- the existence oracle ------------------------------------------------------------------------


def every_read_and_write(registry: Registry, worker_id: str, caller: Caller) -> list[Callable[[], object]]:
    writer = dataclasses.replace(caller, roles=SUPERVISOR_A.roles, scopes=SUPERVISOR_A.scopes)
    change = UpdateWorker(worker_id, worker_input(occupation="x"), frozenset({"occupation"}))
    return [
        lambda: registry.workers.get(worker_id, caller),
        lambda: registry.workers.get(worker_id, acting_for(caller, "sharing")),
        lambda: registry.workers.update(change, writer),
        lambda: registry.workers.grant_consent(worker_id, consent_input(), "c", writer),
        lambda: registry.workers.revoke_consent(worker_id, "c", writer),
        lambda: registry.workers.erase(worker_id, "asked", writer),
        lambda: registry.erasures.request(worker_id, "asked", writer),
        lambda: registry.migrations.list_for_worker(caller, worker_id),
        lambda: registry.migrations.record(writer, episode(worker_id)),
    ]


def outcome(attempt: Callable[[], object]) -> tuple[type, str]:
    with pytest.raises(DomainError) as caught:
        attempt()
    return type(caught.value), str(caught.value)


def test_a_real_record_b_does_not_reach_answers_exactly_like_a_random_id(registry: Registry, sita: str) -> None:
    missing = str(uuid.uuid4())

    real = [outcome(a) for a in every_read_and_write(registry, sita, CASEWORKER_B)]
    absent = [outcome(a) for a in every_read_and_write(registry, missing, CASEWORKER_B)]

    assert real == absent
    assert {o for o in real} == {(NotFound, "no such worker")}
    assert all(sita not in message for _, message in real)
    # The attempts on the real record are there for auditors, refused; the random id leaves nothing.
    refused = [r for r in registry.audit.records if not r.allowed]
    assert {r.resource_id for r in refused} == {sita}
    assert {r.state_code for r in refused} == {"10"}


def test_searching_by_her_identifiers_finds_only_what_b_itself_registered(registry: Registry, sita: str) -> None:
    searches = [
        Search(phone=SITA_PHONE),
        Search(document=DocumentInput(DocumentKind.AADHAAR, SITA_AADHAAR)),
        Search(name="Sita Devi"),
        Search(district_code="188"),
        Search(registering_partner_id="partner-a"),
    ]
    for search in searches:
        for purpose in ("case_management", "sharing", "registration"):
            found, _ = registry.workers.search(search, acting_for(CASEWORKER_B, purpose))
            assert found == [], (search, purpose)
    with pytest.raises(InvalidArgument) as sector_only:
        registry.workers.search(Search(sector=Sector.CONSTRUCTION), CASEWORKER_B)
    assert [v.field for v in sector_only.value.violations] == ["sector"]


# -- statistics, ids, events ---------------------------------------------------------------------


def test_a_partner_of_one_state_gets_no_statistics_of_another(registry: Registry, sita: str) -> None:
    statistics = StatisticsService(StoredWorkerCounts(registry.store), min_cell_size=1)
    up = caller_for(Role.CASEWORKER, partner_id="up-cso", states={"9"})

    with pytest.raises(InvalidArgument) as caught:
        statistics.workers_by(GroupBy.HOME_DISTRICT, up, state_code="10")
    own = statistics.workers_by(GroupBy.HOME_DISTRICT, up)

    assert [v.field for v in caught.value.violations] == ["state_code"]
    assert own.cells == {}
    assert statistics.workers_by(GroupBy.HOME_DISTRICT, CASEWORKER_A).cells == {"188": 1}


def test_ids_cannot_be_computed_from_a_partner_and_its_idempotency_key(registry: Registry, sita: str) -> None:
    key = scoped_key("partner-a", "sita")
    old_scheme = uuid.uuid5(uuid.UUID("6b1f0c52-5d0e-4f3c-9a61-2f7e0d1c9b40"), f"worker:{key}")

    assert sita == IDS.derive("worker", key)  # retries map to the same id...
    assert sita != str(old_scheme)  # ... which nobody without the key can compute
    assert sita != IdDeriver(b"another-deployments-secret-key!!").derive("worker", key)
    assert uuid.UUID(sita).version == 8


def test_events_carry_no_names_villages_phones_or_witnesses(registry: Registry, sita: str) -> None:
    b_registers(registry, identity_documents=(DocumentInput(DocumentKind.AADHAAR, SITA_AADHAAR),))
    shared = consent_input(
        purposes=frozenset({ConsentPurpose.PARTNER_SHARING}),
        shared_with_partner_ids=frozenset({"partner-b"}),
        expires_at=registry.clock.now + timedelta(days=1),
    )
    registry.workers.grant_consent(sita, shared, "share", REGISTRAR_A)
    registry.workers.update(
        UpdateWorker(sita, worker_input(full_name="Sita Kumari"), frozenset({"full_name"})), CASEWORKER_A
    )
    registry.clock.now += timedelta(days=2)
    registry.workers.announce_expired_consents()
    registry.workers.erase(sita, "asked", SUPERVISOR_A)

    envelopes = [*registry.repository.outbox, *registry.outbox_of("households")]
    assert {e.type for e in envelopes} >= {
        "mrc.registry.v1.WorkerRegistered",
        "mrc.registry.v1.ConsentChanged",
        "mrc.registry.v1.WorkerUpdated",
        "mrc.registry.v1.WorkerErased",
    }
    for envelope in envelopes:
        for secret in (*SITA_SECRETS, "Sita", "Mohan", "Phulwari", "9876543210", SITA_UAN, "234567890124"):
            assert secret.encode() not in envelope.data, (envelope.type, secret)
