"""Everything this service holds about one worker, and how it is assessed against the published rules.

A `WorkerRecord` is the aggregate of one worker here: the facts the registry's events brought (the
`WorkerProfile`), facts a caseworker recorded as the worker declared them (with who and when), the grants
of the worker's active consents (who may read the record, as the registry decided), the determinations,
and the ids of the events already applied (at-least-once delivery: a redelivered event changes nothing).

No consent to entitlement linkage, no determination: `assess` drops every determination when the
consent is gone and makes none until it returns. An erased worker's record keeps only its id and status
(a tombstone, so a late or redelivered event brings nothing back); a merged one names its survivor.

Cross-state federation (`domain/federation.py`): the registry's facts say which other states the worker's
record is shared with (`shared_with_states`); `plan_status_sharing` decides where a change sends the
status. A record that is a copy of another state's record (`federated_from`) may hold that state's status
(`home_state_status`), read-only, and belongs also to this state (`held_in_state`), where the copy is.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from mrc_entitlements.domain.applications import Actor
from mrc_entitlements.domain.determinations import Change, RemovalReason, WorkerEligibility, determine
from mrc_entitlements.domain.facts import (
    HouseholdFacts,
    MigrationEpisodeFacts,
    WorkerFacts,
    WorkerProfile,
    current_episode,
)
from mrc_entitlements.domain.federation import HomeStateStatus, status_destinations
from mrc_entitlements.domain.schemes import RuleVersion
from mrc_kernel.policy import Grant

# Applied event ids kept per worker: enough to recognise any redelivery Kafka can make of one partition
# (a worker's events are keyed by its id, so they arrive in order; redeliveries come from the last
# uncommitted offsets, never from far back).
MAX_APPLIED_EVENT_IDS = 200


class RecordStatus(enum.StrEnum):
    ACTIVE = "active"
    ERASED = "erased"  # a tombstone: nothing but the id
    MERGED = "merged"  # merged into `merged_into`; nothing else kept


@dataclass(frozen=True)
class Declaration:
    """Who recorded which declared fact, and when (the value is in the profile; never in an event)."""

    fact: str
    by: Actor
    at: datetime


@dataclass
class WorkerRecord:
    worker_id: str
    status: RecordStatus = RecordStatus.ACTIVE
    profile: WorkerProfile = field(default_factory=lambda: WorkerProfile(""))
    eligibility: WorkerEligibility = field(default_factory=lambda: WorkerEligibility(""))
    grants: tuple[Grant, ...] = ()
    facts_version: int = 0  # WorkerFacts.version last applied: an older one arriving late is ignored
    household_versions: dict[str, int] = field(default_factory=dict)
    declarations: list[Declaration] = field(default_factory=list)
    applied_event_ids: list[str] = field(default_factory=list)
    merged_into: str = ""
    source_event_id: str = ""  # the registry event that last changed the facts
    recorded_at: datetime | None = None
    # Cross-state federation: the other states the registry shares the worker's record with now, and those
    # this service last sent the status to.
    shared_with_states: frozenset[str] = frozenset()
    status_shared_with: frozenset[str] = frozenset()
    # A copy of another state's record: that state's LGD code, this state's (where the copy is), and the
    # status that state shares (read-only here).
    federated_from: str = ""
    held_in_state: str = ""
    home_state_status: HomeStateStatus | None = None
    version: int = 0  # of the stored document; 0: never stored

    @classmethod
    def new(cls, worker_id: str) -> WorkerRecord:
        return cls(worker_id, profile=WorkerProfile(worker_id), eligibility=WorkerEligibility(worker_id))

    @property
    def active(self) -> bool:
        return self.status is RecordStatus.ACTIVE

    @property
    def consents_to_linkage(self) -> bool:
        return self.active and self.profile.consents_to_linkage

    @property
    def home(self) -> tuple[str, str]:
        worker = self.profile.worker
        return (worker.home.state_code, worker.home.district_code) if worker is not None else ("", "")

    @property
    def destination(self) -> tuple[str, str] | None:
        current = current_episode(self.profile.episodes.values())
        if current is None or current.destination is None:
            return None
        return (current.destination.state_code, current.destination.district_code)

    @property
    def places(self) -> tuple[tuple[str, str], ...]:
        """Where the worker belongs for the access policy: home, and the current destination if any."""
        places = [self.home] if self.home[0] else []
        destination = self.destination
        if destination is not None and destination not in places:
            places.append(destination)
        if self.federated_from and self.held_in_state and self.profile.worker is not None:
            # A copy of another state's record belongs to this whole state, where its home state shared it.
            places.append((self.held_in_state, ""))
        return tuple(places)

    @property
    def current_place(self) -> tuple[str, str]:
        """Where the worker is now: the destination of an ongoing migration, else home."""
        return self.destination or self.home

    @property
    def state_code(self) -> str:
        return self.home[0]

    # -- events applied once ---------------------------------------------------------------------

    def has_applied(self, event_id: str) -> bool:
        return bool(event_id) and event_id in self.applied_event_ids

    def mark_applied(self, event_id: str) -> None:
        if event_id and event_id not in self.applied_event_ids:
            self.applied_event_ids = [*self.applied_event_ids, event_id][-MAX_APPLIED_EVENT_IDS:]

    # -- facts -----------------------------------------------------------------------------------

    def record_worker_facts(
        self,
        facts: WorkerFacts,
        grants: Iterable[Grant],
        facts_version: int,
        *,
        shared_with_states: frozenset[str] = frozenset(),
        federated_from: str = "",
        held_in_state: str = "",
    ) -> bool:
        """The registry's latest facts and grants; an older version (arriving late) is ignored. True if applied."""
        if not self.active or (facts_version and facts_version < self.facts_version):
            return False
        self.profile.record_worker(facts)
        self.grants = tuple(grants)
        self.facts_version = max(self.facts_version, facts_version)
        self.shared_with_states = frozenset() if federated_from else shared_with_states
        self.federated_from = federated_from
        self.held_in_state = held_in_state if federated_from else ""
        if not federated_from:
            self.home_state_status = None
        return True

    # -- cross-state federation ------------------------------------------------------------------

    def plan_status_sharing(self, peers: frozenset[str], own_state_code: str) -> frozenset[str]:
        """The states this change must send the worker's status to: every state the record is shared with
        when the determinations changed (events pending), else only those newly shared with. Records where
        the status now is; a state no longer shared with is sent nothing more. A copy is never passed on."""
        if not self.active or self.federated_from:
            self.status_shared_with = frozenset()
            return frozenset()
        now_shared = status_destinations(self.shared_with_states, peers, own_state_code)
        send = now_shared if self.eligibility.pending_events else now_shared - self.status_shared_with
        self.status_shared_with = now_shared
        return send

    def receive_home_status(self, status: HomeStateStatus) -> bool:
        """Keep the status another state shares of this worker, if newer than the one held; True if kept. A
        record of this state's own (not a copy) or a copy of a different state's record takes none."""
        if not self.active or (self.profile.worker is not None and not self.federated_from):
            return False
        if self.federated_from and status.home_state_code != self.federated_from:
            return False
        held = self.home_state_status
        if held is not None and (held.home_state_code != status.home_state_code or status.version <= held.version):
            return False
        self.home_state_status = status
        return True

    def record_episode(self, episode: MigrationEpisodeFacts) -> bool:
        return self.active and self.profile.record_episode(episode)

    def record_household(self, household: HouseholdFacts, household_version: int) -> bool:
        if not self.active:
            return False
        known = self.household_versions.get(household.household_id, 0)
        if household_version and household_version < known:
            return False
        self.household_versions[household.household_id] = max(known, household_version)
        return self.profile.record_household(household)

    def declare(self, facts: dict[str, object], *, by: Actor, today: date, now: datetime) -> list[str]:
        """Record facts the worker declared to a caseworker; the names of those that changed."""
        changed = [name for name, value in sorted(facts.items()) if self.profile.declare(name, value, today)]
        self.declarations.extend(Declaration(name, by, now) for name in changed)
        return changed

    # -- assessment ------------------------------------------------------------------------------

    def assess(self, rules: Sequence[RuleVersion], *, today: date, now: datetime) -> dict[str, Change]:
        """Determine every published rule (or drop every determination without consent to linkage).

        Determinations of schemes whose rule is no longer published are dropped. Events are raised only
        for what changed (`WorkerEligibility.record`).
        """
        if not self.consents_to_linkage:
            self.eligibility.withdraw(RemovalReason.CONSENT_REVOKED, now)
            return {}
        published = {rule.scheme_code for rule in rules}
        gone = [code for code in self.eligibility.determinations if code not in published]
        if gone:
            self.eligibility.withdraw(RemovalReason.RULE_RETIRED, now, gone)
        if not rules:
            return {}
        return self.eligibility.record(determine(self.worker_id, rules, self.profile.snapshot(today), now))

    def assess_rule(self, rule: RuleVersion, *, today: date, now: datetime) -> Change | None:
        """Determine one scheme's rule (a re-evaluation job); None when the worker does not consent to linkage."""
        if not self.consents_to_linkage:
            return None
        changes = self.eligibility.record(determine(self.worker_id, [rule], self.profile.snapshot(today), now))
        return changes.get(rule.scheme_code)

    def erase(self, now: datetime) -> None:
        """Keep only the tombstone: no facts, grants, declarations or determinations."""
        self.eligibility.withdraw(RemovalReason.WORKER_ERASED, now)
        self._clear(RecordStatus.ERASED)

    def merge_into(self, surviving_worker_id: str, now: datetime) -> None:
        self.eligibility.withdraw(RemovalReason.WORKER_MERGED, now)
        self._clear(RecordStatus.MERGED)
        self.merged_into = surviving_worker_id

    def adopt(self, merged: WorkerRecord) -> bool:
        """Take over what a merged worker's record held that this one lacks (facts it never had, declared
        facts, episodes); the survivor's own registry facts win. True if anything was taken."""
        if not self.active or not merged.active:
            return False
        taken = False
        if self.profile.worker is None and merged.profile.worker is not None:
            self.profile.worker = merged.profile.worker
            self.grants = merged.grants
            taken = True
        for episode_id, episode in merged.profile.episodes.items():
            if episode_id not in self.profile.episodes:
                self.profile.episodes[episode_id] = episode
                taken = True
        if self.profile.household is None and merged.profile.household is not None:
            self.profile.household = merged.profile.household
            taken = True
        for name, value in merged.profile.declared.items():
            if name not in self.profile.declared:
                self.profile.declared[name] = value
                taken = True
        known = {d.fact for d in self.declarations}
        self.declarations.extend(d for d in merged.declarations if d.fact not in known)
        return taken

    def _clear(self, status: RecordStatus) -> None:
        self.status = status
        events = self.eligibility.pending_events
        self.profile = WorkerProfile(self.worker_id)
        self.eligibility = WorkerEligibility(self.worker_id, version=self.eligibility.version)
        self.eligibility.pending_events.extend(events)
        self.grants = ()
        self.declarations = []
        self.household_versions = {}
        self.shared_with_states = frozenset()
        self.status_shared_with = frozenset()
        self.home_state_status = None
