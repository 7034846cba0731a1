"""Consent under India's DPDP Act 2023: given for named purposes, captured in a way that fits people who
may not read or sign (thumbprint, verbal with a witness), possibly time-limited, revocable at any time."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

from mrc_kernel.errors import FieldViolation

MAX_SHARED_PARTNERS = 50


class ConsentPurpose(enum.StrEnum):
    REGISTRATION = "registration"
    ENTITLEMENT_LINKAGE = "entitlement_linkage"
    PARTNER_SHARING = "partner_sharing"
    GOVERNMENT_SHARING = "government_sharing"
    GRIEVANCE_FOLLOW_UP = "grievance_follow_up"


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

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def revoked(self, now: datetime) -> Consent:
        return replace(self, revoked_at=now)


def validate_consent(
    purposes: frozenset[ConsentPurpose],
    method: CaptureMethod | None,
    witness_name: str,
    shared_with_partner_ids: frozenset[str],
    expires_at: datetime | None,
    now: datetime,
    *,
    prefix: str = "consent",
) -> list[FieldViolation]:
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
