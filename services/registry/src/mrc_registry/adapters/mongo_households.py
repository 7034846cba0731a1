"""Households and migration episodes in the document store.

Each document holds its own pending events (domain and audit) in its outbox, written by the same
single-document write that changes it. mongoengine declares the shapes and indexes; the store port reads and
writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)

from mrc_kernel.errors import Conflict, NotFound
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_plumbing.store import FINGERPRINT_FIELD, IDEMPOTENCY_FIELD, OUTBOX_FIELD, DocumentStore
from mrc_plumbing.store.schema import collection_of, indexes_of
from mrc_registry.adapters.households_mapping import household_envelope, migration_envelope
from mrc_registry.domain.household import Household, Member, Relationship
from mrc_registry.domain.migration import Location, MigrationEpisode, MigrationStatus, RecruitmentChannel

# Neither the outbox nor the fingerprint is part of the aggregate.
_EXCLUDED = [OUTBOX_FIELD, FINGERPRINT_FIELD]
SHARED_WITH_FIELD = "shared_with_states"


class HouseholdFederationEvents(Protocol):
    """What a household's change must tell other states (`federation_publisher.FederationPublisher`)."""

    def household_events(
        self, household: Household, previously: frozenset[str]
    ) -> tuple[list[Event], frozenset[str]]: ...


class MemberDocument(EmbeddedDocument):  # type: ignore[misc]
    worker_id = StringField(default="")
    name = StringField(default="")
    relationship = StringField(required=True, choices=[r.value for r in Relationship])
    birth_year = IntField()
    left_behind = BooleanField(default=False)
    in_school = BooleanField(default=False)


class HouseholdDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "households",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["members.worker_id"], "name": "member_worker_id"},
            {"fields": ["registering_partner_id"], "name": "registering_partner"},
        ],
    }
    id = StringField(primary_key=True)
    members = ListField(EmbeddedDocumentField(MemberDocument), required=True)
    masked_ration_card = StringField(default="")
    # The ration card number encrypted by the field cipher (enc:v1:<state>:...); never the number itself.
    ration_card_token = StringField(default="")
    registering_partner_id = StringField(required=True)
    created_at = DateTimeField(required=True)
    updated_at = DateTimeField(required=True)
    version = IntField(required=True)
    home = DictField()  # {state_code, district_code, subdistrict_code, village_name}
    # LGD codes of the other states its links were last shared with (cross-state federation).
    shared_with_states = ListField(StringField())
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


class LocationDocument(EmbeddedDocument):  # type: ignore[misc]
    state_code = StringField(required=True)
    district_code = StringField(required=True)
    subdistrict_code = StringField(default="")
    village_name = StringField(default="")


class MigrationEpisodeDocument(Document):  # type: ignore[misc]
    meta = {
        "collection": "migration_episodes",
        "indexes": [
            {"fields": [IDEMPOTENCY_FIELD], "unique": True, "name": "idempotency_key"},
            {"fields": ["worker_id", "start_date"], "name": "worker_id"},
        ],
    }
    id = StringField(primary_key=True)
    worker_id = StringField(required=True)
    origin = EmbeddedDocumentField(LocationDocument, required=True)
    destination = EmbeddedDocumentField(LocationDocument)
    destination_country = StringField(default="")
    sector = StringField(required=True)
    employer_id = StringField(default="")
    recruitment_channel = StringField(required=True, choices=[c.value for c in RecruitmentChannel])
    # YYYY-MM-DD strings: calendar dates with no time zone, and they sort as dates.
    start_date = StringField(required=True)
    end_date = StringField(default="")
    status = StringField(required=True, choices=[s.value for s in MigrationStatus])
    recorded_by_partner_id = StringField(required=True)
    recorded_at = DateTimeField(required=True)
    idempotency_key = StringField(required=True)
    request_fingerprint = StringField(required=True)
    outbox = ListField(DictField())
    outbox_pending = BooleanField()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _member_document(member: Member) -> MemberDocument:
    if member.relationship is None:  # the domain never lets one through
        raise ValueError("a member needs a relationship to be stored")
    return MemberDocument(
        worker_id=member.worker_id,
        name=member.name,
        relationship=member.relationship.value,
        birth_year=member.birth_year,
        left_behind=member.left_behind,
        in_school=member.in_school,
    )


