"""Use cases on a worker's eligibility: read the determinations, record declared facts, list refusals.

Reads need the purpose `entitlement_linkage` (the default) and are audited before they are served (if
the audit trail cannot take the record, the read fails). Declared facts are facts the registry never
holds (income, EPFO membership...), recorded by a caseworker as the worker declared them: who declared
what and when is kept with the record, the values never travel in events, and the worker is assessed
again at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from mrc_entitlements.domain.access import ELIGIBILITY, REFUSAL_PURPOSES
from mrc_entitlements.domain.applications import Actor
from mrc_entitlements.domain.refusals import RefusalOfEligible, refusals_of_eligible
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_entitlements.service_layer.access import RecordAccess, with_purpose
from mrc_entitlements.service_layer.catalogue import PublishedRules
from mrc_entitlements.service_layer.ports import ApplicationRepository, AuditRecorder, WorkerRecordRepository
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict, InvalidArgument
from mrc_kernel.roles import Scope

# The personal fields a read returns (names for the audit trail, never values).
READ_FIELDS = ("schemes", "eligible_scheme_codes")
MAX_DECLARED_FACTS = 20
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Refusals:
    worker_id: str
    refusals: list[RefusalOfEligible]


class EligibilityService:
    def __init__(
        self,
        records: WorkerRecordRepository,
        applications: ApplicationRepository,
        rules: PublishedRules,
        audit: AuditRecorder,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._records = records
        self._applications = applications
        self._rules = rules
        self._audit = audit
        self._access = RecordAccess(records, audit)
        self._clock = clock

    def get(self, worker_id: str, caller: Caller) -> WorkerRecord:
        caller.require(Scope.ELIGIBILITY_READ)
        caller = with_purpose(caller)
        record = self._access.load(worker_id, caller)
        self._audit.record(caller, Action.READ, ELIGIBILITY, worker_id, READ_FIELDS, state_code=record.state_code)
        return record

    def declare_facts(self, worker_id: str, facts: Mapping[str, object], caller: Caller) -> WorkerRecord:
        """Record declared facts and assess the worker again; the same facts declared again change nothing."""
        caller.require(Scope.ELIGIBILITY_READ)
        caller.require(Scope.ELIGIBILITY_WRITE)
        caller = with_purpose(caller)
        if not facts:
            raise InvalidArgument.for_field("facts", "declare at least one fact")
        if len(facts) > MAX_DECLARED_FACTS:
            raise InvalidArgument.for_field("facts", f"at most {MAX_DECLARED_FACTS} at once")
        for _ in range(MAX_ATTEMPTS):
            record = self._access.load(worker_id, caller)
            now = self._clock()
            changed = record.declare(
                dict(facts), by=Actor(caller.partner_id, caller.client_id), today=now.date(), now=now
            )
            if not changed:
                self._audit.record(
                    caller, Action.READ, ELIGIBILITY, worker_id, READ_FIELDS, state_code=record.state_code
                )
                return record
            record.recorded_at = now
            record.assess(self._rules.current(), today=now.date(), now=now)
            audit = self._audit.event(
                caller,
                Action.UPDATE,
                ELIGIBILITY,
                worker_id,
                [f"declared.{name}" for name in changed],
                state_code=record.state_code,
            )
            try:
                self._records.save(record, also_publish=[audit])
            except Conflict:
                continue
            return record
        raise Conflict(f"the record of worker {worker_id} kept changing; retry")

    def refusals(self, worker_id: str, caller: Caller, scheme_code: str = "") -> Refusals:
        """Was the worker refused a scheme they are (or were, when refused) eligible for? For the grievance service."""
        caller.require(Scope.ELIGIBILITY_READ)
        caller = with_purpose(caller, REFUSAL_PURPOSES)
        record = self._access.load(worker_id, caller)
        applications = [
            a for a in self._applications.of_worker(worker_id) if not scheme_code or a.scheme_code == scheme_code
        ]
        found = refusals_of_eligible(applications, record.eligibility)
        self._audit.record(
            caller, Action.READ, ELIGIBILITY, worker_id, ("refusals_of_eligible",), state_code=record.state_code
        )
        return Refusals(worker_id, found)
