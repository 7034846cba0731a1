"""The one access policy: who may read or write a record, and for which purposes.

Every service describes a record as `Protected` (where it belongs, which partner holds it, which
partners a consent or a referral lets in, for which purposes) and asks `decide`. Use cases call it
for REST and gRPC alike, so the two cannot disagree. The rules:

1. The caller must act for a partner. A caller bound to an employer organisation (an employer partner's
   client, `employer_id` in its token) reaches only the records of that organisation (`organisation_id`).
2. The record must lie in the caller's geography (its states and districts; a caller without limits
   covers every place). A record with no place is covered only by a caller without limits.
3. The caller's partner must hold the record (`owner_partner_id`: admitted for every purpose) or be
   admitted by a grant: a consent captured by that partner, a consent that names it, a consent to share
   with its kind of partner (government), a referral. Each grant lists the purposes it allows.
4. The purpose the request declares must be one the admitting grants allow.

A refusal is answered by the use case exactly as a missing record would be (NotFound), so an answer
never reveals that a person is on the platform. A write that would put a record outside the caller's
geography is refused naming the field (`require_in_geography`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from mrc_kernel.caller import Caller
from mrc_kernel.errors import FieldViolation, InvalidArgument


class Purpose(enum.StrEnum):
    """Why a request uses personal data (DPDP Act 2023 purpose limitation); sent as `X-Purpose`."""

    REGISTRATION = "registration"
    ENTITLEMENT_LINKAGE = "entitlement_linkage"
    GRIEVANCE_FOLLOW_UP = "grievance_follow_up"
    SHARING = "sharing"
    CASE_MANAGEMENT = "case_management"
    COMPLIANCE = "compliance"
    AUDIT = "audit"
    OPERATIONS = "operations"


EVERY_PURPOSE = frozenset(Purpose)

Place = tuple[str, str]  # (LGD state code, LGD district code; "" for a whole state)


@dataclass(frozen=True)
class Grant:
    """Lets a partner (or every partner of a kind) use a record for some purposes."""

    purposes: frozenset[Purpose]
    partner_id: str = ""
    partner_kind: str = ""

    def admits(self, caller: Caller) -> bool:
        if self.partner_id:
            return self.partner_id == caller.partner_id
        return bool(self.partner_kind) and self.partner_kind == caller.partner_kind


@dataclass(frozen=True)
class Protected:
    """A record as the policy sees it."""

    kind: str
    places: tuple[Place, ...]
    owner_partner_id: str = ""
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # The employer organisation the record is about, if any: the only one an employer's client may reach.
    organisation_id: str = ""


class Refusal(enum.StrEnum):
    NO_PARTNER = "the client acts for no partner"
    OTHER_ORGANISATION = "the caller is bound to another employer organisation"
    OUTSIDE_GEOGRAPHY = "the record lies outside the caller's geography"
    NOT_GRANTED = "no consent or grant admits the caller's partner"
    PURPOSE_NOT_GRANTED = "the grants do not cover the declared purpose"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # The purposes the caller's partner may use the record for (empty when refused).
    purposes: frozenset[Purpose] = frozenset()
    refusal: Refusal | None = None

    def __bool__(self) -> bool:
        return self.allowed


EMPLOYER_KIND = "employer"


def bound_to_an_organisation(caller: Caller) -> bool:
    """An employer's client acts for its own organisation only, whatever its grants say."""
    return caller.partner_kind == EMPLOYER_KIND or bool(caller.employer_id)


def covers(caller: Caller, places: Iterable[Place]) -> bool:
    """Whether any of the places lies in the caller's geography."""
    listed = list(places)
    if not listed:
        return not caller.states and not caller.districts
    return caller.covers_any_place(listed)


def admitted_purposes(caller: Caller, record: Protected) -> frozenset[Purpose]:
    if record.owner_partner_id and record.owner_partner_id == caller.partner_id:
        return EVERY_PURPOSE
    purposes: set[Purpose] = set()
    for grant in record.grants:
        if grant.admits(caller):
            purposes |= grant.purposes
    return frozenset(purposes)


def decide(caller: Caller, record: Protected, purpose: Purpose | str) -> Decision:
    if not caller.partner_id:
        return Decision(False, refusal=Refusal.NO_PARTNER)
    if bound_to_an_organisation(caller) and (not caller.employer_id or record.organisation_id != caller.employer_id):
        return Decision(False, refusal=Refusal.OTHER_ORGANISATION)
    if not covers(caller, record.places):
        return Decision(False, refusal=Refusal.OUTSIDE_GEOGRAPHY)
    purposes = admitted_purposes(caller, record)
    if not purposes:
        return Decision(False, refusal=Refusal.NOT_GRANTED)
    if Purpose(purpose) not in purposes:
        return Decision(False, refusal=Refusal.PURPOSE_NOT_GRANTED)
    return Decision(True, purposes)


def require_in_geography(caller: Caller, state_code: str, district_code: str, *, prefix: str) -> None:
    """Refuse a write that would place a record outside the caller's geography, naming the field."""
    if caller.states and state_code not in caller.states:
        raise InvalidArgument(FieldViolation(f"{prefix}.state_code", "is outside your partner's geography"))
    if caller.districts and district_code not in caller.districts:
        raise InvalidArgument(FieldViolation(f"{prefix}.district_code", "is outside your partner's geography"))
