"""Use cases of operators: register partners, issue and revoke their clients; and the bootstrap operator.

Each change is audited: its `DataAccessed` event (who, from where, what, which fields) is stored with the
change itself and leaves through the outbox like every other service's audit events. Changes the process
makes on its own (the bootstrap operator) are audited as the `SYSTEM` caller.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from mrc_access.domain.client import Client
from mrc_access.domain.client_secret import client_secret_matches, hash_client_secret, new_client_secret
from mrc_access.domain.partner import Partner, PartnerKind
from mrc_access.service_layer.ports import ClientRepository, PartnerRepository
from mrc_kernel.audit import Action, AuditRecorder
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import AlreadyExists, NotFound
from mrc_kernel.events import Event
from mrc_kernel.idempotency import request_fingerprint, scoped_key
from mrc_kernel.roles import Role

log = logging.getLogger(__name__)

BOOTSTRAP_PARTNER_ID = "operators"
BOOTSTRAP_PARTNER_NAME = "Platform operators"

# The access service itself, for what it does without an operator's request.
SYSTEM = Caller(
    client_id="mrc-access",
    partner_id=BOOTSTRAP_PARTNER_ID,
    partner_kind="operator",
    roles=frozenset(),
    scopes=frozenset(),
    purpose="operations",
)

PARTNER_RESOURCE = "partner"
CLIENT_RESOURCE = "client"
SIGNING_KEY_RESOURCE = "signing_key"
PARTNER_FIELDS = ("name", "kind", "state_codes", "district_codes", "employer_id")
CLIENT_FIELDS = ("partner_id", "roles", "state_codes", "district_codes", "display_name", "secret_hash")
REVOCATION_FIELDS = ("revoked", "revoked_at")


@dataclass(frozen=True)
class CreatePartner:
    name: str
    kind: PartnerKind | None
    state_codes: tuple[str, ...]
    district_codes: tuple[str, ...]
    employer_id: str
    # The operator's partner: idempotency keys are unique per caller.
    caller_partner_id: str
    idempotency_key: str = ""


@dataclass(frozen=True)
class PartnerCreation:
    partner: Partner
    created: bool


@dataclass(frozen=True)
class CreateClient:
    partner_id: str
    roles: tuple[Role | None, ...]
    state_codes: tuple[str, ...] = ()
    district_codes: tuple[str, ...] = ()
    display_name: str = ""


@dataclass(frozen=True)
class IssuedClient:
    client: Client
    # The only time the secret exists outside the caller's hands; it is never stored or shown again.
    client_secret: str


class PartnerAdministration:
    def __init__(
        self,
        partners: PartnerRepository,
        clients: ClientRepository,
        *,
        audit: AuditRecorder,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._partners = partners
        self._clients = clients
        self._audit = audit
        self._clock = clock
        self._new_id = new_id

    def _audited(
        self, caller: Caller, action: Action, resource: str, resource_id: str, fields: tuple[str, ...]
    ) -> list[Event]:
        # Administration is the cluster's: its records carry the cluster's state (the trail's default).
        return [self._audit.event(caller, action, resource, resource_id, fields)]

    def create_partner(self, command: CreatePartner, caller: Caller) -> PartnerCreation:
        partner = Partner.register(
            partner_id=self._new_id(),
            name=command.name,
            kind=command.kind,
            state_codes=command.state_codes,
            district_codes=command.district_codes,
            employer_id=command.employer_id,
            now=self._clock(),
        )
        # Without a client key every call is a new request; with one, a retry returns the first result.
        key = command.idempotency_key or self._new_id()
        payload = asdict(command)
        payload.pop("idempotency_key")
        stored, created = self._partners.add(
            partner,
            idempotency_key=scoped_key(command.caller_partner_id, key),
            fingerprint=request_fingerprint(payload),
            audit=self._audited(caller, Action.CREATE, PARTNER_RESOURCE, partner.partner_id, PARTNER_FIELDS),
        )
        return PartnerCreation(stored, created)

    def get_partner(self, partner_id: str) -> Partner:
        partner = self._partners.get(partner_id)
        if partner is None:
            raise NotFound("no such partner")  # never the id: callers may send anything
        return partner

    def create_client(self, command: CreateClient, caller: Caller) -> IssuedClient:
        partner = self.get_partner(command.partner_id)
        secret = new_client_secret()
        client = Client.issue(
            client_id=self._new_id(),
            partner=partner,
            roles=command.roles,
            state_codes=command.state_codes,
            district_codes=command.district_codes,
            display_name=command.display_name,
            secret_hash=hash_client_secret(secret),
            now=self._clock(),
        )
        self._clients.add(
            client, audit=self._audited(caller, Action.CREATE, CLIENT_RESOURCE, client.client_id, CLIENT_FIELDS)
        )
        log.info("client issued", extra={"client_id": client.client_id, "partner_id": partner.partner_id})
        return IssuedClient(client, secret)

    def get_client(self, client_id: str) -> Client:
        client = self._clients.get(client_id)
        if client is None:
            raise NotFound("no such client")
        return client

    def revoke_client(self, client_id: str, caller: Caller) -> Client:
        client = self.get_client(client_id)
        if client.revoke(self._clock()):
            self._clients.save_revocation(
                client, audit=self._audited(caller, Action.UPDATE, CLIENT_RESOURCE, client_id, REVOCATION_FIELDS)
            )
            log.info("client revoked", extra={"client_id": client_id, "partner_id": client.partner_id})
            return client
        # Already revoked, possibly just now by another replica: answer with what is stored.
        return self.get_client(client_id)

    def ensure_bootstrap_operator(self, client_id: str, client_secret: str) -> Client:
        """The first operator, so a fresh cluster can be administered at all. Safe to run on every start."""
        partner = self._partners.get(BOOTSTRAP_PARTNER_ID)
        if partner is None:
            partner, _ = self._partners.add(
                Partner.register(
                    partner_id=BOOTSTRAP_PARTNER_ID,
                    name=BOOTSTRAP_PARTNER_NAME,
                    kind=PartnerKind.OPERATOR,
                    state_codes=(),
                    district_codes=(),
                    employer_id="",
                    now=self._clock(),
                ),
                idempotency_key=scoped_key("bootstrap", BOOTSTRAP_PARTNER_ID),
                fingerprint=request_fingerprint({"partner_id": BOOTSTRAP_PARTNER_ID}),
                audit=self._audited(SYSTEM, Action.CREATE, PARTNER_RESOURCE, BOOTSTRAP_PARTNER_ID, PARTNER_FIELDS),
            )
        client = self._clients.get(client_id)
        if client is None:
            client = Client.issue(
                client_id=client_id,
                partner=partner,
                roles=(Role.OPERATOR,),
                state_codes=(),
                district_codes=(),
                display_name="bootstrap operator",
                secret_hash=hash_client_secret(client_secret),
                now=self._clock(),
            )
            try:
                self._clients.add(
                    client, audit=self._audited(SYSTEM, Action.CREATE, CLIENT_RESOURCE, client_id, CLIENT_FIELDS)
                )
                log.info("bootstrap operator client created", extra={"client_id": client_id})
            except AlreadyExists:  # another replica created it meanwhile
                client = self.get_client(client_id)
        if not client_secret_matches(client_secret, client.secret_hash):
            self._clients.replace_secret_hash(
                client_id,
                hash_client_secret(client_secret),
                audit=self._audited(SYSTEM, Action.UPDATE, CLIENT_RESOURCE, client_id, ("secret_hash",)),
            )
            log.warning("bootstrap operator client secret replaced", extra={"client_id": client_id})
        if client.revoked:
            # Revocation is deliberate (a leaked secret, say); a restart must not undo it.
            log.warning("bootstrap operator client is revoked; not restoring it", extra={"client_id": client_id})
        return client
