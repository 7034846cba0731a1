"""Cases and missing-person traces other states forward about this state's workers (cross-state federation),
shown read-only.

A case filed, or a trace opened, in another state about a worker whose record there is a copy of this state's
record reaches this state (`adapters/federation.py`). Here it is shown to this state's partners who reach the worker for
grievance follow-up (the registry decides, over gRPC on the caller's behalf: the family's CSO, the
registering partner), marked with the state that handles it. Nothing here changes it: the handling state
does. A worker the caller does not reach answers like a missing one, and every read is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_grievance.domain.vocabulary import CaseStatus, Category, Severity, TraceStatus
from mrc_grievance.service_layer.ports import AccessRecorder, Forwarded, WorkerCheck, WorkerDirectory
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.errors import InvalidArgument, NotFound
from mrc_kernel.place import Place
from mrc_kernel.roles import Scope

FORWARDED_RESOURCE = "forwarded_grievance"
FORWARDED_TRACE_RESOURCE = "forwarded_trace"
READ_FIELDS = ("category", "status", "account")
TRACE_READ_FIELDS = ("status", "places", "sightings", "description")
# Traces too: the registry has no tracing purpose, and a trace's link to a registered worker already lasts
# only while the worker's consent covers grievance follow-up (`Trace.unlink_worker`).
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


@dataclass(frozen=True)
class ForwardedTrace:
    """A missing-person trace another state handles about a worker of this state: what it forwards (places
    as LGD codes, the status, how many sightings and the latest one's time and place), read-only here."""

    trace_id: str
    handling_state_code: str
    to_state_code: str
    worker_id: str
    minor: bool
    status: TraceStatus
    last_known_place: Place
    last_known_on: str  # YYYY-MM-DD
    destination: Place | None
    employer_id: str
    grievance_id: str
    filing_partner_id: str
    # The description (appearance, clothes, languages), sealed under the federation's key.
    description_token: str
    sighting_count: int
    last_seen_at: datetime | None
    last_seen_place: Place | None
    version: int
    occurred_at: datetime | None


@dataclass(frozen=True)
class ForwardedTraceView:
    trace: ForwardedTrace
    description: str


class ForwardedTraces(Protocol):
    def about_worker(self, worker_id: str) -> list[ForwardedTrace]: ...


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
        admit(caller, worker_id, self._workers, forwarded)
        found = self._cases.about_worker(worker_id)
        self._audit.record(
            caller, Action.READ, FORWARDED_RESOURCE, worker_id, READ_FIELDS, state_code=self._own_state_code
        )
        return [ForwardedCaseView(c, self._open_account(c.grievance_id, c.account_token)) for c in found]


class ForwardedTraceReads:
    """The traces other states forward, under the same rule as their cases: partners who reach the worker
    here for grievance follow-up, every read audited."""

    def __init__(
        self,
        traces: ForwardedTraces,
        workers: WorkerDirectory,
        audit: AccessRecorder,
        open_description: Callable[[str, str], str],
        *,
        own_state_code: str = "",
    ) -> None:
        self._traces = traces
        self._workers = workers
        self._audit = audit
        self._open_description = open_description
        self._own_state_code = own_state_code

    def about_worker(self, worker_id: str, caller: Caller, forwarded: Forwarded) -> list[ForwardedTraceView]:
        admit(caller, worker_id, self._workers, forwarded)
        found = self._traces.about_worker(worker_id)
        self._audit.record(
            caller, Action.READ, FORWARDED_TRACE_RESOURCE, worker_id, TRACE_READ_FIELDS, state_code=self._own_state_code
        )
        return [ForwardedTraceView(t, self._open_description(t.trace_id, t.description_token)) for t in found]


def admit(caller: Caller, worker_id: str, workers: WorkerDirectory, forwarded: Forwarded) -> None:
    """What is forwarded about a worker is read by partners the registry lets reach the worker for grievance
    follow-up; anyone else hears of no such worker."""
    caller.require(Scope.GRIEVANCES_READ)
    if check_purpose(caller.purpose, PURPOSE) != PURPOSE:
        raise InvalidArgument.for_field("purpose", f"this operation is for {PURPOSE}")
    if not worker_id or len(worker_id) > 64:
        raise NotFound("no such worker")
    if workers.check_worker(worker_id, caller, forwarded).check is not WorkerCheck.FOUND:
        raise NotFound("no such worker")
