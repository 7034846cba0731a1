"""Consent under India's DPDP Act 2023: given for named purposes, captured in a way that fits people who
may not read or sign (thumbprint, verbal with a witness), possibly time-limited, revocable at any time.

A consent for `cross_state_sharing` lets the record cross to other states' clusters (the federation,
`domain/federation.py`): to the states it names, or to every state of the federation when it names none."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

from mrc_geography.lgd import lgd
from mrc_kernel.errors import FieldViolation

MAX_SHARED_PARTNERS = 50
MAX_SHARED_STATES = 40


class ConsentPurpose(enum.StrEnum):
    REGISTRATION = "registration"
    ENTITLEMENT_LINKAGE = "entitlement_linkage"
    PARTNER_SHARING = "partner_sharing"
    GOVERNMENT_SHARING = "government_sharing"
    GRIEVANCE_FOLLOW_UP = "grievance_follow_up"
    # Sharing with another state's partners and government (the federation).
    CROSS_STATE_SHARING = "cross_state_sharing"


class CaptureMethod(enum.StrEnum):
    SIGNATURE = "signature"
    THUMBPRINT = "thumbprint"
    VERBAL_WITH_WITNESS = "verbal_with_witness"
    DIGITAL = "digital"


@dataclass(frozen=True)
class Consent:
    consent_id: str
    purposes: frozenset[ConsentPurpose]
    method: CaptureMethod
    captured_by_partner_id: str
    captured_at: datetime
    shared_with_partner_ids: frozenset[str] = field(default_factory=frozenset)
    witness_name: str = ""
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    # Its expiry was published (`ConsentChanged`), so every consumer has stopped using it.
    expiry_announced: bool = False
    # For cross-state sharing: the LGD codes of the states it names; empty: every state of the federation.
    shared_with_state_codes: frozenset[str] = field(default_factory=frozenset)

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def shares_with_state(self, state_code: str, now: datetime) -> bool:
        """Whether this consent, now, lets the record cross to that state."""
        return (
            self.is_active(now)
            and ConsentPurpose.CROSS_STATE_SHARING in self.purposes
            and (not self.shared_with_state_codes or state_code in self.shared_with_state_codes)
        )

    def revoked(self, now: datetime) -> Consent:
        return replace(self, revoked_at=now)

    def expired_unannounced(self, now: datetime) -> bool:
        return (
            self.revoked_at is None
            and self.expires_at is not None
            and self.expires_at <= now
            and not self.expiry_announced
        )


def validate_consent(
    purposes: frozenset[ConsentPurpose],
    method: CaptureMethod | None,
    witness_name: str,
    shared_with_partner_ids: frozenset[str],
    expires_at: datetime | None,
    now: datetime,
    *,
    prefix: str = "consent",
    shared_with_state_codes: frozenset[str] = frozenset(),
    own_state_code: str = "",
) -> list[FieldViolation]:
    """What is wrong with a consent, each problem named by its field. `own_state_code` is the state this
    registry serves: a cross-state consent names other states (its own needs no such consent)."""
    violations: list[FieldViolation] = []
    if not purposes:
        violations.append(FieldViolation(f"{prefix}.purposes", "name at least one purpose"))
    if method is None:
        violations.append(FieldViolation(f"{prefix}.method", "must be set"))
    if method is CaptureMethod.VERBAL_WITH_WITNESS and not witness_name.strip():
        violations.append(FieldViolation(f"{prefix}.witness_name", "verbal consent needs a witness"))
    if ConsentPurpose.PARTNER_SHARING in purposes and not shared_with_partner_ids:
        violations.append(FieldViolation(f"{prefix}.shared_with_partner_ids", "name the partners to share with"))
    if len(shared_with_partner_ids) > MAX_SHARED_PARTNERS:
        violations.append(
            FieldViolation(f"{prefix}.shared_with_partner_ids", f"at most {MAX_SHARED_PARTNERS} partners")
        )
    if expires_at is not None and expires_at <= now:
        violations.append(FieldViolation(f"{prefix}.expires_at", "must be in the future"))
    violations += _state_code_violations(purposes, shared_with_state_codes, own_state_code, prefix)
    return violations


def _state_code_violations(
    purposes: frozenset[ConsentPurpose], codes: frozenset[str], own_state_code: str, prefix: str
) -> list[FieldViolation]:
    field_name = f"{prefix}.shared_with_state_codes"
    if not codes:
        return []
    if ConsentPurpose.CROSS_STATE_SHARING not in purposes:
        return [FieldViolation(field_name, "name states only with the purpose 'cross_state_sharing'")]
    if len(codes) > MAX_SHARED_STATES:
        return [FieldViolation(field_name, f"at most {MAX_SHARED_STATES} states")]
    violations: list[FieldViolation] = []
    known = lgd().states
    for code in sorted(codes):
        if code not in known:
            violations.append(FieldViolation(field_name, f"unknown LGD state code {code[:8]!r}"))
        elif code == own_state_code:
            violations.append(
                FieldViolation(field_name, f"{code} is this registry's own state: name only other states")
            )
    return violations


def active_purposes(consents: list[Consent], now: datetime) -> frozenset[ConsentPurpose]:
    return frozenset(p for c in consents if c.is_active(now) for p in c.purposes)


def shares_with(consents: list[Consent], partner_id: str, partner_kind: str, now: datetime) -> bool:
    """Whether any active consent lets this partner see the worker's record."""
    for consent in consents:
        if not consent.is_active(now):
            continue
        if consent.captured_by_partner_id == partner_id:
            return True  # the worker gave this partner their data directly
        if ConsentPurpose.PARTNER_SHARING in consent.purposes and partner_id in consent.shared_with_partner_ids:
            return True
        if ConsentPurpose.GOVERNMENT_SHARING in consent.purposes and partner_kind == "government":
            return True
    return False
