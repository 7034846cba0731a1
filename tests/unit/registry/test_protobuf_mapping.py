"""Domain objects to the published contracts (mrc.registry.v1) and back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from mrc.registry.v1 import events_pb2, worker_pb2
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Gender, Sector
from mrc_plumbing.events import EventDecoder
from mrc_plumbing.protobuf import datetime_from, place_from_proto, place_to_proto, timestamp
from mrc_registry.adapters.protobuf_mapping import (
    DOCUMENT_FROM_PROTO,
    DOCUMENT_TO_PROTO,
    GENDER_FROM_PROTO,
    GENDER_TO_PROTO,
    METHOD_FROM_PROTO,
    METHOD_TO_PROTO,
    PURPOSE_FROM_PROTO,
    PURPOSE_TO_PROTO,
    STATUS_TO_PROTO,
    VULNERABILITY_FROM_PROTO,
    VULNERABILITY_TO_PROTO,
    consent_to_proto,
    to_envelope,
    worker_to_proto,
)
from mrc_registry.domain.consent import CaptureMethod, Consent, ConsentPurpose
from mrc_registry.domain.worker import (
    ConsentChanged,
    DocumentKind,
    IdentityDocument,
    ProtectedPhone,
    Vulnerability,
    Worker,
    WorkerDetails,
    WorkerErased,
    WorkerRegistered,
    WorkersMerged,
    WorkerStatus,
    WorkerUpdated,
)
from mrc_registry.settings import EVENT_SOURCE, WORKERS_TOPIC

from .fakes import ARARIA, NOW

LATER = NOW + timedelta(days=2)
CONSENT = Consent(
    consent_id="c-1",
    purposes=frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.PARTNER_SHARING}),
    method=CaptureMethod.VERBAL_WITH_WITNESS,
    captured_by_partner_id="partner-a",
    captured_at=NOW,
    shared_with_partner_ids=frozenset({"partner-c", "partner-b"}),
    witness_name="Ramesh",
    expires_at=NOW + timedelta(days=365),
)


def worker() -> Worker:
    return Worker(
        worker_id="w-1",
        details=WorkerDetails(
            full_name="सीता देवी",
            latin_name="sita devi",
            gender=Gender.FEMALE,
            birth_year=1994,
            home=ARARIA,
            occupation="brick moulder",
            sector=Sector.BRICK_KILN,
            skills=("moulding",),
            languages=("hi", "mai"),
            vulnerabilities=frozenset({Vulnerability.SINGLE_WOMAN, Vulnerability.BONDED_LABOUR_RISK}),
            father_or_spouse_name="Ram Prasad",
            phone=ProtectedPhone("enc:phone:+919876543210", "bi:phone:+919876543210", "3210"),
            identity_documents=(IdentityDocument(DocumentKind.AADHAAR, "bi:aadhaar:234567890124", "XXXX XXXX 0124"),),
        ),
        registering_partner_id="partner-a",
        registered_at=NOW,
        updated_at=LATER,
        consents=[CONSENT],
        version=3,
    )


def test_every_enum_maps_both_ways_and_unspecified_maps_to_nothing() -> None:
    for to_proto, from_proto, domain in [
        (GENDER_TO_PROTO, GENDER_FROM_PROTO, Gender),
        (DOCUMENT_TO_PROTO, DOCUMENT_FROM_PROTO, DocumentKind),
        (VULNERABILITY_TO_PROTO, VULNERABILITY_FROM_PROTO, Vulnerability),
        (PURPOSE_TO_PROTO, PURPOSE_FROM_PROTO, ConsentPurpose),
        (METHOD_TO_PROTO, METHOD_FROM_PROTO, CaptureMethod),
    ]:
        assert set(to_proto) == set(domain)
        assert {from_proto[v] for v in to_proto.values()} == set(domain)
        assert 0 not in from_proto
    assert set(STATUS_TO_PROTO) == set(WorkerStatus)


def test_place_round_trip() -> None:
    assert place_from_proto(place_to_proto(ARARIA)) == ARARIA


def test_timestamps_round_trip_and_unset_is_none() -> None:
    assert datetime_from(timestamp(NOW)) == NOW
    assert datetime_from(Timestamp()) is None


def test_the_worker_message_carries_every_field_but_secrets() -> None:
    message = worker_to_proto(worker())

    assert message.worker_id == "w-1"
    assert message.full_name == "सीता देवी"
    assert message.latin_name == "sita devi"
    assert message.gender == worker_pb2.GENDER_FEMALE
    assert message.birth_year == 1994
    assert place_from_proto(message.home) == ARARIA
    assert message.sector == "brick_kiln"
    assert list(message.skills) == ["moulding"]
    assert list(message.languages) == ["hi", "mai"]
    assert list(message.vulnerabilities) == [
        worker_pb2.VULNERABILITY_SINGLE_WOMAN,
        worker_pb2.VULNERABILITY_BONDED_LABOUR_RISK,
    ]
    assert message.father_or_spouse_name == "Ram Prasad"
    assert [(d.kind, d.masked_number) for d in message.identity_documents] == [
        (worker_pb2.IDENTITY_DOCUMENT_KIND_AADHAAR, "XXXX XXXX 0124")
    ]
    assert message.status == worker_pb2.WORKER_STATUS_ACTIVE
    assert message.version == 3
    assert datetime_from(message.registered_at) == NOW
    assert datetime_from(message.updated_at) == LATER
    assert message.phone == ""  # only given to readers allowed to see it
    serialized = message.SerializeToString()
    assert b"enc:" not in serialized and b"bi:" not in serialized
    assert worker_to_proto(worker(), "+919876543210").phone == "+919876543210"


def test_an_erased_worker_has_unspecified_gender_and_no_birth_year() -> None:
    erased = worker()
    erased.details = WorkerDetails(full_name="", gender=None, birth_year=None, home=Place("10", "188"))
    erased.status = WorkerStatus.ERASED

    message = worker_to_proto(erased)

    assert message.gender == worker_pb2.GENDER_UNSPECIFIED
    assert message.birth_year == 0
    assert message.sector == ""
    assert message.status == worker_pb2.WORKER_STATUS_ERASED


def test_consents_carry_purposes_partners_and_dates() -> None:
    message = consent_to_proto(CONSENT)

    assert list(message.purposes) == [
        worker_pb2.CONSENT_PURPOSE_REGISTRATION,
        worker_pb2.CONSENT_PURPOSE_PARTNER_SHARING,
    ]
    assert list(message.shared_with_partner_ids) == ["partner-b", "partner-c"]
    assert message.method == worker_pb2.CONSENT_CAPTURE_METHOD_VERBAL_WITH_WITNESS
    assert message.witness_name == "Ramesh"
    assert datetime_from(message.expires_at) == CONSENT.expires_at
    assert not message.HasField("revoked_at")
    assert datetime_from(consent_to_proto(CONSENT.revoked(LATER)).revoked_at) == LATER


# Nothing that names or reaches the person travels in an event.
IDENTIFYING = [
    "सीता".encode(),
    b"sita",
    b"Ram Prasad",
    b"Kusiyargaon",  # the village
    b"Ramesh",  # the consent's witness
    b"9876543210",
    b"3210",
    b"0124",
    b"enc:",
    b"bi:",
]


def test_worker_registered_becomes_a_keyed_event_on_the_workers_topic_with_facts_and_no_name() -> None:
    event = to_envelope(WorkerRegistered(worker()))

    assert event.topic == WORKERS_TOPIC
    assert event.source == EVENT_SOURCE
    assert event.key == b"w-1"
    assert event.type == "mrc.registry.v1.WorkerRegistered"
    message = EventDecoder().decode(event)
    assert isinstance(message, events_pb2.WorkerRegistered)
    assert message.worker == worker_pb2.Worker(worker_id="w-1")  # the deprecated field carries the id only
    facts = message.facts
    assert (facts.worker_id, facts.birth_year, facts.gender) == ("w-1", 1994, worker_pb2.GENDER_FEMALE)
    assert (facts.sector, facts.occupation) == ("brick_kiln", "brick moulder")
    assert (facts.home.state_code, facts.home.district_code, facts.home.village_name) == ("10", "188", "")
    assert list(facts.document_kinds) == [worker_pb2.IDENTITY_DOCUMENT_KIND_AADHAAR]
    assert set(facts.vulnerabilities) == {
        worker_pb2.VULNERABILITY_SINGLE_WOMAN,
        worker_pb2.VULNERABILITY_BONDED_LABOUR_RISK,
    }
    assert (facts.registering_partner_id, facts.version) == ("partner-a", 3)
    assert list(facts.consenting_partner_ids) == ["partner-a"]
    assert set(facts.active_purposes) == {
        worker_pb2.CONSENT_PURPOSE_REGISTRATION,
        worker_pb2.CONSENT_PURPOSE_PARTNER_SHARING,
    }
    grants = {(g.partner_id, g.partner_kind): set(g.purposes) for g in facts.grants}
    assert grants == {
        ("partner-a", ""): {"registration", "case_management", "sharing"},
        ("partner-b", ""): {"registration", "case_management", "sharing"},
        ("partner-c", ""): {"registration", "case_management", "sharing"},
    }
    for secret in IDENTIFYING:
        assert secret not in event.data, secret


def test_worker_updated_names_the_changed_fields_and_carries_facts_only() -> None:
    event = to_envelope(WorkerUpdated(worker(), ("occupation", "phone")))
    message = events_pb2.WorkerUpdated.FromString(event.data)

    assert list(message.changed_fields) == ["occupation", "phone"]
    assert message.facts.occupation == "brick moulder"
    assert message.worker.full_name == "" and message.worker.occupation == ""
    for secret in IDENTIFYING:
        assert secret not in event.data, secret


def test_an_expired_consent_is_announced_as_expired_and_no_longer_counts() -> None:
    subject = worker()
    expiring = replace(CONSENT, consent_id="c-2", expires_at=LATER)
    subject.consents = [replace(CONSENT, expires_at=None, shared_with_partner_ids=frozenset()), expiring]
    subject.updated_at = LATER
    assert subject.announce_expired_consents(LATER)

    [event] = [to_envelope(e) for e in subject.pending_events]
    message = events_pb2.ConsentChanged.FromString(event.data)

    assert message.expired
    assert message.consent.consent_id == "c-2"
    assert list(message.shared_with_partner_ids) == []
    assert list(message.facts.consenting_partner_ids) == ["partner-a"]
    assert b"Ramesh" not in event.data


def test_consent_changed_lists_what_stays_active_after_a_revocation() -> None:
    registration = replace(
        CONSENT,
        consent_id="c-0",
        purposes=frozenset({ConsentPurpose.REGISTRATION}),
        shared_with_partner_ids=frozenset(),
    )
    revoked = CONSENT.revoked(LATER)
    subject = worker()
    subject.consents = [registration, revoked]

    event = to_envelope(ConsentChanged(subject, revoked))
    message = events_pb2.ConsentChanged.FromString(event.data)

    assert event.key == b"w-1"
    assert message.consent.consent_id == "c-1"
    assert message.consent.HasField("revoked_at")
    assert list(message.active_purposes) == [worker_pb2.CONSENT_PURPOSE_REGISTRATION]
    assert list(message.shared_with_partner_ids) == []


def test_erasure_and_merge_events_name_no_one() -> None:
    erased = to_envelope(WorkerErased("w-1", LATER))
    merged = to_envelope(WorkersMerged("w-1", "w-2", LATER))

    assert erased.type == "mrc.registry.v1.WorkerErased"
    assert events_pb2.WorkerErased.FromString(erased.data).worker_id == "w-1"
    assert merged.type == "mrc.registry.v1.WorkersMerged"
    assert merged.key == b"w-2"  # ordered with the merged worker's own events
    message = events_pb2.WorkersMerged.FromString(merged.data)
    assert (message.surviving_worker_id, message.merged_worker_id) == ("w-1", "w-2")
    assert datetime_from(message.merged_at) == LATER
