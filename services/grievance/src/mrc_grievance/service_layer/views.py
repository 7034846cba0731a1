"""Cases and traces as shown to one caller: what the policy lets it see, with the sealed values it may read
opened. Entrypoints map these to JSON and protobuf; nothing else is decrypted."""

from __future__ import annotations

from dataclasses import dataclass

from mrc_grievance.domain.case import Case, Note, TimelineEntry
from mrc_grievance.domain.parties import UnregisteredPerson, UnregisteredRespondent
from mrc_grievance.domain.reports import ReporterView
from mrc_grievance.domain.trace import Trace
from mrc_grievance.domain.vocabulary import Confidentiality
from mrc_grievance.service_layer import protection as fields
from mrc_grievance.service_layer.protection import Protection


@dataclass(frozen=True)
class PersonView:
    name: str = ""
    age: int = 0
    gender: str = ""
    phone: str = ""


@dataclass(frozen=True)
class CaseView:
    case: Case
    summary: str
    recording_ref: str
    person: PersonView | None  # the subject, when outside the registry
    respondent_name: str
    # The reporter's identity, when this caller may read it (always for an open reporter).
    reporter_name: str
    reporter_phone: str
    # This caller sees notes, typed reasons and a confidential reporter.
    confidential: bool
    override_reason: str = ""


@dataclass(frozen=True)
class NoteView:
    note: Note
    text: str


@dataclass(frozen=True)
class TimelineView:
    entry: TimelineEntry
    reason: str  # empty unless the caller may read typed reasons


@dataclass(frozen=True)
class ReportView:
    """What the reporter sees with the right code: `texts` are the messages' texts, in order."""

    view: ReporterView
    texts: tuple[str, ...]


@dataclass(frozen=True)
class ContactView:
    relation: str
    name: str
    phone: str


@dataclass(frozen=True)
class TraceView:
    trace: Trace
    person: PersonView | None
    respondent_name: str
    description: str
    contacts: tuple[ContactView, ...]  # empty unless the caller's partner opened the trace
    sighting_details: tuple[str, ...]


def person_view(protection: Protection, person: UnregisteredPerson) -> PersonView:
    age = protection.open(fields.SUBJECT_AGE, person.age)
    return PersonView(
        name=protection.open(fields.SUBJECT_NAME, person.name),
        age=int(age) if age.isdigit() else 0,
        gender=protection.open(fields.SUBJECT_GENDER, person.gender),
        phone=protection.open_phone(fields.SUBJECT_PHONE, person.phone),
    )


def respondent_name(protection: Protection, case_respondent: object) -> str:
    if isinstance(case_respondent, UnregisteredRespondent):
        return protection.open(fields.RESPONDENT_NAME, case_respondent.name)
    return ""


def case_view(protection: Protection, case: Case, *, confidential: bool) -> CaseView:
    reporter = case.reporter
    shows_reporter = reporter is not None and (confidential or reporter.confidentiality is Confidentiality.OPEN)
    override = case.current_triage.override if case.current_triage is not None else None
    return CaseView(
        case=case,
        summary=protection.open(fields.SUMMARY, case.summary),
        recording_ref=protection.open(fields.RECORDING_REF, case.recording_ref),
        person=person_view(protection, case.subject) if isinstance(case.subject, UnregisteredPerson) else None,
        respondent_name=respondent_name(protection, case.respondent),
        reporter_name=protection.open(fields.REPORTER_NAME, reporter.name) if shows_reporter and reporter else "",
        reporter_phone=(
            protection.open_phone(fields.REPORTER_PHONE, reporter.phone) if shows_reporter and reporter else ""
        ),
        confidential=confidential,
        override_reason=protection.open(fields.REASON, override.reason) if confidential and override else "",
    )


def shown_fields(view: CaseView) -> list[str]:
    """The names of what a view shows, for the audit trail (never the values)."""
    case = view.case
    shown = ["category", "severity", "status", "location", "sla", "timeline_summary", "respondent"]
    if view.summary:
        shown.append("summary")
    if view.recording_ref:
        shown.append("recording_ref")
    if case.worker_id:
        shown.append("worker_id")
    if view.person is not None:
        shown.append("subject.person")
    if view.reporter_name or view.reporter_phone:
        shown.append("reporter.identity")
    if view.override_reason:
        shown.append("triage.override_reason")
    return shown


def written_fields(case: Case) -> list[str]:
    """The names of what a new case holds, for the audit event of its filing (nothing is opened for it)."""
    shown = ["category", "severity", "status", "location", "sla", "timeline_summary", "respondent"]
    if case.summary is not None:
        shown.append("summary")
    if case.recording_ref is not None:
        shown.append("recording_ref")
    if case.worker_id:
        shown.append("worker_id")
    if isinstance(case.subject, UnregisteredPerson):
        shown.append("subject.person")
    if case.reporter is not None and case.reporter.identified:
        shown.append("reporter.identity")
    return shown
