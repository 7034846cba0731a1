"""Cases and traces as the shared access policy sees them, and who among their readers sees the most sensitive parts.

A case belongs to its filing partner (every purpose), and is admitted to the partner of the assigned
caseworker and to every partner or authority it is referred to (pending or accepted), for the purposes of
case work. Its place is where it happened: a caller outside that geography reaches nothing.

Notes, typed reasons and a confidential reporter's identity are narrower still: the filing partner's staff
(caseworkers, supervisors, helpline agents: the only roles with grievance scopes), the assigned caseworker
and the partners it is referred to. Everyone else the policy admits (another caseworker of the assignee's
partner) sees the case without them. Employers never reach a case: their role has no grievance scope.

A trace (a missing person) belongs to the partner that opened it and is admitted to every civil-society and
government partner whose geography covers one of its places (last known, destination, sightings): that is
how partners at the destination help. Contacts (the family) stay with the opening partner.
"""

from __future__ import annotations

from mrc_grievance.domain.case import Case
from mrc_grievance.domain.trace import Trace
from mrc_kernel.policy import Grant, Protected, Purpose

CASE_RESOURCE = "grievance"
REPORT_RESOURCE = "grievance_report"
TRACE_RESOURCE = "trace"

# What a grant on a case or trace lets a partner use it for.
CASE_PURPOSES = frozenset({Purpose.GRIEVANCE_FOLLOW_UP, Purpose.CASE_MANAGEMENT})
# Kinds of partner that help trace missing people (the access service's partner kinds).
TRACING_PARTNER_KINDS = ("cso", "government")


def protected_case(case: Case) -> Protected:
    grants: list[Grant] = []
    if case.assignment is not None:
        grants.append(Grant(CASE_PURPOSES, partner_id=case.assignment.assignee_partner_id))
    grants.extend(Grant(CASE_PURPOSES, partner_id=partner) for partner in sorted(case.referral_partner_ids()))
    return Protected(
        CASE_RESOURCE, places=(case.location.scope,), owner_partner_id=case.filing_partner_id, grants=tuple(grants)
    )


def sees_confidential(case: Case, partner_id: str, client_id: str) -> bool:
    """Whether this reader (already admitted by the policy) sees notes, reasons and a confidential reporter."""
    if not partner_id:
        return False
    if partner_id == case.filing_partner_id or partner_id in case.referral_partner_ids():
        return True
    return case.assignment is not None and case.assignment.assignee_id == client_id


def access_partner_ids(case: Case) -> list[str]:
    """Every partner the policy may admit: the store lists a caller's queue by these."""
    partners = {case.filing_partner_id, *case.referral_partner_ids()}
    if case.assignment is not None:
        partners.add(case.assignment.assignee_partner_id)
    return sorted(p for p in partners if p)


def protected_trace(trace: Trace) -> Protected:
    grants = tuple(Grant(CASE_PURPOSES, partner_kind=kind) for kind in TRACING_PARTNER_KINDS)
    return Protected(
        TRACE_RESOURCE, places=tuple(trace.places()), owner_partner_id=trace.opening_partner_id, grants=grants
    )


def sees_contacts(trace: Trace, partner_id: str) -> bool:
    return bool(partner_id) and partner_id == trace.opening_partner_id
