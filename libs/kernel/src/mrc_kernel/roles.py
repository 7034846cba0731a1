"""Roles a partner's client can hold, and the scopes each role grants.

Scopes name a resource and an action (`workers:read`). A role is a bundle of scopes matched to a job in
the collaborative; tokens carry both, and endpoints check scopes only.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    REGISTRAR = "registrar"  # field staff of a CSO registering workers
    CASEWORKER = "caseworker"  # follows up workers' entitlements and grievances
    SUPERVISOR = "supervisor"  # a caseworker who also resolves duplicates and erasure requests
    HELPLINE_AGENT = "helpline_agent"  # takes complaints by phone; sees cases, not the registry
    EMPLOYER = "employer"  # an employer recording its own compliance; never sees complaints
    AUDITOR = "auditor"  # reads the audit trail and aggregates, no personal records
    OPERATOR = "operator"  # runs the state cluster: partners, clients, keys
    PUBLIC = "public"  # dashboards: aggregates only


class Scope(enum.StrEnum):
    WORKERS_READ = "workers:read"
    WORKERS_WRITE = "workers:write"
    WORKERS_MERGE = "workers:merge"
    WORKERS_ERASE = "workers:erase"
    CONSENT_WRITE = "consent:write"
    ELIGIBILITY_READ = "eligibility:read"
    # Declaring facts, filing applications and recording deliveries for workers a partner follows up.
    ELIGIBILITY_WRITE = "eligibility:write"
    # Drafting, publishing and retiring scheme rule versions (the state's scheme catalogue).
    SCHEMES_ADMIN = "schemes:admin"
    GRIEVANCES_READ = "grievances:read"
    GRIEVANCES_WRITE = "grievances:write"
    EMPLOYERS_READ = "employers:read"
    EMPLOYERS_WRITE = "employers:write"
    # Recording what an employer did (wages paid, fees charged, findings) without administering employers.
    COMPLIANCE_WRITE = "compliance:write"
    AGGREGATES_READ = "aggregates:read"
    AUDIT_READ = "audit:read"
    PARTNERS_ADMIN = "partners:admin"


_CASEWORKER = {
    Scope.WORKERS_READ,
    Scope.WORKERS_WRITE,
    Scope.CONSENT_WRITE,
    Scope.ELIGIBILITY_READ,
    Scope.ELIGIBILITY_WRITE,
    Scope.GRIEVANCES_READ,
    Scope.GRIEVANCES_WRITE,
    Scope.EMPLOYERS_READ,
    Scope.COMPLIANCE_WRITE,
    Scope.AGGREGATES_READ,
}

SCOPES_BY_ROLE: dict[Role, frozenset[Scope]] = {
    Role.REGISTRAR: frozenset(
        {
            Scope.WORKERS_READ,
            Scope.WORKERS_WRITE,
            Scope.CONSENT_WRITE,
            Scope.ELIGIBILITY_READ,
            Scope.ELIGIBILITY_WRITE,
            Scope.EMPLOYERS_READ,
        }
    ),
    Role.CASEWORKER: frozenset(_CASEWORKER),
    Role.SUPERVISOR: frozenset(_CASEWORKER | {Scope.WORKERS_MERGE, Scope.WORKERS_ERASE}),
    Role.HELPLINE_AGENT: frozenset(
        {Scope.GRIEVANCES_READ, Scope.GRIEVANCES_WRITE, Scope.EMPLOYERS_READ, Scope.COMPLIANCE_WRITE}
    ),
    # Employers write their own records; `employers:read` is limited to their own by data scope.
    Role.EMPLOYER: frozenset({Scope.EMPLOYERS_READ, Scope.EMPLOYERS_WRITE}),
    Role.AUDITOR: frozenset({Scope.AUDIT_READ, Scope.AGGREGATES_READ}),
    # Operators read their cluster's audit trail (incidents, their own changes); it holds no personal fields.
    Role.OPERATOR: frozenset(
        {
            Scope.PARTNERS_ADMIN,
            Scope.SCHEMES_ADMIN,
            Scope.AUDIT_READ,
            Scope.AGGREGATES_READ,
            Scope.EMPLOYERS_READ,
            Scope.EMPLOYERS_WRITE,
        }
    ),
    Role.PUBLIC: frozenset({Scope.AGGREGATES_READ}),
}


def scopes_for(roles: list[Role] | set[Role] | frozenset[Role]) -> frozenset[Scope]:
    granted: set[Scope] = set()
    for role in roles:
        granted |= SCOPES_BY_ROLE[role]
    return frozenset(granted)
