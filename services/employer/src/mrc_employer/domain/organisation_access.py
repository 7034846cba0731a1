"""An organisation as the access policy sees it, and who may do what with it and its records.

Organisations are not people, but their records are evidence against them and name workers by
reference, so the shared policy (`mrc_kernel.policy`) decides every read and write:

- where: the organisation's office and its worksites (a caller limited to a state or district reaches
  an organisation that has a worksite there; an auditor or labour department sees its state);
- who: every partner kind of the collaborative is admitted, each for the purposes its work needs
  (`PURPOSES_BY_PARTNER_KIND`); a client of an employer partner only for its own organisation, the one
  its token is bound to (`caller.employer_id`), and only for compliance;
- a refusal answers exactly like a missing organisation.

What each reader sees of the compliance history differs: an employer sees grievance counts only
aggregated, small cells suppressed and delayed (`GRIEVANCE_DELAY_DAYS`), and no grievance lines, so
it can never work out who complained; everyone else admitted sees the full history sheet, which names
no worker anyway.
"""

from __future__ import annotations

import enum

from mrc_employer.domain.compliance_records import RecordSource
from mrc_employer.domain.organisation import Organisation
from mrc_kernel.caller import Caller
from mrc_kernel.policy import Decision, Grant, Protected, Purpose, Refusal, decide
from mrc_kernel.roles import Role

RESOURCE = "employer"
RECORD_RESOURCE = "compliance_record"
HISTORY_RESOURCE = "compliance_history"
DEFAULT_PURPOSE = Purpose.COMPLIANCE
# An employer's view of grievances about it lags this many days: a complaint filed yesterday never
# shows up as "one more complaint" the day after (retaliation against whoever complained).
GRIEVANCE_DELAY_DAYS = 30


class PartnerKind(enum.StrEnum):
    """The access service's partner kinds, as tokens carry them."""

    CSO = "cso"
    GOVERNMENT = "government"
    EMPLOYER = "employer"
    AUDITOR = "auditor"
    OPERATOR = "operator"


PURPOSES_BY_PARTNER_KIND: dict[PartnerKind, frozenset[Purpose]] = {
    # Field partners name employers in grievances and record what they see at worksites.
    PartnerKind.CSO: frozenset({Purpose.COMPLIANCE, Purpose.GRIEVANCE_FOLLOW_UP, Purpose.CASE_MANAGEMENT}),
    # Labour departments inspect, license and prosecute.
    PartnerKind.GOVERNMENT: frozenset(
        {Purpose.COMPLIANCE, Purpose.GRIEVANCE_FOLLOW_UP, Purpose.CASE_MANAGEMENT, Purpose.AUDIT}
    ),
    PartnerKind.AUDITOR: frozenset({Purpose.AUDIT, Purpose.COMPLIANCE}),
    PartnerKind.OPERATOR: frozenset({Purpose.OPERATIONS, Purpose.COMPLIANCE, Purpose.AUDIT}),
    # Only ever its own organisation (see `decide_for`).
    PartnerKind.EMPLOYER: frozenset({Purpose.COMPLIANCE}),
}
_GRANTS = tuple(Grant(purposes, partner_kind=kind.value) for kind, purposes in PURPOSES_BY_PARTNER_KIND.items())


def acts_for_an_employer(caller: Caller) -> bool:
    return caller.partner_kind == PartnerKind.EMPLOYER or Role.EMPLOYER in caller.roles


def protected(organisation: Organisation) -> Protected:
    return Protected(
        RESOURCE, places=organisation.places(), grants=_GRANTS, organisation_id=organisation.organisation_id
    )


def decide_for(caller: Caller, organisation: Organisation, purpose: Purpose | str) -> Decision:
    """The shared policy's decision (which binds an employer's client to the organisation in its token).

    A client holding the employer role for a partner of another kind is held to the same binding."""
    if Role.EMPLOYER in caller.roles and (not caller.employer_id or caller.employer_id != organisation.organisation_id):
        return Decision(False, refusal=Refusal.OTHER_ORGANISATION)
    return decide(caller, protected(organisation), purpose)


def source_of(caller: Caller) -> RecordSource:
    """How much a record weighs depends on who made it: an employer's own admission and an inspector's
    finding are established; a partner's report is an allegation until an auditor confirms it."""
    if acts_for_an_employer(caller):
        return RecordSource.SELF_REPORTED
    if caller.partner_kind in (PartnerKind.GOVERNMENT, PartnerKind.OPERATOR, PartnerKind.AUDITOR):
        # Labour inspectors, and operators entering an authority's inspection report.
        return RecordSource.AUDITOR
    return RecordSource.PARTNER


def sees_grievance_detail(caller: Caller) -> bool:
    """Whether the history shows grievance lines and exact counts (everyone admitted but the employer)."""
    return not acts_for_an_employer(caller)
