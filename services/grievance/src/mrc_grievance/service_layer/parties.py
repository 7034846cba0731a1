"""Who a case is about, against and from, as callers send them: checked, sealed, turned into domain parties.

A registry worker is checked with the registry (exists, visible to the caller, consent to grievance
follow-up) and an employer-service organisation with the employer service, both over gRPC with the
caller's own token and purpose; an answer of "not found" is a 422 naming the field, an outage a 503.
Everything identifying about people outside the registry is sealed under the state's data key.
"""

from __future__ import annotations

from dataclasses import dataclass

from mrc_grievance.domain.parties import (
    RegisteredEmployer,
    RegisteredWorker,
    Reporter,
    Respondent,
    Subject,
    UnregisteredPerson,
    UnregisteredRespondent,
)
from mrc_grievance.domain.vocabulary import Confidentiality, ReporterRelation, RespondentKind
from mrc_grievance.service_layer import protection as sealed_fields
from mrc_grievance.service_layer.ports import (
    EmployerCheck,
    EmployerDirectory,
    Forwarded,
    WorkerCheck,
    WorkerDirectory,
)
from mrc_grievance.service_layer.protection import Protection
from mrc_kernel.caller import Caller
from mrc_kernel.errors import FieldViolation
from mrc_kernel.place import Place

MAX_NAME_LENGTH = 200
GENDERS = frozenset({"female", "male", "transgender", "undisclosed"})


@dataclass(frozen=True)
class PersonInput:
    name: str = ""
    age: int = 0
    gender: str = ""
    phone: str = ""


@dataclass(frozen=True)
class SubjectInput:
    worker_id: str = ""
    person: PersonInput | None = None
    # Where the caller put the worker id (the deprecated top-level `worker_id` or `subject.worker_id`).
    worker_field: str = "subject.worker_id"


@dataclass(frozen=True)
class RespondentInput:
    employer_id: str = ""
    kind: RespondentKind | None = None
    name: str = ""
    place: Place | None = None
    employer_field: str = "respondent.employer_id"


@dataclass(frozen=True)
class ReporterInput:
    relation: ReporterRelation | None = None
    confidentiality: Confidentiality | None = None
    name: str = ""
    phone: str = ""


