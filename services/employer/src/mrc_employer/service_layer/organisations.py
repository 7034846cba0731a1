"""Use cases on organisations: register, read, check a reference, licences, worksites, recruitment links.

Every use case takes the authenticated caller, settles its purpose and asks the access policy through
`OrganisationAccess` before it reads or writes (an employer's client reaches only its own organisation).
Writes store their audit event with the change; reads of an organisation are audited when served.
Creates are idempotent: ids derive from the partner's Idempotency-Key (a keyed HMAC), so a retry finds
the first result; the same key with another request is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from mrc_employer.domain.compliance_history import RiskFlag
from mrc_employer.domain.identifiers import IdentifierKind
from mrc_employer.domain.licences import LicenceInput, LicenceStatus, parse_licence
from mrc_employer.domain.minimum_wages import WageSphere
from mrc_employer.domain.organisation import (
    EmployerKind,
    IdentifierInput,
    Organisation,
    OrganisationRole,
)
from mrc_employer.domain.organisation_access import RESOURCE, acts_for_an_employer
from mrc_employer.domain.recruitment_chain import MAX_CHAIN_DEPTH, RecruitmentChain, RecruitmentLink
from mrc_employer.domain.worksites import WageBasis, Worksite, WorksiteKind
from mrc_employer.service_layer.access import READING_SCOPES, OrganisationAccess, require_any, with_purpose
from mrc_employer.service_layer.ports import Histories, Organisations
from mrc_kernel.audit import Action, AuditRecorder
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import (
    AlreadyExists,
    Conflict,
    FieldViolation,
    IdempotencyKeyReused,
    InvalidArgument,
    PermissionDenied,
)
from mrc_kernel.idempotency import IdDeriver, request_fingerprint, scoped_key
from mrc_kernel.place import Place
from mrc_kernel.policy import Purpose, require_in_geography
from mrc_kernel.roles import Role, Scope

# What the v1.0 `kind` becomes when a client names no roles.
ROLE_OF_KIND = {
    EmployerKind.PRINCIPAL_EMPLOYER: OrganisationRole.PRINCIPAL_EMPLOYER,
    EmployerKind.CONTRACTOR: OrganisationRole.CONTRACTOR,
    EmployerKind.RECRUITMENT_AGENCY: OrganisationRole.RECRUITMENT_AGENCY,
}
ORGANISATION_FIELDS = ("legal_name", "roles", "sector", "location", "identifiers", "licences")
# A change made at the same time by someone else: read again and apply once more, a few times.
SAVE_ATTEMPTS = 3


@dataclass(frozen=True)
class RegisterOrganisation:
    legal_name: str
    sector: str
    location: Place
    roles: frozenset[OrganisationRole] = frozenset()
    kind: EmployerKind | None = None  # v1.0 clients
    identifiers: tuple[IdentifierInput, ...] = ()
    licences: tuple[LicenceInput, ...] = ()
    registration_number: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class AddWorksite:
    organisation_id: str
    kind: WorksiteKind | None
    sector: str
    location: Place
    sphere: WageSphere | None
    scheduled_employment: str
    area: str = ""
    name: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class RecordLicence:
    organisation_id: str
    licence: LicenceInput
    expected_version: int = 0


@dataclass(frozen=True)
class ChangeLicenceStatus:
    organisation_id: str
    licence_number: str
    status: LicenceStatus | None
    reason: str
    expected_version: int = 0


@dataclass(frozen=True)
class AddRecruitmentLink:
    recruiter_id: str
    client_id: str
    since: str
    until: str = ""
    worksite_id: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class Registration:
    organisation: Organisation
    created: bool


@dataclass(frozen=True)
class OrganisationView:
    organisation: Organisation
    risk_flag: RiskFlag = field(default_factory=RiskFlag)


@dataclass(frozen=True)
class Created:
    """A sub-resource created now, or found again for a retry."""

    organisation: Organisation
    created: bool


def _roles(command: RegisterOrganisation) -> frozenset[OrganisationRole]:
    if command.roles:
        return command.roles
    return frozenset({ROLE_OF_KIND[command.kind]}) if command.kind is not None else frozenset()


class OrganisationService:
    def __init__(
        self,
        organisations: Organisations,
        histories: Histories,
        audit: AuditRecorder,
        ids: IdDeriver,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._organisations = organisations
        self._histories = histories
        self._audit = audit
        self._ids = ids
        self._clock = clock
        self._new_id = new_id
        self.access = OrganisationAccess(organisations, audit)

    # -- registration ------------------------------------------------------------------------------

    def register(self, command: RegisterOrganisation, caller: Caller) -> Registration:
        caller.require(Scope.EMPLOYERS_WRITE)
        caller = with_purpose(caller)
        if not caller.partner_id:
            raise PermissionDenied("this client acts for no partner")
        key = command.idempotency_key or self._new_id()
        if acts_for_an_employer(caller):
            if not caller.employer_id:
                raise PermissionDenied("this client does not act for an employer")
            # Its own record, under the id its tokens carry: there is only ever one.
            organisation_id = caller.employer_id
        else:
            organisation_id = self._ids.derive("employer", scoped_key(caller.partner_id, key))
        organisation = Organisation.register(
            organisation_id=organisation_id,
            legal_name=command.legal_name,
            roles=_roles(command),
            sector=command.sector,
            location=command.location,
            identifiers=command.identifiers,
            licences=command.licences,
            registration_number=command.registration_number,
            registering_partner_id=caller.partner_id,
            now=self._clock(),
        )
        location = organisation.location
        require_in_geography(caller, location.state_code, location.district_code, prefix="location")
        self._check_public_keys(organisation, [f"identifiers.{i}.value" for i in range(len(organisation.identifiers))])
        payload = asdict(command)
        payload.pop("idempotency_key")
        audit = self._audit.event(
            caller, Action.CREATE, RESOURCE, organisation_id, ORGANISATION_FIELDS, state_code=location.state_code
        )
        stored, created = self._organisations.add(
            organisation,
            idempotency_key=scoped_key(caller.partner_id, key),
            fingerprint=request_fingerprint(payload),
            also_publish=[audit],
        )
        return Registration(stored, created)

    def _check_public_keys(self, organisation: Organisation, paths: Sequence[str]) -> None:
        """Refuse identifiers and licence numbers another organisation already answers to."""
        violations: list[FieldViolation] = []
        for identifier, path in zip(organisation.identifiers, paths, strict=False):
            if identifier.kind is IdentifierKind.PAN:
                continue
            holder = self._organisations.holder_of(identifier.value)
            if holder is not None and holder != organisation.organisation_id:
                violations.append(FieldViolation(path, "another organisation is registered with it"))
        for position, licence in enumerate(organisation.licences):
            for key in licence.lookup_keys:
                holder = self._organisations.holder_of(key)
                if holder is not None and holder != organisation.organisation_id:
                    violations.append(
                        FieldViolation(f"licences.{position}.number", "another organisation holds this licence")
                    )
                    break
        if violations:
            raise AlreadyExists("; ".join(f"{v.field}: {v.description}" for v in violations))

    # -- reads ---------------------------------------------------------------------------------------

    def get(self, organisation_id: str, caller: Caller) -> OrganisationView:
        require_any(caller, READING_SCOPES)
        caller = with_purpose(caller)
        organisation = self.access.load(organisation_id, caller)
        history = self._histories.get(organisation.organisation_id)
        self._audit.record(
            caller,
            Action.READ,
            RESOURCE,
            organisation.organisation_id,
            ORGANISATION_FIELDS,
            state_code=organisation.location.state_code,
        )
        return OrganisationView(organisation, history.flag if history else RiskFlag())

    def check_reference(self, organisation_id: str, caller: Caller) -> Organisation:
        """For a service naming an organisation on the caller's behalf (grievance intake): does it exist,
        and may the caller use it? Missing and out of reach are the same NotFound."""
        require_any(caller, READING_SCOPES)
        caller = with_purpose(caller, Purpose.GRIEVANCE_FOLLOW_UP)
        organisation = self.access.load(organisation_id, caller)
        self._audit.record(
            caller,
            Action.READ,
            RESOURCE,
            organisation.organisation_id,
            ("legal_name", "roles", "location"),
            state_code=organisation.location.state_code,
        )
        return organisation

    # -- changes -------------------------------------------------------------------------------------

    def _change(
        self,
        organisation_id: str,
        caller: Caller,
        change: Callable[[Organisation], bool],
        fields: Sequence[str],
    ) -> Organisation:
        """Load for writing, apply `change` (False: nothing to store, a retry), store with the audit event;
        on a concurrent change, read again and apply once more."""
        for attempt in range(SAVE_ATTEMPTS):
            organisation = self.access.load(organisation_id, caller, action=Action.UPDATE)
            loaded_version = organisation.version
            if not change(organisation):
                return organisation
            audit = self._audit.event(
                caller,
                Action.UPDATE,
                RESOURCE,
                organisation.organisation_id,
                fields,
                state_code=organisation.location.state_code,
            )
            try:
                self._organisations.save(organisation, expected_version=loaded_version, also_publish=[audit])
                return organisation
            except Conflict:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def add_worksite(self, command: AddWorksite, caller: Caller) -> tuple[Worksite, bool]:
        caller.require(Scope.EMPLOYERS_WRITE)
        caller = with_purpose(caller)
        require_in_geography(caller, command.location.state_code, command.location.district_code, prefix="location")
        key = command.idempotency_key or self._new_id()
        worksite_id = self._ids.derive("worksite", scoped_key(caller.partner_id, key))
        basis = WageBasis(
            command.sphere or WageSphere.STATE, command.scheduled_employment.strip(), command.area.strip()
        )
        created = False

        def add(organisation: Organisation) -> bool:
            nonlocal created
            existing = organisation.worksite(worksite_id)
            if existing is not None:
                if (existing.kind, existing.sector.value, existing.place, existing.wage_basis, existing.name) != (
                    command.kind,
                    command.sector.strip(),
                    command.location,
                    basis,
                    " ".join(command.name.split()),
                ):
                    raise IdempotencyKeyReused("this Idempotency-Key was already used for a different worksite")
                return False
            sphere_unset = (
                [FieldViolation("wage_basis.sphere", "must be central or state")] if command.sphere is None else []
            )
            try:
                organisation.add_worksite(
                    worksite_id=worksite_id,
                    kind=command.kind,
                    sector=command.sector,
                    place=command.location,
                    wage_basis=basis,
                    name=command.name,
                    now=self._clock(),
                )
            except InvalidArgument as invalid:
                raise InvalidArgument([*sphere_unset, *invalid.violations]) from None
            if sphere_unset:
                raise InvalidArgument(sphere_unset)
            created = True
            return True

        organisation = self._change(command.organisation_id, caller, add, ["worksites"])
        worksite = organisation.worksite(worksite_id)
        assert worksite is not None
        return worksite, created

    def record_licence(self, command: RecordLicence, caller: Caller) -> Created:
        caller.require(Scope.EMPLOYERS_WRITE)
        caller = with_purpose(caller)
        violations: list[FieldViolation] = []
        wanted = parse_licence("licence", command.licence, violations)
        created = False

        def add(organisation: Organisation) -> bool:
            nonlocal created
            if wanted is not None and wanted in organisation.licences:
                return False  # the same licence, recorded by an earlier attempt of this request
            organisation.record_licence(command.licence, self._clock(), expected_version=command.expected_version)
            self._check_public_keys(organisation, [])
            created = True
            return True

        organisation = self._change(command.organisation_id, caller, add, ["licences"])
        return Created(organisation, created)

    def change_licence_status(self, command: ChangeLicenceStatus, caller: Caller) -> Organisation:
        """What the licensing authority decided (a suspension, a cancellation, a suspension lifted), entered
        by an operator."""
        caller.require(Scope.EMPLOYERS_WRITE)
        if Role.OPERATOR not in caller.roles:
            raise PermissionDenied("only operators record a licensing authority's decisions")
        caller = with_purpose(caller, Purpose.OPERATIONS)
        if command.status is None:
            raise InvalidArgument(FieldViolation("status", "must be active, suspended or cancelled"))
        status = command.status

        def change(organisation: Organisation) -> bool:
            before = organisation.version
            organisation.change_licence_status(
                command.licence_number,
                status,
                command.reason,
                self._clock(),
                expected_version=command.expected_version,
            )
            return organisation.version != before

        return self._change(command.organisation_id, caller, change, ["licences"])

    def add_recruitment_link(self, command: AddRecruitmentLink, caller: Caller) -> tuple[RecruitmentLink, bool]:
        """The recruiter (the organisation in the path) brings workers to `client_id`."""
        caller.require(Scope.EMPLOYERS_WRITE)
        caller = with_purpose(caller)
        key = command.idempotency_key or self._new_id()
        link_id = self._ids.derive("recruitment-link", scoped_key(caller.partner_id, key))
        client = self._organisations.get(command.client_id.strip()) if command.client_id.strip() else None
        # The client need not be the caller's to name (an agency names the employers it supplies), but it
        # must be one the caller could see: otherwise it is answered as unknown.
        if client is not None and not self.access.decision(client, caller):
            client = None
        if command.client_id.strip() and client is None:
            raise InvalidArgument(FieldViolation("client_id", "no such organisation"))
        created = False

        def add(recruiter: Organisation) -> bool:
            nonlocal created
            existing = recruiter.link(link_id)
            if existing is not None:
                if existing.client_id != command.client_id.strip():
                    raise IdempotencyKeyReused("this Idempotency-Key was already used for a different link")
                return False
            if command.worksite_id.strip() and (client is None or client.worksite(command.worksite_id.strip()) is None):
                raise InvalidArgument(FieldViolation("worksite_id", "is not a worksite of the client"))
            chain, roles = self._chain_around(recruiter, client)
            link = chain.add(
                link_id=link_id,
                recruiter_id=recruiter.organisation_id,
                client_id=command.client_id.strip(),
                roles=roles,
                since=command.since,
                until=command.until,
                worksite_id=command.worksite_id,
                now=self._clock(),
            )
            recruiter.record_recruitment_link(link, self._clock())
            created = True
            return True

        recruiter = self._change(command.recruiter_id, caller, add, ["recruits_for"])
        link = recruiter.link(link_id)
        assert link is not None
        # The client's side, after the link is stored (a retry repeats it): chains are traced through it.
        self._organisations.add_recruiter(link.client_id, recruiter.organisation_id)
        return link, created

    def _chain_around(
        self, recruiter: Organisation, client: Organisation | None
    ) -> tuple[RecruitmentChain, dict[str, frozenset[OrganisationRole]]]:
        """The links that matter to a new one: the client's recruiters (a link made twice), and everyone who
        recruits, directly or through others, for the recruiter (a link closing a loop)."""
        roles = {recruiter.organisation_id: recruiter.roles}
        nodes = [recruiter]
        if client is not None:
            roles[client.organisation_id] = client.roles
            nodes.append(client)
        links = [link for node in nodes for link in _known_links(node)]
        frontier, seen = [recruiter], {recruiter.organisation_id}
        for _ in range(MAX_CHAIN_DEPTH):
            wanted = sorted({r for node in frontier for r in node.recruited_by} - seen)
            if not wanted:
                break
            frontier = self._organisations.get_many(wanted)
            seen.update(wanted)
            links += [link for node in frontier for link in _known_links(node)]
        return RecruitmentChain(links), roles


def _known_links(node: Organisation) -> list[RecruitmentLink]:
    """The node's recruiters as links (only who recruits for whom matters to the chain)."""
    since = node.registered_at.date()
    return [
        RecruitmentLink(f"known:{r}:{node.organisation_id}", r, node.organisation_id, since)
        for r in sorted(node.recruited_by)
    ]
