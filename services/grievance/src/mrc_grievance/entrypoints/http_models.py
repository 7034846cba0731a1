"""REST request bodies and the JSON shape of cases, notes, timelines, reports and traces."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from mrc_grievance.domain.case import Case
from mrc_grievance.domain.parties import RegisteredEmployer, RegisteredWorker, UnregisteredRespondent, respondent_kind
from mrc_grievance.domain.sla import ClockKind, MilestoneKind, milestones
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import (
    Category,
    Confidentiality,
    IntakeChannel,
    NoteAudience,
    Outcome,
    ReferralTarget,
    ReporterRelation,
    RespondentKind,
    Severity,
    TraceStatus,
)
from mrc_grievance.service_layer.parties import PersonInput, ReporterInput, RespondentInput, SubjectInput
from mrc_grievance.service_layer.traces import ContactInput
from mrc_grievance.service_layer.views import CaseView, NoteView, PersonView, ReportView, TimelineView, TraceView
from mrc_kernel.place import Place
from mrc_plumbing.http_models import PlaceBody, StrictModel

ID = Field(default="", max_length=64)


class PersonBody(StrictModel):
    name: str = Field(default="", max_length=200)
    age: int = Field(default=0, ge=0, le=120, description="In years, as told; 0 when unknown")
    gender: str = Field(default="", max_length=20, description="female, male, transgender or undisclosed")
    phone: str = Field(default="", max_length=20)

    def input(self) -> PersonInput:
        return PersonInput(self.name, self.age, self.gender, self.phone)


class SubjectBody(StrictModel):
    worker_id: str = ID
    person: PersonBody | None = None


class UnregisteredRespondentBody(StrictModel):
    kind: RespondentKind = RespondentKind.UNREGISTERED_EMPLOYER
    name: str = Field(default="", max_length=200)
    place: PlaceBody | None = None


class RespondentBody(StrictModel):
    employer_id: str = ID
    unregistered: UnregisteredRespondentBody | None = None

    def input(self) -> RespondentInput:
        if self.unregistered is not None and not self.employer_id:
            u = self.unregistered
            return RespondentInput(kind=u.kind, name=u.name, place=u.place.place() if u.place else None)
        return RespondentInput(employer_id=self.employer_id)


class ReporterBody(StrictModel):
    relation: ReporterRelation
    confidentiality: Confidentiality = Confidentiality.ANONYMOUS
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=20)

    def input(self) -> ReporterInput:
        return ReporterInput(self.relation, self.confidentiality, self.name, self.phone)


class FactsBody(StrictModel):
    held_against_will: bool = False
    child_involved: bool = False
    injury: bool = False
    death: bool = False
    violence: bool = False
    threat_to_life: bool = False
    documents_withheld: bool = False
    without_food_or_shelter: bool = False
    urgent_medical_need: bool = False
    workers_affected: int = Field(default=1, ge=1, le=100_000)
    days_unpaid: int = Field(default=0, ge=0, le=100_000)
    amount_owed_paise: int = Field(default=0, ge=0, le=10**12)

    def facts(self) -> TriageFacts:
        return TriageFacts(**self.model_dump())


class CaseBody(StrictModel):
    """What a case says when filed; shared by partner filings and public reports."""

    summary: str = Field(min_length=1, max_length=4000, description="What happened, in any script")
    location: PlaceBody
    subject: SubjectBody | None = None
    respondent: RespondentBody | None = None
    reporter: ReporterBody | None = None
    facts: FactsBody | None = None

    def subject_input(self, legacy_worker_id: str = "") -> SubjectInput:
        if self.subject is not None and (self.subject.worker_id or self.subject.person is not None):
            person = self.subject.person.input() if self.subject.person is not None else None
            return SubjectInput(worker_id=self.subject.worker_id, person=person)
        if legacy_worker_id:
            return SubjectInput(worker_id=legacy_worker_id, worker_field="worker_id")
        return SubjectInput()

    def triage_facts(self) -> TriageFacts:
        return self.facts.facts() if self.facts is not None else TriageFacts()


class FileGrievanceBody(CaseBody):
    category: Category | None = None
    channel: IntakeChannel
    recording_ref: str = Field(default="", max_length=500)
    worker_id: str = Field(default="", max_length=64, description="Deprecated: use subject.worker_id")
    employer_id: str = Field(default="", max_length=64, description="Deprecated: use respondent.employer_id")
    anonymous: bool = Field(default=False, description="Deprecated: use reporter.confidentiality")

    def respondent_input(self) -> RespondentInput | None:
        if self.respondent is not None:
            return self.respondent.input()
        if self.employer_id:
            return RespondentInput(employer_id=self.employer_id, employer_field="employer_id")
        return None

    def reporter_input(self) -> ReporterInput | None:
        if self.reporter is not None:
            return self.reporter.input()
        if self.anonymous:
            return ReporterInput(ReporterRelation.SELF, Confidentiality.ANONYMOUS)
        return None


class FileReportBody(CaseBody):
    category: Category | None = Field(default=None, description="Leave out when unsure: triage sets it")


class TriageBody(StrictModel):
    facts: FactsBody = Field(default_factory=FactsBody)
    category: Category | None = None
    respondent: RespondentBody | None = Field(default=None, description="A supervisor's correction")
    worker_id: str = Field(
        default="",
        max_length=64,
        description="Links a case naming no registry worker to this one (checked with the registry like a filing)",
    )
    expected_version: int = Field(default=0, ge=0)


class OverrideBody(StrictModel):
    severity: Severity
    reason: str = Field(min_length=1, max_length=1000)
    expected_version: int = Field(default=0, ge=0)


class AssignBody(StrictModel):
    assignee_id: str = Field(min_length=1, max_length=64)
    assignee_partner_id: str = Field(default="", max_length=64, description="Default: the caller's partner")
    expected_version: int = Field(default=0, ge=0)


class VersionBody(StrictModel):
    expected_version: int = Field(default=0, ge=0)


class ReferBody(StrictModel):
    target: ReferralTarget
    target_partner_id: str = Field(min_length=1, max_length=64)
    expected_version: int = Field(default=0, ge=0)


class AnswerBody(StrictModel):
    reason: str = Field(default="", max_length=1000)


class ReasonBody(StrictModel):
    reason: str = Field(min_length=1, max_length=1000)
    expected_version: int = Field(default=0, ge=0)


class ResolveBody(StrictModel):
    outcome: Outcome
    substantiated: bool = False
    amount_recovered_paise: int = Field(default=0, ge=0, le=10**12)
    expected_version: int = Field(default=0, ge=0)


class NoteBody(StrictModel):
    text: str = Field(min_length=1, max_length=8000)
    audience: NoteAudience = NoteAudience.INTERNAL


class ReportMessageBody(StrictModel):
    text: str = Field(min_length=1, max_length=4000)


class ContactBody(StrictModel):
    relation: ReporterRelation = ReporterRelation.FAMILY
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=20)

    def input(self) -> ContactInput:
        return ContactInput(self.relation, self.name, self.phone)


class OpenTraceBody(StrictModel):
    missing: SubjectBody
    minor: bool = False
    last_known_place: PlaceBody
    last_known_on: date
    destination: PlaceBody | None = None
    respondent: RespondentBody | None = None
    contacts: list[ContactBody] = Field(default_factory=list, max_length=10)
    description: str = Field(default="", max_length=4000)
    grievance_id: str = ID
    migration_episode_id: str = ID


class SightingBody(StrictModel):
    seen_at: datetime
    place: PlaceBody
    details: str = Field(default="", max_length=4000)


class CloseTraceBody(StrictModel):
    outcome: TraceStatus
    expected_version: int = Field(default=0, ge=0)


# --- what is returned --------------------------------------------------------------------------------------


def _place(place: Place | None) -> dict[str, str] | None:
    return dict(place.__dict__) if place is not None else None


def _person(person: PersonView | None) -> dict[str, Any] | None:
    return dict(person.__dict__) if person is not None else None


def _respondent(case_respondent: Any, name: str) -> dict[str, Any] | None:
    if case_respondent is None:
        return None
    if isinstance(case_respondent, RegisteredEmployer):
        return {"employer_id": case_respondent.employer_id}
    assert isinstance(case_respondent, UnregisteredRespondent)
    return {"unregistered": {"kind": case_respondent.kind.value, "name": name, "place": _place(case_respondent.place)}}


def sla_json(case: Case, now: datetime) -> list[dict[str, Any]]:
    sla = case.sla
    clocks = []
    for clock in ClockKind:
        pending = [
            m
            for m in milestones(clock, sla.budget(clock))
            if m.kind is MilestoneKind.BREACH and m.key(case.grievance_id, sla.cycle) not in sla.fired
        ]
        running = sla.running(clock) and bool(pending)
        left = pending[0].offset - sla.active_elapsed(now) if running else None
        clocks.append(
            {
                "clock": clock.value,
                "met_at": sla.met.get(clock),
                "paused": sla.paused,
                "breach_at": sla.deadline_of(pending[0].offset) if running and not sla.paused else None,
                "seconds_to_breach": round(left.total_seconds(), 1) if left is not None else None,
            }
        )
    return clocks


def case_json(view: CaseView, now: datetime) -> dict[str, Any]:
    case = view.case
    reporter = case.reporter
    triage = case.current_triage
    return {
        "grievance_id": case.grievance_id,
        "reference": case.reference,
        "category": case.category.value,
        "channel": case.channel.value,
        "status": case.status.value,
        "severity": case.severity.value,
        "summary": view.summary,
        "recording_ref": view.recording_ref,
        "location": _place(case.location),
        "worker_id": case.worker_id,
        "employer_id": case.employer_id,
        "anonymous": reporter is not None and reporter.confidentiality is Confidentiality.ANONYMOUS,
        "subject": (
            {"worker_id": case.subject.worker_id}
            if isinstance(case.subject, RegisteredWorker)
            else {"person": _person(view.person)}
        ),
        "respondent": _respondent(case.respondent, view.respondent_name),
        "respondent_kind": respondent_kind(case.respondent).value,
        "reporter": (
            {
                "relation": reporter.relation.value,
                "confidentiality": reporter.confidentiality.value,
                "name": view.reporter_name,
                "phone": view.reporter_phone,
            }
            if reporter is not None
            else None
        ),
        "intake_facts": dict(case.intake_facts.__dict__),
        "triage": (
            {
                "facts": dict(triage.facts.__dict__),
                "assessed_severity": triage.assessment.severity.value,
                "matched_rules": list(triage.assessment.matched_rules),
                "triaged_by": triage.by.id,
                "triaged_at": triage.at,
                "override": (
                    {
                        "severity": triage.override.severity.value,
                        "reason": view.override_reason,
                        "by": triage.override.by.id,
                        "at": triage.override.at,
                    }
                    if triage.override is not None
                    else None
                ),
            }
            if triage is not None
            else None
        ),
        "assignment": (
            {
                "assignee_id": case.assignment.assignee_id,
                "assignee_partner_id": case.assignment.assignee_partner_id,
                "assigned_by": case.assignment.by.id,
                "assigned_at": case.assignment.at,
            }
            if case.assignment is not None
            else None
        ),
        "escalation_level": case.escalation_level.label,
        "referrals": [
            {
                "referral_id": r.referral_id,
                "target": r.target.value,
                "target_partner_id": r.target_partner_id,
                "status": r.status.value,
                "referred_at": r.at,
                "answered_at": r.answered_at,
            }
            for r in case.referrals
        ],
        "resolution": (
            {
                "outcome": case.resolution.outcome.value,
                "substantiated": case.resolution.substantiated,
                "amount_recovered_paise": case.resolution.amount_recovered_paise,
                "resolved_at": case.resolution.at,
                "cycle": case.resolution.cycle,
            }
            if case.resolution is not None
            else None
        ),
        "sla": sla_json(case, now),
        "breaches": len(case.breaches),
        "cycle": case.cycle,
        "version": case.version,
        "filed_at": case.filed_at,
        "updated_at": case.updated_at,
    }


def note_json(view: NoteView) -> dict[str, Any]:
    note = view.note
    return {
        "note_id": note.note_id,
        "audience": note.audience.value,
        "text": view.text,
        "author_id": note.author.id,
        "author_partner_id": note.author.partner_id,
        "written_at": note.written_at,
    }


def timeline_json(view: TimelineView) -> dict[str, Any]:
    entry = view.entry
    return {
        "at": entry.at,
        "actor_id": entry.actor.id,
        "actor_partner_id": entry.actor.partner_id,
        "action": entry.action.value,
        "summary": entry.summary,
        "status": entry.status.value,
        "version": entry.version,
        "reason": view.reason,
    }


def report_json(view: ReportView) -> dict[str, Any]:
    report = view.view
    return {
        "reference": report.reference,
        "status": report.status.value,
        "updated_at": report.updated_at,
        "messages": [
            {"at": m.at, "text": text, "from_reporter": m.from_reporter}
            for m, text in zip(report.messages, view.texts, strict=True)
        ],
    }


def trace_json(view: TraceView) -> dict[str, Any]:
    trace = view.trace
    return {
        "trace_id": trace.trace_id,
        "missing": (
            {"worker_id": trace.missing.worker_id}
            if isinstance(trace.missing, RegisteredWorker)
            else {"person": _person(view.person)}
        ),
        "minor": trace.minor,
        "last_known_place": _place(trace.last_known_place),
        "last_known_on": trace.last_known_on.isoformat(),
        "destination": _place(trace.destination),
        "respondent": _respondent(trace.respondent, view.respondent_name),
        "contacts": [dict(c.__dict__) for c in view.contacts],
        "description": view.description,
        "grievance_id": trace.grievance_id,
        "migration_episode_id": trace.migration_episode_id,
        "status": trace.status.value,
        "sightings": [
            {
                "sighting_id": s.sighting_id,
                "seen_at": s.seen_at,
                "place": _place(s.place),
                "details": details,
                "recorded_at": s.recorded_at,
            }
            for s, details in zip(trace.sightings, view.sighting_details, strict=True)
        ],
        "opened_at": trace.opened_at,
        "version": trace.version,
        "updated_at": trace.updated_at,
    }