class Parties:
    def __init__(self, protection: Protection, workers: WorkerDirectory, employers: EmployerDirectory) -> None:
        self._protection = protection
        self._workers = workers
        self._employers = employers

    # -- checks with the other services ---------------------------------------------------------------

    def registered_worker(
        self, worker_id: str, field: str, caller: Caller, forwarded: Forwarded, violations: list[FieldViolation]
    ) -> RegisteredWorker:
        """The link to a registry worker, once the registry confirmed the caller's partner may follow their
        grievances up; it remembers that partner and the worker's version (see `domain.consent`)."""
        answer = self._workers.check_worker(worker_id, caller, forwarded)
        if answer.check is WorkerCheck.NOT_FOUND:
            violations.append(FieldViolation(field, "no such worker, or no consent for grievance follow-up"))
        elif answer.check is WorkerCheck.NOT_PERMITTED:
            violations.append(
                FieldViolation(field, "your role cannot name registry workers: describe the person instead")
            )
        return RegisteredWorker(worker_id, caller.partner_id, caller.partner_kind, answer.registry_version)

    def check_employer(
        self, employer_id: str, field: str, caller: Caller, forwarded: Forwarded
    ) -> list[FieldViolation]:
        answer = self._employers.check_employer(employer_id, caller, forwarded)
        if answer is EmployerCheck.NOT_FOUND:
            return [FieldViolation(field, "no such organisation in the employer service")]
        if answer is EmployerCheck.NOT_PERMITTED:
            return [FieldViolation(field, "your role cannot name employer-service organisations: give a name instead")]
        return []

    # -- building parties ------------------------------------------------------------------------------

    def person(
        self, state: str, person: PersonInput | None, path: str, violations: list[FieldViolation]
    ) -> UnregisteredPerson:
        if person is None:
            return UnregisteredPerson()
        if len(person.name.strip()) > MAX_NAME_LENGTH:
            violations.append(FieldViolation(f"{path}.name", f"must be at most {MAX_NAME_LENGTH} characters"))
        if not 0 <= person.age <= 120:
            violations.append(FieldViolation(f"{path}.age", "must be between 0 (unknown) and 120"))
        gender = person.gender.strip().lower()
        if gender and gender not in GENDERS:
            violations.append(FieldViolation(f"{path}.gender", f"must be one of {', '.join(sorted(GENDERS))}"))
        p = self._protection
        return UnregisteredPerson(
            name=p.seal(state, sealed_fields.SUBJECT_NAME, person.name),
            age=p.seal(state, sealed_fields.SUBJECT_AGE, str(person.age)) if person.age else None,
            gender=p.seal(state, sealed_fields.SUBJECT_GENDER, gender),
            phone=p.phone(state, sealed_fields.SUBJECT_PHONE, person.phone, f"{path}.phone", violations),
        )

    def subject(
        self,
        state: str,
        subject: SubjectInput,
        caller: Caller,
        forwarded: Forwarded | None,
        violations: list[FieldViolation],
        *,
        path: str = "subject",
    ) -> Subject:
        if subject.worker_id:
            if subject.person is not None:
                violations.append(FieldViolation(path, "a registry worker or a person, not both"))
            if len(subject.worker_id) > 64:
                violations.append(FieldViolation(subject.worker_field, "must be an id of at most 64 characters"))
            elif forwarded is None:
                violations.append(FieldViolation(subject.worker_field, "cannot name a registry worker here"))
            else:
                return self.registered_worker(subject.worker_id, subject.worker_field, caller, forwarded, violations)
            return RegisteredWorker(subject.worker_id)
        return self.person(state, subject.person, f"{path}.person", violations)

    def respondent(
        self,
        state: str,
        respondent: RespondentInput | None,
        caller: Caller,
        forwarded: Forwarded | None,
        violations: list[FieldViolation],
        *,
        path: str = "respondent",
    ) -> Respondent | None:
        if respondent is None:
            return None
        if respondent.employer_id:
            if len(respondent.employer_id) > 64:
                violations.append(FieldViolation(respondent.employer_field, "must be an id of at most 64 characters"))
            elif forwarded is None:
                violations.append(
                    FieldViolation(respondent.employer_field, "cannot name an employer-service organisation here")
                )
            else:
                violations.extend(
                    self.check_employer(respondent.employer_id, respondent.employer_field, caller, forwarded)
                )
            return RegisteredEmployer(respondent.employer_id)
        if respondent.kind is None and not respondent.name.strip() and respondent.place is None:
            return None
        if len(respondent.name.strip()) > MAX_NAME_LENGTH:
            violations.append(FieldViolation(f"{path}.name", f"must be at most {MAX_NAME_LENGTH} characters"))
        return UnregisteredRespondent(
            kind=respondent.kind or RespondentKind.UNREGISTERED_EMPLOYER,
            name=self._protection.seal(state, sealed_fields.RESPONDENT_NAME, respondent.name),
            place=respondent.place,
        )

    def reporter(
        self, state: str, reporter: ReporterInput | None, violations: list[FieldViolation], *, path: str = "reporter"
    ) -> Reporter | None:
        if reporter is None:
            return None
        if reporter.relation is None:
            violations.append(FieldViolation(f"{path}.relation", "must be set"))
        confidentiality = reporter.confidentiality or Confidentiality.ANONYMOUS
        if len(reporter.name.strip()) > MAX_NAME_LENGTH:
            violations.append(FieldViolation(f"{path}.name", f"must be at most {MAX_NAME_LENGTH} characters"))
        if confidentiality is Confidentiality.ANONYMOUS:
            if reporter.name.strip() or reporter.phone.strip():
                violations.append(
                    FieldViolation(f"{path}.confidentiality", "an anonymous reporter leaves no name or phone")
                )
            return Reporter(reporter.relation or ReporterRelation.THIRD_PARTY, confidentiality)
        return Reporter(
            reporter.relation or ReporterRelation.THIRD_PARTY,
            confidentiality,
            name=self._protection.seal(state, sealed_fields.REPORTER_NAME, reporter.name),
            phone=self._protection.phone(
                state, sealed_fields.REPORTER_PHONE, reporter.phone, f"{path}.phone", violations
            ),
        )
