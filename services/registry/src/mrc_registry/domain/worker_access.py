"""A worker's record as the access policy sees it, and which of its fields each purpose may show.

A partner reaches a worker only through an active consent: one it captured itself (the registering
partner's first consent among them), one that names it (partner sharing), or one to share with
government (for government partners, within their geography). What a consent lets a partner use the
record for follows from the consent's purposes; what it shows of the record follows from those
purposes too: a partner linked for entitlements sees what entitlements need, not the phone or the
vulnerabilities another partner recorded.
"""

from __future__ import annotations

from datetime import datetime

from mrc_kernel.policy import Grant, Protected, Purpose
from mrc_registry.domain.consent import Consent, ConsentPurpose
from mrc_registry.domain.worker import Worker, WorkerStatus

RESOURCE = "worker"

# The request purposes a consent purpose allows.
PURPOSES_OF_CONSENT: dict[ConsentPurpose, frozenset[Purpose]] = {
    ConsentPurpose.REGISTRATION: frozenset({Purpose.REGISTRATION, Purpose.CASE_MANAGEMENT}),
    ConsentPurpose.ENTITLEMENT_LINKAGE: frozenset({Purpose.ENTITLEMENT_LINKAGE}),
    ConsentPurpose.GRIEVANCE_FOLLOW_UP: frozenset({Purpose.GRIEVANCE_FOLLOW_UP}),
    ConsentPurpose.PARTNER_SHARING: frozenset({Purpose.SHARING}),
    ConsentPurpose.GOVERNMENT_SHARING: frozenset({Purpose.SHARING}),
}

# Groups of the record's fields, and the purposes that may see each group.
IDENTITY = ("full_name", "gender", "birth_year", "home", "father_or_spouse_name", "languages")
CONTACT = ("phone",)
DOCUMENTS = ("identity_documents",)
WORK = ("occupation", "sector", "skills")
VULNERABILITIES = ("vulnerabilities",)
FIELDS_BY_PURPOSE: dict[Purpose, frozenset[str]] = {
    Purpose.REGISTRATION: frozenset(IDENTITY + CONTACT + DOCUMENTS + WORK),
    Purpose.CASE_MANAGEMENT: frozenset(IDENTITY + CONTACT + DOCUMENTS + WORK),
    Purpose.ENTITLEMENT_LINKAGE: frozenset(IDENTITY + DOCUMENTS + WORK),
    Purpose.GRIEVANCE_FOLLOW_UP: frozenset(IDENTITY + CONTACT + WORK + VULNERABILITIES),
    Purpose.SHARING: frozenset(IDENTITY + WORK),
}
EVERY_FIELD = frozenset(IDENTITY + CONTACT + DOCUMENTS + WORK + VULNERABILITIES)


def consent_grants(consent: Consent) -> tuple[Grant, ...]:
    """The grants one consent makes: to the partner that captured it, and to those it shares with."""
    own = frozenset().union(*(PURPOSES_OF_CONSENT[p] for p in consent.purposes))
    grants = [Grant(own, partner_id=consent.captured_by_partner_id)]
    # Sharing passes on the consent's other purposes (what the worker agreed the record is used for).
    shared = own | {Purpose.SHARING}
    if ConsentPurpose.PARTNER_SHARING in consent.purposes:
        grants += [Grant(shared, partner_id=partner_id) for partner_id in sorted(consent.shared_with_partner_ids)]
    if ConsentPurpose.GOVERNMENT_SHARING in consent.purposes:
        grants.append(Grant(shared, partner_kind="government"))
    return tuple(grants)


def protected(worker: Worker, now: datetime) -> Protected:
    """The worker for the policy: its home, and the grants of its active consents (none once erased)."""
    if worker.status is not WorkerStatus.ACTIVE:
        return Protected(RESOURCE, places=tuple(worker.places()))
    grants = tuple(grant for consent in worker.consents if consent.is_active(now) for grant in consent_grants(consent))
    return Protected(RESOURCE, places=tuple(worker.places()), grants=grants)


def visible_fields(worker: Worker, partner_id: str, purposes: frozenset[Purpose]) -> frozenset[str]:
    """The fields a partner sees when using the record for `purposes` (purpose limitation: a read shows what
    its declared purpose needs, not everything the partner's consents would allow). The registering partner
    sees what it recorded, vulnerabilities included, for as long as it holds the worker's consent."""
    if partner_id == worker.registering_partner_id:
        return EVERY_FIELD
    return frozenset().union(*(FIELDS_BY_PURPOSE.get(p, frozenset()) for p in purposes))
