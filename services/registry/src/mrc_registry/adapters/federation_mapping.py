"""Between the registry's domain and the federation contracts (mrc.federation.v1), both ways.

Out: a worker's summary as it may cross a border (names as federation tokens, documents and phone as
blind index and masked number, name keys blinded), withdrawals, household links and aggregates, each on
the topic of its destination state. In: what another state shares, decoded and opened for this one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from google.protobuf.message import Message

from mrc.common.v1 import common_pb2
from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc.registry.v1 import worker_pb2
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Sector
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.federation import AGGREGATES_TOPIC as AGGREGATES_TOPIC
from mrc_plumbing.federation import federation_topic as federation_topic
from mrc_plumbing.protobuf import datetime_from, place_to_proto, timestamp
from mrc_registry.adapters.protobuf_mapping import (
    DOCUMENT_FROM_PROTO,
    DOCUMENT_TO_PROTO,
    GENDER_FROM_PROTO,
    GENDER_TO_PROTO,
    PURPOSE_FROM_PROTO,
    PURPOSE_TO_PROTO,
    STATUS_TO_PROTO,
    VULNERABILITY_FROM_PROTO,
    VULNERABILITY_TO_PROTO,
)
from mrc_registry.domain.federation import SharingGrant, SharingPlan, WithdrawalReason
from mrc_registry.domain.foreign_copy import SharedWorker, SharedWorkerWithdrawn
from mrc_registry.domain.household import Household
from mrc_registry.domain.household_links import SharedHouseholdLinks
from mrc_registry.domain.identity.matching import blocking_keys
from mrc_registry.domain.worker import IdentityDocument, ProtectedPhone, Worker, WorkerDetails
from mrc_registry.service_layer.deduplication import facts_of
from mrc_registry.settings import EVENT_SOURCE

WORKERS = "workers"
HOUSEHOLDS = "households"
# Blind-index kind of the name keys (`BlindIndexer.index(NAME_KEY_KIND, key)`), as the contract says.
NAME_KEY_KIND = "name-key"
NAME_KEY_PREFIXES = ("name+district:", "name+birth_year:", "word+district:", "word+birth_year:")
PHONE_MASK = "XXXXXX"

BlindIndex = Callable[[str, str], str]

WITHDRAWAL_TO_PROTO = {
    WithdrawalReason.CONSENT_REVOKED: federation_pb2.WITHDRAWAL_REASON_CONSENT_REVOKED,
    WithdrawalReason.CONSENT_EXPIRED: federation_pb2.WITHDRAWAL_REASON_CONSENT_EXPIRED,
    WithdrawalReason.CONSENT_NARROWED: federation_pb2.WITHDRAWAL_REASON_CONSENT_NARROWED,
    WithdrawalReason.ERASED: federation_pb2.WITHDRAWAL_REASON_ERASED,
    WithdrawalReason.MERGED: federation_pb2.WITHDRAWAL_REASON_MERGED,
}
WITHDRAWAL_FROM_PROTO = {v: k for k, v in WITHDRAWAL_TO_PROTO.items()}


def mirrored_topics(peer_aliases: Iterable[str], own_state_code: str, kinds: Iterable[str]) -> list[str]:
    """The copies of what the peers address to this state, as MirrorMaker 2 names them in this cluster
    (`<peer alias>.mrc.federation.workers.<own code>.v1`)."""
    return sorted(f"{alias}.{federation_topic(kind, own_state_code)}" for alias in peer_aliases for kind in kinds)


def full_name_field(worker_id: str) -> str:
    return f"worker.full_name/{worker_id}"


def father_or_spouse_name_field(worker_id: str) -> str:
    return f"worker.father_or_spouse_name/{worker_id}"


def _envelope(message: Message, subject: str, topic: str) -> Event:
    return Event.from_message(message, source=EVENT_SOURCE, subject=subject, topic=topic)


# ------------------------------------------------------------------------------------------ out


def name_keys(worker: Worker) -> list[str]:
    """The worker's name blocking keys (never its document or phone keys, which are blind indexes already)."""
    return sorted(k for k in blocking_keys(facts_of(worker)) if k.startswith(NAME_KEY_PREFIXES))


