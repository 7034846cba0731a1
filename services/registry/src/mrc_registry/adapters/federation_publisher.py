"""What a change must tell other states, stored with the change (the outbox): the publishing side of the
cross-state federation.

The worker and household repositories call it for every write that raised events; the domain decides
where the record may be (`Worker.plan_sharing`: the worker's active cross-state consents, the federation's
peers) and this turns the decision into events on each destination's topics:
- the worker's summary (`WorkerShared`) to every state its consents allow, after any change;
- `WorkerWithdrawn` to every state that held it and no longer may (revocation, expiry, narrowing,
  erasure, a merge);
- the links of the households it belongs to (`HouseholdLinksShared`), to the same states, and again
  whenever a household changes.
Nothing about a worker without an active cross-state consent is ever published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from mrc_kernel.clock import utc_now
from mrc_kernel.events import Event
from mrc_plumbing.crypto import FederationCipher
from mrc_plumbing.store import DocumentStore
from mrc_registry.adapters.federation_mapping import BlindIndex, household_links_event, sharing_events
from mrc_registry.domain.federation import FederationScope, household_destinations
from mrc_registry.domain.household import Household
from mrc_registry.domain.worker import Worker, WorkerRegistered

WORKERS_COLLECTION = "workers"
HOUSEHOLDS_COLLECTION = "households"
SHARED_WITH_FIELD = "shared_with_states"

HouseholdsOf = Callable[[str], Iterable[Household]]


class FederationPublisher:
    def __init__(
        self,
        store: DocumentStore,
        scope: FederationScope,
        cipher: FederationCipher,
        blind_index: BlindIndex,
        *,
        households_of: HouseholdsOf | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._workers = store.collection(WORKERS_COLLECTION)
        self._scope = scope
        self._cipher = cipher
        self._blind_index = blind_index
        self._households_of = households_of
        self._clock = clock

    @property
    def scope(self) -> FederationScope:
        return self._scope

    def worker_events(self, worker: Worker) -> list[Event]:
        """Call with the worker's pending events still on it (before the write takes them)."""
        registering = any(isinstance(e, WorkerRegistered) for e in worker.pending_events)
        plan = worker.plan_sharing(self._scope, worker.updated_at)
        if not plan:
            return []
        events = sharing_events(worker, plan, self._scope.own_state_code, self._cipher, self._blind_index)
        if self._households_of is not None and not registering:
            # A new registration belongs to no household yet; otherwise its households' links follow it.
            affected = set(plan.shares) | set(plan.withdrawals)
            for household in self._households_of(worker.worker_id):
                shares = self._member_shares(household, {worker.worker_id: worker.shared_with_states})
                events += self._links(household, shares, affected)
        return events

    def household_events(self, household: Household, previously: frozenset[str]) -> tuple[list[Event], frozenset[str]]:
        """The household's links for every state one of its members is shared with (and every state that had
        them before, which may have to drop members): the events, and where the links now are."""
        if not self._scope.enabled:
            return [], previously
        shares = self._member_shares(household, {})
        now_shared = frozenset(household_destinations(shares))
        return self._links(household, shares, set(now_shared | previously)), now_shared

    def _member_shares(self, household: Household, known: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
        ids = [i for i in household.registered_worker_ids() if i not in known]
        shares = dict(known)
        for doc in self._workers.get_many(ids, fields=[SHARED_WITH_FIELD]) if ids else []:
            shares[str(doc["_id"])] = frozenset(doc.get(SHARED_WITH_FIELD) or ())
        members = set(household.registered_worker_ids())
        return {worker_id: states for worker_id, states in shares.items() if worker_id in members}

    def _links(self, household: Household, shares: dict[str, frozenset[str]], destinations: set[str]) -> list[Event]:
        members = household_destinations(shares)
        now = self._clock()
        return [
            household_links_event(household, state, members.get(state, ()), self._scope.own_state_code, now)
            for state in sorted(destinations)
            if state != self._scope.own_state_code
        ]
