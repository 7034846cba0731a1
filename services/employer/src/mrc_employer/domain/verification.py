"""The public verification: is the agency or contractor behind this identifier licensed and in good standing?

Open to anyone (a worker shown a licence by a recruiter, a family, a journalist), so it answers with
facts about the licence and the holder's standing and nothing personal:
- asked by GSTIN, LIN or licence number (an RC's serial too), never by PAN;
- the holder's name only when a PAN shows it is a company, firm, trust or other body: a proprietor's or
  an unregistered agent's name is a person's name and stays out;
- no scores, no counts of complaints, no worksites, no workers: "in good standing" says it all.

In good standing = the holder needs no licence, or holds one valid on the day; and no risk flag is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mrc_employer.domain.licences import LicenceKind, LicenceStatus
from mrc_employer.domain.organisation import Organisation, public_key


@dataclass(frozen=True)
class LicenceStanding:
    kind: LicenceKind
    issuing_authority: str
    valid_from: date
    valid_until: date
    status: LicenceStatus
    valid_on_day: bool
    matches_query: bool


@dataclass(frozen=True)
class PublicVerification:
    query: str  # as compared (upper case, no spaces or hyphens)
    found: bool
    checked_on: date
    holder_name: str = ""
    roles: tuple[str, ...] = ()
    needs_licence: bool = False
    licensed: bool = False
    licences: tuple[LicenceStanding, ...] = ()
    risk_flag_raised: bool = False
    in_good_standing: bool = False


def verify(query: str, organisation: Organisation | None, *, risk_flag_raised: bool, on: date) -> PublicVerification:
    """What the public sees for `query`; `organisation` is the one indexed under it, if any."""
    key = public_key(query)
    if organisation is None or not key or not organisation.answers_to(query):
        return PublicVerification(query=key, found=False, checked_on=on)
    licences = tuple(
        LicenceStanding(
            kind=licence.kind,
            issuing_authority=licence.issuing_authority,
            valid_from=licence.valid_from,
            valid_until=licence.valid_until,
            status=licence.status,
            valid_on_day=licence.valid_on(on),
            matches_query=key in licence.lookup_keys,
        )
        for licence in sorted(organisation.licences, key=lambda held: (held.valid_until, held.number), reverse=True)
    )
    licensed = organisation.licensed_on(on)
    return PublicVerification(
        query=key,
        found=True,
        checked_on=on,
        holder_name="" if organisation.holder_may_be_a_person else organisation.legal_name,
        roles=tuple(sorted(role.value for role in organisation.roles)),
        needs_licence=organisation.needs_licence,
        licensed=licensed,
        licences=licences,
        risk_flag_raised=risk_flag_raised,
        in_good_standing=(licensed or not organisation.needs_licence) and not risk_flag_raised,
    )
