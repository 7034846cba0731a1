"""The people and organisations a case is about, against, or from; and who acted on it."""

from __future__ import annotations

from dataclasses import dataclass

from mrc_grievance.domain.protected import Sealed, SealedPhone
from mrc_grievance.domain.vocabulary import Confidentiality, ReporterRelation, RespondentKind
from mrc_kernel.errors import FieldViolation
from mrc_kernel.place import Place

MAX_ID_LENGTH = 64


def id_violations(field: str, value: str, *, required: bool = True) -> list[FieldViolation]:
    if not value:
        return [FieldViolation(field, "must be set")] if required else []
    if len(value) > MAX_ID_LENGTH or value != value.strip():
        return [FieldViolation(field, f"must be an id of at most {MAX_ID_LENGTH} characters, without spaces")]
    return []


# --- the subject: who the case is about ---------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredWorker:
    """A worker of the registry, by id. The service layer checks that they exist, are visible to the caller and
    consent to `grievance_follow_up` (over gRPC) before the case is filed or linked at triage.

    The link remembers whose consent admitted it (the caller's partner and its kind: a consent may name the
    partner or share with every government partner) and the worker's registry version when it was checked,
    so a later `ConsentChanged` is judged against that partner, and one older than the link changes
    nothing. Empty and 0 for links made before this was recorded: the case's own partner, kind unknown."""

    worker_id: str
    consent_partner_id: str = ""
    consent_partner_kind: str = ""
    registry_version: int = 0


@dataclass(frozen=True)
class UnregisteredPerson:
    """Someone outside the registry. Every identifying value is sealed; any may be unknown (a neighbour who
    reports "a girl kept at the kiln" knows no name)."""

    name: Sealed | None = None
    age: Sealed | None = None
    gender: Sealed | None = None
    phone: SealedPhone | None = None


Subject = RegisteredWorker | UnregisteredPerson


def subject_violations(subject: Subject, prefix: str = "subject") -> list[FieldViolation]:
    if isinstance(subject, RegisteredWorker):
        return id_violations(f"{prefix}.worker_id", subject.worker_id)
    return []


def subject_worker_id(subject: Subject) -> str:
    return subject.worker_id if isinstance(subject, RegisteredWorker) else ""


# --- the respondent: who the case is against ----------------------------------------------------------


@dataclass(frozen=True)
class RegisteredEmployer:
    """An organisation of the employer service (a principal employer, contractor or recruitment agency), by
    id; the service layer checks it exists over gRPC."""

    employer_id: str


_UNREGISTERED_KINDS = frozenset(
    {RespondentKind.UNREGISTERED_EMPLOYER, RespondentKind.UNREGISTERED_CONTRACTOR, RespondentKind.UNREGISTERED_AGENT}
)


@dataclass(frozen=True)
class UnregisteredRespondent:
    """An employer, contractor or agent the employer service does not know, by name and place.

    The name is sealed: a labour contractor or an agent is a person, and an allegation is not a finding.
    """

    kind: RespondentKind
    name: Sealed | None
    place: Place | None


Respondent = RegisteredEmployer | UnregisteredRespondent


def respondent_violations(respondent: Respondent | None, prefix: str = "respondent") -> list[FieldViolation]:
    if respondent is None:
        return []
    if isinstance(respondent, RegisteredEmployer):
        return id_violations(f"{prefix}.employer_id", respondent.employer_id)
    found: list[FieldViolation] = []
    if respondent.kind not in _UNREGISTERED_KINDS:
        allowed = ", ".join(sorted(k.value for k in _UNREGISTERED_KINDS))
        found.append(FieldViolation(f"{prefix}.kind", f"must be one of {allowed}"))
    if respondent.name is None and respondent.place is None:
        found.append(FieldViolation(f"{prefix}.name", "a name or a place is needed to tell who this is"))
    if respondent.place is not None:
        found.extend(respondent.place.violations(f"{prefix}.place"))
    return found


def respondent_kind(respondent: Respondent | None) -> RespondentKind:
    if respondent is None:
        return RespondentKind.NONE
    if isinstance(respondent, RegisteredEmployer):
        return RespondentKind.REGISTERED_EMPLOYER
    return respondent.kind


def respondent_employer_id(respondent: Respondent | None) -> str:
    """The employer service's organisation id; empty when there is no respondent or it is unregistered."""
    return respondent.employer_id if isinstance(respondent, RegisteredEmployer) else ""


# --- the reporter: who brought the case to us ---------------------------------------------------------


@dataclass(frozen=True)
class Reporter:
    relation: ReporterRelation
    confidentiality: Confidentiality
    # Sealed, and for a confidential reporter readable only by the roles that need it (the access policy);
    # an anonymous reporter leaves neither.
    name: Sealed | None = None
    phone: SealedPhone | None = None

    @property
    def identified(self) -> bool:
        return self.name is not None or self.phone is not None


def reporter_violations(reporter: Reporter, prefix: str = "reporter") -> list[FieldViolation]:
    if reporter.confidentiality is Confidentiality.ANONYMOUS and reporter.identified:
        return [FieldViolation(f"{prefix}.confidentiality", "an anonymous reporter leaves no name or phone")]
    return []


# --- who acted --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who made a change, for the timeline: a partner's client, the reporter, or the platform itself."""

    id: str
    partner_id: str = ""


SLA_CLOCK = Actor("system:sla-clock")
REPORTER = Actor("reporter")
REGISTRY = Actor("system:registry")
