"""Between domain objects and the published contracts (mrc.grievance.v1)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from mrc.common.v1 import common_pb2
from mrc.grievance.v1 import events_pb2, grievance_pb2
from mrc_grievance.domain.grievance import (
    DomainEvent,
    Grievance,
    GrievanceCategory,
    GrievanceFiled,
    GrievanceStatus,
    IntakeChannel,
    Place,
)
from mrc_grievance.settings import EVENT_SOURCE, GRIEVANCES_TOPIC
from mrc_kernel.events import Event

# The *_UNSPECIFIED values have no domain counterpart: looking them up with .get() gives None ("not set").
CATEGORY_TO_PROTO = {
    GrievanceCategory.WAGE_THEFT: grievance_pb2.GRIEVANCE_CATEGORY_WAGE_THEFT,
    GrievanceCategory.RECRUITMENT_FEE: grievance_pb2.GRIEVANCE_CATEGORY_RECRUITMENT_FEE,
    GrievanceCategory.UNSAFE_WORK: grievance_pb2.GRIEVANCE_CATEGORY_UNSAFE_WORK,
    GrievanceCategory.TRAFFICKING: grievance_pb2.GRIEVANCE_CATEGORY_TRAFFICKING,
    GrievanceCategory.MISSING_PERSON: grievance_pb2.GRIEVANCE_CATEGORY_MISSING_PERSON,
    GrievanceCategory.ENTITLEMENT_DENIED: grievance_pb2.GRIEVANCE_CATEGORY_ENTITLEMENT_DENIED,
    GrievanceCategory.OTHER: grievance_pb2.GRIEVANCE_CATEGORY_OTHER,
}
CATEGORY_FROM_PROTO = {v: k for k, v in CATEGORY_TO_PROTO.items()}

CHANNEL_TO_PROTO = {
    IntakeChannel.HELPLINE: grievance_pb2.INTAKE_CHANNEL_HELPLINE,
    IntakeChannel.FIELD: grievance_pb2.INTAKE_CHANNEL_FIELD,
    IntakeChannel.PARTNER_API: grievance_pb2.INTAKE_CHANNEL_PARTNER_API,
}
CHANNEL_FROM_PROTO = {v: k for k, v in CHANNEL_TO_PROTO.items()}

STATUS_TO_PROTO = {
    GrievanceStatus.OPEN: grievance_pb2.GRIEVANCE_STATUS_OPEN,
    GrievanceStatus.IN_PROGRESS: grievance_pb2.GRIEVANCE_STATUS_IN_PROGRESS,
    GrievanceStatus.RESOLVED: grievance_pb2.GRIEVANCE_STATUS_RESOLVED,
    GrievanceStatus.CLOSED: grievance_pb2.GRIEVANCE_STATUS_CLOSED,
}
STATUS_FROM_PROTO = {v: k for k, v in STATUS_TO_PROTO.items()}


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def place_to_proto(place: Place) -> common_pb2.LgdLocation:
    return common_pb2.LgdLocation(
        state_code=place.state_code,
        district_code=place.district_code,
        subdistrict_code=place.subdistrict_code,
        village_name=place.village_name,
    )


def place_from_proto(location: common_pb2.LgdLocation) -> Place:
    return Place(
        state_code=location.state_code,
        district_code=location.district_code,
        subdistrict_code=location.subdistrict_code,
        village_name=location.village_name,
    )


def grievance_to_proto(grievance: Grievance) -> grievance_pb2.Grievance:
    return grievance_pb2.Grievance(
        grievance_id=grievance.grievance_id,
        worker_id=grievance.worker_id,
        category=CATEGORY_TO_PROTO[grievance.category],
        channel=CHANNEL_TO_PROTO[grievance.channel],
        summary=grievance.summary,
        location=place_to_proto(grievance.location),
        employer_id=grievance.employer_id,
        status=STATUS_TO_PROTO[grievance.status],
        anonymous=grievance.anonymous,
        filed_at=timestamp(grievance.filed_at),
    )


def grievance_from_proto(message: grievance_pb2.Grievance) -> Grievance:
    """For a stored or published grievance (one that was valid when filed); raises KeyError on UNSPECIFIED.

    The filing partner is internal and not in the contract, so it comes back empty.
    """
    return Grievance(
        grievance_id=message.grievance_id,
        worker_id=message.worker_id,
        category=CATEGORY_FROM_PROTO[message.category],
        channel=CHANNEL_FROM_PROTO[message.channel],
        summary=message.summary,
        location=place_from_proto(message.location),
        employer_id=message.employer_id,
        status=STATUS_FROM_PROTO[message.status],
        anonymous=message.anonymous,
        filed_at=message.filed_at.ToDatetime(tzinfo=UTC),
        filed_by_partner_id="",
    )


def to_envelope(event: DomainEvent) -> Event:
    match event:
        case GrievanceFiled(grievance=grievance):
            # The summary is the complainant's own account: never published. Consumers that need it ask the
            # API, under their own permissions and with an audited read.
            snapshot = grievance_to_proto(grievance)
            snapshot.ClearField("summary")
            message = events_pb2.GrievanceFiled(grievance=snapshot)
            return Event.from_message(
                message, source=EVENT_SOURCE, subject=grievance.grievance_id, topic=GRIEVANCES_TOPIC
            )
