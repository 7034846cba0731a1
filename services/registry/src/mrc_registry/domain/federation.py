"""Cross-state federation: which states a worker's record crosses to, and what a copy of another state's
record is here.

Operators run one cluster per state. A worker's record leaves its state only while the worker holds an
active consent for `cross_state_sharing`: to the states that consent names that are peers of this
federation, or to every peer when it names none. The registry records where the record was shared
(`Worker.shared_with_states`); each change of the worker then sends the current summary to every
destination its consents allow, and a withdrawal to every destination that no longer may hold it
(revocation, expiry, a consent narrowed to fewer states, erasure, a merge).

The other direction: a record another state shares with this one is kept here as a read-only copy
(`ForeignRecord` on the worker), visible to this state's partners under the consent that allowed the
sharing, and replaced or removed only by what its home state publishes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from mrc_geography.lgd import lgd
from mrc_kernel.errors import Conflict
from mrc_registry.domain.consent import Consent, ConsentPurpose


class WithdrawalReason(enum.StrEnum):
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_EXPIRED = "consent_expired"
    # A consent still shares the record, but no longer with these states.
    CONSENT_NARROWED = "consent_narrowed"
    ERASED = "erased"
    MERGED = "merged"


@dataclass(frozen=True)
class FederationScope:
    """This registry's state (LGD code) and the states of the federation it exchanges records with."""

    own_state_code: str = ""
    peer_state_codes: frozenset[str] = frozenset()

    @property
    def enabled(self) -> bool:
        return bool(self.own_state_code and self.peer_state_codes)


@dataclass(frozen=True)
class SharingGrant:
    """What lets a record cross to one state: its active cross-state consents, taken together."""

    # The longest-lasting of them (the destination drops its copy when that one expires).
    consent_id: str
    purposes: frozenset[ConsentPurpose]
    expires_at: datetime | None
    # The states those consents name; empty when one of them names none (every state).
    shared_with_state_codes: frozenset[str]


def sharing_grants(consents: Iterable[Consent], scope: FederationScope, now: datetime) -> dict[str, SharingGrant]:
    """Destination state -> what allows the record to be there now; only peers, never this state."""
    if not scope.enabled:
        return {}
    listed = list(consents)
    grants: dict[str, SharingGrant] = {}
    for state in sorted(scope.peer_state_codes - {scope.own_state_code}):
        sharing = [c for c in listed if c.shares_with_state(state, now)]
        if not sharing:
            continue
        lasting = max(sharing, key=lambda c: (c.expires_at is None, c.expires_at or now, c.consent_id))
        named = [c.shared_with_state_codes for c in sharing]
        grants[state] = SharingGrant(
            consent_id=lasting.consent_id,
            purposes=frozenset(p for c in sharing for p in c.purposes),
            expires_at=lasting.expires_at,
            shared_with_state_codes=frozenset() if any(not n for n in named) else frozenset().union(*named),
        )
    return grants


def withdrawal_reason(consents: Iterable[Consent], state_code: str, now: datetime) -> WithdrawalReason:
    """Why a state that held the record may no longer: the last cross-state consent covering it to end decides.
    Expired, it expired; revoked while another cross-state consent still shares the record with other states,
    the worker narrowed the sharing; revoked otherwise, revoked. No consent covering the state (it left the
    federation's peers, say): narrowed."""
    crossing = [c for c in consents if ConsentPurpose.CROSS_STATE_SHARING in c.purposes]
    covering = [c for c in crossing if not c.shared_with_state_codes or state_code in c.shared_with_state_codes]
    ended = [(c.revoked_at or c.expires_at or now, c) for c in covering if not c.is_active(now)]
    if not ended:
        return WithdrawalReason.CONSENT_NARROWED
    _, last = max(ended, key=lambda pair: pair[0])
    if last.revoked_at is None:
        return WithdrawalReason.CONSENT_EXPIRED
    still_sharing = any(c.is_active(now) for c in crossing)
    return WithdrawalReason.CONSENT_NARROWED if still_sharing else WithdrawalReason.CONSENT_REVOKED


@dataclass(frozen=True)
class SharingPlan:
    """What one change of a worker sends across borders: the current summary to each destination in `shares`,
    a withdrawal (and why) to each of `withdrawals`."""

    shares: Mapping[str, SharingGrant] = field(default_factory=dict)
    withdrawals: Mapping[str, WithdrawalReason] = field(default_factory=dict)
    merged_into: str = ""

    def __bool__(self) -> bool:
        return bool(self.shares or self.withdrawals)


NOTHING = SharingPlan()


@dataclass(frozen=True)
class ForeignRecord:
    """Marks a worker as a read-only copy of a record another state's registry holds and shares with this one."""

    # The state whose registry holds the record: changes, consent and erasure happen there.
    home_state_code: str
    # This registry's state, where the copy is visible to partners.
    local_state_code: str
    # The home state's consent that allows the sharing, its purposes and expiry.
    consent_id: str
    purposes: frozenset[ConsentPurpose]
    consent_expires_at: datetime | None
    shared_with_state_codes: frozenset[str]
    # The home record's version this copy holds: only a newer one replaces it.
    source_version: int
    shared_at: datetime

    def is_active(self, now: datetime) -> bool:
        return self.consent_expires_at is None or now < self.consent_expires_at


def state_name(code: str) -> str:
    state = lgd().states.get(code)
    return f"{code} ({state.name})" if state else code


class ReadOnlyCopy(Conflict):
    """A local write on a copy of another state's record: the home state changes it, not this one."""

    def __init__(self, worker_id: str, home_state_code: str, what: str) -> None:
        super().__init__(
            f"worker {worker_id} is a read-only copy of a record held by state {state_name(home_state_code)}: "
            f"{what} there"
        )


def household_destinations(member_shares: Mapping[str, frozenset[str]]) -> dict[str, tuple[str, ...]]:
    """Destination state -> the household's registered members whose records may be there (sorted ids)."""
    by_state: dict[str, set[str]] = {}
    for worker_id, states in member_shares.items():
        for state in states:
            by_state.setdefault(state, set()).add(worker_id)
    return {state: tuple(sorted(ids)) for state, ids in sorted(by_state.items())}
