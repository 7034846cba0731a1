"""Use cases of the cross-state federation on the receiving side: what other states' registries share with
this one becomes read-only copies here, and what they withdraw goes.

Events arrive at least once (MirrorMaker 2, then a consumer that may restart): each is applied together
with its CloudEvents id (`apply_once`), and a summary no newer than the copy held is ignored, so neither a
redelivery nor an old record delivered again changes anything. Only what is addressed to this state is
applied. A copy is indexed for deduplication with the same keys as this state's own records (blind
indexes of documents and phone, name keys of its opened names), so a registration here of the same person
links to it (`WorkerService.register`).

Each copy also produces this state's own registry events (`WorkerRegistered`, `WorkerUpdated`,
`WorkerErased`, marked with the home state in their facts), so this state's services decide for the worker
with their own rules, and drop what they derived when the copy goes.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import NotFound
from mrc_kernel.roles import Scope
from mrc_registry.domain.foreign_copy import SharedWorker, SharedWorkerWithdrawn, is_newer, materialise
from mrc_registry.domain.household_links import SharedHouseholdLinks
from mrc_registry.domain.worker import Worker
from mrc_registry.service_layer.deduplication import Deduplicator
from mrc_registry.service_layer.ports import AccessRecorder, WorkerRepository
from mrc_registry.service_layer.workers import WorkerAccess

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"  # this event id was applied before (a redelivery)
    STALE = "stale"  # the copy held is as new or newer
    NOT_ADDRESSED = "not_addressed"  # meant for other states
    REFUSED = "refused"  # names this state as its home, or a record of this registry's own


class CopyRepository(WorkerRepository, Protocol):
    def add_copy(self, copy: Worker, *, match_keys: set[str], event_id: str) -> bool:
        """Store a new copy with its events, recording `event_id` as applied; False if a record with its id is
        stored already (read it and apply again)."""
        ...

    def replace_copy(self, copy: Worker, *, match_keys: set[str], event_id: str) -> bool:
        """Replace what the home state owns of a stored copy (not the consents this state's partners
        captured, unless it was withdrawn) with its events, unless `event_id` was applied to it already."""
        ...


class HouseholdLinkCopies(Protocol):
    def get_links(self, household_id: str) -> SharedHouseholdLinks | None: ...

    def put_links(self, links: SharedHouseholdLinks, *, event_id: str) -> bool:
        """Store the links (replacing older ones); False if this event id was applied already."""
        ...

    def remove_links(self, household_id: str) -> None: ...


class DerivedRecords(Protocol):
    def clear_elsewhere(self, worker_id: str) -> None:
        """Clear what this state's other records (households, migration episodes) hold of a worker."""
        ...


ATTEMPTS = 3
HOUSEHOLD_RESOURCE = "household"


class FederationIntake:
    def __init__(
        self,
        copies: CopyRepository,
        households: HouseholdLinkCopies,
        deduplicator: Deduplicator,
        derived: DerivedRecords,
        *,
        own_state_code: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not own_state_code:
            raise ValueError("the federation needs this registry's state (MRC_STATE_CODE)")
        self._copies = copies
        self._households = households
        self._dedup = deduplicator
        self._derived = derived
        self._own = own_state_code
        self._clock = clock

    def worker_shared(self, shared: SharedWorker, event_id: str) -> Outcome:
        if shared.home_state_code == self._own:
            return Outcome.REFUSED
        if not shared.addressed_to(self._own):
            return Outcome.NOT_ADDRESSED
        for _ in range(ATTEMPTS):
            held = self._copies.get(shared.worker_id)
            if held is not None and not held.is_copy:
                log.warning("a shared record has the id of one of this registry's own records; ignored")
                return Outcome.REFUSED
            if not is_newer(shared.version, held):
                return Outcome.STALE
            copy = materialise(shared, self._own, held, self._clock())
            keys = self._dedup.keys(copy)
            if held is None:
                if self._copies.add_copy(copy, match_keys=keys, event_id=event_id):
                    return Outcome.APPLIED
                continue  # stored meanwhile: read it again
            applied = self._copies.replace_copy(copy, match_keys=keys, event_id=event_id)
            return Outcome.APPLIED if applied else Outcome.ALREADY_APPLIED
        return Outcome.ALREADY_APPLIED

    def worker_withdrawn(self, withdrawn: SharedWorkerWithdrawn, event_id: str) -> Outcome:
        if withdrawn.home_state_code == self._own:
            return Outcome.REFUSED
        if not withdrawn.addressed_to(self._own):
            return Outcome.NOT_ADDRESSED
        held = self._copies.get(withdrawn.worker_id)
        if held is None:
            return Outcome.STALE  # never held here: nothing to remove
        if not held.is_copy:
            return Outcome.REFUSED
        if not is_newer(withdrawn.version, held):
            return Outcome.STALE
        held.withdraw_copy(self._clock(), withdrawn.version)
        if not self._copies.replace_copy(held, match_keys=set(), event_id=event_id):
            return Outcome.ALREADY_APPLIED
        self._derived.clear_elsewhere(held.worker_id)
        return Outcome.APPLIED

    def household_links(self, links: SharedHouseholdLinks, event_id: str) -> Outcome:
        if links.home_state_code == self._own:
            return Outcome.REFUSED
        if not links.addressed_to(self._own):
            return Outcome.NOT_ADDRESSED
        held = self._households.get_links(links.household_id)
        if held is not None and not links.newer_than(held):
            return Outcome.STALE
        if not links.member_worker_ids:
            self._households.remove_links(links.household_id)
            return Outcome.APPLIED
        applied = self._households.put_links(links, event_id=event_id)
        return Outcome.APPLIED if applied else Outcome.ALREADY_APPLIED


class SharedHouseholdsOfWorker(Protocol):
    def with_member(self, worker_id: str) -> list[SharedHouseholdLinks]: ...


class SharedHouseholdReads:
    """The households another state shares that name a worker this caller reaches: which of its members (copies
    the caller reaches too) live together, and the household's facts. Read-only, audited like any read."""

    def __init__(self, links: SharedHouseholdsOfWorker, workers: WorkerAccess, audit: AccessRecorder) -> None:
        self._links = links
        self._workers = workers
        self._audit = audit

    def of_worker(self, worker_id: str, caller: Caller) -> list[SharedHouseholdLinks]:
        caller.require(Scope.WORKERS_READ)
        purpose = check_purpose(caller.purpose, "case_management")
        self._workers.load(worker_id, caller, purpose)
        shown: list[SharedHouseholdLinks] = []
        for links in self._links.with_member(worker_id):
            members = tuple(m for m in links.member_worker_ids if m == worker_id or self._reaches(m, caller, purpose))
            shown.append(dataclasses.replace(links, member_worker_ids=members))
            self._audit.record(
                caller,
                Action.READ,
                HOUSEHOLD_RESOURCE,
                links.household_id,
                ["members", "size", "ration_card"],
                state_code=links.lives_in_state_code,
            )
        return shown

    def _reaches(self, worker_id: str, caller: Caller, purpose: str) -> bool:
        try:
            self._workers.load(worker_id, caller, purpose)
        except NotFound:
            return False
        return True
