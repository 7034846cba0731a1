"""Clients: a partner's machine-to-machine credentials (OAuth2 client credentials), with roles and a data scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mrc_access.domain.geography import Geography
from mrc_access.domain.partner import ROLES_BY_PARTNER_KIND, Partner
from mrc_geography import lgd
from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.roles import Role

MAX_DISPLAY_NAME_LENGTH = 200


@dataclass(frozen=True)
class ClientIssued:
    client: Client


@dataclass(frozen=True)
class ClientRevoked:
    client: Client


ClientEvent = ClientIssued | ClientRevoked


@dataclass
class Client:
    client_id: str
    partner_id: str
    roles: tuple[Role, ...]
    geography: Geography
    display_name: str
    secret_hash: str
    created_at: datetime
    revoked: bool = False
    revoked_at: datetime | None = None
    pending_events: list[ClientEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def issue(
        cls,
        *,
        client_id: str,
        partner: Partner,
        roles: Sequence[Role | None],
        state_codes: Sequence[str],
        district_codes: Sequence[str],
        display_name: str,
        secret_hash: str,
        now: datetime,
    ) -> Client:
        violations: list[FieldViolation] = []
        allowed = ROLES_BY_PARTNER_KIND[partner.kind]
        if not roles:
            violations.append(FieldViolation("roles", "must name at least one role"))
        for role in roles:
            if role is None:
                violations.append(FieldViolation("roles", "must not contain an unspecified role"))
            elif role not in allowed:
                violations.append(
                    FieldViolation("roles", f"role {role.value!r} is not available to a {partner.kind.value} partner")
                )
        geography, geography_violations = _within_partner(partner, state_codes, district_codes)
        violations.extend(geography_violations)
        name = " ".join(display_name.split())
        if len(name) > MAX_DISPLAY_NAME_LENGTH:
            violations.append(FieldViolation("display_name", f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters"))
        if violations:
            raise InvalidArgument(violations)
        client = cls(
            client_id=client_id,
            partner_id=partner.partner_id,
            roles=tuple(sorted({r for r in roles if r is not None})),
            geography=geography,
            display_name=name,
            secret_hash=secret_hash,
            created_at=now,
        )
        client.pending_events.append(ClientIssued(client))
        return client

    def revoke(self, now: datetime) -> bool:
        """Revoke for good; False when it already was (revoking twice raises no second event)."""
        if self.revoked:
            return False
        self.revoked = True
        self.revoked_at = now
        self.pending_events.append(ClientRevoked(self))
        return True


def _within_partner(
    partner: Partner, state_codes: Sequence[str], district_codes: Sequence[str]
) -> tuple[Geography, list[FieldViolation]]:
    """The client's geography: its own if given (and inside the partner's), else the partner's."""
    if not state_codes and not district_codes:
        return partner.geography, []
    if not district_codes and partner.geography.district_codes:
        # Narrowed to some of the partner's states: keep the partner's districts within them.
        wanted = {code.strip() for code in state_codes}
        district_codes = [d for d in partner.geography.district_codes if _state_of(d) in wanted]
    geography, violations = Geography.parse(state_codes, district_codes)
    if violations or partner.geography.covers(geography):
        return geography, violations
    partner_states = set(partner.geography.state_codes)
    outside_states = partner_states and not set(geography.state_codes) <= partner_states
    violations.append(
        FieldViolation(
            "state_codes" if outside_states else "district_codes",
            f"must lie within the partner's geography (states {sorted(partner_states) or 'all'}, "
            f"districts {list(partner.geography.district_codes) or 'all'})",
        )
    )
    return geography, violations


def _state_of(district_code: str) -> str:
    district = lgd().districts.get(district_code)
    return district.state_code if district else ""
