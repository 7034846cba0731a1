"""The authenticated caller of the request in progress, and the checks every endpoint makes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mrc_kernel.errors import InvalidArgument, PermissionDenied, Unauthenticated
from mrc_kernel.roles import Role, Scope


@dataclass(frozen=True)
class Caller:
    client_id: str
    partner_id: str
    partner_kind: str
    roles: frozenset[Role]
    scopes: frozenset[Scope]
    # Geography the caller's data access is limited to; empty means every state (or district).
    states: frozenset[str] = field(default_factory=frozenset)
    districts: frozenset[str] = field(default_factory=frozenset)
    employer_id: str = ""
    token_id: str = ""
    # About the request rather than the identity, carried along for the audit trail.
    purpose: str = ""
    remote_address: str = ""
    request_id: str = ""

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"this operation needs the scope {scope.value!r}")

    def covers_place(self, state_code: str, district_code: str = "") -> bool:
        """Whether a record located here is inside the caller's geography."""
        if self.states and state_code not in self.states:
            return False
        return not (self.districts and district_code and district_code not in self.districts)

    def covers_any_place(self, places: Iterable[tuple[str, str]]) -> bool:
        return any(self.covers_place(state, district) for state, district in places)


PURPOSES = frozenset(
    {
        "registration",
        "entitlement_linkage",
        "grievance_follow_up",
        "sharing",
        "case_management",
        "compliance",
        "audit",
        "operations",
    }
)


def check_purpose(purpose: str, default: str) -> str:
    """The purpose a request declares (DPDP Act purpose limitation); unknown purposes are refused."""
    chosen = purpose or default
    if chosen not in PURPOSES:
        raise InvalidArgument.for_field("purpose", f"must be one of {', '.join(sorted(PURPOSES))}")
    return chosen


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required")
    return token.strip()
