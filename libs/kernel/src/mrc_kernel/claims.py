"""The access token's claims: the one definition the issuer (access service) and every verifier share."""

from __future__ import annotations

ISSUER = "mrc-access"
ALGORITHM = "ES256"
DEFAULT_TOKEN_TTL_SECONDS = 600

# Every service verifies that its own audience is in the token; a token minted for another
# platform (or narrowed to other services) is refused.
SERVICE_AUDIENCES = ("mrc-registry", "mrc-entitlements", "mrc-grievance", "mrc-employer", "mrc-access")


def audience_of(service_name: str) -> str:
    return f"mrc-{service_name}"


# Private claims, prefixed so they never collide with registered JWT claims.
PARTNER = "mrc_partner"
PARTNER_KIND = "mrc_partner_kind"
ROLES = "mrc_roles"
STATES = "mrc_states"  # LGD state codes the caller's data access is limited to; absent or empty: all
DISTRICTS = "mrc_districts"
EMPLOYER = "mrc_employer"  # the employer an employer partner acts for
SCOPE = "scope"  # space-separated, as in RFC 8693 / RFC 9068
