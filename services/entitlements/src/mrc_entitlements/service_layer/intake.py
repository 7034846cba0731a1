"""Use cases of the consumer: keep each worker's record in step with the registry's events, and assess it.

Every change that can alter a fact (registration, update, consent, migration, household) assesses the
worker again against the published rules; events go out only for what changed. Delivery is at least
once: each record keeps the ids of the events applied to it (`WorkerRecord.applied_event_ids`, written
with the change), a worker's facts carry the registry's version (an older one arriving late is ignored),
and households theirs. Consent gates everything: without consent to entitlement linkage no
determination is kept. Erasure leaves a tombstone (so nothing comes back), deletes the worker's
applications and takes them out of households; a merge re-keys the merged worker's record and
applications to the survivor.

Cross-state federation: the facts say which other states the registry shares the worker's record with (the
repository then sends them the status, `adapters/federation_publisher.py`), or that the record is a copy of
another state's; `home_status` keeps the status that state shares of such a copy, read-only, applied once
per event id and only when newer than the one held.

These run on nobody's behalf (the registry's events), so they take no caller and write no audit event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mrc_entitlements.domain.facts import ConsentPurpose, HouseholdFacts, MigrationEpisodeFacts, WorkerFacts
from mrc_entitlements.domain.federation import HomeStateStatus
from mrc_entitlements.domain.schemes import RuleVersion
from mrc_entitlements.domain.worker_record import RecordStatus, WorkerRecord
from mrc_entitlements.service_layer.catalogue import PublishedRules
from mrc_entitlements.service_layer.ports import ApplicationRepository, HouseholdRepository, WorkerRecordRepository
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict
from mrc_kernel.policy import Grant

log = logging.getLogger(__name__)

# Concurrent writers of one record (the consumer, a re-evaluation job, a caseworker's declaration) are
# rare; a save that lost the race is redone from a fresh read this many times.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class FactsUpdate:
    """What a WorkerRegistered, WorkerUpdated or ConsentChanged event says of the worker."""

    facts: WorkerFacts
    grants: tuple[Grant, ...]
    version: int
    active: bool = True  # False once the registry says merged or erased (their own events act on it)
    # Cross-state federation: the states the registry shares the record with now; for a copy of another
    # state's record, that state's LGD code.
    shared_with_states: frozenset[str] = frozenset()
    federated_from: str = ""


class FactsIntake:
    def __init__(
        self,
        records: WorkerRecordRepository,
        households: HouseholdRepository,
        applications: ApplicationRepository,
        rules: PublishedRules,
        *,
        clock: Callable[[], datetime] = utc_now,
        own_state_code: str = "",
    ) -> None:
        self._own_state_code = own_state_code
        self._records = records
        self._households = households
        self._applications = applications
        self._rules = rules
        self._clock = clock

    # -- facts -------------------------------------------------------------------------------------

    def worker_facts(self, update: FactsUpdate, *, event_id: str) -> bool:
        """Registration, update or consent change with the worker's facts. True if applied now."""
        if not update.active or not update.facts.worker_id:
            return False

        def change(record: WorkerRecord) -> bool:
            new = record.version == 0
            if not record.record_worker_facts(
                update.facts,
                update.grants,
                update.version,
                shared_with_states=update.shared_with_states,
                federated_from=update.federated_from,
                held_in_state=self._own_state_code,
            ):
                return False
            if new:
                for household, version in self._households.of_member(record.worker_id):
                    record.record_household(household, version)
            record.source_event_id = event_id
            return True

        return self._apply(update.facts.worker_id, event_id, change, create=True)

    def consent_changed(self, worker_id: str, active_purposes: frozenset[ConsentPurpose], *, event_id: str) -> bool:
        """A ConsentChanged without facts (published before the registry sent them): only the purposes change."""

        def change(record: WorkerRecord) -> bool:
            return record.profile.record_consent(active_purposes)

        return self._apply(worker_id, event_id, change)

    def migration_recorded(self, worker_id: str, episode: MigrationEpisodeFacts, *, event_id: str) -> bool:
        return self._apply(worker_id, event_id, lambda record: record.record_episode(episode))

    def household_changed(self, household: HouseholdFacts, version: int, *, event_id: str) -> int:
        """The household's facts reach each member, and leave those it no longer lists; how many records changed."""
        kept, before = self._households.put(household, version)
        if not kept:
            return 0
        changed = 0
        for worker_id in sorted(before | household.member_worker_ids):
            if self._apply(worker_id, event_id, lambda record: record.record_household(household, version)):
                changed += 1
        return changed

    # -- cross-state federation --------------------------------------------------------------------

    def home_status(self, worker_id: str, status: HomeStateStatus, *, event_id: str) -> bool:
        """Another state's status of a worker whose record here is a copy of that state's record: kept beside
        this state's determinations (never assessed, never changed here). One addressed to other states only,
        one for a record of this state's own, an older version and a redelivery change nothing."""
        if not worker_id or not status.addressed_to(self._own_state_code):
            return False
        return self._apply(
            worker_id, event_id, lambda record: record.receive_home_status(status), create=True, assess=False
        )

    # -- erasure and merges ------------------------------------------------------------------------

    def worker_erased(self, worker_id: str, *, event_id: str) -> bool:
        """Keep a tombstone only; delete the worker's applications; take the worker out of households."""
        if not worker_id:
            return False
        self._erase(worker_id, event_id)
        return True

    def _erase(self, worker_id: str, event_id: str) -> None:
        def change(record: WorkerRecord) -> bool:
            if record.status is RecordStatus.ERASED:
                return False
            record.erase(self._clock())
            return True

        self._apply(worker_id, event_id, change, create=True, assess=False, tombstones_too=True)
        for application in self._applications.of_worker(worker_id):
            self._applications.delete(application)
        self._households.forget_member(worker_id)

    def workers_merged(self, merged_worker_id: str, surviving_worker_id: str, *, event_id: str) -> bool:
        """The merged worker's facts, declarations and applications go to the survivor (assessed again there);
        the merged record keeps only a pointer. Merged into an erased worker, it is erased too."""
        if not merged_worker_id or not surviving_worker_id or merged_worker_id == surviving_worker_id:
            return False
        survivor = self._records.get(surviving_worker_id)
        if survivor is not None and survivor.status is RecordStatus.ERASED:
            self._erase(merged_worker_id, event_id)
            return False
        merged = self._records.get(merged_worker_id)
        if merged is not None and merged.active:
            self._apply(surviving_worker_id, event_id, lambda record: record.adopt(merged), create=True)
        for application in self._applications.of_worker(merged_worker_id):
            self._applications.rekey(application, surviving_worker_id)

        def retire(record: WorkerRecord) -> bool:
            if record.status is not RecordStatus.ACTIVE:
                return False
            record.merge_into(surviving_worker_id, self._clock())
            return True

        return self._apply(merged_worker_id, event_id, retire, create=True, assess=False)

    # -- the unit of work --------------------------------------------------------------------------

    def _apply(
        self,
        worker_id: str,
        event_id: str,
        change: Callable[[WorkerRecord], bool],
        *,
        create: bool = False,
        assess: bool = True,
        tombstones_too: bool = False,
    ) -> bool:
        """Apply one event's change to one record once, assess it, and save it with its events.

        Returns True if the change was applied now. The event id is recorded even when nothing changed,
        so that a redelivery is recognised without running the change again.
        """
        for _ in range(MAX_ATTEMPTS):
            record = self._records.get(worker_id)
            if record is None:
                if not create:
                    return False
                record = WorkerRecord.new(worker_id)
            if record.has_applied(event_id) or (not record.active and not tombstones_too):
                return False
            applied = change(record)
            record.mark_applied(event_id)
            now = self._clock()
            if applied:
                record.recorded_at = now
            if applied and assess:
                record.assess(self._rules_for(record), today=now.date(), now=now)
            try:
                self._records.save(record)
            except Conflict:
                continue
            return applied
        raise Conflict(f"the record of worker {worker_id} kept changing; the event will be retried")

    def _rules_for(self, record: WorkerRecord) -> tuple[RuleVersion, ...]:
        rules = self._rules.current()
        held = {code: d.rule_version for code, d in record.eligibility.determinations.items()}
        cached = {r.scheme_code: r.version for r in rules}
        # A re-evaluation job may have determined this worker under a version published after the cache
        # was read: never go back to an older rule.
        if any(version > cached.get(code, 0) for code, version in held.items() if code in cached):
            rules = self._rules.refresh()
        return rules