def worker_shared(
    worker: Worker, grant: SharingGrant, own_state_code: str, cipher: FederationCipher, blind_index: BlindIndex
) -> federation_pb2.WorkerShared:
    d = worker.details
    message = federation_pb2.WorkerShared(
        worker_id=worker.worker_id,
        home_state_code=own_state_code,
        shared_with_state_codes=sorted(grant.shared_with_state_codes),
        facts=federation_pb2.SharedWorkerFacts(
            birth_year=d.birth_year or 0,
            gender=GENDER_TO_PROTO[d.gender] if d.gender else worker_pb2.GENDER_UNSPECIFIED,
            sector=d.sector.value if d.sector else "",
            occupation=d.occupation,
            home=place_to_proto(d.home, with_village=False),
            vulnerabilities=sorted(VULNERABILITY_TO_PROTO[v] for v in d.vulnerabilities),
            languages=list(d.languages),
            skills=list(d.skills),
            registering_partner_id=worker.registering_partner_id,
            status=STATUS_TO_PROTO[worker.status],
            registered_at=timestamp(worker.registered_at),
        ),
        documents=[
            federation_pb2.DocumentIndex(
                kind=DOCUMENT_TO_PROTO[doc.kind], blind_index=doc.blind_index, masked_number=doc.masked
            )
            for doc in d.identity_documents
        ],
        name_keys=[blind_index(NAME_KEY_KIND, key) for key in name_keys(worker)],
        full_name_token=cipher.seal(full_name_field(worker.worker_id), d.full_name),
        father_or_spouse_name_token=cipher.seal(father_or_spouse_name_field(worker.worker_id), d.father_or_spouse_name),
        consent_id=grant.consent_id,
        version=worker.version,
        shared_at=timestamp(worker.updated_at),
        consent_purposes=sorted(PURPOSE_TO_PROTO[p] for p in grant.purposes),
    )
    if d.phone is not None:
        message.phone.CopyFrom(
            federation_pb2.PhoneIndex(blind_index=d.phone.blind_index, masked_number=PHONE_MASK + d.phone.last4)
        )
    if grant.expires_at is not None:
        message.consent_expires_at.CopyFrom(timestamp(grant.expires_at))
    return message


def worker_withdrawn(
    worker: Worker, destination: str, plan: SharingPlan, own_state_code: str
) -> federation_pb2.WorkerWithdrawn:
    reason = plan.withdrawals[destination]
    return federation_pb2.WorkerWithdrawn(
        worker_id=worker.worker_id,
        home_state_code=own_state_code,
        withdrawn_from_state_codes=[destination],
        reason=WITHDRAWAL_TO_PROTO[reason],
        merged_into_worker_id=plan.merged_into if reason is WithdrawalReason.MERGED else "",
        version=worker.version,
        withdrawn_at=timestamp(worker.updated_at),
    )


def sharing_events(
    worker: Worker, plan: SharingPlan, own_state_code: str, cipher: FederationCipher, blind_index: BlindIndex
) -> list[Event]:
    """One event per destination: the summary where the worker's consents allow it, a withdrawal where not."""
    events = [
        _envelope(
            worker_shared(worker, grant, own_state_code, cipher, blind_index),
            worker.worker_id,
            federation_topic(WORKERS, destination),
        )
        for destination, grant in sorted(plan.shares.items())
    ]
    events += [
        _envelope(
            worker_withdrawn(worker, destination, plan, own_state_code),
            worker.worker_id,
            federation_topic(WORKERS, destination),
        )
        for destination in sorted(plan.withdrawals)
    ]
    return events


def household_links_event(
    household: Household, destination: str, members: Iterable[str], own_state_code: str, now: datetime
) -> Event:
    home = household.home or Place(own_state_code, "")
    message = federation_pb2.HouseholdLinksShared(
        household_id=household.household_id,
        home_state_code=own_state_code,
        shared_with_state_codes=[destination],
        member_worker_ids=sorted(members),
        size=len(household.members),
        holds_ration_card=bool(household.masked_ration_card),
        ration_card_state_code=home.state_code if household.masked_ration_card else "",
        home=common_pb2.LgdLocation(state_code=home.state_code, district_code=home.district_code),
        version=household.version,
        shared_at=timestamp(now),
    )
    return _envelope(message, household.household_id, federation_topic(HOUSEHOLDS, destination))


def aggregates_event(message: federation_pb2.AggregatesPublished) -> Event:
    return _envelope(message, message.home_state_code, AGGREGATES_TOPIC)


# ------------------------------------------------------------------------------------------ in


class RefusedRecord(ValueError):
    """A federation record this registry cannot use (says why, never what it holds)."""


