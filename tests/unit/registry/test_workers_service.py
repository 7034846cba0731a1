"""The worker use cases: register, read, correct, search, consent and erase, with who may see what."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from mrc.audit.v1 import audit_pb2
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.errors import (
    Conflict,
    ErrorCode,
    IdempotencyKeyReused,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from mrc_kernel.place import Place
from mrc_kernel.roles import Role
from mrc_kernel.vocabulary import Sector
from mrc_plumbing.store import Page
from mrc_registry.adapters.protobuf_mapping import to_envelope
from mrc_registry.domain.consent import CaptureMethod, ConsentPurpose
from mrc_registry.domain.worker import DocumentKind, Vulnerability, Worker, WorkerRegistered, WorkerStatus
from mrc_registry.domain.worker_access import CONTACT, DOCUMENTS, EVERY_FIELD, IDENTITY, VULNERABILITIES, WORK
from mrc_registry.service_layer import workers as workers_module
from mrc_registry.service_layer.commands import DocumentInput, Search, UpdateWorker, WorkerInput
from mrc_registry.service_layer.workers import PERSONAL_FIELDS, WorkerView
from tests.support.auth import AuditCall, caller_for

from .fakes import (
    AADHAAR,
    ARARIA,
    AUDITOR,
    BAD_AADHAAR,
    BIHAR_LABOUR,
    CASEWORKER_A,
    CASEWORKER_B,
    MAHARASHTRA_LABOUR,
    PHONE_E164,
    PUNE,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_A,
    Registry,
    aadhaar,
    acting_for,
    consent_input,
    make_registry,
    register_command,
    registered,
    sharing_with,
)

REGISTERED = "mrc.registry.v1.WorkerRegistered"
UPDATED = "mrc.registry.v1.WorkerUpdated"
AUDITED = "mrc.audit.v1.DataAccessed"


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def fields_of(error: InvalidArgument) -> list[str]:
    return [v.field for v in error.violations]


def assert_nothing_stored(registry: Registry) -> None:
    assert registry.repository.workers == {}
    assert registry.repository.outbox == []
    assert registry.notified == 0


# -- registration --------------------------------------------------------------------------------


def test_a_valid_registration_stores_the_worker_its_event_and_audit_and_wakes_the_relay(registry: Registry) -> None:
    registration = registry.workers.register(register_command(), REGISTRAR_A)

    worker = registration.view.worker
    assert registration.created and not registration.linked_to_existing
    assert registration.possible_duplicates == ()
    assert registration.view.phone == PHONE_E164
    assert registry.repository.get(worker.worker_id) == worker
    assert worker.registering_partner_id == "partner-a"
    assert [c.captured_by_partner_id for c in worker.consents] == ["partner-a"]
    assert sorted(registry.repository.types()) == sorted([REGISTERED, AUDITED])
    [audit] = registry.repository.audit_messages()
    assert audit.action == audit_pb2.ACCESS_ACTION_CREATE
    assert audit.resource_id == worker.worker_id
    assert audit.actor.partner_id == "partner-a"
    assert audit.state_code == "10"
    assert list(audit.fields) == sorted(PERSONAL_FIELDS)
    assert registry.notified == 1


def test_a_retry_with_the_same_idempotency_key_returns_the_first_worker_and_stores_nothing_more(
    registry: Registry,
) -> None:
    first = registry.workers.register(register_command("key-1"), REGISTRAR_A)
    retry = registry.workers.register(register_command("key-1"), REGISTRAR_A)

    assert not retry.created
    assert retry.view.worker.worker_id == first.view.worker.worker_id
    assert len(registry.repository.workers) == 1
    assert len(registry.repository.envelopes(REGISTERED)) == 1
    assert len(registry.repository.audit_messages()) == 1
    assert registry.notified == 1


def test_the_same_key_with_a_different_body_is_refused_with_422(registry: Registry) -> None:
    registry.workers.register(register_command("key-1"), REGISTRAR_A)

    with pytest.raises(IdempotencyKeyReused) as caught:
        registry.workers.register(register_command("key-1", occupation="painter"), REGISTRAR_A)

    assert caught.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert len(registry.repository.workers) == 1


def test_equal_requests_have_equal_fingerprints_whatever_order_their_sets_were_built_in(registry: Registry) -> None:
    # Two partner ids whose frozensets iterate differently depending on insertion order (a hash collision).
    x, y = next(
        (x, y)
        for x, y in itertools.combinations([f"partner-{n}" for n in range(200)], 2)
        if list(frozenset([x, y])) != list(frozenset([y, x]))
    )
    purposes = frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.PARTNER_SHARING})
    first = register_command(consent=consent_input(purposes=purposes, shared_with_partner_ids=frozenset([x, y])))
    retry = register_command(consent=consent_input(purposes=purposes, shared_with_partner_ids=frozenset([y, x])))
    assert first == retry

    registry.workers.register(first, REGISTRAR_A)
    assert not registry.workers.register(retry, REGISTRAR_A).created


def test_the_same_key_from_another_partner_is_another_request(registry: Registry) -> None:
    registered(registry, REGISTRAR_A, "key-1")
    other = registry.workers.register(
        register_command("key-1", full_name="Mohan Lal", phone="9123456789", home=ARARIA), REGISTRAR_B
    )

    assert other.created
    assert len(registry.repository.workers) == 2


def test_registration_needs_consent_for_registration(registry: Registry) -> None:
    consent = consent_input(purposes=frozenset({ConsentPurpose.ENTITLEMENT_LINKAGE}))

    with pytest.raises(InvalidArgument) as caught:
        registry.workers.register(register_command(consent=consent), REGISTRAR_A)

    assert fields_of(caught.value) == ["consent.purposes"]
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert_nothing_stored(registry)


def test_verbal_consent_needs_a_witness(registry: Registry) -> None:
    consent = consent_input(method=CaptureMethod.VERBAL_WITH_WITNESS, witness_name="  ")

    with pytest.raises(InvalidArgument) as caught:
        registry.workers.register(register_command(consent=consent), REGISTRAR_A)

    assert fields_of(caught.value) == ["consent.witness_name"]
    assert_nothing_stored(registry)


def test_an_aadhaar_with_a_wrong_check_digit_is_named_and_nothing_is_stored(registry: Registry) -> None:
    command = register_command(identity_documents=aadhaar(BAD_AADHAAR))

    with pytest.raises(InvalidArgument) as caught:
        registry.workers.register(command, REGISTRAR_A)

    assert fields_of(caught.value) == ["identity_documents.0.number"]
    assert "2345" not in str(caught.value)  # the message never echoes the number
    assert_nothing_stored(registry)


def test_invalid_details_are_all_named_at_once(registry: Registry) -> None:
    command = register_command(full_name=" ", phone="12345", birth_year=1850)

    with pytest.raises(InvalidArgument) as caught:
        registry.workers.register(command, REGISTRAR_A)

    assert set(fields_of(caught.value)) == {"phone", "full_name", "birth_year"}
    assert_nothing_stored(registry)


def test_the_phone_is_stored_only_encrypted_and_never_published(registry: Registry) -> None:
    worker = registered(registry)

    phone = worker.details.phone
    assert phone is not None
    assert phone.encrypted.startswith("enc:phone:")
    assert phone.last4 == "3210"
    assert registry.workers.get(worker.worker_id, CASEWORKER_A).phone == PHONE_E164
    published = to_envelope(WorkerRegistered(worker)).data
    assert b"9876543210" not in published
    assert b"43210" not in published
    assert all(b"9876543210" not in e.data for e in registry.repository.outbox)


def test_the_aadhaar_number_is_never_stored_only_its_blind_index_and_last_four_digits(registry: Registry) -> None:
    voter_id = DocumentInput(DocumentKind.VOTER_ID, "abc 1234567")
    worker = registered(registry, identity_documents=(*aadhaar(AADHAAR), voter_id))

    documents = {d.kind: d for d in worker.details.identity_documents}
    assert documents[DocumentKind.AADHAAR].encrypted == ""
    assert documents[DocumentKind.AADHAAR].masked == "XXXX XXXX 0124"
    assert documents[DocumentKind.AADHAAR].blind_index == "bi:aadhaar:234567890124"
    assert documents[DocumentKind.VOTER_ID].encrypted == "enc:identity_documents.voter_id:ABC1234567"
    assert documents[DocumentKind.VOTER_ID].masked == "XXXXXX4567"
    assert all(b"234567890124" not in e.data for e in registry.repository.outbox)


def test_a_name_in_devanagari_gets_a_latin_transliteration(registry: Registry) -> None:
    worker = registered(registry, full_name="सीता  देवी")

    assert worker.details.full_name == "सीता देवी"
    assert worker.details.latin_name == "sita devi"


def test_registration_needs_the_write_scope_and_a_known_purpose(registry: Registry) -> None:
    with pytest.raises(PermissionDenied):
        registry.workers.register(register_command(), AUDITOR)
    with pytest.raises(InvalidArgument) as caught:
        registry.workers.register(register_command(), caller_for(Role.REGISTRAR, purpose="marketing"))

    assert fields_of(caught.value) == ["purpose"]
    assert_nothing_stored(registry)


# -- visibility ----------------------------------------------------------------------------------


def test_another_partner_without_consent_gets_not_found_like_a_missing_id_and_is_audited_as_denied(
    registry: Registry,
) -> None:
    worker_id = registered(registry).worker_id

    with pytest.raises(NotFound) as hidden:
        registry.workers.get(worker_id, CASEWORKER_B)
    with pytest.raises(NotFound) as missing:
        registry.workers.get("missing-id", CASEWORKER_B)

    assert str(hidden.value) == str(missing.value) == "no such worker"  # no id echoed, nothing told apart
    assert registry.audit.records == [
        AuditCall(CASEWORKER_B, Action.READ, "worker", worker_id, (), allowed=False, state_code="10"),
    ]


def test_the_registering_partner_reads_its_worker_and_the_read_is_audited(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    view = registry.workers.get(worker_id, CASEWORKER_A)

    assert view.worker.details.full_name == "Ravi Kumar"
    assert view.fields == EVERY_FIELD
    assert registry.audit.records == [
        AuditCall(
            CASEWORKER_A,
            Action.READ,
            "worker",
            worker_id,
            tuple(sorted(PERSONAL_FIELDS)),
            allowed=True,
            state_code="10",
        )
    ]


def test_partner_sharing_consent_naming_the_partner_lets_it_read_the_worker_for_sharing(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    registry.workers.grant_consent(worker_id, sharing_with("partner-b"), "share-1", REGISTRAR_A)

    view = registry.workers.get(worker_id, acting_for(CASEWORKER_B, "sharing"))
    assert view.worker.worker_id == worker_id
    # Sharing shows who the worker is and their work; never the phone, documents or vulnerabilities.
    assert view.fields == frozenset(IDENTITY + WORK)
    assert view.phone == ""
    with pytest.raises(NotFound):  # the consent allows sharing, not B's own case management
        registry.workers.get(worker_id, CASEWORKER_B)
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, caller_for(Role.CASEWORKER, partner_id="partner-c", purpose="sharing"))


def test_revoking_the_sharing_consent_hides_the_worker_again_at_once(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    shared = registry.workers.grant_consent(worker_id, sharing_with("partner-b"), "share-1", REGISTRAR_A)
    consent_id = shared.worker.consents[-1].consent_id

    view = registry.workers.revoke_consent(worker_id, consent_id, REGISTRAR_A)

    assert view is not None
    assert view.worker.consents[-1].revoked_at == registry.clock.now
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, acting_for(CASEWORKER_B, "sharing"))


def test_an_expired_sharing_consent_hides_the_worker(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    expires = registry.clock.now + timedelta(days=30)
    registry.workers.grant_consent(worker_id, sharing_with("partner-b", expires_at=expires), "share-1", REGISTRAR_A)
    registry.workers.get(worker_id, acting_for(CASEWORKER_B, "sharing"))

    registry.clock.now = expires

    with pytest.raises(NotFound):
        registry.workers.get(worker_id, acting_for(CASEWORKER_B, "sharing"))


def test_government_sharing_is_seen_by_government_partners_only_inside_their_states(registry: Registry) -> None:
    purposes = frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.GOVERNMENT_SHARING})
    worker_id = registry.workers.register(
        register_command(consent=consent_input(purposes=purposes)), REGISTRAR_A
    ).view.worker.worker_id

    assert registry.workers.get(worker_id, BIHAR_LABOUR).worker.worker_id == worker_id
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, MAHARASHTRA_LABOUR)
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, CASEWORKER_B)  # a CSO is no government


def test_without_government_sharing_a_government_partner_sees_nothing(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    with pytest.raises(NotFound):
        registry.workers.get(worker_id, BIHAR_LABOUR)


def test_a_client_limited_to_other_states_does_not_see_its_own_partners_workers_there(registry: Registry) -> None:
    worker_id = registered(registry).worker_id  # home in Bihar
    in_maharashtra = caller_for(Role.CASEWORKER, partner_id="partner-a", states={"27"})
    in_araria = caller_for(Role.CASEWORKER, partner_id="partner-a", states={"10"}, districts={"188"})

    with pytest.raises(NotFound):
        registry.workers.get(worker_id, in_maharashtra)
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, in_araria)  # Patna is another district


def test_an_undeclared_purpose_the_consent_does_not_allow_is_not_found(registry: Registry) -> None:
    worker_id = registered(registry).worker_id  # consent for registration only

    with pytest.raises(NotFound):
        registry.workers.get(worker_id, acting_for(CASEWORKER_A, "entitlement_linkage"))
    assert registry.workers.get(worker_id, acting_for(CASEWORKER_A, "registration")).worker.worker_id == worker_id


def test_reading_needs_the_read_scope(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    with pytest.raises(PermissionDenied):
        registry.workers.get(worker_id, AUDITOR)


def test_reads_fail_closed_when_the_audit_trail_is_down(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    registry.audit.failing = True

    with pytest.raises(Unavailable) as caught:
        registry.workers.get(worker_id, CASEWORKER_A)
    with pytest.raises(Unavailable):
        registry.workers.search(Search(district_code="212"), CASEWORKER_A)

    assert caught.value.code is ErrorCode.UNAVAILABLE


# -- partial update ------------------------------------------------------------------------------


def update(worker_id: str, paths: set[str], expected_version: int = 0, **changes: object) -> UpdateWorker:
    # Fields not named in `paths` carry junk: the update must ignore them.
    values: dict[str, object] = {"full_name": "IGNORED", "gender": None, "birth_year": None, "home": PUNE, "phone": ""}
    values.update(changes)
    return UpdateWorker(worker_id, WorkerInput(**values), frozenset(paths), expected_version)  # type: ignore[arg-type]


def test_a_partial_update_changes_only_the_named_fields(registry: Registry) -> None:
    before = registered(registry, identity_documents=aadhaar())

    view = registry.workers.update(update(before.worker_id, {"occupation"}, occupation="tiler"), CASEWORKER_A)

    after = view.worker
    assert after.details.occupation == "tiler"
    assert after.details.full_name == before.details.full_name
    assert after.details.home == before.details.home
    assert after.details.gender == before.details.gender
    assert after.details.phone == before.details.phone
    assert after.details.identity_documents == before.details.identity_documents
    assert after.version == 2
    assert registry.repository.get(before.worker_id) == after
    [event] = registry.repository.messages(UPDATED)
    assert list(event.changed_fields) == ["occupation"]
    assert event.facts.occupation == "tiler"
    assert registry.audit.events[-1].action is Action.UPDATE
    assert registry.audit.events[-1].fields == ("occupation",)
    assert registry.notified == 2


def test_a_stale_expected_version_is_a_conflict(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    registry.workers.update(update(worker_id, {"occupation"}, 1, occupation="tiler"), CASEWORKER_A)

    with pytest.raises(Conflict) as caught:
        registry.workers.update(update(worker_id, {"occupation"}, 1, occupation="painter"), CASEWORKER_A)

    assert caught.value.code is ErrorCode.CONFLICT
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.details.occupation == "tiler"


def test_a_change_stored_between_read_and_write_is_a_conflict(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_id = registered(registry).worker_id
    read = registry.repository.get

    def read_then_someone_else_writes(wanted: str) -> Worker | None:
        stale = read(wanted)
        monkeypatch.setattr(registry.repository, "get", read)
        registry.workers.update(update(wanted, {"occupation"}, occupation="painter"), SUPERVISOR_A)
        return stale

    monkeypatch.setattr(registry.repository, "get", read_then_someone_else_writes)

    with pytest.raises(Conflict):
        registry.workers.update(update(worker_id, {"occupation"}, occupation="tiler"), CASEWORKER_A)

    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.details.occupation == "painter"


def test_renaming_updates_the_latin_name_and_lists_both_fields(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    view = registry.workers.update(update(worker_id, {"full_name"}, full_name="मोहन  लाल"), CASEWORKER_A)

    assert (view.worker.details.full_name, view.worker.details.latin_name) == ("मोहन लाल", "mohan lal")
    assert registry.audit.events[-1].fields == ("full_name", "latin_name")


def test_an_empty_phone_in_the_update_removes_the_phone(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    view = registry.workers.update(update(worker_id, {"phone"}, phone=""), CASEWORKER_A)

    assert view.worker.details.phone is None
    assert view.phone == ""
    assert registry.audit.events[-1].fields == ("phone",)


def test_a_new_document_is_added_beside_the_stored_ones(registry: Registry) -> None:
    worker_id = registered(registry, identity_documents=aadhaar()).worker_id
    voter_id = DocumentInput(DocumentKind.VOTER_ID, "ABC1234567")

    view = registry.workers.update(
        update(worker_id, {"identity_documents"}, identity_documents=(voter_id,)), SUPERVISOR_A
    )

    assert [d.kind for d in view.worker.details.identity_documents] == [DocumentKind.AADHAAR, DocumentKind.VOTER_ID]


def test_an_update_that_changes_nothing_writes_nothing(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    outbox = list(registry.repository.outbox)

    view = registry.workers.update(update(worker_id, {"occupation"}, occupation=" mason "), CASEWORKER_A)

    assert view.worker.version == 1
    assert registry.repository.outbox == outbox
    assert registry.notified == 1


def test_an_unknown_path_is_refused(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    with pytest.raises(InvalidArgument) as caught:
        registry.workers.update(update(worker_id, {"occupation", "registering_partner_id"}), CASEWORKER_A)

    assert fields_of(caught.value) == ["update_mask"]
    assert "registering_partner_id" in str(caught.value)


def test_invalid_changes_are_named(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    with pytest.raises(InvalidArgument) as bad_phone:
        registry.workers.update(update(worker_id, {"phone"}, phone="12"), CASEWORKER_A)
    with pytest.raises(InvalidArgument) as bad_home:
        registry.workers.update(update(worker_id, {"home"}, home=Place("10", "490")), CASEWORKER_A)

    assert fields_of(bad_phone.value) == ["phone"]
    assert fields_of(bad_home.value) == ["home.district_code"]


def test_another_partner_cannot_update_a_worker_it_does_not_see(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    with pytest.raises(NotFound):
        registry.workers.update(update(worker_id, {"occupation"}, occupation="tiler"), CASEWORKER_B)


def test_a_partner_sharing_the_record_cannot_change_it(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    registry.workers.grant_consent(worker_id, sharing_with("partner-b"), "share-1", REGISTRAR_A)

    with pytest.raises(InvalidArgument) as caught:  # changes need 'registration' or 'case_management'
        registry.workers.update(
            update(worker_id, {"occupation"}, occupation="tiler"), acting_for(CASEWORKER_B, "sharing")
        )
    with pytest.raises(NotFound):
        registry.workers.update(update(worker_id, {"occupation"}, occupation="tiler"), CASEWORKER_B)

    assert fields_of(caught.value) == ["purpose"]
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.details.occupation == "mason"


def test_a_partner_the_record_is_shared_with_cannot_change_what_it_may_not_see(registry: Registry) -> None:
    purposes = frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.PARTNER_SHARING})
    consent = consent_input(purposes=purposes, shared_with_partner_ids=frozenset({"partner-b"}))
    worker_id = registry.workers.register(
        register_command(consent=consent, vulnerabilities=frozenset({Vulnerability.BONDED_LABOUR_RISK})),
        REGISTRAR_A,
    ).view.worker.worker_id
    # Sharing passes the consent's purposes on: partner B may use the record for registration too.
    writer_b = acting_for(CASEWORKER_B, "registration")

    with pytest.raises(InvalidArgument) as caught:
        registry.workers.update(update(worker_id, {"vulnerabilities"}, vulnerabilities=frozenset()), writer_b)
    changed = registry.workers.update(update(worker_id, {"occupation"}, occupation="tiler"), writer_b)

    assert fields_of(caught.value) == ["update_mask"]
    assert changed.worker.details.occupation == "tiler"
    assert "vulnerabilities" not in changed.fields
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.details.vulnerabilities == {Vulnerability.BONDED_LABOUR_RISK}


def test_moving_a_worker_outside_the_callers_geography_is_refused_naming_the_field(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    bihar = caller_for(Role.CASEWORKER, partner_id="partner-a", states={"10"})
    patna = caller_for(Role.CASEWORKER, partner_id="partner-a", states={"10"}, districts={"212"})

    with pytest.raises(InvalidArgument) as other_state:
        registry.workers.update(update(worker_id, {"home"}, home=PUNE), bihar)
    with pytest.raises(InvalidArgument) as other_district:
        registry.workers.update(update(worker_id, {"home"}, home=ARARIA), patna)

    assert fields_of(other_state.value) == ["home.state_code"]
    assert fields_of(other_district.value) == ["home.district_code"]
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.details.home.district_code == "212" and stored.version == 1


# -- search --------------------------------------------------------------------------------------


def ids(views: list[WorkerView]) -> list[str]:
    return [v.worker.worker_id for v in views]


def test_search_by_phone_normalises_what_is_typed(registry: Registry) -> None:
    worker_id = registered(registry, phone="+919876543210").worker_id

    found, token = registry.workers.search(Search(phone="98765 43210"), CASEWORKER_A)

    assert ids(found) == [worker_id]
    assert token == ""
    assert found[0].phone == PHONE_E164


def test_search_by_aadhaar(registry: Registry) -> None:
    worker_id = registered(registry, identity_documents=aadhaar("2345-6789-0124")).worker_id
    registered(registry, key="key-2", full_name="Mohan Lal", phone="9123456789", home=ARARIA)

    found, _ = registry.workers.search(Search(document=aadhaar("234567890124")[0]), CASEWORKER_A)

    assert ids(found) == [worker_id]


def test_search_by_a_name_written_in_another_script(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    registered(registry, key="key-2", full_name="Mohan Lal", phone="9123456789", home=ARARIA)

    found, _ = registry.workers.search(Search(name="रवि कुमार"), CASEWORKER_A)

    assert ids(found) == [worker_id]


def test_search_by_district_and_sector(registry: Registry) -> None:
    in_patna = registered(registry).worker_id
    in_araria = registered(registry, key="key-2", full_name="Mohan Lal", phone="9123456789", home=ARARIA).worker_id

    by_district, _ = registry.workers.search(Search(district_code="188"), CASEWORKER_A)
    by_sector, _ = registry.workers.search(Search(district_code="212", sector=Sector.CONSTRUCTION), CASEWORKER_A)
    by_partner, _ = registry.workers.search(Search(registering_partner_id="partner-a"), CASEWORKER_A)
    none, _ = registry.workers.search(Search(district_code="188", sector=Sector.MINING), CASEWORKER_A)

    assert ids(by_district) == [in_araria]
    assert ids(by_sector) == [in_patna]
    assert sorted(ids(by_partner)) == sorted([in_patna, in_araria])
    assert none == []


def test_a_sector_alone_is_refused_naming_the_sector(registry: Registry) -> None:
    registered(registry)

    # Nothing indexes a sector: a search by it alone would read every worker.
    with pytest.raises(InvalidArgument) as caught:
        registry.workers.search(Search(sector=Sector.CONSTRUCTION), CASEWORKER_A)

    assert fields_of(caught.value) == ["sector"]
    assert registry.audit.records == []


NAMES = ["Mohan Lal", "Anita Kumari", "Suresh Yadav", "Geeta Paswan", "Ramesh Manjhi"]


def register_many(registry: Registry, caller: Caller, prefix: str, names: list[str]) -> list[str]:
    worker_ids = []
    for n, name in enumerate(names):
        command = register_command(f"{prefix}-{n}", full_name=name, phone=f"91234567{n}{len(prefix)}", home=ARARIA)
        worker_ids.append(registry.workers.register(command, caller).view.worker.worker_id)
    return worker_ids


def test_search_returns_only_workers_the_caller_may_see(registry: Registry) -> None:
    mine = register_many(registry, REGISTRAR_A, "a", NAMES[:2])
    theirs = register_many(registry, REGISTRAR_B, "bb", NAMES[2:])
    registry.workers.grant_consent(theirs[0], sharing_with("partner-a"), "share", REGISTRAR_B)

    found, _ = registry.workers.search(Search(district_code="188"), CASEWORKER_A)
    shared, _ = registry.workers.search(Search(district_code="188"), acting_for(CASEWORKER_A, "sharing"))

    assert sorted(ids(found)) == sorted(mine)
    assert ids(shared) == [theirs[0]]
    assert shared[0].fields == frozenset(IDENTITY + WORK) and shared[0].phone == ""


def test_pages_follow_one_another_through_the_token(registry: Registry) -> None:
    mine = register_many(registry, REGISTRAR_A, "a", NAMES)
    register_many(registry, REGISTRAR_B, "bb", ["Sunita Devi", "Pankaj Singh", "Birju Ram"])  # interleaved, hidden

    seen: list[str] = []
    token = ""
    for _ in range(5):
        page, token = registry.workers.search(Search(district_code="188", page_size=2, page_token=token), CASEWORKER_A)
        assert len(page) <= 2
        seen += ids(page)
        if not token:
            break

    assert token == ""
    assert seen == sorted(mine)


def test_a_page_token_this_service_did_not_issue_is_refused(registry: Registry) -> None:
    with pytest.raises(InvalidArgument) as caught:
        registry.workers.search(Search(district_code="188", page_token="not a token"), CASEWORKER_A)

    assert fields_of(caught.value) == ["page_token"]


@pytest.mark.parametrize("token", ["!!!", "%%%%"])
def test_a_page_token_of_junk_characters_is_refused(registry: Registry, token: str) -> None:
    with pytest.raises(InvalidArgument):
        registry.workers.search(Search(district_code="188", page_token=token), CASEWORKER_A)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (Search(), "query"),
        (Search(name="   "), "query"),
        (Search(district_code="188", page_size=0), "page_size"),
        (Search(district_code="188", page_size=201), "page_size"),
        (Search(phone="12"), "phone"),
        (Search(document=DocumentInput(DocumentKind.AADHAAR, BAD_AADHAAR)), "identity_document.number"),
    ],
)
def test_invalid_searches_name_the_field(registry: Registry, query: Search, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        registry.workers.search(query, CASEWORKER_A)

    assert fields_of(caught.value) == [field]


def test_every_worker_a_search_returns_is_audited_as_search(registry: Registry) -> None:
    mine = register_many(registry, REGISTRAR_A, "a", NAMES[:3])
    register_many(registry, REGISTRAR_B, "bb", NAMES[3:])

    registry.workers.search(Search(district_code="188"), CASEWORKER_A)

    assert sorted((r.action, r.resource_id, r.allowed) for r in registry.audit.records) == sorted(
        (Action.SEARCH, worker_id, True) for worker_id in mine
    )


def test_searching_needs_the_read_scope(registry: Registry) -> None:
    with pytest.raises(PermissionDenied):
        registry.workers.search(Search(district_code="188"), AUDITOR)


# -- consent -------------------------------------------------------------------------------------


def test_granting_consent_twice_with_one_key_records_it_once(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    first = registry.workers.grant_consent(worker_id, sharing_with("partner-b"), "share-1", REGISTRAR_A)
    again = registry.workers.grant_consent(worker_id, sharing_with("partner-b"), "share-1", REGISTRAR_A)

    assert len(first.worker.consents) == len(again.worker.consents) == 2
    assert again.worker.version == 2
    assert registry.notified == 2
    assert [e.type for e in registry.repository.outbox].count("mrc.registry.v1.ConsentChanged") == 1


def test_an_invalid_consent_is_refused(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    no_partners = consent_input(purposes=frozenset({ConsentPurpose.PARTNER_SHARING}))

    with pytest.raises(InvalidArgument) as caught:
        registry.workers.grant_consent(worker_id, no_partners, "", REGISTRAR_A)

    assert fields_of(caught.value) == ["consent.shared_with_partner_ids"]


def test_consent_changes_need_the_worker_to_be_visible_and_the_consent_to_exist(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    with pytest.raises(NotFound):
        registry.workers.grant_consent(worker_id, sharing_with("partner-b"), "", REGISTRAR_B)
    with pytest.raises(NotFound):
        registry.workers.revoke_consent(worker_id, "no-such-consent", REGISTRAR_A)
    with pytest.raises(PermissionDenied):
        registry.workers.revoke_consent(worker_id, "no-such-consent", AUDITOR)


# -- erasure -------------------------------------------------------------------------------------


def test_erasure_needs_the_erase_scope(registry: Registry) -> None:
    worker_id = registered(registry).worker_id

    with pytest.raises(PermissionDenied):
        registry.workers.erase(worker_id, "worker asked at the helpdesk", CASEWORKER_A)
    with pytest.raises(InvalidArgument) as caught:
        registry.workers.erase(worker_id, "  ", SUPERVISOR_A)

    assert fields_of(caught.value) == ["reason"]
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.status is WorkerStatus.ACTIVE


def test_erasure_removes_personal_data_publishes_it_and_later_reads_are_not_found(registry: Registry) -> None:
    worker_id = registered(registry, identity_documents=aadhaar()).worker_id

    registry.workers.erase(worker_id, "request by the worker on 2026-01-15 at the Patna helpdesk", SUPERVISOR_A)

    stored = registry.repository.get(worker_id)
    assert stored is not None
    assert stored.status is WorkerStatus.ERASED
    assert stored.details.full_name == stored.details.latin_name == ""
    assert stored.details.phone is None
    assert stored.details.identity_documents == ()
    assert stored.details.father_or_spouse_name == ""
    assert stored.consents == []
    assert registry.repository.match_keys(worker_id) == set()
    [erased] = registry.repository.messages("mrc.registry.v1.WorkerErased")
    assert erased.worker_id == worker_id
    assert registry.audit.events[-1].action is Action.ERASE
    assert registry.audit.events[-1].fields == tuple(
        sorted([*PERSONAL_FIELDS, "evidence:supervisor_of_registering_partner"])
    )
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, SUPERVISOR_A)
    with pytest.raises(NotFound):
        registry.workers.erase(worker_id, "again", SUPERVISOR_A)
    assert registry.workers.search(Search(district_code="212"), SUPERVISOR_A) == ([], "")


# -- what each purpose shows ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "declared", "shown"),
    [
        (None, "sharing", IDENTITY + WORK),
        (ConsentPurpose.ENTITLEMENT_LINKAGE, "entitlement_linkage", IDENTITY + DOCUMENTS + WORK),
        (ConsentPurpose.GRIEVANCE_FOLLOW_UP, "grievance_follow_up", IDENTITY + CONTACT + WORK + VULNERABILITIES),
        (ConsentPurpose.REGISTRATION, "case_management", IDENTITY + CONTACT + DOCUMENTS + WORK),
    ],
)
def test_a_partner_the_worker_shared_with_sees_the_fields_of_the_consents_purposes(
    registry: Registry, purpose: ConsentPurpose | None, declared: str, shown: tuple[str, ...]
) -> None:
    worker_id = registered(
        registry, identity_documents=aadhaar(), vulnerabilities=frozenset({Vulnerability.SINGLE_WOMAN})
    ).worker_id
    purposes = frozenset({ConsentPurpose.PARTNER_SHARING, *([purpose] if purpose else [])})
    registry.workers.grant_consent(worker_id, sharing_with("partner-b", purposes=purposes), "share", REGISTRAR_A)

    view = registry.workers.get(worker_id, acting_for(CASEWORKER_B, declared))

    assert view.fields == frozenset(shown)
    assert view.phone == (PHONE_E164 if "phone" in shown else "")
    assert registry.audit.records[-1].fields == tuple(sorted(shown))  # the audit names what was shown
    assert registry.workers.get(worker_id, CASEWORKER_A).fields == EVERY_FIELD


# -- listings are time-bounded pages -------------------------------------------------------------


def test_a_listing_the_store_cut_short_for_time_continues_with_a_token_instead_of_ending(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = register_many(registry, REGISTRAR_A, "a", NAMES)
    collection = registry.repository.adapter._workers
    page = collection.page
    slow = iter([True])

    def out_of_time_once(filter: Any, *, after: str = "", limit: int, **rest: Any) -> Page:
        full = page(filter, after=after, limit=limit, **rest)
        if next(slow, False):  # the store's time budget ran out after two documents
            return Page(full.documents[:2], full.documents[1]["_id"], budget_exhausted=True)
        return full

    monkeypatch.setattr(collection, "page", out_of_time_once)

    found, token = registry.workers.search(Search(district_code="188", page_size=5), CASEWORKER_A)

    # The short page from the store was not taken for the end of the listing: reading went on.
    assert ids(found) == sorted(mine)
    assert token == ""


def test_a_search_out_of_time_answers_a_short_page_whose_token_continues_where_reading_stopped(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = register_many(registry, REGISTRAR_A, "a", NAMES)
    collection = registry.repository.adapter._workers
    page = collection.page

    def two_at_a_time(filter: Any, *, after: str = "", limit: int, **rest: Any) -> Page:
        full = page(filter, after=after, limit=limit, **rest)
        if len(full.documents) <= 2:
            return full
        return Page(full.documents[:2], full.documents[1]["_id"], budget_exhausted=True)

    monkeypatch.setattr(collection, "page", two_at_a_time)
    monkeypatch.setattr(workers_module, "SEARCH_TIME_BUDGET_SECONDS", 0.0)

    first, token = registry.workers.search(Search(district_code="188", page_size=5), CASEWORKER_A)
    second, token_2 = registry.workers.search(Search(district_code="188", page_size=5, page_token=token), CASEWORKER_A)
    third, last = registry.workers.search(Search(district_code="188", page_size=5, page_token=token_2), CASEWORKER_A)

    assert (len(first), len(second), len(third)) == (2, 2, 1)
    assert token and token_2
    assert ids(first) + ids(second) + ids(third) == sorted(mine)
    assert last == ""


def test_a_search_through_records_the_caller_may_not_use_stops_at_its_time_budget(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_many(registry, REGISTRAR_B, "bb", NAMES)  # none of them partner A's
    mine = register_many(registry, REGISTRAR_A, "zzzz", ["Sunita Devi"])
    reads = 0
    search = registry.repository.adapter.search

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return search(*args, **kwargs)

    monkeypatch.setattr(registry.repository.adapter, "search", counted)
    monkeypatch.setattr(workers_module, "SEARCH_TIME_BUDGET_SECONDS", 0.0)

    seen: list[str] = []
    pages = 0
    token = ""
    while True:
        found, token = registry.workers.search(Search(district_code="188", page_size=1, page_token=token), CASEWORKER_A)
        pages += 1
        seen += ids(found)
        if not token:
            break

    assert seen == mine
    assert reads == pages  # one read of the store per request: no request scans the district on its own
    assert pages > 1
