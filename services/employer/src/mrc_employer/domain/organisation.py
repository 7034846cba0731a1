"""The organisation aggregate: an employer, contractor, sub-contractor, recruitment agency or labour agent.

It replaced the v1.0 employer (one free-form registration number, three kinds): `legacy_kind` is what
the v1 `kind` field keeps showing.

An organisation is registered with the roles it plays (one may be principal employer on its own
projects and contractor on another's), typed identifiers checked by format or checksum, and the
licences that let it supply or recruit workers. Identifiers must agree: every GSTIN embeds the one PAN
of the legal entity. Its worksites and the recruitment links it holds as a recruiter belong to it (one
document, one version). Changes bump `version` and raise past-tense events.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from mrc_employer.domain.identifiers import (
    PERSONAL_HOLDER_TYPES,
    IdentifierKind,
    OrganisationIdentifier,
    canonical,
    parse_identifier,
)
from mrc_employer.domain.licences import Licence, LicenceInput, LicenceKind, LicenceStatus, parse_licence
from mrc_employer.domain.recruitment_links import RecruitmentLink, RecruitmentLinkAdded
from mrc_employer.domain.values import check_text
from mrc_employer.domain.worksites import WageBasis, Worksite, WorksiteAdded, WorksiteKind
from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument, NotFound
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Sector

MAX_LEGAL_NAME_LENGTH = 300
MAX_REGISTRATION_NUMBER_LENGTH = 64
MAX_IDENTIFIERS = 40  # a GSTIN per state and a LIN per unit, at most
MAX_LICENCES = 40
MAX_REASON_LENGTH = 500
# Kept in the organisation's own document: enough for a large contractor's sites in one state cluster.
MAX_WORKSITES = 500
MAX_RECRUITMENT_LINKS = 500
# GSTINs, licence numbers under the Inter-State Migrant Workmen Act and the like: upper-case letters, digits, / and -.
REGISTRATION_NUMBER_RE = re.compile(r"^[A-Z0-9/-]+$")


class EmployerKind(enum.StrEnum):
    """The v1.0 kind, projected from the roles for its clients."""

    PRINCIPAL_EMPLOYER = "principal_employer"
    CONTRACTOR = "contractor"
    RECRUITMENT_AGENCY = "recruitment_agency"


class OrganisationRole(enum.StrEnum):
    PRINCIPAL_EMPLOYER = "principal_employer"
    CONTRACTOR = "contractor"
    SUB_CONTRACTOR = "sub_contractor"
    RECRUITMENT_AGENCY = "recruitment_agency"
    LABOUR_AGENT = "labour_agent"


# Roles that need a licence to supply or recruit workers (a principal employer registers its
# establishment instead); only these may hold licences, and only these are checked for one.
LICENSABLE_ROLES = frozenset(
    {
        OrganisationRole.CONTRACTOR,
        OrganisationRole.SUB_CONTRACTOR,
        OrganisationRole.RECRUITMENT_AGENCY,
        OrganisationRole.LABOUR_AGENT,
    }
)
# Who may bring workers to someone else, and who may take workers on (the two ends of a recruitment link).
RECRUITING_ROLES = LICENSABLE_ROLES
ENGAGING_ROLES = frozenset(
    {OrganisationRole.PRINCIPAL_EMPLOYER, OrganisationRole.CONTRACTOR, OrganisationRole.SUB_CONTRACTOR}
)
# What the v1 `kind` shows for each role: a sub-contractor is a contractor in law, a labour agent recruits.
_LEGACY_KIND = {
    OrganisationRole.PRINCIPAL_EMPLOYER: EmployerKind.PRINCIPAL_EMPLOYER,
    OrganisationRole.CONTRACTOR: EmployerKind.CONTRACTOR,
    OrganisationRole.SUB_CONTRACTOR: EmployerKind.CONTRACTOR,
    OrganisationRole.RECRUITMENT_AGENCY: EmployerKind.RECRUITMENT_AGENCY,
    OrganisationRole.LABOUR_AGENT: EmployerKind.RECRUITMENT_AGENCY,
}


@dataclass(frozen=True)
class IdentifierInput:
    kind: IdentifierKind | None
    value: str


@dataclass(frozen=True)
class OrganisationRegistered:
    organisation: Organisation


@dataclass(frozen=True)
class LicenceRecorded:
    organisation_id: str
    licence: Licence
    version: int
    recorded_at: datetime


@dataclass(frozen=True)
class LicenceStatusChanged:
    organisation_id: str
    licence: Licence
    previous_status: LicenceStatus
    version: int
    changed_at: datetime


OrganisationEvent = (
    OrganisationRegistered | LicenceRecorded | LicenceStatusChanged | WorksiteAdded | RecruitmentLinkAdded
)


@dataclass
class Organisation:
    organisation_id: str
    legal_name: str
    roles: frozenset[OrganisationRole]
    sector: Sector
    # Registered office or principal place of business.
    location: Place
    identifiers: tuple[OrganisationIdentifier, ...]
    licences: tuple[Licence, ...]
    registered_at: datetime
    updated_at: datetime
    # Deprecated free-form number from v1 clients; typed identifiers and licences replace it.
    registration_number: str = ""
    # The partner whose client registered it (an operator, or the employer itself).
    registering_partner_id: str = ""
    worksites: tuple[Worksite, ...] = ()
    # Links in which this organisation is the recruiter (it brings workers to `client_id`).
    recruits_for: tuple[RecruitmentLink, ...] = ()
    # Organisations that recruit for this one (the other end of their links), for tracing chains.
    recruited_by: frozenset[str] = frozenset()
    version: int = 1
    pending_events: list[OrganisationEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls,
        *,
        organisation_id: str,
        legal_name: str,
        roles: Iterable[OrganisationRole],
        sector: str,
        location: Place,
        identifiers: Sequence[IdentifierInput] = (),
        licences: Sequence[LicenceInput] = (),
        registration_number: str = "",
        registering_partner_id: str = "",
        now: datetime,
    ) -> Organisation:
        violations: list[FieldViolation] = []
        legal_name = check_text("legal_name", legal_name, violations, max_length=MAX_LEGAL_NAME_LENGTH, required=True)
        chosen_roles = frozenset(roles)
        if not chosen_roles:
            violations.append(
                FieldViolation("roles", f"name at least one of {', '.join(r.value for r in OrganisationRole)}")
            )
        sector = sector.strip()
        if sector not in {s.value for s in Sector}:
            violations.append(FieldViolation("sector", f"must be one of {', '.join(s.value for s in Sector)}"))
        violations += location.violations("location")
        parsed_identifiers = _parse_identifiers(identifiers, violations)
        parsed_licences = _parse_licences(licences, chosen_roles, violations)
        registration_number = registration_number.strip().upper()
        if len(registration_number) > MAX_REGISTRATION_NUMBER_LENGTH:
            violations.append(
                FieldViolation("registration_number", f"must be at most {MAX_REGISTRATION_NUMBER_LENGTH} characters")
            )
        elif registration_number and not REGISTRATION_NUMBER_RE.fullmatch(registration_number):
            violations.append(FieldViolation("registration_number", "may hold only letters A-Z, digits, '/' and '-'"))
        if violations:
            raise InvalidArgument(violations)
        organisation = cls(
            organisation_id=organisation_id,
            legal_name=legal_name,
            roles=chosen_roles,
            sector=Sector(sector),
            location=location,
            identifiers=parsed_identifiers,
            licences=parsed_licences,
            registered_at=now,
            updated_at=now,
            registration_number=registration_number,
            registering_partner_id=registering_partner_id,
        )
        organisation.pending_events.append(OrganisationRegistered(organisation))
        return organisation

    # -- what others ask of it -------------------------------------------------------------

    @property
    def legacy_kind(self) -> EmployerKind:
        """The v1 `kind`: of the roles held, the first in the order principal employer, contractor, agency."""
        for role in OrganisationRole:
            if role in self.roles:
                return _LEGACY_KIND[role]
        raise AssertionError("an organisation always has a role")  # pragma: no cover

    @property
    def pan(self) -> str:
        return next((i.embedded_pan for i in self.identifiers if i.embedded_pan), "")

    @property
    def holder_may_be_a_person(self) -> bool:
        """True unless a PAN shows a company, firm, trust or other body: then the legal name is a person's,
        or may be, and stays out of public answers."""
        pan = self.pan
        return not pan or pan[3] in PERSONAL_HOLDER_TYPES

    @property
    def needs_licence(self) -> bool:
        return bool(self.roles & LICENSABLE_ROLES)

    def licensed_on(self, day: date) -> bool:
        return any(licence.valid_on(day) for licence in self.licences)

    def public_lookup_keys(self) -> frozenset[str]:
        """Identifiers the public verification may be asked with: GSTINs, LINs and licence numbers.

        Never the PAN: whether a PAN belongs to someone is not for the public to learn here.
        """
        keys = {i.value for i in self.identifiers if i.kind is not IdentifierKind.PAN}
        for licence in self.licences:
            keys |= licence.lookup_keys
        return frozenset(keys)

    def answers_to(self, query: str) -> bool:
        return public_key(query) in self.public_lookup_keys()

    @property
    def scope(self) -> tuple[str, str]:
        return self.location.scope

    def places(self) -> tuple[tuple[str, str], ...]:
        """Where it is found, for the access policy: its office and its worksites, as (state, district)."""
        return tuple(dict.fromkeys([self.location.scope, *(w.place.scope for w in self.worksites)]))

    def worksite(self, worksite_id: str) -> Worksite | None:
        return next((w for w in self.worksites if w.worksite_id == worksite_id), None)

    def link(self, link_id: str) -> RecruitmentLink | None:
        return next((link for link in self.recruits_for if link.link_id == link_id), None)

    # -- changes ----------------------------------------------------------------------------

    def record_licence(self, given: LicenceInput, now: datetime, *, expected_version: int = 0) -> Licence:
        """Add a licence (a new one, or a renewal under a new number or with new dates)."""
        self._check_version(expected_version)
        violations: list[FieldViolation] = []
        licence = parse_licence("licence", given, violations)
        if licence is not None:
            violations += _licence_fits_roles("licence", licence, self.roles)
            if any(_same_licence(licence, held) for held in self.licences):
                raise Conflict(
                    f"organisation {self.organisation_id} already holds {licence.kind.value} {licence.number} "
                    f"valid from {licence.valid_from}"
                )
            if len(self.licences) >= MAX_LICENCES:
                violations.append(FieldViolation("licence", f"an organisation holds at most {MAX_LICENCES} licences"))
        if violations or licence is None:
            raise InvalidArgument(violations)
        self.licences = (*self.licences, licence)
        self._changed(now)
        self.pending_events.append(LicenceRecorded(self.organisation_id, licence, self.version, now))
        return licence

    def change_licence_status(
        self,
        number: str,
        status: LicenceStatus,
        reason: str,
        now: datetime,
        *,
        expected_version: int = 0,
    ) -> Licence:
        """Record what the authority decided: a suspension, a cancellation, or a suspension lifted.

        A cancelled licence stays cancelled; asking for the status it already has changes nothing.
        """
        self._check_version(expected_version)
        violations: list[FieldViolation] = []
        reason = check_text("reason", reason, violations, max_length=MAX_REASON_LENGTH, required=True)
        if violations:
            raise InvalidArgument(violations)
        wanted = " ".join(number.split()).upper()
        for position, held in enumerate(self.licences):
            if held.number != wanted:
                continue
            if held.status is status:
                return held
            if held.status is LicenceStatus.CANCELLED:
                raise Conflict(f"licence {held.number} is cancelled and cannot become {status.value}")
            changed = held.with_status(status, reason)
            self.licences = (*self.licences[:position], changed, *self.licences[position + 1 :])
            self._changed(now)
            self.pending_events.append(
                LicenceStatusChanged(self.organisation_id, changed, held.status, self.version, now)
            )
            return changed
        raise NotFound(f"organisation {self.organisation_id} holds no licence {wanted!r}")

    def add_worksite(
        self,
        *,
        worksite_id: str,
        kind: WorksiteKind | None,
        sector: str,
        place: Place,
        wage_basis: WageBasis,
        name: str = "",
        now: datetime,
        expected_version: int = 0,
    ) -> Worksite:
        self._check_version(expected_version)
        if len(self.worksites) >= MAX_WORKSITES:
            raise InvalidArgument(FieldViolation("worksite", f"an organisation has at most {MAX_WORKSITES} worksites"))
        worksite = Worksite.add(
            worksite_id=worksite_id,
            organisation_id=self.organisation_id,
            kind=kind,
            sector=sector,
            place=place,
            wage_basis=wage_basis,
            name=name,
            now=now,
        )
        if self.worksite(worksite_id) is not None:
            raise Conflict(f"worksite {worksite_id} exists")
        self.worksites = (*self.worksites, worksite)
        self._changed(now)
        self.pending_events.extend(worksite.pending_events)
        worksite.pending_events.clear()
        return worksite

    def record_recruitment_link(self, link: RecruitmentLink, now: datetime) -> None:
        """Keep a link in which this organisation recruits (`RecruitmentChain.add` checked it)."""
        if link.recruiter_id != self.organisation_id:
            raise InvalidArgument(FieldViolation("recruiter_id", "must be this organisation"))
        if len(self.recruits_for) >= MAX_RECRUITMENT_LINKS:
            raise InvalidArgument(
                FieldViolation("client_id", f"an organisation holds at most {MAX_RECRUITMENT_LINKS} links")
            )
        if self.link(link.link_id) is not None:
            raise Conflict(f"recruitment link {link.link_id} exists")
        self.recruits_for = (*self.recruits_for, link)
        self._changed(now)
        self.pending_events.extend(link.pending_events)
        link.pending_events.clear()

    def _check_version(self, expected_version: int) -> None:
        if expected_version and expected_version != self.version:
            raise Conflict(f"organisation {self.organisation_id} is at version {self.version}, not {expected_version}")

    def _changed(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now


def public_key(query: str) -> str:
    """A verification query as identifiers are indexed: upper case, without spaces or hyphens."""
    return canonical(query)


def _same_licence(a: Licence, b: Licence) -> bool:
    return a.kind is b.kind and a.number == b.number and a.valid_from == b.valid_from


def _parse_identifiers(
    given: Sequence[IdentifierInput], violations: list[FieldViolation]
) -> tuple[OrganisationIdentifier, ...]:
    if len(given) > MAX_IDENTIFIERS:
        violations.append(FieldViolation("identifiers", f"at most {MAX_IDENTIFIERS} identifiers"))
        return ()
    parsed: list[OrganisationIdentifier] = []
    first_pan: tuple[str, int] | None = None
    for position, item in enumerate(given):
        identifier = parse_identifier(f"identifiers.{position}", item.kind, item.value, violations)
        if identifier is None:
            continue
        if identifier in parsed:
            violations.append(FieldViolation(f"identifiers.{position}.value", "is given twice"))
            continue
        if identifier.kind is IdentifierKind.PAN and any(i.kind is IdentifierKind.PAN for i in parsed):
            violations.append(FieldViolation(f"identifiers.{position}", "a legal entity has one PAN"))
            continue
        pan = identifier.embedded_pan
        if first_pan is None:
            first_pan = (pan, position) if pan else None
        elif pan and pan != first_pan[0]:
            violations.append(
                FieldViolation(
                    f"identifiers.{position}.value",
                    f"is built on PAN {pan}, but identifiers.{first_pan[1]} on {first_pan[0]}: "
                    "one legal entity has one PAN",
                )
            )
            continue
        parsed.append(identifier)
    return tuple(parsed)


def _licence_fits_roles(path: str, licence: Licence, roles: frozenset[OrganisationRole]) -> list[FieldViolation]:
    if not roles & LICENSABLE_ROLES:
        return [
            FieldViolation(
                f"{path}.kind", "only a contractor, sub-contractor, recruitment agency or labour agent holds one"
            )
        ]
    if licence.kind is LicenceKind.EMIGRATION_RECRUITING_AGENT and not roles & {
        OrganisationRole.RECRUITMENT_AGENCY,
        OrganisationRole.LABOUR_AGENT,
    }:
        return [
            FieldViolation(f"{path}.kind", "a recruiting agent's certificate belongs to a recruitment agency or agent")
        ]
    return []


def _parse_licences(
    given: Sequence[LicenceInput], roles: frozenset[OrganisationRole], violations: list[FieldViolation]
) -> tuple[Licence, ...]:
    if len(given) > MAX_LICENCES:
        violations.append(FieldViolation("licences", f"at most {MAX_LICENCES} licences"))
        return ()
    parsed: list[Licence] = []
    for position, item in enumerate(given):
        licence = parse_licence(f"licences.{position}", item, violations)
        if licence is None:
            continue
        problems = _licence_fits_roles(f"licences.{position}", licence, roles)
        if any(_same_licence(licence, other) for other in parsed):
            problems.append(FieldViolation(f"licences.{position}", "is given twice"))
        violations += problems
        if not problems:
            parsed.append(licence)
    return tuple(parsed)
