"""Between the domain and mrc.grievance.v1: enum values by name, events, and what the gRPC API returns.

The domain and the contract use the same names (`tests/unit/grievance/domain/test_contract_alignment.py`),
so every enum maps mechanically: domain value `wage_theft` <-> `GRIEVANCE_CATEGORY_WAGE_THEFT`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf.duration_pb2 import Duration

from mrc.grievance.v1 import events_pb2, grievance_pb2, trace_pb2
from mrc.registry.v1 import worker_pb2
from mrc_grievance.domain.case import Case
from mrc_grievance.domain.consent import ConsentChange
from mrc_grievance.domain.events import (
    CaseEvent,
    CaseFacts,
    GrievanceAssigned,
    GrievanceEscalated,
    GrievanceFiled,
    GrievanceReferralAnswered,
    GrievanceReferred,
    GrievanceReopened,
    GrievanceResolved,
    GrievanceSlaWarned,
    GrievanceStatusChanged,
    GrievanceTriaged,
    GrievanceWorkerUnlinked,
    TraceClosed,
    TraceEvent,
    TraceFacts,
    TraceOpened,
    TraceSightingRecorded,
    TraceWorkerUnlinked,
)
from mrc_grievance.domain.parties import (
    RegisteredEmployer,
    RegisteredWorker,
    UnregisteredRespondent,
    respondent_kind,
)
from mrc_grievance.domain.reports import ReporterView
from mrc_grievance.domain.sla import ClockKind
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import (
    CaseStatus,
    Category,
    Confidentiality,
    EscalationLevel,
    IntakeChannel,
    NoteAudience,
    Outcome,
    ReferralTarget,
    ReporterRelation,
    RespondentKind,
    Severity,
    TraceStatus,
    UnlinkReason,
)
from mrc_grievance.service_layer.views import CaseView, NoteView, TimelineView, TraceView
from mrc_grievance.settings import EVENT_SOURCE, GRIEVANCES_TOPIC, TRACES_TOPIC
from mrc_kernel.events import Event
from mrc_kernel.place import Place
from mrc_kernel.policy import Grant, Purpose
from mrc_plumbing.protobuf import place_to_proto, timestamp

E = TypeVar("E", bound=enum.Enum)


def to_proto(value: enum.Enum | None, proto_enum: Any, prefix: str) -> Any:
    """`wage_theft` -> GRIEVANCE_CATEGORY_WAGE_THEFT; None -> UNSPECIFIED (0)."""
    if value is None:
        return 0
    return int(proto_enum.Value(f"{prefix}_{value.name}"))


def from_proto(number: int, proto_enum: Any, prefix: str, domain: type[E]) -> E | None:
    """The domain value of a protobuf enum number; None for UNSPECIFIED or a number this build does not know."""
    if not number:
        return None
    try:
        name = proto_enum.Name(number)
    except ValueError:
        return None
    member = name.removeprefix(f"{prefix}_")
    if member == "UNSAFE_WORK":
        return Category.WORKPLACE_ACCIDENT if domain is Category else None  # type: ignore[return-value]
    if member == "OPEN" and domain is CaseStatus:
        return CaseStatus.NEW  # type: ignore[return-value]
    return domain.__members__.get(member)


def category(value: Category | None) -> Any:
    return to_proto(value, grievance_pb2.GrievanceCategory, "GRIEVANCE_CATEGORY")


def category_of(number: int) -> Category | None:
    return from_proto(number, grievance_pb2.GrievanceCategory, "GRIEVANCE_CATEGORY", Category)


def channel(value: IntakeChannel | None) -> Any:
    return to_proto(value, grievance_pb2.IntakeChannel, "INTAKE_CHANNEL")


def channel_of(number: int) -> IntakeChannel | None:
    return from_proto(number, grievance_pb2.IntakeChannel, "INTAKE_CHANNEL", IntakeChannel)


def status(value: CaseStatus | None) -> Any:
    return to_proto(value, grievance_pb2.GrievanceStatus, "GRIEVANCE_STATUS")


def status_of(number: int) -> CaseStatus | None:
    return from_proto(number, grievance_pb2.GrievanceStatus, "GRIEVANCE_STATUS", CaseStatus)


def severity(value: Severity | None) -> Any:
    return to_proto(value, grievance_pb2.Severity, "SEVERITY")


def severity_of(number: int) -> Severity | None:
    return from_proto(number, grievance_pb2.Severity, "SEVERITY", Severity)


def kind(value: RespondentKind | None) -> Any:
    return to_proto(value, grievance_pb2.RespondentKind, "RESPONDENT_KIND")


def kind_of(number: int) -> RespondentKind | None:
    return from_proto(number, grievance_pb2.RespondentKind, "RESPONDENT_KIND", RespondentKind)


def level(value: EscalationLevel) -> Any:
    return int(grievance_pb2.EscalationLevel.Value(f"ESCALATION_LEVEL_{value.name}"))


def level_of(number: int) -> EscalationLevel:
    if not number:
        return EscalationLevel.CASEWORKER
    name: str = grievance_pb2.EscalationLevel.Name(number)  # type: ignore[arg-type]
    return EscalationLevel[name.removeprefix("ESCALATION_LEVEL_")]


def relation_of(number: int) -> ReporterRelation | None:
    return from_proto(number, grievance_pb2.ReporterRelation, "REPORTER_RELATION", ReporterRelation)


def confidentiality_of(number: int) -> Confidentiality | None:
    return from_proto(number, grievance_pb2.Confidentiality, "CONFIDENTIALITY", Confidentiality)


def outcome_of(number: int) -> Outcome | None:
    return from_proto(number, grievance_pb2.Outcome, "OUTCOME", Outcome)


def target_of(number: int) -> ReferralTarget | None:
    return from_proto(number, grievance_pb2.ReferralTarget, "REFERRAL_TARGET", ReferralTarget)


def audience_of(number: int) -> NoteAudience | None:
    return from_proto(number, grievance_pb2.NoteAudience, "NOTE_AUDIENCE", NoteAudience)


def trace_status(value: TraceStatus | None) -> Any:
    return to_proto(value, trace_pb2.TraceStatus, "TRACE_STATUS")


def trace_status_of(number: int) -> TraceStatus | None:
    return from_proto(number, trace_pb2.TraceStatus, "TRACE_STATUS", TraceStatus)


def _ts(value: datetime | None) -> Any:
    return timestamp(value) if value is not None else None


def facts_to_proto(facts: TriageFacts) -> grievance_pb2.TriageFacts:
    return grievance_pb2.TriageFacts(**facts.__dict__)


def facts_from_proto(message: grievance_pb2.TriageFacts) -> TriageFacts:
    return TriageFacts(
        held_against_will=message.held_against_will,
        child_involved=message.child_involved,
        injury=message.injury,
        death=message.death,
        violence=message.violence,
        threat_to_life=message.threat_to_life,
        documents_withheld=message.documents_withheld,
        without_food_or_shelter=message.without_food_or_shelter,
        urgent_medical_need=message.urgent_medical_need,
        workers_affected=message.workers_affected or 1,
        days_unpaid=message.days_unpaid,
        amount_owed_paise=message.amount_owed_paise,
    )


# --- events -----------------------------------------------------------------------------------------------


def _case_facts(facts: CaseFacts) -> dict[str, Any]:
    return {
        "grievance_id": facts.grievance_id,
        "category": category(facts.category),
        "severity": severity(facts.severity),
        "status": status(facts.status),
        "place": place_to_proto(facts.place, with_village=False),
        "employer_id": facts.employer_id,
        "respondent_kind": kind(facts.respondent_kind),
        "worker_id": facts.worker_id,
        "channel": channel(facts.channel),
        "escalation_level": level(facts.escalation_level),
        "version": facts.version,
        "occurred_at": timestamp(facts.occurred_at),
        "sla_next_deadline": _ts(facts.sla_next_deadline),
    }


def _clock(value: ClockKind | None) -> Any:
    return to_proto(value, grievance_pb2.SlaClock, "SLA_CLOCK")


def case_event_message(event: CaseEvent) -> Any:
    base = _case_facts(event.facts)
    match event:
        case GrievanceFiled():
            return events_pb2.GrievanceFiled(**base)
        case GrievanceTriaged():
            return events_pb2.GrievanceTriaged(
                **base,
                previous_severity=severity(event.previous_severity),
                overridden=event.overridden,
                previous_employer_id=event.previous_employer_id,
                previous_respondent_kind=kind(event.previous_respondent_kind),
            )
        case GrievanceAssigned():
            return events_pb2.GrievanceAssigned(
                **base, assignee_id=event.assignee_id, assignee_partner_id=event.assignee_partner_id
            )
        case GrievanceStatusChanged():
            return events_pb2.GrievanceStatusChanged(**base, previous_status=status(event.previous_status))
        case GrievanceReferred():
            return events_pb2.GrievanceReferred(
                **base,
                referral_id=event.referral_id,
                target=to_proto(event.target, grievance_pb2.ReferralTarget, "REFERRAL_TARGET"),
                target_partner_id=event.target_partner_id,
            )
        case GrievanceReferralAnswered():
            return events_pb2.GrievanceReferralAnswered(**base, referral_id=event.referral_id, accepted=event.accepted)
        case GrievanceSlaWarned():
            return events_pb2.GrievanceSlaWarned(
                **base,
                clock=_clock(event.clock),
                milestone=to_proto(event.milestone, grievance_pb2.SlaMilestone, "SLA_MILESTONE"),
                period=event.period,
                deadline=timestamp(event.deadline),
                breach_at=timestamp(event.breach_at),
                idempotency_key=event.idempotency_key,
            )
        case GrievanceEscalated():
            return events_pb2.GrievanceEscalated(
                **base,
                previous_level=level(event.previous_level),
                clock=_clock(event.clock),
                period=event.period,
                deadline=_ts(event.deadline),
                idempotency_key=event.idempotency_key,
            )
        case GrievanceResolved():
            return events_pb2.GrievanceResolved(
                **base,
                outcome=to_proto(event.outcome, grievance_pb2.Outcome, "OUTCOME"),
                substantiated=event.substantiated,
                amount_recovered_paise=event.amount_recovered_paise,
                filed_at=timestamp(event.filed_at),
            )
        case GrievanceReopened():
            return events_pb2.GrievanceReopened(**base, cycle=event.cycle)
        case GrievanceWorkerUnlinked():
            return events_pb2.GrievanceWorkerUnlinked(**base, reason=unlink_reason(event.reason))
    raise TypeError(f"not a case event: {event!r}")


def unlink_reason(value: UnlinkReason) -> Any:
    return to_proto(value, grievance_pb2.WorkerUnlinkReason, "WORKER_UNLINK_REASON")


def _codes(place: Place | None) -> Any:
    return place_to_proto(place, with_village=False) if place is not None else None


def _trace_facts(facts: TraceFacts) -> dict[str, Any]:
    return {
        "trace_id": facts.trace_id,
        "worker_id": facts.worker_id,
        "minor": facts.minor,
        "last_known_place": _codes(facts.last_known_place),
        "last_known_on": facts.last_known_on.isoformat(),
        "destination": _codes(facts.destination),
        "employer_id": facts.employer_id,
        "respondent_kind": kind(facts.respondent_kind),
        "grievance_id": facts.grievance_id,
        "migration_episode_id": facts.migration_episode_id,
        "status": trace_status(facts.status),
        "version": facts.version,
        "occurred_at": timestamp(facts.occurred_at),
    }


def trace_event_message(event: TraceEvent) -> Any:
    base = _trace_facts(event.facts)
    match event:
        case TraceOpened():
            return events_pb2.TraceOpened(**base)
        case TraceSightingRecorded():
            return events_pb2.TraceSightingRecorded(
                **base, sighting_id=event.sighting_id, seen_at=timestamp(event.seen_at), place=_codes(event.place)
            )
        case TraceClosed():
            return events_pb2.TraceClosed(
                **base, outcome=trace_status(event.outcome), previous_status=trace_status(event.previous_status)
            )
        case TraceWorkerUnlinked():
            return events_pb2.TraceWorkerUnlinked(**base, reason=unlink_reason(event.reason))
    raise TypeError(f"not a trace event: {event!r}")


def case_envelope(event: CaseEvent) -> Event:
    return Event.from_message(
        case_event_message(event), source=EVENT_SOURCE, subject=event.facts.grievance_id, topic=GRIEVANCES_TOPIC
    )


def trace_envelope(event: TraceEvent) -> Event:
    return Event.from_message(
        trace_event_message(event), source=EVENT_SOURCE, subject=event.facts.trace_id, topic=TRACES_TOPIC
    )


# --- what the gRPC API returns --------------------------------------------------------------------------------


def _respondent_proto(case_respondent: Any, name: str) -> grievance_pb2.Respondent | None:
    if case_respondent is None:
        return None
    if isinstance(case_respondent, RegisteredEmployer):
        return grievance_pb2.Respondent(employer_id=case_respondent.employer_id)
    assert isinstance(case_respondent, UnregisteredRespondent)
    return grievance_pb2.Respondent(
        unregistered=grievance_pb2.UnregisteredRespondent(
            kind=kind(case_respondent.kind),
            name=name,
            place=place_to_proto(case_respondent.place) if case_respondent.place is not None else None,
        )
    )


def grievance_to_proto(view: CaseView, now: datetime) -> grievance_pb2.Grievance:
    case: Case = view.case
    subject = (
        grievance_pb2.Subject(worker_id=case.subject.worker_id)
        if isinstance(case.subject, RegisteredWorker)
        else grievance_pb2.Subject(
            person=grievance_pb2.UnregisteredPerson(
                name=view.person.name, age=view.person.age, gender=view.person.gender, phone=view.person.phone
            )
            if view.person is not None
            else None
        )
    )
    reporter = case.reporter
    triage = case.current_triage
    message = grievance_pb2.Grievance(
        grievance_id=case.grievance_id,
        worker_id=case.worker_id,
        category=category(case.category),
        channel=channel(case.channel),
        summary=view.summary,
        location=place_to_proto(case.location),
        employer_id=case.employer_id,
        status=status(case.status),
        anonymous=reporter is not None and reporter.confidentiality is Confidentiality.ANONYMOUS,
        filed_at=timestamp(case.filed_at),
        reference=case.reference,
        severity=severity(case.severity),
        subject=subject,
        respondent=_respondent_proto(case.respondent, view.respondent_name),
        respondent_kind=kind(respondent_kind(case.respondent)),
        reporter=(
            grievance_pb2.Reporter(
                relation=to_proto(reporter.relation, grievance_pb2.ReporterRelation, "REPORTER_RELATION"),
                confidentiality=to_proto(reporter.confidentiality, grievance_pb2.Confidentiality, "CONFIDENTIALITY"),
                name=view.reporter_name,
                phone=view.reporter_phone,
            )
            if reporter is not None
            else None
        ),
        recording_ref=view.recording_ref,
        intake_facts=facts_to_proto(case.intake_facts),
        triage=(
            grievance_pb2.Triage(
                facts=facts_to_proto(triage.facts),
                assessed_severity=severity(triage.assessment.severity),
                matched_rules=list(triage.assessment.matched_rules),
                triaged_by=triage.by.id,
                triaged_at=timestamp(triage.at),
                override_severity=severity(triage.override.severity if triage.override else None),
                override_reason=view.override_reason,
                overridden_by=triage.override.by.id if triage.override else "",
                overridden_at=_ts(triage.override.at) if triage.override else None,
            )
            if triage is not None
            else None
        ),
        assignment=(
            grievance_pb2.Assignment(
                assignee_id=case.assignment.assignee_id,
                assignee_partner_id=case.assignment.assignee_partner_id,
                assigned_by=case.assignment.by.id,
                assigned_at=timestamp(case.assignment.at),
            )
            if case.assignment is not None
            else None
        ),
        escalation_level=level(case.escalation_level),
        referrals=[
            grievance_pb2.Referral(
                referral_id=r.referral_id,
                target=to_proto(r.target, grievance_pb2.ReferralTarget, "REFERRAL_TARGET"),
                target_partner_id=r.target_partner_id,
                status=to_proto(r.status, grievance_pb2.ReferralStatus, "REFERRAL_STATUS"),
                referred_by=r.by.id,
                referred_at=timestamp(r.at),
                answered_at=_ts(r.answered_at),
            )
            for r in case.referrals
        ],
        resolution=(
            grievance_pb2.Resolution(
                outcome=to_proto(case.resolution.outcome, grievance_pb2.Outcome, "OUTCOME"),
                substantiated=case.resolution.substantiated,
                amount_recovered_paise=case.resolution.amount_recovered_paise,
                resolved_by=case.resolution.by.id,
                resolved_at=timestamp(case.resolution.at),
                cycle=case.resolution.cycle,
            )
            if case.resolution is not None
            else None
        ),
        sla=sla_states(case, now),
        cycle=case.cycle,
        version=case.version,
        updated_at=_ts(case.updated_at),
        breaches=len(case.breaches),
    )
    return message


def sla_states(case: Case, now: datetime) -> list[grievance_pb2.SlaClockState]:
    sla = case.sla
    states = []
    for clock in ClockKind:
        met = sla.met.get(clock)
        breach_at = None
        left = None
        if sla.running(clock):
            pending = [m for m in _breaches(case, clock) if m.key(case.grievance_id, sla.cycle) not in sla.fired]
            if pending:
                offset = pending[0].offset
                left = offset - sla.active_elapsed(now)
                breach_at = None if sla.paused else sla.deadline_of(offset)
        duration = None
        if left is not None:
            duration = Duration()
            duration.FromTimedelta(left)
        states.append(
            grievance_pb2.SlaClockState(
                clock=_clock(clock),
                breach_at=_ts(breach_at),
                met_at=_ts(met),
                paused=sla.paused,
                time_to_breach=duration,
            )
        )
    return states


def _breaches(case: Case, clock: ClockKind) -> list[Any]:
    from mrc_grievance.domain.sla import MilestoneKind, milestones

    return [m for m in milestones(clock, case.sla.budget(clock)) if m.kind is MilestoneKind.BREACH]


def note_to_proto(view: NoteView) -> grievance_pb2.Note:
    note = view.note
    return grievance_pb2.Note(
        note_id=note.note_id,
        audience=to_proto(note.audience, grievance_pb2.NoteAudience, "NOTE_AUDIENCE"),
        text=view.text,
        author_id=note.author.id,
        author_partner_id=note.author.partner_id,
        written_at=timestamp(note.written_at),
    )


def timeline_to_proto(view: TimelineView) -> grievance_pb2.TimelineEntry:
    entry = view.entry
    return grievance_pb2.TimelineEntry(
        at=timestamp(entry.at),
        actor_id=entry.actor.id,
        actor_partner_id=entry.actor.partner_id,
        action=to_proto(entry.action, grievance_pb2.TimelineAction, "TIMELINE_ACTION"),
        summary=entry.summary,
        status=status(entry.status),
        version=entry.version,
        reason=view.reason,
    )


def reporter_view_to_proto(view: ReporterView, texts: tuple[str, ...]) -> grievance_pb2.ReporterView:
    return grievance_pb2.ReporterView(
        reference=view.reference,
        status=to_proto(view.status, grievance_pb2.ReporterStatus, "REPORTER_STATUS"),
        updated_at=timestamp(view.updated_at),
        messages=[
            grievance_pb2.ReporterMessage(at=timestamp(m.at), text=text, from_reporter=m.from_reporter)
            for m, text in zip(view.messages, texts, strict=True)
        ],
    )


def trace_to_proto(view: TraceView) -> trace_pb2.Trace:
    trace = view.trace
    missing = (
        grievance_pb2.Subject(worker_id=trace.missing.worker_id)
        if isinstance(trace.missing, RegisteredWorker)
        else grievance_pb2.Subject(
            person=grievance_pb2.UnregisteredPerson(
                name=view.person.name, age=view.person.age, gender=view.person.gender, phone=view.person.phone
            )
            if view.person is not None
            else None
        )
    )
    return trace_pb2.Trace(
        trace_id=trace.trace_id,
        missing=missing,
        minor=trace.minor,
        last_known_place=place_to_proto(trace.last_known_place),
        last_known_on=trace.last_known_on.isoformat(),
        destination=place_to_proto(trace.destination) if trace.destination is not None else None,
        respondent=_respondent_proto(trace.respondent, view.respondent_name),
        contacts=[
            trace_pb2.Contact(
                relation=grievance_pb2.ReporterRelation.Value(f"REPORTER_RELATION_{c.relation.upper()}"),
                name=c.name,
                phone=c.phone,
            )
            for c in view.contacts
        ],
        description=view.description,
        grievance_id=trace.grievance_id,
        migration_episode_id=trace.migration_episode_id,
        status=trace_status(trace.status),
        sightings=[
            trace_pb2.Sighting(
                sighting_id=s.sighting_id,
                seen_at=timestamp(s.seen_at),
                place=place_to_proto(s.place),
                details=details,
                reported_by=s.reported_by.id,
                recorded_at=timestamp(s.recorded_at),
            )
            for s, details in zip(trace.sightings, view.sighting_details, strict=True)
        ],
        opened_at=timestamp(trace.opened_at),
        version=trace.version,
        updated_at=_ts(trace.updated_at),
    )


# --- the registry's consent changes ----------------------------------------------------------------------


def consent_change_of(message: Any) -> ConsentChange | None:
    """A registry `ConsentChanged` as the grants still active after it (from its `facts`, the same grants the
    registry's access policy uses). Without facts only the purposes are known: no grievance follow-up left
    means no link stands; with it left, which partner it covers is unknown, so nothing is judged (None)."""
    known = {p.value for p in Purpose}
    if message.HasField("facts"):
        facts = message.facts
        grants = tuple(
            Grant(
                frozenset(Purpose(p) for p in grant.purposes if p in known),
                partner_id=grant.partner_id,
                partner_kind=grant.partner_kind,
            )
            for grant in facts.grants
        )
        return ConsentChange(message.worker_id, int(facts.version), grants, expired=bool(message.expired))
    if worker_pb2.CONSENT_PURPOSE_GRIEVANCE_FOLLOW_UP in message.active_purposes:
        return None
    return ConsentChange(message.worker_id, 0, (), expired=bool(message.expired))
