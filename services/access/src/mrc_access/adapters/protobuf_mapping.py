"""Between domain objects and the published contracts (mrc.access.v1, mrc.audit.v1)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from mrc.access.v1 import access_pb2, events_pb2
from mrc.audit.v1 import audit_pb2
from mrc_access.domain.audit_record import AccessAction, AccessOutcome, AccessRecord, Actor
from mrc_access.domain.client import Client, ClientEvent, ClientIssued, ClientRevoked
from mrc_access.domain.partner import Partner, PartnerKind, PartnerRegistered
from mrc_access.settings import CLIENTS_TOPIC, EVENT_SOURCE, PARTNERS_TOPIC
from mrc_kernel.events import Event
from mrc_kernel.roles import Role

PARTNER_KIND_TO_PROTO = {
    PartnerKind.CSO: access_pb2.PARTNER_KIND_CSO,
    PartnerKind.GOVERNMENT: access_pb2.PARTNER_KIND_GOVERNMENT,
    PartnerKind.EMPLOYER: access_pb2.PARTNER_KIND_EMPLOYER,
    PartnerKind.AUDITOR: access_pb2.PARTNER_KIND_AUDITOR,
    PartnerKind.OPERATOR: access_pb2.PARTNER_KIND_OPERATOR,
}
PARTNER_KIND_FROM_PROTO = {v: k for k, v in PARTNER_KIND_TO_PROTO.items()}

ROLE_TO_PROTO = {
    Role.REGISTRAR: access_pb2.ROLE_REGISTRAR,
    Role.CASEWORKER: access_pb2.ROLE_CASEWORKER,
    Role.SUPERVISOR: access_pb2.ROLE_SUPERVISOR,
    Role.HELPLINE_AGENT: access_pb2.ROLE_HELPLINE_AGENT,
    Role.EMPLOYER: access_pb2.ROLE_EMPLOYER,
    Role.AUDITOR: access_pb2.ROLE_AUDITOR,
    Role.OPERATOR: access_pb2.ROLE_OPERATOR,
    Role.PUBLIC: access_pb2.ROLE_PUBLIC,
}
ROLE_FROM_PROTO = {v: k for k, v in ROLE_TO_PROTO.items()}

ACTION_TO_PROTO = {
    AccessAction.UNSPECIFIED: audit_pb2.ACCESS_ACTION_UNSPECIFIED,
    AccessAction.READ: audit_pb2.ACCESS_ACTION_READ,
    AccessAction.CREATE: audit_pb2.ACCESS_ACTION_CREATE,
    AccessAction.UPDATE: audit_pb2.ACCESS_ACTION_UPDATE,
    AccessAction.DELETE: audit_pb2.ACCESS_ACTION_DELETE,
    AccessAction.SEARCH: audit_pb2.ACCESS_ACTION_SEARCH,
    AccessAction.EXPORT: audit_pb2.ACCESS_ACTION_EXPORT,
    AccessAction.ERASE: audit_pb2.ACCESS_ACTION_ERASE,
}
ACTION_FROM_PROTO = {v: k for k, v in ACTION_TO_PROTO.items()}

OUTCOME_TO_PROTO = {
    AccessOutcome.UNSPECIFIED: audit_pb2.ACCESS_OUTCOME_UNSPECIFIED,
    AccessOutcome.ALLOWED: audit_pb2.ACCESS_OUTCOME_ALLOWED,
    AccessOutcome.DENIED: audit_pb2.ACCESS_OUTCOME_DENIED,
}
OUTCOME_FROM_PROTO = {v: k for k, v in OUTCOME_TO_PROTO.items()}


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def partner_to_proto(partner: Partner) -> access_pb2.Partner:
    return access_pb2.Partner(
        partner_id=partner.partner_id,
        name=partner.name,
        kind=PARTNER_KIND_TO_PROTO[partner.kind],
        state_codes=partner.geography.state_codes,
        district_codes=partner.geography.district_codes,
        created_at=timestamp(partner.created_at),
        employer_id=partner.employer_id,
    )


def client_to_proto(client: Client) -> access_pb2.Client:
    """Never carries the secret or its hash."""
    return access_pb2.Client(
        client_id=client.client_id,
        partner_id=client.partner_id,
        roles=[ROLE_TO_PROTO[r] for r in client.roles],
        state_codes=client.geography.state_codes,
        district_codes=client.geography.district_codes,
        revoked=client.revoked,
        created_at=timestamp(client.created_at),
        display_name=client.display_name,
    )


def partner_event(event: PartnerRegistered) -> Event:
    message = events_pb2.PartnerRegistered(partner=partner_to_proto(event.partner))
    return Event.from_message(message, source=EVENT_SOURCE, subject=event.partner.partner_id, topic=PARTNERS_TOPIC)


def client_event(event: ClientEvent) -> Event:
    match event:
        case ClientIssued(client=client):
            issued = events_pb2.ClientIssued(client=client_to_proto(client))
            return Event.from_message(issued, source=EVENT_SOURCE, subject=client.client_id, topic=CLIENTS_TOPIC)
        case ClientRevoked(client=client):
            revoked = events_pb2.ClientRevoked(client=client_to_proto(client))
            return Event.from_message(revoked, source=EVENT_SOURCE, subject=client.client_id, topic=CLIENTS_TOPIC)


def access_record_from_proto(message: audit_pb2.DataAccessed, *, record_id: str, sent_at: datetime) -> AccessRecord:
    """The record as reported; unknown enum values (a newer producer) are kept as unspecified, never dropped."""
    occurred_at = message.occurred_at.ToDatetime(tzinfo=UTC) if message.HasField("occurred_at") else sent_at
    return AccessRecord(
        record_id=record_id,
        actor=Actor(
            client_id=message.actor.client_id,
            partner_id=message.actor.partner_id,
            roles=tuple(message.actor.roles),
        ),
        action=ACTION_FROM_PROTO.get(message.action, AccessAction.UNSPECIFIED),
        service=message.service,
        resource_type=message.resource_type,
        resource_id=message.resource_id,
        resource_ids=tuple(message.resource_ids),
        fields=tuple(message.fields),
        purpose=message.purpose,
        outcome=OUTCOME_FROM_PROTO.get(message.outcome, AccessOutcome.UNSPECIFIED),
        remote_address=message.remote_address,
        request_id=message.request_id,
        # The store keeps milliseconds; so does the record, so pages and replays compare equal.
        occurred_at=occurred_at.replace(microsecond=occurred_at.microsecond // 1000 * 1000),
        state_code=message.state_code,
    )


def access_record_to_proto(record: AccessRecord) -> audit_pb2.DataAccessed:
    return audit_pb2.DataAccessed(
        actor=audit_pb2.Actor(
            client_id=record.actor.client_id, partner_id=record.actor.partner_id, roles=record.actor.roles
        ),
        action=ACTION_TO_PROTO[record.action],
        service=record.service,
        resource_type=record.resource_type,
        resource_id=record.resource_id,
        resource_ids=record.resource_ids,
        fields=record.fields,
        purpose=record.purpose,
        outcome=OUTCOME_TO_PROTO[record.outcome],
        remote_address=record.remote_address,
        request_id=record.request_id,
        occurred_at=timestamp(record.occurred_at),
        state_code=record.state_code,
    )
