"""In-memory stand-ins for the access service's ports, and a small platform wired from them."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mrc_access.adapters.bearer_auth import BearerTokenVerifier
from mrc_access.adapters.mongo_audit_records import StoredAuditRecords
from mrc_access.domain.audit_record import AccessAction, AccessOutcome, AccessRecord, Actor
from mrc_access.domain.client import Client, ClientEvent
from mrc_access.domain.partner import Partner, PartnerRegistered
from mrc_access.domain.signing_key import SigningKey
from mrc_access.service_layer.administration import BOOTSTRAP_PARTNER_ID, SYSTEM, PartnerAdministration
from mrc_access.service_layer.audit_trail import AuditTrail
from mrc_access.service_layer.signing_keys import SigningKeyRing
from mrc_access.service_layer.tokens import TokenService
from mrc_kernel.errors import AlreadyExists, IdempotencyKeyReused
from mrc_kernel.events import Event
from mrc_kernel.roles import Role
from mrc_plumbing.audit import AuditTrail as AuditEvents
from mrc_plumbing.store.memory import InMemoryStore
from tests.support.auth import caller_for

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TTL_SECONDS = 600
GRACE = timedelta(seconds=TTL_SECONDS + 600)
OPERATOR_ID = "mrc-operator"
OPERATOR_SECRET = "dev-operator-secret"
# The caller the use cases get from an operator's token.
OPERATOR = caller_for(Role.OPERATOR, partner_id=BOOTSTRAP_PARTNER_ID, client_id=OPERATOR_ID, purpose="operations")


class FakeClock:
    """Wall clock and monotonic clock moving together, under the test's control."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self.seconds = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.seconds += seconds


class FakePartnerRepository:
    def __init__(self) -> None:
        self.partners: dict[str, Partner] = {}
        self.by_key: dict[str, tuple[str, str]] = {}
        self.outbox: list[PartnerRegistered] = []
        self.audited: list[Event] = []  # audit events stored with the writes

    def add(
        self, partner: Partner, *, idempotency_key: str, fingerprint: str, audit: Sequence[Event] = ()
    ) -> tuple[Partner, bool]:
        if idempotency_key in self.by_key:
            partner_id, first_fingerprint = self.by_key[idempotency_key]
            if first_fingerprint != fingerprint:
                raise IdempotencyKeyReused("different request")
            return copy.copy(self.partners[partner_id]), False
        self.by_key[idempotency_key] = (partner.partner_id, fingerprint)
        self.outbox.extend(partner.pending_events)
        self.audited.extend(audit)
        partner.pending_events.clear()
        self.partners[partner.partner_id] = copy.copy(partner)
        return partner, True

    def get(self, partner_id: str) -> Partner | None:
        partner = self.partners.get(partner_id)
        return copy.copy(partner) if partner else None


class FakeClientRepository:
    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.outbox: list[ClientEvent] = []
        self.audited: list[Event] = []

    def add(self, client: Client, *, audit: Sequence[Event] = ()) -> None:
        if client.client_id in self.clients:
            raise AlreadyExists(client.client_id)
        self.outbox.extend(client.pending_events)
        self.audited.extend(audit)
        client.pending_events.clear()
        self.clients[client.client_id] = copy.copy(client)

    def get(self, client_id: str) -> Client | None:
        client = self.clients.get(client_id)
        return copy.copy(client) if client else None

    def save_revocation(self, client: Client, *, audit: Sequence[Event] = ()) -> bool:
        stored = self.clients[client.client_id]
        if stored.revoked:
            client.pending_events.clear()
            return False
        self.outbox.extend(client.pending_events)
        self.audited.extend(audit)
        client.pending_events.clear()
        self.clients[client.client_id] = copy.copy(client)
        return True

    def replace_secret_hash(self, client_id: str, secret_hash: str, *, audit: Sequence[Event] = ()) -> None:
        self.clients[client_id].secret_hash = secret_hash
        self.audited.extend(audit)


class FakeSigningKeyStore:
    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.reads = 0
        self.audited: list[Event] = []

    def add(self, key: SigningKey, *, audit: Sequence[Event] = ()) -> None:
        self.keys.append(key)
        self.audited.extend(audit)

    def newest_first(self) -> Iterator[SigningKey]:
        self.reads += 1
        yield from sorted(self.keys, key=lambda k: (k.created_at, k.kid), reverse=True)


@dataclass
class Platform:
    """The access service's use cases over fakes, with the bootstrap operator in place."""

    clock: FakeClock = field(default_factory=FakeClock)
    partners: FakePartnerRepository = field(default_factory=FakePartnerRepository)
    clients: FakeClientRepository = field(default_factory=FakeClientRepository)
    key_store: FakeSigningKeyStore = field(default_factory=FakeSigningKeyStore)
    store: InMemoryStore = field(default_factory=InMemoryStore)
    cluster_state: str = ""

    def __post_init__(self) -> None:
        ids = iter(f"id-{n}" for n in range(1, 10_000))
        tokens = iter(f"jti-{n}" for n in range(1, 10_000))
        # Builds the real audit envelopes (no producer needed for events stored with writes).
        self.audit = AuditEvents(None, service="access", state_code=self.cluster_state)
        self.audit_store = StoredAuditRecords(self.store)
        self.administration = PartnerAdministration(
            self.partners, self.clients, audit=self.audit, clock=self.clock, new_id=lambda: next(ids)
        )
        self.key_ring = SigningKeyRing(
            self.key_store,
            grace=GRACE,
            cache_seconds=5.0,
            audit=self.audit,
            system=SYSTEM,
            clock=self.clock,
            monotonic=self.clock.monotonic,
        )
        self.tokens = TokenService(
            self.partners,
            self.clients,
            self.key_ring,
            ttl_seconds=TTL_SECONDS,
            clock=self.clock,
            new_token_id=lambda: next(tokens),
        )
        self.audit_trail = AuditTrail(self.audit_store, cluster_state=self.cluster_state)
        self.verifier = BearerTokenVerifier(self.key_ring.verification_key, self.client_is_active, clock=self.clock)
        self.key_ring.signing_key()
        self.administration.ensure_bootstrap_operator(OPERATOR_ID, OPERATOR_SECRET)

    def client_is_active(self, client_id: str) -> bool:
        client = self.clients.get(client_id)
        return client is not None and not client.revoked

    def operator_token(self, **kwargs: str) -> str:
        return self.tokens.issue(OPERATOR_ID, OPERATOR_SECRET, **kwargs).access_token


def access_record(n: int, resource_id: str = "w-1", partner_id: str = "cso-1", state_code: str = "10") -> AccessRecord:
    """The n-th read of a worker's record; pairs share a timestamp, so the event id orders them."""
    return AccessRecord(
        record_id=f"ev-{n:03d}",
        actor=Actor("c-1", partner_id, ("caseworker",)),
        action=AccessAction.READ,
        service="registry",
        resource_type="worker",
        resource_id=resource_id,
        fields=("full_name",),
        purpose="grievance_follow_up",
        outcome=AccessOutcome.ALLOWED,
        remote_address="10.0.0.1",
        request_id=f"r-{n}",
        occurred_at=START + timedelta(seconds=n // 2),
        state_code=state_code,
    )
