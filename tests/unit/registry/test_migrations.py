"""Migration episodes on the real adapters (in-memory store): validation, recording through the outbox,
listing; recorded and listed only for a worker the caller reaches, and an unknown or unreachable worker is
the same "no such worker"."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from mrc.registry.v1 import events_pb2, migration_pb2
from mrc_kernel.audit import Action
from mrc_kernel.errors import IdempotencyKeyReused, InvalidArgument, NotFound, PermissionDenied, Unavailable
from mrc_kernel.roles import Role
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.migration import Location, MigrationStatus, RecruitmentChannel
from mrc_registry.service_layer.migrations import RecordMigration
from tests.support.auth import caller_for

from .fakes import (
    ARARIA,
    CASEWORKER_A,
    CASEWORKER_B,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_A,
    Registry,
    acting_for,
    make_registry,
    registered,
    sharing_with,
)

PATNA = Location("10", "212", "1415", "Athmalgola")
AHMEDNAGAR = Location("27", "466")
EPISODES = "migration_episodes"
RECORDED = "mrc.registry.v1.MigrationRecorded"


@pytest.fixture
def registry() -> Registry:
    return make_registry()


@pytest.fixture
def worker_id(registry: Registry) -> str:
    """Partner A's worker, home in Patna."""
    return registered(registry).worker_id


def command(worker_id: str, /, **overrides: Any) -> RecordMigration:
    values: dict[str, Any] = {
        "worker_id": worker_id,
        "origin": PATNA,
        "destination": AHMEDNAGAR,
        "destination_country": "",
        "sector": " brick  kiln ",
        "employer_id": "employer-7",
        "recruitment_channel": RecruitmentChannel.CONTRACTOR,
        "start_date": "2025-11-01",
        "end_date": "",
        "status": MigrationStatus.ONGOING,
        "idempotency_key": "key-1",
    }
    values.update(overrides)
    return RecordMigration(**values)


def test_record_stores_the_episode_and_publishes_migration_recorded_keyed_by_worker(
    registry: Registry, worker_id: str
) -> None:
    result = registry.migrations.record(REGISTRAR_A, command(worker_id))

    episode = result.episode
    assert result.created
    assert (episode.worker_id, episode.recorded_by_partner_id) == (worker_id, "partner-a")
    assert episode.start_date == date(2025, 11, 1) and episode.end_date is None
    assert episode.sector == "brick kiln"
    [event] = [e for e in registry.outbox_of(EPISODES) if e.type == RECORDED]
    assert (event.topic, event.key) == ("mrc.registry.workers.v1", worker_id.encode())
    [message] = registry.decoded(EPISODES, RECORDED)
    assert isinstance(message, events_pb2.MigrationRecorded)
    assert message.episode.destination.district_code == "466"
    assert message.episode.recruitment_channel == migration_pb2.RECRUITMENT_CHANNEL_CONTRACTOR
    assert message.episode.start_date == "2025-11-01"
    assert message.episode.origin.village_name == "" and b"Athmalgola" not in event.data  # LGD codes only
    [audit] = [a for a in registry.audit.events if a.resource_type == "migration_episode"]
    assert (audit.action, audit.resource_id, audit.state_code) == (Action.CREATE, episode.episode_id, "10")
    assert "destination" in audit.fields and "destination_country" not in audit.fields
    assert len(registry.decoded(EPISODES, "mrc.audit.v1.DataAccessed")) == 1


