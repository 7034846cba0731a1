"""Between domain objects and the published contracts (mrc.registry.v1)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from mrc.common.v1 import common_pb2
from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_kernel.events import Event
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.worker import (
    ConsentChanged,
    DocumentKind,
    DomainEvent,
    Gender,
    Place,
    Vulnerability,
    Worker,
    WorkerErased,
    WorkerRegistered,
    WorkersMerged,
    WorkerStatus,
    WorkerUpdated,
)
from mrc_registry.settings import EVENT_SOURCE, WORKERS_TOPIC

GENDER_TO_PROTO = {
    Gender.FEMALE: worker_pb2.GENDER_FEMALE,
    Gender.MALE: worker_pb2.GENDER_MALE,
    Gender.TRANSGENDER: worker_pb2.GENDER_TRANSGENDER,
    Gender.UNDISCLOSED: worker_pb2.GENDER_UNDISCLOSED,
}
GENDER_FROM_PROTO = {v: k for k, v in GENDER_TO_PROTO.items()}
STATUS_TO_PROTO = {
    WorkerStatus.ACTIVE: worker_pb2.WORKER_STATUS_ACTIVE,
    WorkerStatus.MERGED: worker_pb2.WORKER_STATUS_MERGED,
    WorkerStatus.ERASED: worker_pb2.WORKER_STATUS_ERASED,
}
DOCUMENT_TO_PROTO = {
    kind: worker_pb2.IdentityDocumentKind.Value(f"IDENTITY_DOCUMENT_KIND_{kind.name}") for kind in DocumentKind
}
DOCUMENT_FROM_PROTO = {v: k for k, v in DOCUMENT_TO_PROTO.items()}
VULNERABILITY_TO_PROTO = {v: worker_pb2.Vulnerability.Value(f"VULNERABILITY_{v.name}") for v in Vulnerability}
VULNERABILITY_FROM_PROTO = {v: k for k, v in VULNERABILITY_TO_PROTO.items()}
PURPOSE_TO_PROTO = {p: worker_pb2.ConsentPurpose.Value(f"CONSENT_PURPOSE_{p.name}") for p in ConsentPurpose}
PURPOSE_FROM_PROTO = {v: k for k, v in PURPOSE_TO_PROTO.items()}
METHOD_TO_PROTO = {m: worker_pb2.ConsentCaptureMethod.Value(f"CONSENT_CAPTURE_METHOD_{m.name}") for m in CaptureMethod}
METHOD_FROM_PROTO = {v: k for k, v in METHOD_TO_PROTO.items()}


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def datetime_from(ts: Timestamp) -> datetime | None:
    return ts.ToDatetime(tzinfo=UTC) if ts.seconds or ts.nanos else None


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


def consent_to_proto(consent: Consent) -> worker_pb2.Consent:
    message = worker_pb2.Consent(
        consent_id=consent.consent_id,
        purposes=sorted(PURPOSE_TO_PROTO[p] for p in consent.purposes),
        shared_with_partner_ids=sorted(consent.shared_with_partner_ids),
        method=METHOD_TO_PROTO[consent.method],
        witness_name=consent.witness_name,
        captured_by_partner_id=consent.captured_by_partner_id,
        captured_at=timestamp(consent.captured_at),
    )
    if consent.expires_at:
        message.expires_at.CopyFrom(timestamp(consent.expires_at))
    if consent.revoked_at:
        message.revoked_at.CopyFrom(timestamp(consent.revoked_at))
    return message


def worker_to_proto(worker: Worker, phone: str = "") -> worker_pb2.Worker:
    """The worker as a contract message; `phone` only when this reader may see it (never in events)."""
    details = worker.details
    return worker_pb2.Worker(
        worker_id=worker.worker_id,
        full_name=details.full_name,
        gender=GENDER_TO_PROTO[details.gender] if details.gender else worker_pb2.GENDER_UNSPECIFIED,
        birth_year=details.birth_year or 0,
        home=place_to_proto(details.home),
        occupation=details.occupation,
        registering_partner_id=worker.registering_partner_id,
        registered_at=timestamp(worker.registered_at),
        updated_at=timestamp(worker.updated_at),
        latin_name=details.latin_name,
        phone=phone,
        identity_documents=[
            worker_pb2.IdentityDocument(kind=DOCUMENT_TO_PROTO[d.kind], masked_number=d.masked)
            for d in details.identity_documents
        ],
        father_or_spouse_name=details.father_or_spouse_name,
        sector=details.sector.value if details.sector else "",
        skills=list(details.skills),
        languages=list(details.languages),
        vulnerabilities=sorted(VULNERABILITY_TO_PROTO[v] for v in details.vulnerabilities),
        consents=[consent_to_proto(c) for c in worker.consents],
        status=STATUS_TO_PROTO[worker.status],
        merged_into_worker_id=worker.merged_into,
        version=worker.version,
    )


def to_envelope(event: DomainEvent) -> Event:
    subject: str
    message: Message
    match event:
        case WorkerRegistered(worker=worker):
            subject, message = worker.worker_id, events_pb2.WorkerRegistered(worker=worker_to_proto(worker))
        case WorkerUpdated(worker=worker, changed_fields=changed):
            subject = worker.worker_id
            message = events_pb2.WorkerUpdated(worker=worker_to_proto(worker), changed_fields=list(changed))
        case ConsentChanged(worker=worker, consent=consent):
            now = consent.revoked_at or consent.captured_at
            active = [c for c in worker.consents if c.is_active(now)]
            subject = worker.worker_id
            message = events_pb2.ConsentChanged(
                worker_id=worker.worker_id,
                consent=consent_to_proto(consent),
                active_purposes=sorted({PURPOSE_TO_PROTO[p] for c in active for p in c.purposes}),
                shared_with_partner_ids=sorted({p for c in active for p in c.shared_with_partner_ids}),
            )
        case WorkerErased(worker_id=worker_id, erased_at=at):
            subject, message = worker_id, events_pb2.WorkerErased(worker_id=worker_id, erased_at=timestamp(at))
        case WorkersMerged(surviving_worker_id=survivor, merged_worker_id=merged, merged_at=at):
            subject = merged
            message = events_pb2.WorkersMerged(
                surviving_worker_id=survivor, merged_worker_id=merged, merged_at=timestamp(at)
            )
    return Event.from_message(message, source=EVENT_SOURCE, subject=subject, topic=WORKERS_TOPIC)