def _when(ts: object, default: datetime | None = None) -> datetime | None:
    value = datetime_from(ts)  # type: ignore[arg-type]
    return value if value is not None else default


def shared_worker_from(message: federation_pb2.WorkerShared, cipher: FederationCipher) -> SharedWorker:
    """The summary with its names opened (`DecryptionError` if a token does not open here)."""
    worker_id = message.worker_id
    if not worker_id or not message.home_state_code:
        raise RefusedRecord("a WorkerShared without worker_id or home_state_code")
    facts = message.facts
    sector: Sector | None = None
    if facts.sector:
        try:
            sector = Sector(facts.sector)
        except ValueError:
            sector = None  # a sector this state does not know yet: the copy goes without it
    phone = None
    if message.HasField("phone") and message.phone.blind_index:
        phone = ProtectedPhone(
            encrypted="", blind_index=message.phone.blind_index, last4=message.phone.masked_number[-4:]
        )
    documents = tuple(
        IdentityDocument(kind=DOCUMENT_FROM_PROTO[doc.kind], blind_index=doc.blind_index, masked=doc.masked_number)
        for doc in message.documents
        if doc.kind in DOCUMENT_FROM_PROTO and doc.blind_index
    )
    home = facts.home
    details = WorkerDetails(
        full_name=cipher.open(full_name_field(worker_id), message.full_name_token),
        gender=GENDER_FROM_PROTO.get(facts.gender),
        birth_year=facts.birth_year or None,
        home=Place(home.state_code, home.district_code, home.subdistrict_code),
        occupation=facts.occupation,
        sector=sector,
        skills=tuple(facts.skills),
        languages=tuple(facts.languages),
        vulnerabilities=frozenset(
            VULNERABILITY_FROM_PROTO[v] for v in facts.vulnerabilities if v in VULNERABILITY_FROM_PROTO
        ),
        father_or_spouse_name=cipher.open(father_or_spouse_name_field(worker_id), message.father_or_spouse_name_token),
        phone=phone,
        identity_documents=documents,
    )
    shared_at = _when(message.shared_at, datetime.now(UTC))
    assert shared_at is not None
    registered_at = _when(facts.registered_at, shared_at)
    assert registered_at is not None
    return SharedWorker(
        worker_id=worker_id,
        home_state_code=message.home_state_code,
        shared_with_state_codes=frozenset(message.shared_with_state_codes),
        details=details,
        registering_partner_id=facts.registering_partner_id,
        registered_at=registered_at,
        consent_id=message.consent_id,
        consent_purposes=frozenset(PURPOSE_FROM_PROTO[p] for p in message.consent_purposes if p in PURPOSE_FROM_PROTO),
        consent_expires_at=_when(message.consent_expires_at),
        version=message.version,
        shared_at=shared_at,
    )


def withdrawn_from(message: federation_pb2.WorkerWithdrawn) -> SharedWorkerWithdrawn:
    if not message.worker_id or not message.home_state_code:
        raise RefusedRecord("a WorkerWithdrawn without worker_id or home_state_code")
    reason = WITHDRAWAL_FROM_PROTO.get(message.reason, WithdrawalReason.CONSENT_REVOKED)
    withdrawn_at = _when(message.withdrawn_at, datetime.now(UTC))
    assert withdrawn_at is not None
    return SharedWorkerWithdrawn(
        worker_id=message.worker_id,
        home_state_code=message.home_state_code,
        withdrawn_from_state_codes=frozenset(message.withdrawn_from_state_codes),
        reason=reason.value,
        version=message.version,
        withdrawn_at=withdrawn_at,
    )


def household_links_from(message: federation_pb2.HouseholdLinksShared) -> SharedHouseholdLinks:
    if not message.household_id or not message.home_state_code:
        raise RefusedRecord("a HouseholdLinksShared without household_id or home_state_code")
    shared_at = _when(message.shared_at, datetime.now(UTC))
    assert shared_at is not None
    return SharedHouseholdLinks(
        household_id=message.household_id,
        home_state_code=message.home_state_code,
        shared_with_state_codes=frozenset(message.shared_with_state_codes),
        member_worker_ids=tuple(sorted(set(message.member_worker_ids))),
        size=message.size,
        holds_ration_card=message.holds_ration_card,
        ration_card_state_code=message.ration_card_state_code,
        lives_in_state_code=message.home.state_code,
        lives_in_district_code=message.home.district_code,
        version=message.version,
        shared_at=shared_at,
    )
