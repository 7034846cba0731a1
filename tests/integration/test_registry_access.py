"""The registry's use cases on the real store, with each strategy: a matching registration is kept apart and
linked only by the code sent to the phone on record; another partner's attempts are refused alike for real
and missing records; erasure reaches households and migration episodes; expired consents are announced;
district listings page through the store."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from mrc_kernel.errors import DomainError, InvalidArgument, NotFound
from mrc_kernel.place import Place
from mrc_plumbing.store import DocumentStore
from mrc_registry.domain.household import Member, Relationship
from mrc_registry.domain.migration import Location, MigrationStatus, RecruitmentChannel
from mrc_registry.domain.worker import Vulnerability, WorkerStatus
from mrc_registry.domain.worker_access import FIELDS_BY_PURPOSE, Purpose
from mrc_registry.service_layer.commands import Search, UpdateWorker
from mrc_registry.service_layer.households import CreateHousehold
from mrc_registry.service_layer.migrations import RecordMigration
from tests.unit.registry.fakes import (
    CASEWORKER_A,
    CASEWORKER_B,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_A,
    SUPERVISOR_B,
    Registry,
    aadhaar,
    acting_for,
    make_registry,
    register_command,
    registered,
    sharing_with,
    worker_input,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(store: DocumentStore) -> Registry:
    return make_registry(store)


def episode(worker_id: str, key: str) -> RecordMigration:
    return RecordMigration(
        worker_id=worker_id,
        origin=Location("10", "212"),
        destination=Location("27", "490"),
        destination_country="",
        sector="construction",
        recruitment_channel=RecruitmentChannel.AGENT,
        start_date="2025-11-01",
        status=MigrationStatus.ONGOING,
        idempotency_key=key,
    )


def test_a_matching_registration_is_kept_apart_and_linked_only_by_the_code(registry: Registry) -> None:
    existing = registered(
        registry, identity_documents=aadhaar(), vulnerabilities=frozenset({Vulnerability.BONDED_LABOUR_RISK})
    ).worker_id

    registration = registry.workers.register(
        register_command("b-1", full_name="R. Kumar", phone="", father_or_spouse_name="", identity_documents=aadhaar()),
        REGISTRAR_B,
    )
    link = registration.link_request
    assert link is not None and registration.created
    own = registration.view.worker.worker_id
    assert own != existing and "Shyam" not in repr(registration)
    with pytest.raises(NotFound):
        registry.workers.get(existing, CASEWORKER_B)

    registry.reviews.send_code(link.review_id, REGISTRAR_B)
    with pytest.raises(InvalidArgument):
        registry.reviews.confirm_code(link.review_id, "000000", REGISTRAR_B)
    registry.reviews.confirm_code(link.review_id, registry.messages.last_code(link.review_id), REGISTRAR_B)

    view = registry.workers.get(existing, CASEWORKER_B)
    assert view.fields == FIELDS_BY_PURPOSE[Purpose.REGISTRATION]
    stored = registry.repository.get(existing)
    merged = registry.repository.get(own)
    assert stored is not None and merged is not None
    assert [c.captured_by_partner_id for c in stored.consents] == ["partner-a", "partner-b"]
    assert (merged.status, merged.merged_into) == (WorkerStatus.MERGED, existing)
    assert "mrc.registry.v1.WorkersMerged" in registry.repository.types()
    review = registry.review_repository.get(link.review_id)
    assert review is not None and review.evidence == "one_time_code"


def test_another_partner_cannot_tell_a_real_record_from_a_missing_one(registry: Registry) -> None:
    sita = registered(registry).worker_id
    registry.migrations.record(REGISTRAR_A, episode(sita, "m-1"))

    def attempts(worker_id: str) -> list[tuple[type, str]]:
        outcomes = []
        for attempt in (
            lambda: registry.workers.get(worker_id, CASEWORKER_B),
            lambda: registry.workers.update(
                UpdateWorker(worker_id, worker_input(occupation="x"), frozenset({"occupation"})), CASEWORKER_B
            ),
            lambda: registry.workers.erase(worker_id, "asked", SUPERVISOR_B),
            lambda: registry.migrations.list_for_worker(CASEWORKER_B, worker_id),
            lambda: registry.migrations.record(REGISTRAR_B, episode(worker_id, "b-1")),
            lambda: registry.households.create(
                REGISTRAR_B,
                CreateHousehold(members=(Member(relationship=Relationship.HEAD, worker_id=worker_id),), home=None),
            ),
        ):
            with pytest.raises(DomainError) as caught:
                attempt()
            outcomes.append((type(caught.value), str(caught.value)))
        return outcomes

    assert attempts(sita) == attempts(str(uuid.uuid4()))
    assert registry.workers.get(sita, CASEWORKER_A).worker.version == 1


def test_erasure_reaches_households_and_migration_episodes(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    head = Member(relationship=Relationship.HEAD, worker_id=worker_id)
    child = Member(relationship=Relationship.CHILD, name="Amit", birth_year=2015)
    household = registry.households.create(REGISTRAR_A, CreateHousehold(members=(head, child))).household
    registry.migrations.record(REGISTRAR_A, episode(worker_id, "m-1"))
    registry.migrations.record(REGISTRAR_A, episode(worker_id, "m-2"))

    registry.workers.erase(worker_id, "asked at the helpdesk", SUPERVISOR_A)

    after = registry.households.get(CASEWORKER_A, household.household_id)
    assert after.registered_worker_ids() == [] and after.version == 2
    assert registry.store.collection("migration_episodes").count({"worker_id": worker_id}) == 0
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.status is WorkerStatus.ERASED and stored.details.full_name == ""
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, CASEWORKER_A)


def test_an_expired_consent_is_announced_once(registry: Registry) -> None:
    worker_id = registered(registry).worker_id
    expires = registry.clock.now + timedelta(days=1)
    registry.workers.grant_consent(worker_id, sharing_with("partner-b", expires_at=expires), "s-1", REGISTRAR_A)
    assert registry.workers.get(worker_id, acting_for(CASEWORKER_B, "sharing")).worker.worker_id == worker_id

    registry.clock.now += timedelta(days=2)

    assert registry.workers.announce_expired_consents() == 1
    assert registry.workers.announce_expired_consents() == 0
    changes = registry.repository.messages("mrc.registry.v1.ConsentChanged")
    assert [c.expired for c in changes] == [False, True]
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, acting_for(CASEWORKER_B, "sharing"))


def test_a_district_listing_pages_through_the_store_showing_only_what_the_caller_reaches(
    registry: Registry,
) -> None:
    names = ["Mohan Lal", "Anita Kumari", "Suresh Yadav", "Geeta Paswan", "Ramesh Manjhi", "Sunita Devi"]
    mine = []
    for n, name in enumerate(names):
        caller = REGISTRAR_A if n % 2 == 0 else REGISTRAR_B
        command = register_command(f"k-{n}", full_name=name, phone=f"91234567{n}0", home=Place("10", "188"))
        worker_id = registry.workers.register(command, caller).view.worker.worker_id
        if caller is REGISTRAR_A:
            mine.append(worker_id)

    seen: list[str] = []
    token = ""
    for _ in range(10):
        page, token = registry.workers.search(Search(district_code="188", page_size=2, page_token=token), CASEWORKER_A)
        seen += [v.worker.worker_id for v in page]
        if not token:
            break

    assert seen == sorted(mine)
