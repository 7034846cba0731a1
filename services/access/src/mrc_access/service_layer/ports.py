"""What the use cases need from the outside world; adapters implement these, tests fake them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from mrc_access.domain.audit_record import AccessRecord
from mrc_access.domain.client import Client
from mrc_access.domain.partner import Partner
from mrc_access.domain.signing_key import SigningKey
from mrc_kernel.events import Event

# Every write of an operator's carries its `DataAccessed` audit event (`audit=`), stored by the same
# write into the document's outbox, so no change is stored without its trace.


class PartnerRepository(Protocol):
    def add(
        self, partner: Partner, *, idempotency_key: str, fingerprint: str, audit: Sequence[Event] = ()
    ) -> tuple[Partner, bool]:
        """Store a new partner with its pending events, unless the idempotency key was seen.

        Returns the stored partner (the first one, for a retry) and whether it was created now.
        """
        ...

    def get(self, partner_id: str) -> Partner | None: ...


class ClientRepository(Protocol):
    def add(self, client: Client, *, audit: Sequence[Event] = ()) -> None:
        """Store a new client with its pending events; `AlreadyExists` if the id is taken."""
        ...

    def get(self, client_id: str) -> Client | None: ...

    def save_revocation(self, client: Client, *, audit: Sequence[Event] = ()) -> bool:
        """Store that the client is revoked, with its pending events, unless it already was. True if now."""
        ...

    def replace_secret_hash(self, client_id: str, secret_hash: str, *, audit: Sequence[Event] = ()) -> None: ...


class SigningKeyStore(Protocol):
    def add(self, key: SigningKey, *, audit: Sequence[Event] = ()) -> None: ...

    def newest_first(self) -> Iterator[SigningKey]:
        """Every key, newest first; callers stop reading once they have what they need."""
        ...


@dataclass(frozen=True)
class AccessRecordFilter:
    """Empty fields match anything; `state_codes` None matches every state, and () none."""

    resource_type: str = ""
    resource_id: str = ""
    partner_id: str = ""
    state_codes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RecordPage:
    records: list[AccessRecord]
    # Where the next page starts (the store's position, opaque here); empty at the end.
    next_position: str
    # The time budget ran out: the page is short (possibly empty), not the last.
    budget_exhausted: bool = False


class AuditRecordStore(Protocol):
    def add(self, record: AccessRecord) -> bool:
        """Append the record; False if one with its id is already stored (a redelivered event)."""
        ...

    def page(
        self, record_filter: AccessRecordFilter, *, after: str, limit: int, time_budget_seconds: float
    ) -> RecordPage:
        """Matching records, newest first, from position `after` (empty: the newest), at most `limit` of
        them, and no longer than the time budget."""
        ...
