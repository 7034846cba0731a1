"""Between households, migration episodes and the published contracts (mrc.registry.v1)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import events_pb2, household_pb2, migration_pb2
from mrc_kernel.events import Event
from mrc_registry.domain import household as household_domain
from mrc_registry.domain import migration as migration_domain
from mrc_registry.domain.household import Household, HouseholdChanged, Member, Relationship
from mrc_registry.domain.migration import (
    Location,
    MigrationEpisode,
    MigrationRecorded,
    MigrationStatus,
    RecruitmentChannel,
)
from mrc_registry.settings import EVENT_SOURCE, WORKERS_TOPIC

# Household events are keyed by household_id, on their own topic.
HOUSEHOLDS_TOPIC = "mrc.registry.households.v1"

RELATIONSHIP_TO_PROTO = {
    Relationship.HEAD: household_pb2.RELATIONSHIP_HEAD,
    Relationship.SPOUSE: household_pb2.RELATIONSHIP_SPOUSE,
    Relationship.CHILD: household_pb2.RELATIONSHIP_CHILD,
    Relationship.PARENT: household_pb2.RELATIONSHIP_PARENT,
    Relationship.SIBLING: household_pb2.RELATIONSHIP_SIBLING,
    Relationship.OTHER: household_pb2.RELATIONSHIP_OTHER,
}
RELATIONSHIP_FROM_PROTO = {v: k for k, v in RELATIONSHIP_TO_PROTO.items()}

CHANNEL_TO_PROTO = {
    RecruitmentChannel.CONTRACTOR: migration_pb2.RECRUITMENT_CHANNEL_CONTRACTOR,
    RecruitmentChannel.AGENT: migration_pb2.RECRUITMENT_CHANNEL_AGENT,
    RecruitmentChannel.SELF: migration_pb2.RECRUITMENT_CHANNEL_SELF,
    RecruitmentChannel.FAMILY: migration_pb2.RECRUITMENT_CHANNEL_FAMILY,
}
CHANNEL_FROM_PROTO = {v: k for k, v in CHANNEL_TO_PROTO.items()}

STATUS_TO_PROTO = {
    MigrationStatus.PLANNED: migration_pb2.MIGRATION_STATUS_PLANNED,
    MigrationStatus.ONGOING: migration_pb2.MIGRATION_STATUS_ONGOING,
    MigrationStatus.RETURNED: migration_pb2.MIGRATION_STATUS_RETURNED,
    MigrationStatus.MISSING: migration_pb2.MIGRATION_STATUS_MISSING,
}
STATUS_FROM_PROTO = {v: k for k, v in STATUS_TO_PROTO.items()}


def _timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def member_to_proto(member: Member) -> household_pb2.HouseholdMember:
    return household_pb2.HouseholdMember(
        worker_id=member.worker_id,
        name=member.name,
        relationship=RELATIONSHIP_TO_PROTO[member.relationship]
        if member.relationship
        else household_pb2.RELATIONSHIP_UNSPECIFIED,
        birth_year=member.birth_year or 0,
        left_behind=member.left_behind,
        in_school=member.in_school,
    )


def member_from_proto(member: household_pb2.HouseholdMember) -> Member:
    return Member(
        worker_id=member.worker_id,
        name=member.name,
        relationship=RELATIONSHIP_FROM_PROTO.get(member.relationship),
        birth_year=member.birth_year or None,
        left_behind=member.left_behind,
        in_school=member.in_school,
    )


def household_to_proto(household: Household) -> household_pb2.Household:
    """The household as partners and events see it: the ration card only masked, never its token."""
    return household_pb2.Household(
        household_id=household.household_id,
        members=[member_to_proto(m) for m in household.members],
        masked_ration_card=household.masked_ration_card,
        registering_partner_id=household.registering_partner_id,
        updated_at=_timestamp(household.updated_at),
        version=household.version,
    )


def location_to_proto(location: Location) -> common_pb2.LgdLocation:
    return common_pb2.LgdLocation(
        state_code=location.state_code,
        district_code=location.district_code,
        subdistrict_code=location.subdistrict_code,
        village_name=location.village_name,
    )


def location_from_proto(location: common_pb2.LgdLocation) -> Location:
    return Location(
        state_code=location.state_code,
        district_code=location.district_code,
        subdistrict_code=location.subdistrict_code,
        village_name=location.village_name,
    )


def episode_to_proto(episode: MigrationEpisode) -> migration_pb2.MigrationEpisode:
    message = migration_pb2.MigrationEpisode(
        episode_id=episode.episode_id,
        worker_id=episode.worker_id,
        origin=location_to_proto(episode.origin),
        destination_country=episode.destination_country,
        sector=episode.sector,
        employer_id=episode.employer_id,
        recruitment_channel=CHANNEL_TO_PROTO[episode.recruitment_channel],
        start_date=episode.start_date.isoformat(),
        end_date=episode.end_date.isoformat() if episode.end_date else "",
        status=STATUS_TO_PROTO[episode.status],
        recorded_by_partner_id=episode.recorded_by_partner_id,
        recorded_at=_timestamp(episode.recorded_at),
    )
    if episode.destination is not None:
        message.destination.CopyFrom(location_to_proto(episode.destination))
    return message


def household_envelope(event: household_domain.DomainEvent) -> Event:
    match event:
        case HouseholdChanged(household=household):
            message = events_pb2.HouseholdChanged(household=household_to_proto(household))
            return Event.from_message(
                message, source=EVENT_SOURCE, subject=household.household_id, topic=HOUSEHOLDS_TOPIC
            )


def migration_envelope(event: migration_domain.DomainEvent) -> Event:
    match event:
        case MigrationRecorded(episode=episode):
            # On the workers topic, keyed by worker: a worker's history stays in order.
            message = events_pb2.MigrationRecorded(episode=episode_to_proto(episode))
            return Event.from_message(message, source=EVENT_SOURCE, subject=episode.worker_id, topic=WORKERS_TOPIC)