def test_an_international_episode_names_the_country(registry: Registry, worker_id: str) -> None:
    episode = registry.migrations.record(
        REGISTRAR_A, command(worker_id, destination=None, destination_country="ae", status=MigrationStatus.PLANNED)
    ).episode

    assert (episode.destination, episode.destination_country) == (None, "AE")
    [message] = registry.decoded(EPISODES, RECORDED)
    assert not message.episode.HasField("destination")
    assert message.episode.destination_country == "AE"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"destination_country": "NP"}, "destination_country"),
        ({"destination": None}, "destination"),
        ({"destination": None, "destination_country": "IN"}, "destination_country"),
        ({"destination": None, "destination_country": "XX"}, "destination_country"),
        ({"origin": Location("10", "466")}, "origin.district_code"),
        ({"origin": Location("10", "212", "9999999")}, "origin.subdistrict_code"),
        ({"destination": Location("99", "466")}, "destination.state_code"),
        ({"worker_id": " "}, "worker_id"),
        ({"sector": ""}, "sector"),
        ({"employer_id": "e" * 65}, "employer_id"),
        ({"recruitment_channel": None}, "recruitment_channel"),
        ({"status": None}, "status"),
        ({"start_date": ""}, "start_date"),
        ({"start_date": "2025/11/01"}, "start_date"),
        ({"start_date": "20251101"}, "start_date"),
        ({"start_date": "2025-02-30"}, "start_date"),
        ({"start_date": "1949-12-31"}, "start_date"),
        ({"start_date": "2027-01-16"}, "start_date"),
        ({"end_date": "2025-10-31"}, "end_date"),
        ({"status": MigrationStatus.RETURNED}, "end_date"),
    ],
)
def test_invalid_episodes_name_the_field_and_store_nothing(
    registry: Registry, worker_id: str, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        registry.migrations.record(REGISTRAR_A, command(worker_id, **overrides))

    assert [v.field for v in caught.value.violations] == [field]
    assert registry.store.collection(EPISODES).documents == {}


@pytest.mark.parametrize(
    "overrides",
    [
        {"start_date": "2027-01-15"},  # a year ahead, to the day
        {"start_date": "1950-01-01"},
        {"end_date": "2025-11-01", "status": MigrationStatus.RETURNED},
        {"employer_id": ""},
    ],
)
def test_boundaries_are_accepted(registry: Registry, worker_id: str, overrides: dict[str, Any]) -> None:
    assert registry.migrations.record(REGISTRAR_A, command(worker_id, **overrides)).created


def test_an_unknown_worker_is_not_found(registry: Registry) -> None:
    with pytest.raises(NotFound) as recording:
        registry.migrations.record(REGISTRAR_A, command("ghost"))
    with pytest.raises(NotFound) as listing:
        registry.migrations.list_for_worker(REGISTRAR_A, "ghost")

    assert str(recording.value) == str(listing.value) == "no such worker"
    assert registry.store.collection(EPISODES).documents == {}
    assert registry.audit.records == []


def test_another_partners_worker_is_answered_like_an_unknown_one_and_the_attempt_audited(
    registry: Registry, worker_id: str
) -> None:
    registry.migrations.record(REGISTRAR_A, command(worker_id))

    with pytest.raises(NotFound) as recording:
        registry.migrations.record(REGISTRAR_B, command(worker_id, idempotency_key="b-1"))
    with pytest.raises(NotFound) as listing:
        registry.migrations.list_for_worker(CASEWORKER_B, worker_id)
    with pytest.raises(NotFound) as unknown:
        registry.migrations.list_for_worker(CASEWORKER_B, "ghost")

    # No existence oracle: a real worker B does not reach answers as a random id does.
    assert str(recording.value) == str(listing.value) == str(unknown.value)
    assert len(registry.store.collection(EPISODES).documents) == 1
    assert [(r.resource_id, r.allowed) for r in registry.audit.records] == [(worker_id, False), (worker_id, False)]


def test_a_client_limited_to_another_district_neither_records_nor_lists(registry: Registry, worker_id: str) -> None:
    registry.migrations.record(REGISTRAR_A, command(worker_id))
    araria_only = caller_for(Role.CASEWORKER, partner_id="partner-a", states={"10"}, districts={"188"})

    with pytest.raises(NotFound):
        registry.migrations.record(araria_only, command(worker_id, idempotency_key="k-2"))
    with pytest.raises(NotFound):
        registry.migrations.list_for_worker(araria_only, worker_id)


def test_a_retry_returns_the_first_episode_and_a_changed_body_is_refused(registry: Registry, worker_id: str) -> None:
    first = registry.migrations.record(REGISTRAR_A, command(worker_id)).episode
    again = registry.migrations.record(REGISTRAR_A, command(worker_id))

    assert not again.created and again.episode == first
    assert len(registry.decoded(EPISODES, RECORDED)) == 1
    assert [r.action for r in registry.audit.records] == [Action.READ]
    with pytest.raises(IdempotencyKeyReused):
        registry.migrations.record(REGISTRAR_A, command(worker_id, sector="construction"))


def test_listing_shows_every_partners_episodes_of_a_reachable_worker_by_start_date_and_is_audited(
    registry: Registry, worker_id: str
) -> None:
    for key, start in (("a", "2024-03-01"), ("b", "2019-10-15"), ("c", "2022-06-30")):
        registry.migrations.record(REGISTRAR_A, command(worker_id, idempotency_key=key, start_date=start))
    other = registered(registry, key="key-2", full_name="Mohan Lal", phone="9123456789", home=ARARIA).worker_id
    registry.migrations.record(REGISTRAR_A, command(other, idempotency_key="d"))
    # Partner B reaches the worker through a consent shared with it for registration.
    sharing = sharing_with(
        "partner-b", purposes=frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.PARTNER_SHARING})
    )
    registry.workers.grant_consent(worker_id, sharing, "share-1", REGISTRAR_A)
    registry.migrations.record(REGISTRAR_B, command(worker_id, idempotency_key="e", start_date="2020-01-01"))
    registry.audit.records.clear()

    episodes = registry.migrations.list_for_worker(CASEWORKER_A, worker_id)

    assert [e.start_date.isoformat() for e in episodes] == ["2019-10-15", "2020-01-01", "2022-06-30", "2024-03-01"]
    assert {e.recorded_by_partner_id for e in episodes} == {"partner-a", "partner-b"}
    [record] = registry.audit.records
    assert (record.action, record.resource_type, record.resource_id) == (Action.READ, "worker", worker_id)
    assert record.caller.purpose == "case_management"
    assert record.state_code == "10"
    assert len(registry.migrations.list_for_worker(acting_for(CASEWORKER_B, "registration"), worker_id)) == 4


