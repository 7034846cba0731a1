"""What a change of a worker's determinations or applications tells other states, stored with the change (the
outbox): the sending side of the entitlement status's federation.

The worker-record and application repositories call it for every write; the domain decides where the
status goes (`WorkerRecord.plan_status_sharing`: the states the registry shares the worker's record with,
among this federation's peers) and this composes the complete current status (`EntitlementStatusShared`)
for each destination's topic `mrc.federation.entitlements.<to>.v1`. Nothing is published for a worker whose
record the registry shares with no other state, and nothing more once it stops sharing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from mrc_entitlements.adapters.federation_mapping import status_event
from mrc_entitlements.domain.applications import Application
from mrc_entitlements.domain.federation import entitlement_status, status_destinations
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_kernel.clock import utc_now
from mrc_kernel.events import Event

ApplicationsOf = Callable[[str], Iterable[Application]]
RecordOf = Callable[[str], WorkerRecord | None]


@dataclass(frozen=True)
class FederationScope:
    """This state (LGD code) and the states of the federation it exchanges records with."""

    own_state_code: str = ""
    peer_state_codes: frozenset[str] = frozenset()

    @property
    def enabled(self) -> bool:
        return bool(self.own_state_code and self.peer_state_codes)


class StatusPublisher:
    def __init__(
        self,
        scope: FederationScope,
        applications_of: ApplicationsOf,
        record_of: RecordOf,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._scope = scope
        self._applications_of = applications_of
        self._record_of = record_of
        self._clock = clock

    @property
    def scope(self) -> FederationScope:
        return self._scope

    def record_events(self, record: WorkerRecord) -> list[Event]:
        """Call with the record's pending events still on it (before the write takes them)."""
        if not self._scope.enabled:
            return []
        send = record.plan_status_sharing(self._scope.peer_state_codes, self._scope.own_state_code)
        if not send:
            return []
        applications = self._applications_of(record.worker_id)
        return self._events(record, applications, send)

    def application_events(self, application: Application) -> list[Event]:
        """A change of one application: the status, with the application as changed, to every state the worker's
        record is shared with now."""
        if not self._scope.enabled:
            return []
        record = self._record_of(application.worker_id)
        if record is None or not record.active or record.federated_from:
            return []
        send = status_destinations(record.shared_with_states, self._scope.peer_state_codes, self._scope.own_state_code)
        if not send:
            return []
        others = [
            a for a in self._applications_of(application.worker_id) if a.application_id != application.application_id
        ]
        return self._events(record, [*others, application], send)

    def _events(self, record: WorkerRecord, applications: Iterable[Application], send: Iterable[str]) -> list[Event]:
        status = entitlement_status(
            record.worker_id,
            record.eligibility.determinations,
            applications,
            consents_to_linkage=record.consents_to_linkage,
        )
        now = self._clock()
        return [
            status_event(
                status,
                home_state_code=self._scope.own_state_code,
                to_state_code=state,
                shared_with_state_codes=record.shared_with_states,
                now=now,
            )
            for state in sorted(send)
        ]
