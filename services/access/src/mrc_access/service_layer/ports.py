"""What the use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_access.domain.audit_record import AccessRecord
from mrc_access.domain.client import Client
from mrc_access.domain.partner import Partner
from mrc_access.domain.signing_key import SigningKey


class PartnerRepository(Protocol):
    def add(self, partner: Partner, *, idempotency_key: str, fingerprint: str) -> tuple[Partner, bool]:
        """Store a new partner with its pending events, unless the idempotency key was seen.

        Returns the stored partner (the first one, for a retry) and whether it was created now.
        """
        ...

    def get(self, partner_id: str) -> Partner | None: ...


class ClientRepository(Protocol):
    def add(self, client: Client) -> None:
        """Store a new client with its pending events; `AlreadyExists` if the id is taken."""
        ...

    def get(self, client_id: str) -> Client | None: ...

    def save_revocation(self, client: Client) -> bool:
        """Store that the client is revoked, with its pending events, unless it already was. True if now."""
        ...

    def replace_secret_hash(self, client_id: str, secret_hash: str) -> None: ...


class SigningKeyStore(Protocol):
    def add(self, key: SigningKey) -> None: ...

    def newest_first(self) -> Iterator[SigningKey]:
        """Every key, newest first; callers stop reading once they have what they need."""
        ...


@dataclass(frozen=True)
class AccessRecordFilter:
    """Empty fields match anything."""

    resource_type: str = ""
    resource_id: str = ""
    partner_id: str = ""


@dataclass(frozen=True)
class RecordPosition:
    """Where a page ended, in the trail's order (newest first, record id breaking ties)."""

    occurred_at: datetime
    record_id: str


class AuditRecordStore(Protocol):
    def add(self, record: AccessRecord) -> bool:
        """Append the record; False if one with its id is already stored (a redelivered event)."""
        ...

    def find(
        self, record_filter: AccessRecordFilter, *, after: RecordPosition | None, limit: int
    ) -> list[AccessRecord]:
        """Matching records, newest first, starting after `after`."""
        ...
