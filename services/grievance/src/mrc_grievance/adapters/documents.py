"""Cases and traces as stored documents, and back.

Sealed values are stored as their tokens (never plain text); dates as BSON dates; durations as seconds.
Besides the aggregate, a case document carries what the store filters and sorts the queue by:
`access_partner_ids` (partners the policy may admit), `open`, `assignee_id`, `queue_rank` (the next
breach's wall time while the clocks run; waiting on the complainant after every running case, by time
left; nothing left last) and, top level, `worker_id` and `employer_id` for the registry's erasures and
the employer's history. Documents written before the case state machine (`status: open`, no `version`)
read as new cases of their time (`legacy_case`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from mrc_grievance.domain.access import access_partner_ids
from mrc_grievance.domain.case import (
    Assignment,
    Case,
    Note,
    Referral,
    Resolution,
    TimelineAction,
    TimelineEntry,
)
from mrc_grievance.domain.consent import ConsentChange
from mrc_grievance.domain.parties import (
    Actor,
    RegisteredEmployer,
    RegisteredWorker,
    Reporter,
    Respondent,
    Subject,
    UnregisteredPerson,
    UnregisteredRespondent,
)
from mrc_grievance.domain.protected import Sealed, SealedPhone
from mrc_grievance.domain.sla import ClockKind, SlaClocks, SlaPolicy, policy_for
from mrc_grievance.domain.trace import Contact, Sighting, Trace, TraceEntry
from mrc_grievance.domain.triage import Assessment, SeverityOverride, Triage, TriageFacts, assess
from mrc_grievance.domain.vocabulary import (
    CaseStatus,
    Confidentiality,
    EscalationLevel,
    IntakeChannel,
    NoteAudience,
    Outcome,
    ReferralStatus,
    ReferralTarget,
    ReporterRelation,
    RespondentKind,
    Severity,
    TraceStatus,
    category_from_stored,
    status_from_stored,
)
from mrc_kernel.place import Place
from mrc_kernel.policy import Grant, Purpose

Doc = dict[str, Any]

# Queue ranks past every running clock: waiting on the complainant, then nothing left to breach.
PAUSED_RANK = 1e11
NO_BREACH_RANK = 1e12


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _utc(value: Any) -> datetime:
    result = utc(value)
    assert result is not None
    return result


# --- small parts --------------------------------------------------------------------------------------------


def place_doc(place: Place | None) -> Doc | None:
    if place is None:
        return None
    return {
        "state_code": place.state_code,
        "district_code": place.district_code,
        "subdistrict_code": place.subdistrict_code,
        "village_name": place.village_name,
    }


def place_of(doc: Doc | None) -> Place | None:
    if not doc:
        return None
    return Place(
        doc.get("state_code", ""),
        doc.get("district_code", ""),
        doc.get("subdistrict_code", ""),
        doc.get("village_name", ""),
    )


def _place(doc: Doc) -> Place:
    place = place_of(doc)
    assert place is not None
    return place


def sealed_doc(value: Sealed | None) -> str | None:
    return value.token if value is not None else None


def sealed_of(token: str | None) -> Sealed | None:
    return Sealed(token) if token else None


def phone_doc(phone: SealedPhone | None) -> Doc | None:
    if phone is None:
        return None
    return {"token": phone.sealed.token, "blind_index": phone.blind_index, "last4": phone.last4}


def phone_of(doc: Doc | None) -> SealedPhone | None:
    if not doc:
        return None
    return SealedPhone(Sealed(doc["token"]), doc.get("blind_index", ""), doc.get("last4", ""))


def actor_doc(actor: Actor | None) -> Doc | None:
    return {"id": actor.id, "partner_id": actor.partner_id} if actor is not None else None


def actor_of(doc: Doc | None) -> Actor:
    doc = doc or {}
    return Actor(doc.get("id", ""), doc.get("partner_id", ""))


def _maybe_actor(doc: Doc | None) -> Actor | None:
    return actor_of(doc) if doc else None


def subject_doc(subject: Subject) -> Doc:
    if isinstance(subject, RegisteredWorker):
        return {
            "kind": "worker",
            "worker_id": subject.worker_id,
            "consent_partner_id": subject.consent_partner_id,
            "consent_partner_kind": subject.consent_partner_kind,
            "registry_version": subject.registry_version,
        }
    return {
        "kind": "person",
        "name": sealed_doc(subject.name),
        "age": sealed_doc(subject.age),
        "gender": sealed_doc(subject.gender),
        "phone": phone_doc(subject.phone),
    }


def subject_of(doc: Doc | None) -> Subject:
    doc = doc or {}
    if doc.get("kind") == "worker":
        return RegisteredWorker(
            doc["worker_id"],
            doc.get("consent_partner_id", ""),
            doc.get("consent_partner_kind", ""),
            int(doc.get("registry_version", 0)),
        )
    return UnregisteredPerson(
        name=sealed_of(doc.get("name")),
        age=sealed_of(doc.get("age")),
        gender=sealed_of(doc.get("gender")),
        phone=phone_of(doc.get("phone")),
    )


def respondent_doc(respondent: Respondent | None) -> Doc | None:
    if respondent is None:
        return None
    if isinstance(respondent, RegisteredEmployer):
        return {"kind": RespondentKind.REGISTERED_EMPLOYER.value, "employer_id": respondent.employer_id}
    return {"kind": respondent.kind.value, "name": sealed_doc(respondent.name), "place": place_doc(respondent.place)}


def respondent_of(doc: Doc | None) -> Respondent | None:
    if not doc:
        return None
    if doc["kind"] == RespondentKind.REGISTERED_EMPLOYER.value:
        return RegisteredEmployer(doc["employer_id"])
    return UnregisteredRespondent(RespondentKind(doc["kind"]), sealed_of(doc.get("name")), place_of(doc.get("place")))


def reporter_doc(reporter: Reporter | None) -> Doc | None:
    if reporter is None:
        return None
    return {
        "relation": reporter.relation.value,
        "confidentiality": reporter.confidentiality.value,
        "name": sealed_doc(reporter.name),
        "phone": phone_doc(reporter.phone),
    }


def reporter_of(doc: Doc | None) -> Reporter | None:
    if not doc:
        return None
    return Reporter(
        ReporterRelation(doc["relation"]),
        Confidentiality(doc["confidentiality"]),
        sealed_of(doc.get("name")),
        phone_of(doc.get("phone")),
    )


def facts_doc(facts: TriageFacts) -> Doc:
    return dict(facts.__dict__)


def facts_of(doc: Doc | None) -> TriageFacts:
    return TriageFacts(**(doc or {}))


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


def sla_doc(sla: SlaClocks) -> Doc:
    return {
        "cycle": sla.cycle,
        "started_at": sla.started_at,
        "policy": {
            "acknowledge": _seconds(sla.policy.acknowledge),
            "act": _seconds(sla.policy.act),
            "resolve": _seconds(sla.policy.resolve),
        },
        "paused_total": _seconds(sla.paused_total),
        "paused_since": sla.paused_since,
        "stopped_at": sla.stopped_at,
        "met": {clock.value: at for clock, at in sla.met.items()},
        "fired": sorted(sla.fired),
        "scale": sla.scale,
    }


def sla_of(doc: Doc) -> SlaClocks:
    policy = doc["policy"]
    return SlaClocks(
        cycle=int(doc["cycle"]),
        started_at=_utc(doc["started_at"]),
        policy=SlaPolicy(
            timedelta(seconds=policy["acknowledge"]),
            timedelta(seconds=policy["act"]),
            timedelta(seconds=policy["resolve"]),
        ),
        paused_total=timedelta(seconds=doc.get("paused_total", 0)),
        paused_since=utc(doc.get("paused_since")),
        stopped_at=utc(doc.get("stopped_at")),
        met={ClockKind(k): _utc(v) for k, v in (doc.get("met") or {}).items()},
        fired=frozenset(doc.get("fired") or ()),
        scale=float(doc.get("scale", 1.0)),
    )


def triage_doc(triage: Triage | None) -> Doc | None:
    if triage is None:
        return None
    override = triage.override
    return {
        "facts": facts_doc(triage.facts),
        "severity": triage.assessment.severity.value,
        "matched_rules": list(triage.assessment.matched_rules),
        "by": actor_doc(triage.by),
        "at": triage.at,
        "override": (
            {
                "severity": override.severity.value,
                "reason": override.reason.token,
                "by": actor_doc(override.by),
                "at": override.at,
            }
            if override is not None
            else None
        ),
    }


def triage_of(doc: Doc | None) -> Triage | None:
    if not doc:
        return None
    override = doc.get("override")
    return Triage(
        facts=facts_of(doc.get("facts")),
        assessment=Assessment(Severity(doc["severity"]), tuple(doc.get("matched_rules") or ())),
        by=actor_of(doc.get("by")),
        at=_utc(doc["at"]),
        override=(
            SeverityOverride(
                Severity(override["severity"]),
                Sealed(override["reason"]),
                actor_of(override.get("by")),
                _utc(override["at"]),
            )
            if override
            else None
        ),
    )


def _resolution_doc(resolution: Resolution) -> Doc:
    return {
        "outcome": resolution.outcome.value,
        "substantiated": resolution.substantiated,
        "amount_recovered_paise": resolution.amount_recovered_paise,
        "by": actor_doc(resolution.by),
        "at": resolution.at,
        "cycle": resolution.cycle,
    }


def _resolution_of(doc: Doc) -> Resolution:
    return Resolution(
        Outcome(doc["outcome"]),
        bool(doc["substantiated"]),
        int(doc.get("amount_recovered_paise", 0)),
        actor_of(doc.get("by")),
        _utc(doc["at"]),
        int(doc.get("cycle", 1)),
    )


def consent_doc(change: ConsentChange | None) -> Doc | None:
    if change is None:
        return None
    return {
        "worker_id": change.worker_id,
        "registry_version": change.registry_version,
        "expired": change.expired,
        "grants": [
            {"partner_id": g.partner_id, "partner_kind": g.partner_kind, "purposes": sorted(g.purposes)}
            for g in change.grants
        ],
    }


def consent_of(doc: Doc | None) -> ConsentChange | None:
    if not doc:
        return None
    known = {p.value for p in Purpose}
    return ConsentChange(
        worker_id=doc.get("worker_id", ""),
        registry_version=int(doc.get("registry_version", 0)),
        grants=tuple(
            Grant(
                frozenset(Purpose(p) for p in g.get("purposes") or () if p in known),
                partner_id=g.get("partner_id", ""),
                partner_kind=g.get("partner_kind", ""),
            )
            for g in doc.get("grants") or ()
        ),
        expired=bool(doc.get("expired")),
    )


# --- cases --------------------------------------------------------------------------------------------------


def queue_rank(case: Case) -> float:
    if not case.status.is_open:
        return NO_BREACH_RANK
    left = case.sla.time_to_breach(case.grievance_id, case.updated_at or case.filed_at)
    if left is None:
        return NO_BREACH_RANK
    if case.sla.paused:
        return PAUSED_RANK + left.total_seconds()
    due = case.sla.breach_due_at(case.grievance_id)
    return due.timestamp() if due is not None else NO_BREACH_RANK


def case_state(case: Case) -> Doc:
    """Every field of the case, and what the store filters and sorts by."""
    return {
        "reference": case.reference,
        "category": case.category.value,
        "channel": case.channel.value,
        "subject": subject_doc(case.subject),
        "respondent": respondent_doc(case.respondent),
        "reporter": reporter_doc(case.reporter),
        "summary": sealed_doc(case.summary),
        "recording_ref": sealed_doc(case.recording_ref),
        "location": place_doc(case.location),
        "intake_facts": facts_doc(case.intake_facts),
        "filed_by": actor_doc(case.filed_by),
        "filed_at": case.filed_at,
        "status": case.status.value,
        "severity": case.severity.value,
        "sla": sla_doc(case.sla),
        "follow_up_code_hash": case.follow_up_code_hash,
        "triage": triage_doc(case.current_triage),
        "assignment": (
            {
                "assignee_id": case.assignment.assignee_id,
                "assignee_partner_id": case.assignment.assignee_partner_id,
                "by": actor_doc(case.assignment.by),
                "at": case.assignment.at,
            }
            if case.assignment is not None
            else None
        ),
        "escalation_level": int(case.escalation_level),
        "referrals": [
            {
                "referral_id": r.referral_id,
                "target": r.target.value,
                "target_partner_id": r.target_partner_id,
                "status": r.status.value,
                "by": actor_doc(r.by),
                "at": r.at,
                "answered_by": actor_doc(r.answered_by),
                "answered_at": r.answered_at,
            }
            for r in case.referrals
        ],
        "resolution": _resolution_doc(case.resolution) if case.resolution is not None else None,
        "past_resolutions": [_resolution_doc(r) for r in case.past_resolutions],
        "notes": [
            {
                "note_id": n.note_id,
                "audience": n.audience.value,
                "text": n.text.token,
                "author": actor_doc(n.author),
                "written_at": n.written_at,
            }
            for n in case.notes
        ],
        "timeline": [
            {
                "at": e.at,
                "actor": actor_doc(e.actor),
                "action": e.action.value,
                "summary": e.summary,
                "status": e.status.value,
                "version": e.version,
                "reason": sealed_doc(e.reason),
            }
            for e in case.timeline
        ],
        "breaches": list(case.breaches),
        "version": case.version,
        "updated_at": case.updated_at,
        "handled_requests": [[key, fingerprint] for key, fingerprint in case.handled_requests.items()],
        # For the store's filters and sorting (derived, rewritten with every save).
        "worker_id": case.worker_id,
        "employer_id": case.employer_id,
        "open": case.status.is_open,
        "assignee_id": case.assignment.assignee_id if case.assignment is not None else "",
        "access_partner_ids": access_partner_ids(case),
        "queue_rank": queue_rank(case),
        "resolved_at": case.resolution.at if case.resolution is not None else None,
    }


def case_of(doc: Doc) -> Case:
    if "version" not in doc:
        return legacy_case(doc)
    assignment = doc.get("assignment")
    return Case(
        grievance_id=doc["_id"],
        reference=doc["reference"],
        category=category_from_stored(doc["category"]),
        channel=IntakeChannel(doc["channel"]),
        subject=subject_of(doc.get("subject")),
        respondent=respondent_of(doc.get("respondent")),
        reporter=reporter_of(doc.get("reporter")),
        summary=sealed_of(doc.get("summary")),
        recording_ref=sealed_of(doc.get("recording_ref")),
        location=_place(doc["location"]),
        intake_facts=facts_of(doc.get("intake_facts")),
        filed_by=actor_of(doc.get("filed_by")),
        filed_at=_utc(doc["filed_at"]),
        status=status_from_stored(doc["status"]),
        severity=Severity(doc["severity"]),
        sla=sla_of(doc["sla"]),
        follow_up_code_hash=doc.get("follow_up_code_hash", ""),
        current_triage=triage_of(doc.get("triage")),
        assignment=(
            Assignment(
                assignment["assignee_id"],
                assignment["assignee_partner_id"],
                actor_of(assignment.get("by")),
                _utc(assignment["at"]),
            )
            if assignment
            else None
        ),
        escalation_level=EscalationLevel(int(doc.get("escalation_level", 0))),
        referrals=[
            Referral(
                r["referral_id"],
                ReferralTarget(r["target"]),
                r["target_partner_id"],
                ReferralStatus(r["status"]),
                actor_of(r.get("by")),
                _utc(r["at"]),
                _maybe_actor(r.get("answered_by")),
                utc(r.get("answered_at")),
            )
            for r in doc.get("referrals") or []
        ],
        resolution=_resolution_of(doc["resolution"]) if doc.get("resolution") else None,
        past_resolutions=[_resolution_of(r) for r in doc.get("past_resolutions") or []],
        notes=[
            Note(
                n["note_id"],
                NoteAudience(n["audience"]),
                Sealed(n["text"]),
                actor_of(n.get("author")),
                _utc(n["written_at"]),
            )
            for n in doc.get("notes") or []
        ],
        timeline=[
            TimelineEntry(
                _utc(e["at"]),
                actor_of(e.get("actor")),
                TimelineAction(e["action"]),
                e.get("summary", ""),
                CaseStatus(e["status"]),
                int(e["version"]),
                sealed_of(e.get("reason")),
            )
            for e in doc.get("timeline") or []
        ],
        breaches=list(doc.get("breaches") or []),
        version=int(doc["version"]),
        updated_at=utc(doc.get("updated_at")),
        handled_requests={key: fingerprint for key, fingerprint in doc.get("handled_requests") or []},
    )


def legacy_case(doc: Doc) -> Case:
    """A grievance stored before the case state machine: filed, never triaged, clocks from its filing."""
    category = category_from_stored(doc["category"])
    filed_at = _utc(doc["filed_at"])
    severity = assess(category, TriageFacts()).severity
    worker_id = doc.get("worker_id", "")
    employer_id = doc.get("employer_id", "")
    anonymous = bool(doc.get("anonymous"))
    partner = doc.get("filed_by_partner_id", "")
    return Case(
        grievance_id=doc["_id"],
        reference=doc.get("reference") or f"LEGACY-{doc['_id']}",
        category=category,
        channel=IntakeChannel(doc.get("channel", IntakeChannel.PARTNER_API.value)),
        subject=RegisteredWorker(worker_id) if worker_id else UnregisteredPerson(),
        respondent=RegisteredEmployer(employer_id) if employer_id else None,
        reporter=Reporter(ReporterRelation.SELF, Confidentiality.ANONYMOUS) if anonymous else None,
        summary=sealed_of(doc.get("summary")),
        recording_ref=None,
        location=_place(doc["location"]),
        intake_facts=TriageFacts(),
        filed_by=Actor("", partner),
        filed_at=filed_at,
        status=status_from_stored(doc.get("status", "open")),
        severity=severity,
        sla=SlaClocks.start(policy_for(category, severity), filed_at),
        version=1,
        updated_at=filed_at,
    )


# --- traces -------------------------------------------------------------------------------------------------


def trace_state(trace: Trace) -> Doc:
    return {
        "missing": subject_doc(trace.missing),
        "minor": trace.minor,
        "last_known_place": place_doc(trace.last_known_place),
        "last_known_on": trace.last_known_on.isoformat(),
        "destination": place_doc(trace.destination),
        "respondent": respondent_doc(trace.respondent),
        "contacts": [
            {"relation": c.relation.value, "name": sealed_doc(c.name), "phone": phone_doc(c.phone)}
            for c in trace.contacts
        ],
        "description": sealed_doc(trace.description),
        "grievance_id": trace.grievance_id,
        "migration_episode_id": trace.migration_episode_id,
        "opened_by": actor_doc(trace.opened_by),
        "opened_at": trace.opened_at,
        "status": trace.status.value,
        "sightings": [
            {
                "sighting_id": s.sighting_id,
                "seen_at": s.seen_at,
                "place": place_doc(s.place),
                "details": sealed_doc(s.details),
                "reported_by": actor_doc(s.reported_by),
                "recorded_at": s.recorded_at,
            }
            for s in trace.sightings
        ],
        "timeline": [
            {
                "at": e.at,
                "actor": actor_doc(e.actor),
                "summary": e.summary,
                "status": e.status.value,
                "version": e.version,
            }
            for e in trace.timeline
        ],
        "version": trace.version,
        "updated_at": trace.updated_at,
        "worker_id": trace.worker_id,
    }


def trace_of(doc: Doc) -> Trace:
    return Trace(
        trace_id=doc["_id"],
        missing=subject_of(doc.get("missing")),
        minor=bool(doc.get("minor")),
        last_known_place=_place(doc["last_known_place"]),
        last_known_on=date.fromisoformat(doc["last_known_on"]),
        destination=place_of(doc.get("destination")),
        respondent=respondent_of(doc.get("respondent")),
        contacts=tuple(
            Contact(ReporterRelation(c["relation"]), sealed_of(c.get("name")), phone_of(c.get("phone")))
            for c in doc.get("contacts") or []
        ),
        description=sealed_of(doc.get("description")),
        grievance_id=doc.get("grievance_id", ""),
        migration_episode_id=doc.get("migration_episode_id", ""),
        opened_by=actor_of(doc.get("opened_by")),
        opened_at=_utc(doc["opened_at"]),
        status=TraceStatus(doc["status"]),
        sightings=[
            Sighting(
                s["sighting_id"],
                _utc(s["seen_at"]),
                _place(s["place"]),
                sealed_of(s.get("details")),
                actor_of(s.get("reported_by")),
                _utc(s["recorded_at"]),
            )
            for s in doc.get("sightings") or []
        ],
        timeline=[
            TraceEntry(
                _utc(e["at"]),
                actor_of(e.get("actor")),
                e.get("summary", ""),
                TraceStatus(e["status"]),
                int(e["version"]),
            )
            for e in doc.get("timeline") or []
        ],
        version=int(doc.get("version", 1)),
        updated_at=utc(doc.get("updated_at")),
    )
