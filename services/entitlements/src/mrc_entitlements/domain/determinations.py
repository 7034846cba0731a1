"""Determinations: what each published rule says about one worker, and which of them are news.

A determination keeps the rule version it came from, each condition's result, the facts that would
decide an undetermined outcome, and the facts it read as they were. A worker's determinations live in
one aggregate, `WorkerEligibility`; recording a new set raises `EligibilityDetermined` the first time a
scheme is determined and `EligibilityChanged` when its outcome or a condition's result changes, and
nothing otherwise, so a redelivered event or a re-evaluation that changes nothing publishes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from mrc_entitlements.domain.facts import FactsSnapshot
from mrc_entitlements.domain.rules import ConditionResult, Outcome, evaluate_conditions, prepare
from mrc_entitlements.domain.schemes import RuleVersion


@dataclass(frozen=True)
class Determination:
    worker_id: str
    scheme_code: str
    rule_version: int
    outcome: Outcome
    conditions: tuple[ConditionResult, ...]
    missing_facts: tuple[str, ...]
    facts_snapshot: Mapping[str, object]  # only the facts the rule read
    determined_at: datetime

    def differs_from(self, previous: Determination) -> bool:
        """Whether this says something else than `previous`: another outcome, or a condition's result.

        A new rule version, a new time or facts that changed without changing any result are not news.
        """
        return self.outcome is not previous.outcome or _results(self) != _results(previous)


def _results(determination: Determination) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple((c.name, c.status.value, c.missing_facts) for c in determination.conditions)


class Change(enum.StrEnum):
    FIRST = "first"  # never determined before: EligibilityDetermined
    CHANGED = "changed"  # EligibilityChanged
    UNCHANGED = "unchanged"  # stored (new rule version, new snapshot), not published


def detect_change(previous: Determination | None, new: Determination) -> Change:
    if previous is None:
        return Change.FIRST
    return Change.CHANGED if new.differs_from(previous) else Change.UNCHANGED


def determine(
    worker_id: str, rules: Iterable[RuleVersion], snapshot: FactsSnapshot, now: datetime
) -> list[Determination]:
    """Each published rule evaluated against the worker's facts (bound for the engine once)."""
    prepared = prepare(snapshot)
    determinations = []
    for rule in rules:
        evaluation = evaluate_conditions(rule.conditions, prepared)
        determinations.append(
            Determination(
                worker_id=worker_id,
                scheme_code=rule.scheme_code,
                rule_version=rule.version,
                outcome=evaluation.outcome,
                conditions=evaluation.conditions,
                missing_facts=evaluation.missing_facts,
                facts_snapshot=evaluation.facts_used,
                determined_at=now,
            )
        )
    return determinations


@dataclass(frozen=True)
class EligibilityDetermined:
    determination: Determination


@dataclass(frozen=True)
class EligibilityChanged:
    determination: Determination
    previous_outcome: Outcome
    previous_rule_version: int


class RemovalReason(enum.StrEnum):
    CONSENT_REVOKED = "consent_revoked"  # no more consent to entitlement linkage
    RULE_RETIRED = "rule_retired"  # the scheme has no published rule any more
    WORKER_ERASED = "worker_erased"  # the worker was erased from the registry
    WORKER_MERGED = "worker_merged"  # merged into another worker: determined again under the surviving id


@dataclass(frozen=True)
class EligibilityRemoved:
    worker_id: str
    scheme_codes: tuple[str, ...]
    reason: RemovalReason
    at: datetime


DomainEvent = EligibilityDetermined | EligibilityChanged | EligibilityRemoved


@dataclass
class WorkerEligibility:
    """Every current determination about one worker, by scheme code."""

    worker_id: str
    determinations: dict[str, Determination] = field(default_factory=dict)
    version: int = 0  # 0: never stored
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    def record(self, determinations: Iterable[Determination]) -> dict[str, Change]:
        """Keep the new determinations; an event for each that is first or changed. Returns each one's change."""
        changes: dict[str, Change] = {}
        stored_any = False
        for new in determinations:
            if new.worker_id != self.worker_id:
                raise ValueError(f"a determination of {new.worker_id!r} recorded for {self.worker_id!r}")
            previous = self.determinations.get(new.scheme_code)
            change = detect_change(previous, new)
            changes[new.scheme_code] = change
            if previous is not None and previous == new:
                continue
            self.determinations[new.scheme_code] = new
            stored_any = True
            if change is Change.FIRST:
                self.pending_events.append(EligibilityDetermined(new))
            elif change is Change.CHANGED and previous is not None:
                self.pending_events.append(EligibilityChanged(new, previous.outcome, previous.rule_version))
        if stored_any:
            self.version += 1
        return changes

    def is_current(self, scheme_code: str, rule_version: int) -> bool:
        """Whether the scheme is already determined by this rule version (a re-evaluation job skips it)."""
        held = self.determinations.get(scheme_code)
        return held is not None and held.rule_version == rule_version

    def withdraw(self, reason: RemovalReason, now: datetime, scheme_codes: Iterable[str] = ()) -> bool:
        """Drop determinations (all of them, or those of the schemes named); True if any was dropped."""
        wanted = set(scheme_codes) or set(self.determinations)
        dropped = tuple(sorted(code for code in wanted if code in self.determinations))
        if not dropped:
            return False
        for code in dropped:
            del self.determinations[code]
        self.version += 1
        self.pending_events.append(EligibilityRemoved(self.worker_id, dropped, reason, now))
        return True

    def moved_to(self, surviving_worker_id: str) -> WorkerEligibility:
        """These determinations under the id of the worker this one was merged into (to be re-evaluated there)."""
        return WorkerEligibility(
            worker_id=surviving_worker_id,
            determinations={code: replace(d, worker_id=surviving_worker_id) for code, d in self.determinations.items()},
        )

    def outcome(self, scheme_code: str) -> Outcome | None:
        held = self.determinations.get(scheme_code)
        return held.outcome if held is not None else None
