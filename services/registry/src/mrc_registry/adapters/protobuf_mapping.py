"""Between domain objects and the published contracts (mrc.registry.v1)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message

from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_kernel.events import Event
from mrc_kernel.vocabulary import Gender
from mrc_plumbing.protobuf import place_to_proto, timestamp
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.worker import (
    ConsentChanged,
    DocumentKind,
    DomainEvent,
    Vulnerability,
    Worker,
    WorkerErased,
    WorkerRegistered,
    WorkersMerged,
    WorkerStatus,
    WorkerUpdated,
)
from mrc_registry.domain.worker_access import EVERY_FIELD, consent_grants, copy_grants
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


def consent_to_proto(consent: Consent, *, for_event: bool = False) -> worker_pb2.Consent:
    message = worker_pb2.Consent(
        consent_id=consent.consent_id,
        purposes=sorted(PURPOSE_TO_PROTO[p] for p in consent.purposes),
        shared_with_partner_ids=sorted(consent.shared_with_partner_ids),
        method=METHOD_TO_PROTO[consent.method],
        witness_name="" if for_event else consent.witness_name,
        captured_by_partner_id=consent.captured_by_partner_id,
        captured_at=timestamp(consent.captured_at),
        shared_with_state_codes=sorted(consent.shared_with_state_codes),
    )
    if consent.expires_at:
        message.expires_at.CopyFrom(timestamp(consent.expires_at))
    if consent.revoked_at:
        message.revoked_at.CopyFrom(timestamp(consent.revoked_at))
    return message


def worker_to_proto(
    worker: Worker, phone: str = "", *, fields: frozenset[str] = EVERY_FIELD, partner_id: str = ""
) -> worker_pb2.Worker:
    """The worker as a contract message, as one reader may see it: only `fields`, the phone only when given
    (never in events), witnesses only on the reader's own consents."""
    details = worker.details

    def shown(name: str) -> bool:
        return name in fields

    return worker_pb2.Worker(
        worker_id=worker.worker_id,
        full_name=details.full_name if shown("full_name") else "",
        gender=GENDER_TO_PROTO[details.gender] if details.gender and shown("gender") else worker_pb2.GENDER_UNSPECIFIED,
        birth_year=(details.birth_year or 0) if shown("birth_year") else 0,
        home=place_to_proto(details.home) if shown("home") else None,
        occupation=details.occupation if shown("occupation") else "",
        registering_partner_id=worker.registering_partner_id,
        registered_at=timestamp(worker.registered_at),
        updated_at=timestamp(worker.updated_at),
        latin_name=details.latin_name if shown("full_name") else "",
        phone=phone if shown("phone") else "",
        identity_documents=[
            worker_pb2.IdentityDocument(kind=DOCUMENT_TO_PROTO[d.kind], masked_number=d.masked)
            for d in details.identity_documents
        ]
        if shown("identity_documents")
        else [],
        father_or_spouse_name=details.father_or_spouse_name if shown("father_or_spouse_name") else "",
        sector=details.sector.value if details.sector and shown("sector") else "",
        skills=list(details.skills) if shown("skills") else [],
        languages=list(details.languages) if shown("languages") else [],
        vulnerabilities=sorted(VULNERABILITY_TO_PROTO[v] for v in details.vulnerabilities)
        if shown("vulnerabilities")
        else [],
        consents=[consent_to_proto(c, for_event=c.captured_by_partner_id != partner_id) for c in worker.consents],
        status=STATUS_TO_PROTO[worker.status],
        merged_into_worker_id=worker.merged_into,
        version=worker.version,
        federated_from_state_code=worker.foreign.home_state_code if worker.foreign else "",
    )


def worker_facts(worker: Worker, now: datetime) -> events_pb2.WorkerFacts:
    """The worker's non-identifying facts, as events carry them (no name, phone, number or village)."""
    details = worker.details
    active = [c for c in worker.consents if c.is_active(now)]
    foreign = worker.foreign
    # A copy of another state's record: the home state's cross-state consent admits this state's partners.
    shared_here = copy_grants(foreign) if foreign is not None and foreign.is_active(now) else ()
    shared_purposes = foreign.purposes if foreign is not None and foreign.is_active(now) else frozenset()
    return events_pb2.WorkerFacts(
        worker_id=worker.worker_id,
        birth_year=details.birth_year or 0,
        gender=GENDER_TO_PROTO[details.gender] if details.gender else worker_pb2.GENDER_UNSPECIFIED,
        sector=details.sector.value if details.sector else "",
        occupation=details.occupation,
        home=place_to_proto(details.home, with_village=False),
        document_kinds=sorted(DOCUMENT_TO_PROTO[d.kind] for d in details.identity_documents),
        vulnerabilities=sorted(VULNERABILITY_TO_PROTO[v] for v in details.vulnerabilities),
        active_purposes=sorted(
            {PURPOSE_TO_PROTO[p] for c in active for p in c.purposes} | {PURPOSE_TO_PROTO[p] for p in shared_purposes}
        ),
        registering_partner_id=worker.registering_partner_id,
        status=STATUS_TO_PROTO[worker.status],
        version=worker.version,
        consenting_partner_ids=sorted({c.captured_by_partner_id for c in active}),
        grants=[
            events_pb2.PartnerGrant(
                partner_id=grant.partner_id, partner_kind=grant.partner_kind, purposes=sorted(grant.purposes)
            )
            for grant in [*(g for consent in active for g in consent_grants(consent)), *shared_here]
        ],
        federated_from_state_code=foreign.home_state_code if foreign is not None else "",
        # Where the federation publisher last shared the record (it runs before the facts are built).
        shared_with_state_codes=sorted(worker.shared_with_states) if foreign is None else [],
    )


def to_envelope(event: DomainEvent) -> Event:
    subject: str
    message: Message
    match event:
        case WorkerRegistered(worker=worker):
            subject = worker.worker_id
            message = events_pb2.WorkerRegistered(
                worker=worker_pb2.Worker(worker_id=worker.worker_id),
                facts=worker_facts(worker, worker.updated_at),
            )
        case WorkerUpdated(worker=worker, changed_fields=changed):
            subject = worker.worker_id
            message = events_pb2.WorkerUpdated(
                worker=worker_pb2.Worker(worker_id=worker.worker_id),
                changed_fields=list(changed),
                facts=worker_facts(worker, worker.updated_at),
            )
        case ConsentChanged(worker=worker, consent=consent):
            now = worker.updated_at
            active = [c for c in worker.consents if c.is_active(now)]
            subject = worker.worker_id
            message = events_pb2.ConsentChanged(
                worker_id=worker.worker_id,
                consent=consent_to_proto(consent, for_event=True),
                active_purposes=sorted({PURPOSE_TO_PROTO[p] for c in active for p in c.purposes}),
                shared_with_partner_ids=sorted({p for c in active for p in c.shared_with_partner_ids}),
                expired=consent.expiry_announced and consent.revoked_at is None,
                facts=worker_facts(worker, now),
            )
        case WorkerErased(worker_id=worker_id, erased_at=at):
            subject, message = worker_id, events_pb2.WorkerErased(worker_id=worker_id, erased_at=timestamp(at))
        case WorkersMerged(surviving_worker_id=survivor, merged_worker_id=merged, merged_at=at):
            subject = merged
            message = events_pb2.WorkersMerged(
                surviving_worker_id=survivor, merged_worker_id=merged, merged_at=timestamp(at)
            )
    return Event.from_message(message, source=EVENT_SOURCE, subject=subject, topic=WORKERS_TOPIC)