def _stored_members(members: Sequence[Member]) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = []
    for member in members:
        doc = _member_document(member)
        doc.validate()
        stored.append(doc.to_mongo().to_dict())
    return stored


def _household_document(household: Household, idempotency_key: str, fingerprint: str) -> dict[str, Any]:
    doc = HouseholdDocument(
        id=household.household_id,
        members=[_member_document(m) for m in household.members],
        masked_ration_card=household.masked_ration_card,
        ration_card_token=household.ration_card_token,
        registering_partner_id=household.registering_partner_id,
        created_at=household.created_at,
        updated_at=household.updated_at,
        version=household.version,
        home=household.home.__dict__ if household.home else {},
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def _home(doc: dict[str, Any] | None) -> Place | None:
    if not doc:
        return None
    return Place(
        state_code=doc["state_code"],
        district_code=doc["district_code"],
        subdistrict_code=doc.get("subdistrict_code", ""),
        village_name=doc.get("village_name", ""),
    )


def _household(doc: dict[str, Any]) -> Household:
    return Household(
        household_id=doc["_id"],
        members=tuple(
            Member(
                worker_id=m.get("worker_id", ""),
                name=m.get("name", ""),
                relationship=Relationship(m["relationship"]),
                birth_year=m.get("birth_year"),
                left_behind=m.get("left_behind", False),
                in_school=m.get("in_school", False),
            )
            for m in doc.get("members", [])
        ),
        masked_ration_card=doc.get("masked_ration_card", ""),
        ration_card_token=doc.get("ration_card_token", ""),
        registering_partner_id=doc["registering_partner_id"],
        created_at=_utc(doc["created_at"]),
        updated_at=_utc(doc["updated_at"]),
        version=doc["version"],
        home=_home(doc.get("home")),
    )


class StoredHouseholds:
    def __init__(self, store: DocumentStore, *, federation: HouseholdFederationEvents | None = None) -> None:
        self._households = store.collection(collection_of(HouseholdDocument))
        self._federation = federation

    def set_federation(self, federation: HouseholdFederationEvents) -> None:
        self._federation = federation

    def _federated(self, household: Household, previously: frozenset[str]) -> tuple[list[Event], list[str]]:
        """The household's links for other states (with its events in the same write), and where they are."""
        if self._federation is None or not household.pending_events:
            return [], sorted(previously)
        events, shared = self._federation.household_events(household, previously)
        return events, sorted(shared)

    def ensure_indexes(self) -> None:
        self._households.ensure_indexes(indexes_of(HouseholdDocument))

    def add(
        self, household: Household, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event]
    ) -> tuple[Household, bool]:
        federated, shared = self._federated(household, frozenset())
        events = [*(household_envelope(e) for e in household.pending_events), *federated, *also_publish]
        document = _household_document(household, idempotency_key, fingerprint)
        if shared:
            document[SHARED_WITH_FIELD] = shared
        stored, created = self._households.insert_once(document, events=events)
        household.pending_events.clear()
        return (household if created else _household(stored)), created

    def get(self, household_id: str) -> Household | None:
        doc = self._households.get(household_id, exclude=_EXCLUDED)
        return _household(doc) if doc else None

    def update_members(self, household: Household, *, expected_version: int, also_publish: Sequence[Event]) -> None:
        previously: frozenset[str] = frozenset()
        if self._federation is not None:
            stored = self._households.get(household.household_id, fields=[SHARED_WITH_FIELD])
            previously = frozenset(stored.get(SHARED_WITH_FIELD) or ()) if stored else frozenset()
        federated, shared = self._federated(household, previously)
        saved = self._households.update(
            household.household_id,
            {
                "$set": {
                    "members": _stored_members(household.members),
                    "version": household.version,
                    "updated_at": household.updated_at,
                    SHARED_WITH_FIELD: shared,
                }
            },
            where={"version": expected_version},
            events=[*(household_envelope(e) for e in household.pending_events), *federated, *also_publish],
        )
        if not saved:
            if self._households.get(household.household_id, fields=["_id"]) is None:
                raise NotFound(f"no household {household.household_id!r}")
            raise Conflict(f"household {household.household_id!r} changed meanwhile; read it again and retry")
        household.pending_events.clear()

    def with_member(self, worker_id: str) -> list[Household]:
        found = self._households.find({"members.worker_id": worker_id}, exclude=_EXCLUDED) if worker_id else []
        return [_household(doc) for doc in found]