def test_listing_fails_closed_without_the_audit_trail(registry: Registry, worker_id: str) -> None:
    registry.migrations.record(REGISTRAR_A, command(worker_id))
    registry.audit.failing = True

    with pytest.raises(Unavailable):
        registry.migrations.list_for_worker(REGISTRAR_A, worker_id)


def test_a_client_of_no_partner_cannot_record(registry: Registry, worker_id: str) -> None:
    with pytest.raises(PermissionDenied):
        registry.migrations.record(dataclasses.replace(REGISTRAR_A, partner_id=""), command(worker_id))


def test_erasing_the_worker_deletes_their_episodes(registry: Registry, worker_id: str) -> None:
    other = registered(registry, key="key-2", full_name="Mohan Lal", phone="9123456789", home=ARARIA).worker_id
    registry.migrations.record(REGISTRAR_A, command(worker_id, idempotency_key="a"))
    registry.migrations.record(REGISTRAR_A, command(worker_id, idempotency_key="b", start_date="2024-01-01"))
    kept = registry.migrations.record(REGISTRAR_A, command(other, idempotency_key="c")).episode

    registry.workers.erase(worker_id, "asked at the helpdesk", SUPERVISOR_A)

    remaining = list(registry.store.collection(EPISODES).documents.values())
    assert [d["_id"] for d in remaining] == [kept.episode_id]
    assert [e.episode_id for e in registry.migrations.list_for_worker(CASEWORKER_A, other)] == [kept.episode_id]
    with pytest.raises(NotFound):
        registry.migrations.list_for_worker(CASEWORKER_A, worker_id)
