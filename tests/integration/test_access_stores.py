"""The access service's adapters against the real store (FerretDB), with both store strategies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from pymongo.database import Database

from mrc_access.adapters.mongo_audit_records import StoredAuditRecords
from mrc_access.adapters.mongo_repository import StoredClients, StoredPartners
from mrc_access.adapters.mongo_signing_keys import StoredSigningKeys
from mrc_access.domain.audit_record import AccessAction, AccessOutcome, AccessRecord, Actor
from mrc_access.domain.client import Client
from mrc_access.domain.partner import Partner, PartnerKind
from mrc_access.service_layer.administration import SYSTEM
from mrc_access.service_layer.audit_trail import AccessRecordQuery, AuditTrail
from mrc_access.service_layer.ports import AccessRecordFilter
from mrc_access.service_layer.signing_keys import SigningKeyRing
from mrc_access.settings import CLIENTS_TOPIC, PARTNERS_TOPIC
from mrc_kernel.audit import Action
from mrc_kernel.errors import AlreadyExists, IdempotencyKeyReused
from mrc_kernel.roles import Role
from mrc_plumbing.audit import AuditTrail as AuditEvents
from mrc_plumbing.store import DocumentStore
from tests.support.auth import caller_for

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
AUDITOR = caller_for(Role.AUDITOR, partner_id="audit-cell")
EVENTS = AuditEvents(None, service="access", state_code="10")


def new_partner(partner_id: str = "p-1") -> Partner:
    return Partner.register(
        partner_id=partner_id,
        name="Aajeevika Bureau",
        kind=PartnerKind.CSO,
        state_codes=("10",),
        district_codes=("212",),
        employer_id="",
        now=NOW,
    )


def new_client(partner: Partner, client_id: str = "c-1") -> Client:
    return Client.issue(
        client_id=client_id,
        partner=partner,
        roles=(Role.CASEWORKER, Role.REGISTRAR),
        state_codes=(),
        district_codes=(),
        display_name="field app",
        secret_hash="scrypt$16384$8$1$c2FsdA$aGFzaA",
        now=NOW,
    )


def test_partner_is_stored_once_with_its_events(db: Database[Any], store: DocumentStore) -> None:
    repo = StoredPartners(store)
    repo.ensure_indexes()
    audit = EVENTS.event(SYSTEM, Action.CREATE, "partner", "p-1", ["name"])
    partner, created = repo.add(new_partner(), idempotency_key="operators:k1", fingerprint="f", audit=[audit])
    assert created
    replay, created_again = repo.add(new_partner("p-2"), idempotency_key="operators:k1", fingerprint="f")
    assert not created_again and replay == partner
    with pytest.raises(IdempotencyKeyReused):
        repo.add(new_partner("p-3"), idempotency_key="operators:k1", fingerprint="other")
    stored = db.partners.find_one({"_id": "p-1"})
    assert stored is not None and stored["outbox_pending"] is True
    assert [(e["type"], e["topic"], e["subject"]) for e in stored["outbox"]] == [
        ("mrc.access.v1.PartnerRegistered", PARTNERS_TOPIC, "p-1"),
        ("mrc.audit.v1.DataAccessed", "mrc.audit.v1", "p-1"),
    ]
    assert repo.get("p-1") == partner and repo.get("nope") is None
    assert db.partners.count_documents({}) == 1


def test_client_lifecycle_keeps_only_the_hash_and_revokes_once(db: Database[Any], store: DocumentStore) -> None:
    repo = StoredClients(store)
    repo.ensure_indexes()
    client = new_client(new_partner())
    repo.add(client)
    with pytest.raises(AlreadyExists):
        repo.add(new_client(new_partner()))
    assert repo.get("c-1") == client
    first, second = repo.get("c-1"), repo.get("c-1")
    assert first is not None and second is not None
    assert first.revoke(NOW) and repo.save_revocation(first)
    assert second.revoke(NOW) and not repo.save_revocation(second)  # a concurrent revocation adds nothing
    stored = db.clients.find_one({"_id": "c-1"})
    assert stored is not None
    assert [e["type"] for e in stored["outbox"]] == ["mrc.access.v1.ClientIssued", "mrc.access.v1.ClientRevoked"]
    assert {e["topic"] for e in stored["outbox"]} == {CLIENTS_TOPIC}
    repo.replace_secret_hash("c-1", "scrypt$new", audit=[EVENTS.event(SYSTEM, Action.UPDATE, "client", "c-1")])
    stored = db.clients.find_one({"_id": "c-1"})
    assert stored is not None and stored["outbox"][-1]["type"] == "mrc.audit.v1.DataAccessed"
    revoked = repo.get("c-1")
    assert revoked is not None and revoked.revoked and revoked.revoked_at == NOW
    assert stored["secret_hash"] == "scrypt$new"


def test_signing_keys_are_encrypted_at_rest_and_read_newest_first(db: Database[Any], store: DocumentStore) -> None:
    keys = StoredSigningKeys(store, "a-long-random-secret")
    keys.ensure_indexes()
    clock = [NOW]
    ring = SigningKeyRing(
        keys, grace=timedelta(minutes=20), cache_seconds=0, audit=EVENTS, system=SYSTEM, clock=lambda: clock[0]
    )
    first = ring.signing_key()
    clock[0] += timedelta(minutes=1)
    second = ring.rotate()
    stored = db.signing_keys.find_one({"_id": first.kid})
    assert stored is not None
    assert [e["type"] for e in stored["outbox"]] == ["mrc.audit.v1.DataAccessed"]  # its creation, audited
    assert stored["encrypted_private_key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError, match="encrypted"):
        serialization.load_pem_private_key(stored["encrypted_private_key"].encode(), password=None)
    assert [k.kid for k in ring.published()] == [second.kid, first.kid]
    # Another replica with the same secret reads the same keys; a wrong secret cannot.
    assert [k.kid for k in StoredSigningKeys(store, "a-long-random-secret").newest_first()] == [second.kid, first.kid]
    with pytest.raises(ValueError, match="password"):
        next(StoredSigningKeys(store, "wrong").newest_first())
    clock[0] += timedelta(minutes=20)
    assert [k.kid for k in ring.published()] == [second.kid]


def record(n: int, *, resource_id: str = "w-1", partner_id: str = "cso-1", state_code: str = "10") -> AccessRecord:
    return AccessRecord(
        record_id=f"ev-{n:03d}",
        actor=Actor("c-1", partner_id, ("caseworker",)),
        action=AccessAction.READ,
        service="registry",
        resource_type="worker",
        resource_id=resource_id,
        fields=("full_name", "phone"),
        purpose="grievance_follow_up",
        outcome=AccessOutcome.ALLOWED,
        remote_address="10.0.0.1",
        request_id=f"r-{n}",
        occurred_at=NOW + timedelta(milliseconds=500 * (n // 3)),  # threes share a time: ids break ties
        state_code=state_code,
    )


def test_audit_records_are_append_only_and_page_newest_first(db: Database[Any], store: DocumentStore) -> None:
    records = StoredAuditRecords(store)
    records.ensure_indexes()
    trail = AuditTrail(records)
    for n in range(11):
        assert trail.record(record(n))
    assert not trail.record(record(0))  # redelivery
    trail.record(record(50, resource_id="w-2", partner_id="cso-2"))
    trail.record(record(51, resource_id="w-9", state_code="9"))
    assert db.audit_records.count_documents({}) == 13
    index_names = {index["name"] for index in db.audit_records.list_indexes()}
    if store.strategy == "mongodb":
        assert {"resource_trail", "partner_trail", "state_trail"} <= index_names

    seen: list[str] = []
    query = AccessRecordQuery(resource_type="worker", resource_id="w-1", page_size=4)
    while True:
        page = trail.list(query, AUDITOR)
        seen.extend(r.record_id for r in page.records)
        if not page.next_page_token:
            break
        query = AccessRecordQuery(
            resource_type="worker", resource_id="w-1", page_size=4, page_token=page.next_page_token
        )
    # Newest first; records of the same instant by event id.
    assert seen == [f"ev-{n:03d}" for n in sorted(range(11), key=lambda n: (-(n // 3), n))]
    by_partner = trail.list(AccessRecordQuery(partner_id="cso-2"), AUDITOR).records
    assert [r.record_id for r in by_partner] == ["ev-050"]
    assert by_partner[0] == record(50, resource_id="w-2", partner_id="cso-2")
    up = caller_for(Role.AUDITOR, partner_id="audit-cell", states=["9"])
    assert [r.record_id for r in trail.list(AccessRecordQuery(), up).records] == ["ev-051"]


def test_an_audit_listing_stops_at_its_time_budget_and_continues(store: DocumentStore) -> None:
    records = StoredAuditRecords(store)
    for n in range(30):
        records.add(record(n))
    everything = AccessRecordFilter(state_codes=("10",))
    seen: list[str] = []
    after, short_pages = "", 0
    for _ in range(200):
        page = records.page(everything, after=after, limit=10, time_budget_seconds=0.000_001)
        short_pages += page.budget_exhausted
        seen.extend(r.record_id for r in page.records)
        if not page.next_position and not page.budget_exhausted:
            break
        after = page.next_position or after
    assert short_pages  # the budget did cut pages short...
    assert sorted(seen) == [f"ev-{n:03d}" for n in range(30)]  # ...and nothing was lost or repeated
