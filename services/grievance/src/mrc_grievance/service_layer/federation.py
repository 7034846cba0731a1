"""Cases other states forward about this state's workers (cross-state federation), shown read-only.

A case filed in another state about a worker whose record there is a copy of this state's record reaches
this state (`adapters/federation.py`). Here it is shown to this state's partners who reach the worker for
grievance follow-up (the registry decides, over gRPC on the caller's behalf: the family's CSO, the
registering partner), marked with the state that handles it. Nothing here changes it: the handling state
does. A worker the caller does not reach answers like a missing one, and every read is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_grievance.domain.vocabulary import CaseStatus, Category, Severity
from mrc_grievance.service_layer.ports import AccessRecorder, Forwarded, WorkerCheck, WorkerDirectory
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.errors import InvalidArgument, NotFound
from mrc_kernel.roles import Scope

FORWARDED_RESOURCE = "forwarded_grievance"
READ_FIELDS = ("category", "status", "account")
PURPOSE = "grievance_follow_up"


@dataclass(frozen=True)
class ForwardedCase:
    """A case another state handles about a worker of this state: what it forwards, read-only here."""

    grievance_id: str
    handling_state_code: str
    to_state_code: str
    worker_id: str
    category: Category
    severity: Severity
    status: CaseStatus
    escalation_level: int
    state_code: str
    district_code: str
    filing_partner_id: str
    # The complainant's account, sealed under the federation's key (opened only for a reader).
    account_token: str
    version: int
    occurred_at: datetime | None


@dataclass(frozen=True)
class ForwardedCaseView:
    case: ForwardedCase
    account: str


class ForwardedCases(Protocol):
    def about_worker(self, worker_id: str) -> list[ForwardedCase]: ...


class ForwardedCaseReads:
    def __init__(
        self,
        cases: ForwardedCases,
        workers: WorkerDirectory,
        audit: AccessRecorder,
        open_account: Callable[[str, str], str],
        *,
        own_state_code: str = "",
    ) -> None:
        self._cases = cases
        self._workers = workers
        self._audit = audit
        self._open_account = open_account
        self._own_state_code = own_state_code

    def about_worker(self, worker_id: str, caller: Caller, forwarded: Forwarded) -> list[ForwardedCaseView]:
        caller.require(Scope.GRIEVANCES_READ)
        if check_purpose(caller.purpose, PURPOSE) != PURPOSE:
            raise InvalidArgument.for_field("purpose", f"this operation is for {PURPOSE}")
        if not worker_id or len(worker_id) > 64:
            raise NotFound("no such worker")
        if self._workers.check_worker(worker_id, caller, forwarded).check is not WorkerCheck.FOUND:
            raise NotFound("no such worker")
        found = self._cases.about_worker(worker_id)
        self._audit.record(
            caller, Action.READ, FORWARDED_RESOURCE, worker_id, READ_FIELDS, state_code=self._own_state_code
        )
        return [ForwardedCaseView(c, self._open_account(c.grievance_id, c.account_token)) for c in found]
