"""Migration episodes: validation, recording through the outbox, listing, with in-memory stand-ins."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from mrc.registry.v1 import events_pb2, migration_pb2
from mrc_kernel.audit import Action
from mrc_kernel.errors import IdempotencyKeyReused, InvalidArgument, NotFound, PermissionDenied, Unavailable
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.events import EventDecoder
from mrc_registry.adapters.households_mapping import migration_envelope
from mrc_registry.domain.migration import Location, MigrationEpisode, MigrationStatus, RecruitmentChannel
from mrc_registry.service_layer.migrations import MigrationService, RecordMigration
from tests.support.auth import RecordingAudit, caller_for
from tests.unit.registry.test_households import CountingNotifier

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
PATNA = Location("10", "212", "1415", "Athmalgola")
AHMEDNAGAR = Location("27", "466")
RECORDER = caller_for(Role.REGISTRAR, partner_id="cso-1")


class KnownWorkers:
    def __init__(self, *worker_ids: str) -> None:
        self.worker_ids = set(worker_ids)

    def exists(self, worker_id: str) -> bool:
        return worker_id in self.worker_ids


class FakeMigrationRepository:
    def __init__(self) -> None:
        self.episodes: dict[str, MigrationEpisode] = {}
        self.by_key: dict[str, tuple[str, str]] = {}
        self.outbox: list[Event] = []

    def add(
        self, episode: MigrationEpisode, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event]
    ) -> tuple[MigrationEpisode, bool]:
        if idempotency_key in self.by_key:
            episode_id, first_fingerprint = self.by_key[idempotency_key]
            if first_fingerprint != fingerprint:
                raise IdempotencyKeyReused("different request")
            return copy.deepcopy(self.episodes[episode_id]), False
        self.by_key[idempotency_key] = (episode.episode_id, fingerprint)
        self.outbox += [migration_envelope(e) for e in episode.pending_events] + list(also_publish)
        episode.pending_events.clear()
        self.episodes[episode.episode_id] = copy.deepcopy(episode)
        return episode, True

    def list_for_worker(self, worker_id: str, *, recorded_by_partner_id: str) -> list[MigrationEpisode]:
        # Deliberately unordered: the service guarantees the order.
        return [
            copy.deepcopy(e)
            for e in reversed(self.episodes.values())
            if e.worker_id == worker_id and e.recorded_by_partner_id == recorded_by_partner_id
        ]

    def of_type(self, message_type: str) -> list[Event]:
        return [e for e in self.outbox if e.type == message_type]


class Fixture:
    def __init__(self) -> None:
        self.repo = FakeMigrationRepository()
        self.notifier = CountingNotifier()
        self.audit = RecordingAudit()
        self.workers = KnownWorkers("worker-1", "worker-2")
        ids = iter(f"ep-{n}" for n in range(1000))
        self.service = MigrationService(
            self.repo, self.notifier, self.audit, self.workers, clock=lambda: NOW, new_id=lambda: next(ids)
        )


@pytest.fixture
def f() -> Fixture:
    return Fixture()


def command(**overrides: Any) -> RecordMigration:
    values: dict[str, Any] = {
        "worker_id": "worker-1",
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


def test_record_stores_the_episode_and_publishes_migration_recorded_keyed_by_worker(f: Fixture) -> None:
    result = f.service.record(RECORDER, command())

    episode = result.episode
    assert result.created
    assert (episode.episode_id, episode.worker_id, episode.recorded_by_partner_id) == ("ep-0", "worker-1", "cso-1")
    assert episode.start_date == date(2025, 11, 1) and episode.end_date is None
    assert episode.sector == "brick kiln"
    assert f.repo.episodes["ep-0"] == episode
    [event] = f.repo.of_type("mrc.registry.v1.MigrationRecorded")
    assert (event.topic, event.key) == ("mrc.registry.workers.v1", b"worker-1")
    message = EventDecoder().decode(event)
    assert isinstance(message, events_pb2.MigrationRecorded)
    assert message.episode.destination.district_code == "466"
    assert message.episode.recruitment_channel == migration_pb2.RECRUITMENT_CHANNEL_CONTRACTOR
    assert message.episode.start_date == "2025-11-01"
    [audit] = f.audit.events
    assert (audit.action, audit.resource_type, audit.resource_id) == (Action.CREATE, "migration_episode", "ep-0")
    assert "destination" in audit.fields and "destination_country" not in audit.fields
    assert len(f.repo.of_type("mrc.audit.v1.DataAccessed")) == 1
    assert f.notifier.count == 1


def test_an_international_episode_names_the_country(f: Fixture) -> None:
    episode = f.service.record(
        RECORDER, command(destination=None, destination_country="ae", status=MigrationStatus.PLANNED)
    ).episode

    assert (episode.destination, episode.destination_country) == (None, "AE")
    [event] = f.repo.of_type("mrc.registry.v1.MigrationRecorded")
    message = EventDecoder().decode(event)
    assert isinstance(message, events_pb2.MigrationRecorded)
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
def test_invalid_episodes_name_the_field_and_store_nothing(f: Fixture, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        f.service.record(RECORDER, command(**overrides))

    assert [v.field for v in caught.value.violations] == [field]
    assert f.repo.episodes == {} and f.repo.outbox == [] and f.notifier.count == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"start_date": "2027-01-15"},  # a year ahead, to the day
        {"start_date": "1950-01-01"},
        {"end_date": "2025-11-01", "status": MigrationStatus.RETURNED},
        {"employer_id": ""},
    ],
)
def test_boundaries_are_accepted(f: Fixture, overrides: dict[str, Any]) -> None:
    assert f.service.record(RECORDER, command(**overrides)).created


def test_the_worker_must_exist(f: Fixture) -> None:
    with pytest.raises(NotFound):
        f.service.record(RECORDER, command(worker_id="ghost"))
    with pytest.raises(NotFound):
        f.service.list_for_worker(RECORDER, "ghost")
    assert f.repo.episodes == {} and f.audit.records == []


def test_a_retry_returns_the_first_episode_and_a_changed_body_is_refused(f: Fixture) -> None:
    first = f.service.record(RECORDER, command()).episode
    again = f.service.record(RECORDER, command())

    assert not again.created and again.episode == first
    assert len(f.repo.of_type("mrc.registry.v1.MigrationRecorded")) == 1
    assert [r.action for r in f.audit.records] == [Action.READ]
    with pytest.raises(IdempotencyKeyReused):
        f.service.record(RECORDER, command(sector="construction"))
    assert f.service.record(caller_for(Role.REGISTRAR, partner_id="cso-2"), command()).created


def test_listing_is_by_start_date_limited_to_the_recording_partner_and_audited(f: Fixture) -> None:
    for key, start in (("a", "2024-03-01"), ("b", "2019-10-15"), ("c", "2022-06-30")):
        f.service.record(RECORDER, command(idempotency_key=key, start_date=start))
    f.service.record(RECORDER, command(idempotency_key="d", worker_id="worker-2"))
    f.service.record(caller_for(Role.CASEWORKER, partner_id="cso-2"), command(idempotency_key="e"))

    episodes = f.service.list_for_worker(caller_for(Role.CASEWORKER, partner_id="cso-1"), "worker-1")

    assert [e.start_date.isoformat() for e in episodes] == ["2019-10-15", "2022-06-30", "2024-03-01"]
    [record] = f.audit.records
    assert (record.action, record.resource_type, record.resource_id) == (Action.READ, "worker", "worker-1")
    assert record.caller.purpose == "case_management"


def test_listing_fails_closed_without_the_audit_trail(f: Fixture) -> None:
    f.service.record(RECORDER, command())
    f.audit.failing = True
    with pytest.raises(Unavailable):
        f.service.list_for_worker(RECORDER, "worker-1")


def test_a_client_of_no_partner_cannot_record(f: Fixture) -> None:
    with pytest.raises(PermissionDenied):
        f.service.record(dataclasses.replace(RECORDER, partner_id=""), command())