def _location_document(location: Location) -> LocationDocument:
    return LocationDocument(
        state_code=location.state_code,
        district_code=location.district_code,
        subdistrict_code=location.subdistrict_code,
        village_name=location.village_name,
    )


def _episode_document(episode: MigrationEpisode, idempotency_key: str, fingerprint: str) -> dict[str, Any]:
    doc = MigrationEpisodeDocument(
        id=episode.episode_id,
        worker_id=episode.worker_id,
        origin=_location_document(episode.origin),
        destination=_location_document(episode.destination) if episode.destination is not None else None,
        destination_country=episode.destination_country,
        sector=episode.sector,
        employer_id=episode.employer_id,
        recruitment_channel=episode.recruitment_channel.value,
        start_date=episode.start_date.isoformat(),
        end_date=episode.end_date.isoformat() if episode.end_date else "",
        status=episode.status.value,
        recorded_by_partner_id=episode.recorded_by_partner_id,
        recorded_at=episode.recorded_at,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    doc.validate()
    stored: dict[str, Any] = doc.to_mongo().to_dict()
    return stored


def _location(doc: dict[str, Any]) -> Location:
    return Location(
        state_code=doc["state_code"],
        district_code=doc["district_code"],
        subdistrict_code=doc.get("subdistrict_code", ""),
        village_name=doc.get("village_name", ""),
    )


def _episode(doc: dict[str, Any]) -> MigrationEpisode:
    destination = doc.get("destination")
    end_date = doc.get("end_date", "")
    return MigrationEpisode(
        episode_id=doc["_id"],
        worker_id=doc["worker_id"],
        origin=_location(doc["origin"]),
        destination=_location(destination) if destination else None,
        destination_country=doc.get("destination_country", ""),
        sector=doc["sector"],
        employer_id=doc.get("employer_id", ""),
        recruitment_channel=RecruitmentChannel(doc["recruitment_channel"]),
        start_date=date.fromisoformat(doc["start_date"]),
        end_date=date.fromisoformat(end_date) if end_date else None,
        status=MigrationStatus(doc["status"]),
        recorded_by_partner_id=doc["recorded_by_partner_id"],
        recorded_at=_utc(doc["recorded_at"]),
    )


class StoredMigrations:
    def __init__(self, store: DocumentStore) -> None:
        self._episodes = store.collection(collection_of(MigrationEpisodeDocument))

    def ensure_indexes(self) -> None:
        self._episodes.ensure_indexes(indexes_of(MigrationEpisodeDocument))

    def add(
        self, episode: MigrationEpisode, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event]
    ) -> tuple[MigrationEpisode, bool]:
        events = [*(migration_envelope(e) for e in episode.pending_events), *also_publish]
        stored, created = self._episodes.insert_once(
            _episode_document(episode, idempotency_key, fingerprint), events=events
        )
        episode.pending_events.clear()
        return (episode if created else _episode(stored)), created

    def list_for_worker(self, worker_id: str) -> list[MigrationEpisode]:
        found = self._episodes.find(
            {"worker_id": worker_id}, sort=[("start_date", 1), ("recorded_at", 1)], exclude=_EXCLUDED
        )
        return [_episode(doc) for doc in found]

    def erase_worker(self, worker_id: str) -> int:
        erased = 0
        for doc in self._episodes.find({"worker_id": worker_id}, fields=["_id"]) if worker_id else []:
            erased += self._episodes.delete(doc["_id"])
        return erased
