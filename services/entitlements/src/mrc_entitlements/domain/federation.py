"""Cross-state federation of entitlement status: what this state tells others of a shared worker, and what it
keeps of what another state tells it.

Sending: the registry's facts name the other states a worker's record is shared with now
(`WorkerFacts.shared_with_state_codes`: its active cross-state consents and the federation's peers). While
a state is named, every change of the worker's determinations or applications sends that state the
complete current status (`EntitlementStatus`); a state that is no longer named is sent nothing more (the
registry withdraws the copy there, and that state's services drop what they derived from it).

Receiving: a worker whose record here is a read-only copy of another state's record may come with that
state's status (`HomeStateStatus`). It is kept beside this state's own determinations, never changed
here, replaced only by a newer version from its home state, and goes with the copy.

Only ids, scheme codes, outcomes, rule versions, statuses, LGD codes and dates cross: never the facts a
rule read, a reason a caseworker wrote or a payer's reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from mrc_entitlements.domain.applications import Application, ApplicationStatus, DeliveryKind
from mrc_entitlements.domain.determinations import Determination
from mrc_entitlements.domain.rules import Outcome


@dataclass(frozen=True)
class SharedDetermination:
    scheme_code: str
    rule_version: int
    outcome: Outcome
    missing_facts: tuple[str, ...]
    determined_at: datetime


@dataclass(frozen=True)
class SharedApplication:
    application_id: str
    scheme_code: str
    status: ApplicationStatus
    state_code: str
    district_code: str
    updated_at: datetime
    last_delivery_kind: DeliveryKind | None = None
    last_delivered_on: date | None = None


@dataclass(frozen=True)
class EntitlementStatus:
    """A worker's complete entitlement status as it may cross to another state."""

    worker_id: str
    determinations: tuple[SharedDetermination, ...]
    applications: tuple[SharedApplication, ...]


@dataclass(frozen=True)
class HomeStateStatus:
    """Another state's status of a worker whose record here is a copy of that state's record (read-only)."""

    home_state_code: str
    determinations: tuple[SharedDetermination, ...]
    applications: tuple[SharedApplication, ...]
    version: int
    shared_at: datetime
    # The states the home state's consent names; empty: every state of the federation.
    shared_with_state_codes: frozenset[str] = frozenset()

    def addressed_to(self, state_code: str) -> bool:
        return not self.shared_with_state_codes or state_code in self.shared_with_state_codes


def shared_determination(found: Determination) -> SharedDetermination:
    return SharedDetermination(
        scheme_code=found.scheme_code,
        rule_version=found.rule_version,
        outcome=found.outcome,
        missing_facts=tuple(found.missing_facts),
        determined_at=found.determined_at,
    )


def shared_application(found: Application) -> SharedApplication:
    last = max(found.deliveries, key=lambda d: (d.delivered_on, d.recorded_at), default=None)
    updated = max([t.at for t in found.history] + [d.recorded_at for d in found.deliveries])
    return SharedApplication(
        application_id=found.application_id,
        scheme_code=found.scheme_code,
        status=found.status,
        state_code=found.state_code,
        district_code=found.district_code,
        updated_at=updated,
        last_delivery_kind=last.kind if last is not None else None,
        last_delivered_on=last.delivered_on if last is not None else None,
    )


def entitlement_status(
    worker_id: str,
    determinations: Mapping[str, Determination],
    applications: Iterable[Application],
    *,
    consents_to_linkage: bool,
) -> EntitlementStatus:
    """What crosses: the determinations and applications while the worker consents to entitlement linkage,
    nothing (an empty status, which clears the copy's) once that consent is gone."""
    if not consents_to_linkage:
        return EntitlementStatus(worker_id, (), ())
    return EntitlementStatus(
        worker_id,
        tuple(shared_determination(d) for _, d in sorted(determinations.items())),
        tuple(shared_application(a) for a in sorted(applications, key=lambda a: a.application_id) if a.history),
    )


def status_destinations(shared_with: frozenset[str], peers: frozenset[str], own_state_code: str) -> frozenset[str]:
    """The states a worker's status goes to: those the registry shares the record with that are peers here."""
    return frozenset(s for s in shared_with if s in peers and s != own_state_code)
