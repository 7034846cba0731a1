"""Use cases on filed cases: read, the work queue, triage, assignment, referral, escalation, resolution,
notes and the timeline, on behalf of an authenticated caller, over REST and gRPC alike.

Every one asks the access policy (`mrc_kernel.policy.decide`) with the case described by
`domain.access.protected_case`: a case outside the caller's partner, geography or purpose answers exactly
like a missing one ("no such grievance", never echoing the id), and a refused attempt on a real case is
audited as denied. Reads are audited before they are answered (and fail closed); each write stores its
audit event with the case, in the same write. A retried change (same Idempotency-Key) is answered with the
case as it stands, not applied twice.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mrc_grievance.domain.access import CASE_RESOURCE, protected_case, sees_confidential
from mrc_grievance.domain.case import KEEP_RESPONDENT, Case, KeepRespondent, Referral
from mrc_grievance.domain.parties import Actor, RegisteredWorker, Respondent
from mrc_grievance.domain.reports import canonical_reference, is_well_formed_reference
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.domain.vocabulary import (
    CaseStatus,
    Category,
    EscalationLevel,
    NoteAudience,
    Outcome,
    ReferralTarget,
    Severity,
)
from mrc_grievance.service_layer import protection as sealed_fields
from mrc_grievance.service_layer.parties import Parties, RespondentInput
from mrc_grievance.service_layer.ports import AccessRecorder, CaseRepository, Forwarded, QueueFilter, References
from mrc_grievance.service_layer.protection import Protection
from mrc_grievance.service_layer.views import CaseView, NoteView, TimelineView, case_view, shown_fields
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.idempotency import IdDeriver, request_fingerprint, scoped_key
from mrc_kernel.policy import Decision, decide
from mrc_kernel.roles import Role, Scope

DEFAULT_PURPOSE = "grievance_follow_up"
MAX_PAGE_SIZE = 200
MAX_ID_LENGTH = 64
NOT_FOUND = "no such grievance"


def authorize(caller: Caller, scope: Scope) -> Caller:
    """Scope and purpose, checked before anything is looked up; the caller with its purpose settled."""
    # Employers never see or touch complaints, whatever scopes a token might carry one day.
    if Role.EMPLOYER in caller.roles:
        raise PermissionDenied("employers have no access to grievances")
    caller.require(scope)
    return dataclasses.replace(caller, purpose=check_purpose(caller.purpose, DEFAULT_PURPOSE))


def actor_of(caller: Caller) -> Actor:
    return Actor(caller.client_id, caller.partner_id)


def require_supervisor(caller: Caller, what: str) -> None:
    if Role.SUPERVISOR not in caller.roles:
        raise PermissionDenied(f"only a supervisor {what}")


class CaseAccess:
    """Loads a case for a caller through the access policy, auditing refused attempts on real cases."""

    def __init__(self, cases: CaseRepository, audit: AccessRecorder) -> None:
        self._cases = cases
        self._audit = audit

    def load(self, grievance_id: str, caller: Caller) -> tuple[Case, Decision]:
        case = self._cases.get(grievance_id) if grievance_id and len(grievance_id) <= MAX_ID_LENGTH else None
        if case is None:
            raise NotFound(NOT_FOUND)
        decision = decide(caller, protected_case(case), caller.purpose)
        if not decision:
            # Worth an auditor's attention; the answer is "not found" whatever the trail says.
            with contextlib.suppress(Exception):
                self._audit.record(
                    caller, Action.READ, CASE_RESOURCE, case.grievance_id, allowed=False, state_code=_state(case)
                )
            raise NotFound(NOT_FOUND)
        return case, decision


def _state(case: Case) -> str:
    return case.location.state_code


@dataclass(frozen=True)
class QueueQuery:
    statuses: frozenset[CaseStatus] = frozenset()
    assignee_id: str = ""
    district_code: str = ""
    categories: frozenset[Category] = frozenset()
    min_escalation_level: EscalationLevel = EscalationLevel.CASEWORKER
    page_size: int = 50
    page_token: str = ""


@dataclass(frozen=True)
class Changed:
    view: CaseView
    replayed: bool  # a retry of a change already applied: nothing was changed now


def encode_cursor(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode().rstrip("=") if after else ""


def decode_cursor(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument.for_field("page_token", "is not a token this service issued") from exc


class CaseService:
    def __init__(
        self,
        cases: CaseRepository,
        audit: AccessRecorder,
        protection: Protection,
        parties: Parties,
        ids: IdDeriver,
        *,
        references: References | None = None,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._cases = cases
        self._references = references
        self._audit = audit
        self._protection = protection
        self._parties = parties
        self._ids = ids
        self._clock = clock
        self._new_id = new_id
        self.access = CaseAccess(cases, audit)

    def _view(self, case: Case, caller: Caller) -> CaseView:
        return case_view(
            self._protection, case, confidential=sees_confidential(case, caller.partner_id, caller.client_id)
        )

    # -- reads -----------------------------------------------------------------------------------------

    def get(self, grievance_id: str, caller: Caller) -> CaseView:
        caller = authorize(caller, Scope.GRIEVANCES_READ)
        case, _ = self.access.load(grievance_id, caller)
        view = self._view(case, caller)
        # Fails closed: if the read cannot be recorded, it is not served.
        self._audit.record(
            caller, Action.READ, CASE_RESOURCE, case.grievance_id, shown_fields(view), state_code=_state(case)
        )
        return view

    def by_reference(self, reference: str, caller: Caller) -> CaseView:
        """The case a reference names (as quoted on the phone: any case, spaces, hyphens, I/L for 1, O for 0),
        through the same policy and audit as `get`: a reference out of the caller's reach answers exactly like
        an unknown one (a refused attempt on a real case is audited as denied)."""
        caller = authorize(caller, Scope.GRIEVANCES_READ)
        if not is_well_formed_reference(reference):
            raise InvalidArgument.for_field("reference", "is not a case reference (GR-XXXXX-XXXXX)")
        canonical = canonical_reference(reference)
        grievance_id = self._references.case_of(canonical) if self._references is not None else None
        # Cases filed before every filing claimed its reference are found on the cases themselves.
        grievance_id = grievance_id or self._cases.with_reference(canonical)
        if not grievance_id:
            raise NotFound(NOT_FOUND)
        return self.get(grievance_id, caller)

    def queue(self, query: QueueQuery, caller: Caller) -> tuple[list[CaseView], str]:
        caller = authorize(caller, Scope.GRIEVANCES_READ)
        if not 1 <= query.page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument.for_field("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
        if not caller.partner_id:
            return [], ""
        where = QueueFilter(
            partner_id=caller.partner_id,
            states=caller.states,
            districts=caller.districts,
            statuses=frozenset(s.value for s in query.statuses),
            assignee_id=query.assignee_id,
            district_code=query.district_code,
            categories=frozenset(c.value for c in query.categories),
            min_escalation_level=int(query.min_escalation_level),
        )
        page = self._cases.queue(where, after=decode_cursor(query.page_token), limit=query.page_size)
        views = [
            self._view(case, caller) for case in page.cases if decide(caller, protected_case(case), caller.purpose)
        ]
        # One record per page (per state on it: an auditor reads their own state's trail), naming every case
        # shown, before the page is served (fails closed).
        by_state: dict[str, list[CaseView]] = {}
        for view in views:
            by_state.setdefault(_state(view.case), []).append(view)
        for state, shown in by_state.items():
            self._audit.record_listing(
                caller,
                Action.SEARCH,
                CASE_RESOURCE,
                [view.case.grievance_id for view in shown],
                sorted({name for view in shown for name in shown_fields(view)}),
                state_code=state,
            )
        return views, encode_cursor(page.next_after)

    def timeline(self, grievance_id: str, caller: Caller) -> list[TimelineView]:
        caller = authorize(caller, Scope.GRIEVANCES_READ)
        case, _ = self.access.load(grievance_id, caller)
        confidential = sees_confidential(case, caller.partner_id, caller.client_id)
        entries = [
            TimelineView(
                entry,
                self._protection.open(sealed_fields.REASON, entry.reason) if confidential else "",
            )
            for entry in case.timeline
        ]
        shown = ["timeline", *(["timeline.reason"] if confidential else [])]
        self._audit.record(caller, Action.READ, CASE_RESOURCE, case.grievance_id, shown, state_code=_state(case))
        return entries

    def notes(self, grievance_id: str, caller: Caller) -> list[NoteView]:
        caller = authorize(caller, Scope.GRIEVANCES_READ)
        case, _ = self.access.load(grievance_id, caller)
        self._require_confidential(case, caller)
        views = [NoteView(note, self._protection.open(sealed_fields.NOTE, note.text)) for note in case.notes]
        self._audit.record(caller, Action.READ, CASE_RESOURCE, case.grievance_id, ["notes"], state_code=_state(case))
        return views

    def _require_confidential(self, case: Case, caller: Caller) -> None:
        if not sees_confidential(case, caller.partner_id, caller.client_id):
            with contextlib.suppress(Exception):
                self._audit.record(
                    caller,
                    Action.READ,
                    CASE_RESOURCE,
                    case.grievance_id,
                    ["notes"],
                    allowed=False,
                    state_code=_state(case),
                )
            raise PermissionDenied(
                "notes are read by the filing partner, the assigned caseworker and the partner it is referred to"
            )

    # -- changes ---------------------------------------------------------------------------------------

    def _change(
        self,
        grievance_id: str,
        caller: Caller,
        idempotency_key: str,
        request: Mapping[str, Any],
        apply: Callable[[Case, Actor, datetime], None],
        changed_fields: list[str],
        *,
        expected_version: int = 0,
        check: Callable[[Case, Caller], None] | None = None,
    ) -> Changed:
        caller = authorize(caller, Scope.GRIEVANCES_WRITE)
        case, _ = self.access.load(grievance_id, caller)
        key = scoped_key(caller.partner_id, idempotency_key) if idempotency_key else ""
        fingerprint = request_fingerprint({"grievance_id": grievance_id, **request})
        if case.handled(key, fingerprint):
            return Changed(self._view(case, caller), replayed=True)
        if check is not None:
            check(case, caller)
        case.require_version(expected_version)
        loaded = case.version
        apply(case, actor_of(caller), self._clock())
        case.remember_request(key, fingerprint)
        audit = self._audit.event(
            caller, Action.UPDATE, CASE_RESOURCE, case.grievance_id, changed_fields, state_code=_state(case)
        )
        self._cases.save(case, loaded_version=loaded, also_publish=[audit])
        return Changed(self._view(case, caller), replayed=False)

    def triage(
        self,
        grievance_id: str,
        facts: TriageFacts,
        caller: Caller,
        *,
        category: Category | None = None,
        respondent: RespondentInput | None = None,
        worker_id: str = "",
        forwarded: Forwarded | None = None,
        expected_version: int = 0,
        idempotency_key: str = "",
    ) -> Changed:
        """`worker_id` links a case that names no registry worker (its link ended when the worker's consent
        was withdrawn, or it was filed about a person) to one, asking the registry as a filing does: the
        worker exists, the caller may see them, and a consent covers grievance follow-up for its partner."""
        corrected: list[Respondent | KeepRespondent | None] = [KEEP_RESPONDENT]
        linked: list[RegisteredWorker | None] = [None]

        def check(case: Case, who: Caller) -> None:
            violations: list[FieldViolation] = []
            if respondent is not None:
                require_supervisor(who, "corrects who a case is against")
                corrected[0] = self._parties.respondent(
                    case.location.state_code, respondent, who, forwarded, violations
                )
            if worker_id and worker_id != case.worker_id:
                if case.worker_id:
                    violations.append(FieldViolation("worker_id", "the case already names another registry worker"))
                elif forwarded is None:
                    violations.append(FieldViolation("worker_id", "cannot name a registry worker here"))
                else:
                    linked[0] = self._parties.registered_worker(worker_id, "worker_id", who, forwarded, violations)
            if violations:
                raise InvalidArgument(violations)

        request = {
            "op": "triage",
            "facts": facts,
            "category": category,
            "respondent": respondent,
            **({"worker_id": worker_id} if worker_id else {}),
        }
        return self._change(
            grievance_id,
            caller,
            idempotency_key,
            request,
            lambda case, by, now: case.triage(
                facts, by, now, category=category, respondent=corrected[0], worker=linked[0]
            ),
            [
                "triage",
                "severity",
                *(["respondent"] if respondent is not None else []),
                *(["subject.worker_id"] if worker_id else []),
            ],
            expected_version=expected_version,
            check=check,
        )

    def override_severity(
        self,
        grievance_id: str,
        severity: Severity | None,
        reason: str,
        caller: Caller,
        *,
        expected_version: int = 0,
        idempotency_key: str = "",
    ) -> Changed:
        if severity is None:
            raise InvalidArgument.for_field("severity", "must be set")

        def apply(case: Case, by: Actor, now: datetime) -> None:
            case.override_severity(severity, self._reason(case, reason), by, now)

        return self._change(
            grievance_id,
            caller,
            idempotency_key,
            {"op": "override", "severity": severity, "reason": reason},
            apply,
            ["severity", "triage.override_reason"],
            expected_version=expected_version,
            check=lambda case, who: require_supervisor(who, "overrides the severity"),
        )

    def _reason(self, case: Case, reason: str) -> Any:
        if len(reason.strip()) > 1000:
            raise InvalidArgument.for_field("reason", "must be at most 1000 characters")
        return self._protection.seal(case.location.state_code, sealed_fields.REASON, reason)

    def assign(
        self,
        grievance_id: str,
        assignee_id: str,
        assignee_partner_id: str,
        caller: Caller,
        *,
        expected_version: int = 0,
        idempotency_key: str = "",
    ) -> Changed:
        partner = assignee_partner_id or caller.partner_id
        return self._change(
            grievance_id,
            caller,
            idempotency_key,
            {"op": "assign", "assignee_id": assignee_id, "assignee_partner_id": partner},
            lambda case, by, now: case.assign(assignee_id, partner, by, now),
            ["assignment"],
            expected_version=expected_version,
        )

    def start_work(self, grievance_id: str, caller: Caller, *, expected_version: int = 0, key: str = "") -> Changed:
        return self._change(
            grievance_id,
            caller,
            key,
            {"op": "start"},
            lambda c, by, now: c.start_work(by, now),
            ["status"],
            expected_version=expected_version,
        )

    def await_complainant(
        self, grievance_id: str, caller: Caller, *, expected_version: int = 0, key: str = ""
    ) -> Changed:
        return self._change(
            grievance_id,
            caller,
            key,
            {"op": "await"},
            lambda c, by, now: c.await_complainant(by, now),
            ["status", "sla"],
            expected_version=expected_version,
        )

    def resume_work(self, grievance_id: str, caller: Caller, *, expected_version: int = 0, key: str = "") -> Changed:
        return self._change(
            grievance_id,
            caller,
            key,
            {"op": "resume"},
            lambda c, by, now: c.resume_work(by, now),
            ["status", "sla"],
            expected_version=expected_version,
        )

    def refer(
        self,
        grievance_id: str,
        target: ReferralTarget | None,
        target_partner_id: str,
        caller: Caller,
        *,
        expected_version: int = 0,
        idempotency_key: str = "",
    ) -> Changed:
        if target is None:
            raise InvalidArgument.for_field("target", "must be set")
        referral_id = self._derived("referral", caller, idempotency_key)
        return self._change(
            grievance_id,
            caller,
            idempotency_key,
            {"op": "refer", "target": target, "target_partner_id": target_partner_id},
            lambda case, by, now: _ignore(case.refer(referral_id, target, target_partner_id, by, now)),
            ["referrals"],
            expected_version=expected_version,
        )

    def answer_referral(
        self,
        grievance_id: str,
        referral_id: str,
        accept: bool,
        caller: Caller,
        *,
        reason: str = "",
        idempotency_key: str = "",
    ) -> Changed:
        def check(case: Case, who: Caller) -> None:
            referral = next((r for r in case.referrals if r.referral_id == referral_id), None)
            if referral is None:
                raise NotFound("no such referral on this grievance")
            if referral.target_partner_id != who.partner_id:
                raise PermissionDenied("only the partner a case is referred to answers the referral")

        def apply(case: Case, by: Actor, now: datetime) -> None:
            case.answer_referral(referral_id, accept=accept, by=by, now=now, reason=self._reason(case, reason))

        return self._change(
            grievance_id,
            caller,
            idempotency_key,
            {"op": "answer", "referral_id": referral_id, "accept": accept, "reason": reason},
            apply,
            ["referrals"],
            check=check,
        )

    def escalate(
        self, grievance_id: str, reason: str, caller: Caller, *, expected_version: int = 0, idempotency_key: str = ""
    ) -> Changed:
        def apply(case: Case, by: Actor, now: datetime) -> None:
            case.escalate(self._reason(case, reason), by, now)

        return self._change(
            grievance_id,
            caller,
            idempotency_key,
            {"op": "escalate", "reason": reason},
            apply,
            ["escalation_level"],
            expected_version=expected_version,
            check=lambda case, who: require_supervisor(who, "escalates a case by hand"),
        )

    def resolve(
        self,
        grievance_id: str,
        outcome: Outcome | None,
        substantiated: bool,
        amount_recovered_paise: int,
        caller: Caller,
        *,
        expected_version: int = 0,
        idempotency_key: str = "",
    ) -> Changed:
        return self._change(
            grievance_id,
            caller,
            idempotency_key,
            {"op": "resolve", "outcome": outcome, "substantiated": substantiated, "amount": amount_recovered_paise},
            lambda case, by, now: _ignore(
                case.resolve(
                    outcome, substantiated=substantiated, amount_recovered_paise=amount_recovered_paise, by=by, now=now
                )
            ),
            ["resolution", "status"],
            expected_version=expected_version,
        )

    def reopen(
        self, grievance_id: str, reason: str, caller: Caller, *, expected_version: int = 0, idempotency_key: str = ""
    ) -> Changed:
        def apply(case: Case, by: Actor, now: datetime) -> None:
            case.reopen(self._reason(case, reason), by, now)

        return self._change(
            grievance_id,
            caller,
            idempotency_key,
            {"op": "reopen", "reason": reason},
            apply,
            ["status", "sla"],
            expected_version=expected_version,
        )

    def close(self, grievance_id: str, caller: Caller, *, expected_version: int = 0, key: str = "") -> Changed:
        return self._change(
            grievance_id,
            caller,
            key,
            {"op": "close"},
            lambda c, by, now: c.close(by, now),
            ["status"],
            expected_version=expected_version,
        )

    def add_note(
        self, grievance_id: str, text: str, audience: NoteAudience | None, caller: Caller, *, idempotency_key: str = ""
    ) -> NoteView:
        if len(text.strip()) > 8000 or not text.strip():
            raise InvalidArgument.for_field("text", "must be between 1 and 8000 characters")
        chosen = audience or NoteAudience.INTERNAL
        note_id = self._derived("note", caller, idempotency_key)

        def apply(case: Case, by: Actor, now: datetime) -> None:
            sealed = self._protection.seal(case.location.state_code, sealed_fields.NOTE, text)
            assert sealed is not None
            case.add_note(note_id, sealed, chosen, by, now)

        changed = self._change(
            grievance_id,
            caller,
            idempotency_key,
            {"op": "note", "text": text, "audience": chosen},
            apply,
            ["notes"],
            check=lambda case, who: self._require_confidential(case, who),
        )
        note = next(n for n in changed.view.case.notes if n.note_id == note_id)
        return NoteView(note, self._protection.open(sealed_fields.NOTE, note.text))

    def _derived(self, kind: str, caller: Caller, idempotency_key: str) -> str:
        if idempotency_key:
            return self._ids.derive(kind, scoped_key(caller.partner_id, idempotency_key))
        return self._new_id()

    def referral(self, case: Case, referral_id: str) -> Referral | None:
        return next((r for r in case.referrals if r.referral_id == referral_id), None)


def _ignore(_: object) -> None:
    """Domain methods that return what they made; the use case answers with the whole case."""
