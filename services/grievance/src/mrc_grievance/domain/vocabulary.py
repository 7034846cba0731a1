"""The words a grievance case is described in: what happened, how it came in, how bad it is, where it stands."""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    """What the complaint is about: exactly the list the collaborative agreed on."""

    WAGE_THEFT = "wage_theft"  # wage theft or underpayment
    RECRUITMENT_FEE = "recruitment_fee"  # a recruitment fee charged
    DOCUMENT_CONFISCATION = "document_confiscation"
    FORCED_LABOUR = "forced_labour"  # forced or bonded labour
    TRAFFICKING = "trafficking"
    MISSING_PERSON = "missing_person"
    VIOLENCE = "violence"  # physical or sexual violence
    WORKPLACE_ACCIDENT = "workplace_accident"  # workplace accident or death
    UNSAFE_HOUSING = "unsafe_housing"
    ENTITLEMENT_DENIED = "entitlement_denied"  # denial of an entitlement
    STRANDED = "stranded"  # stranded, or repatriation needed
    OTHER = "other"


class IntakeChannel(enum.StrEnum):
    HELPLINE = "helpline"  # the 24-hour helpline desk
    FIELD = "field"  # field staff at a resource centre or worksite
    PARTNER_API = "partner_api"  # a partner's own system
    IVR = "ivr"  # a voice message through the IVR gateway
    SMS = "sms"  # a text message through the SMS gateway
    PUBLIC_REPORT = "public_report"  # an anonymous or confidential report, e.g. by a neighbour


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class CaseStatus(enum.StrEnum):
    """Where a case stands; `case.TRANSITIONS` says which operation may move it where."""

    NEW = "new"  # filed, nobody has assessed it yet
    TRIAGED = "triaged"  # severity assessed, waiting for a caseworker
    ASSIGNED = "assigned"  # a caseworker holds it but has not started
    IN_PROGRESS = "in_progress"  # the caseworker is acting on it
    AWAITING_COMPLAINANT = "awaiting_complainant"  # waiting on the complainant: SLA clocks are paused
    REFERRED = "referred"  # handed to an authority or partner (pending their answer, or accepted)
    RESOLVED = "resolved"  # an outcome is recorded; it may still be reopened
    REOPENED = "reopened"  # resolved once, opened again: it goes back through triage or assignment
    CLOSED = "closed"  # final: no longer reopened

    @property
    def is_open(self) -> bool:
        return self not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)


class RespondentKind(enum.StrEnum):
    """Who the complaint is against. Agreed with the employer service: every grievance event carries it."""

    NONE = "none"  # nobody in particular (e.g. a missing person, an entitlement denied by an office)
    REGISTERED_EMPLOYER = (
        "registered_employer"  # an organisation of the employer service (employer, contractor, agency)
    )
    UNREGISTERED_EMPLOYER = "unregistered_employer"
    UNREGISTERED_CONTRACTOR = "unregistered_contractor"
    UNREGISTERED_AGENT = "unregistered_agent"


class ReporterRelation(enum.StrEnum):
    """Who brought the case to us, relative to the person it is about."""

    SELF = "self"
    FAMILY = "family"
    CO_WORKER = "co_worker"
    THIRD_PARTY = "third_party"  # a neighbour, a passer-by, a shopkeeper...
    PARTNER_STAFF = "partner_staff"  # field staff who saw it themselves


class Confidentiality(enum.StrEnum):
    OPEN = "open"  # the reporter may be named to those working the case
    CONFIDENTIAL = "confidential"  # identity held encrypted, readable only by the roles that need it
    ANONYMOUS = "anonymous"  # no identity kept at all; follow-up only by reference and code


class EscalationLevel(enum.IntEnum):
    """Who answers for a case. A breached SLA moves it one level up; it never comes down by itself."""

    CASEWORKER = 0
    DISTRICT_COORDINATOR = 1
    STATE_AUTHORITY = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class ReferralTarget(enum.StrEnum):
    """Kinds of authority or partner a case can be handed to."""

    ANTI_HUMAN_TRAFFICKING_UNIT = "anti_human_trafficking_unit"  # AHTU of the district police
    LABOUR_DEPARTMENT = "labour_department"  # claims authority, inspectors, bonded labour vigilance
    LEGAL_SERVICES_AUTHORITY = "legal_services_authority"  # DLSA/SLSA free legal aid
    CHILD_WELFARE_COMMITTEE = "child_welfare_committee"  # CWC under the Juvenile Justice Act
    POLICE = "police"  # the local police station (FIR, missing person report)
    PARTNER_CSO = "partner_cso"  # another CSO of the collaborative


class ReferralStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Outcome(enum.StrEnum):
    WAGES_RECOVERED = "wages_recovered"  # with the amount
    COMPENSATION_PAID = "compensation_paid"  # e.g. employee's compensation after an accident, with the amount
    RESCUED = "rescued"
    REUNITED = "reunited"
    REPATRIATED = "repatriated"
    DOCUMENTS_RETURNED = "documents_returned"
    ENTITLEMENT_SECURED = "entitlement_secured"
    REFERRED = "referred"  # handed over for good to the authority it was referred to
    WITHDRAWN = "withdrawn"  # the complainant withdrew
    NOT_SUBSTANTIATED = "not_substantiated"
    DUPLICATE = "duplicate"  # the same facts are handled in another case
    UNREACHABLE = "unreachable"  # the complainant could not be reached again
    OTHER = "other"


# Outcomes that move money to the worker, and so must say how much.
OUTCOMES_WITH_AMOUNT = frozenset({Outcome.WAGES_RECOVERED, Outcome.COMPENSATION_PAID})
# Outcomes that contradict a finding that the allegation was substantiated.
OUTCOMES_NEVER_SUBSTANTIATED = frozenset({Outcome.NOT_SUBSTANTIATED, Outcome.DUPLICATE})


class NoteAudience(enum.StrEnum):
    INTERNAL = "internal"  # those working the case, under the access policy
    REPORTER = "reporter"  # also shown to the reporter who follows the case up by reference and code


class TraceStatus(enum.StrEnum):
    OPEN = "open"
    FOUND = "found"  # located, safe, not yet home
    REUNITED = "reunited"  # back with the family
    DECEASED = "deceased"

    @property
    def is_closed(self) -> bool:
        return self is not TraceStatus.OPEN


class UnlinkReason(enum.StrEnum):
    """Why a case or trace no longer names a registry worker (published with the change, nothing else)."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"
    WORKER_ERASED = "worker_erased"


# How values stored before the state machine read now. "unsafe_work" was split: hazards at work are
# closest to WORKPLACE_ACCIDENT (housing complaints filed under it need a re-triage to UNSAFE_HOUSING);
# "open" meant filed and untouched, which is NEW.
LEGACY_CATEGORIES: dict[str, Category] = {"unsafe_work": Category.WORKPLACE_ACCIDENT}
LEGACY_STATUSES: dict[str, CaseStatus] = {"open": CaseStatus.NEW}


def category_from_stored(value: str) -> Category:
    return LEGACY_CATEGORIES.get(value) or Category(value)


def status_from_stored(value: str) -> CaseStatus:
    return LEGACY_STATUSES.get(value) or CaseStatus(value)
