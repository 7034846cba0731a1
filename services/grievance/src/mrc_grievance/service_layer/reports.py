"""The reporter's side of a report: with the case reference and the follow-up code, the status in plain words
and the messages addressed to them, nothing else; and a message back.

A wrong code and an unknown reference answer the same (404, after the same scrypt work), so neither a
reference nor a code can be confirmed by trying. Reads are audited (the reporter's client, the case), and
refused attempts on a real report too.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import datetime

from mrc_grievance.domain.access import REPORT_RESOURCE
from mrc_grievance.domain.case import Case
from mrc_grievance.domain.reports import (
    canonical_reference,
    is_well_formed_reference,
    reporter_view,
    verify_follow_up_code,
)
from mrc_grievance.service_layer import protection as sealed_fields
from mrc_grievance.service_layer.intake import authorize_purpose
from mrc_grievance.service_layer.ports import AccessRecorder, CaseRepository, References
from mrc_grievance.service_layer.protection import Protection
from mrc_grievance.service_layer.views import ReportView
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.idempotency import IdDeriver, scoped_key
from mrc_kernel.roles import Role, Scope

NOT_FOUND = "no such report, or the follow-up code does not match"
MAX_MESSAGE_LENGTH = 4000
SAVE_ATTEMPTS = 3


class ReportService:
    def __init__(
        self,
        cases: CaseRepository,
        references: References,
        audit: AccessRecorder,
        protection: Protection,
        ids: IdDeriver,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._cases = cases
        self._references = references
        self._audit = audit
        self._protection = protection
        self._ids = ids
        self._clock = clock
        self._new_id = new_id

    def _authorize(self, caller: Caller) -> Caller:
        if Role.EMPLOYER in caller.roles:
            raise PermissionDenied("employers have no access to grievances")
        if Role.PUBLIC not in caller.roles and not caller.has(Scope.GRIEVANCES_READ):
            raise PermissionDenied("reports are followed up through a public or a case-handling client")
        return authorize_purpose(caller)

    def _open(self, reference: str, code: str, caller: Caller) -> Case:
        case: Case | None = None
        if is_well_formed_reference(reference):
            grievance_id = self._references.case_of(canonical_reference(reference))
            case = self._cases.get(grievance_id) if grievance_id else None
        stored = case.follow_up_code_hash if case is not None else None
        if not verify_follow_up_code(code, stored or None) or case is None:
            if case is not None:
                with contextlib.suppress(Exception):
                    self._audit.record(
                        caller,
                        Action.READ,
                        REPORT_RESOURCE,
                        case.grievance_id,
                        allowed=False,
                        state_code=case.location.state_code,
                    )
            raise NotFound(NOT_FOUND)
        return case

    def _view(self, case: Case) -> ReportView:
        view = reporter_view(case)
        return ReportView(view, tuple(self._protection.open(sealed_fields.NOTE, m.text) for m in view.messages))

    def get(self, reference: str, code: str, caller: Caller) -> ReportView:
        caller = self._authorize(caller)
        case = self._open(reference, code, caller)
        self._audit.record(
            caller,
            Action.READ,
            REPORT_RESOURCE,
            case.grievance_id,
            ["status", "messages"],
            state_code=case.location.state_code,
        )
        return self._view(case)

    def send_message(
        self, reference: str, code: str, text: str, caller: Caller, *, idempotency_key: str = ""
    ) -> ReportView:
        caller = self._authorize(caller)
        if not text.strip() or len(text.strip()) > MAX_MESSAGE_LENGTH:
            raise InvalidArgument.for_field("text", f"must be between 1 and {MAX_MESSAGE_LENGTH} characters")
        note_id = (
            self._ids.derive("report-message", scoped_key(reference, idempotency_key))
            if idempotency_key
            else self._new_id()
        )
        for _ in range(SAVE_ATTEMPTS):
            case = self._open(reference, code, caller)
            if any(n.note_id == note_id for n in case.notes):
                return self._view(case)
            loaded = case.version
            sealed = self._protection.seal(case.location.state_code, sealed_fields.NOTE, text)
            assert sealed is not None
            case.add_reporter_message(note_id, sealed, self._clock())
            audit = self._audit.event(
                caller,
                Action.UPDATE,
                REPORT_RESOURCE,
                case.grievance_id,
                ["messages"],
                state_code=case.location.state_code,
            )
            try:
                self._cases.save(case, loaded_version=loaded, also_publish=[audit])
            except Conflict:
                continue  # the case changed meanwhile (a caseworker's change): the message goes on top of it
            return self._view(case)
        raise Conflict("the case is busy; send the message again")
