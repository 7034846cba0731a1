"""Missing-person traces: a family reports a worker gone silent in another state; partners look for them.

A trace says where and when the person was last known, who employed or recruited them, where they were
going, and whom to call (sealed). Linked to the registry's migration episode when the worker is
registered. Sightings add to it; it closes as found, reunited or deceased (a person found may later be
reunited: that closes it again, as reunited). Its events, published on `mrc.grievance.traces.v1` keyed by
trace id, carry the places as LGD codes so partners at the destination can see that someone may be in
their district, and nothing that identifies the person: they read the trace through the API, under the
access policy, with an audited read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from mrc_grievance.domain.consent import ConsentChange
from mrc_grievance.domain.events import (
    TraceClosed,
    TraceEvent,
    TraceFacts,
    TraceOpened,
    TraceSightingRecorded,
    TraceWorkerUnlinked,
    codes_only,
)
from mrc_grievance.domain.parties import (
    REGISTRY,
    Actor,
    RegisteredWorker,
    Respondent,
    Subject,
    UnregisteredPerson,
    id_violations,
    respondent_employer_id,
    respondent_kind,
    respondent_violations,
    subject_violations,
    subject_worker_id,
)
from mrc_grievance.domain.protected import Sealed, SealedPhone
from mrc_grievance.domain.vocabulary import ReporterRelation, TraceStatus, UnlinkReason
from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument
from mrc_kernel.place import Place

EARLIEST_LAST_KNOWN = date(1950, 1, 1)
MAX_CONTACTS = 10
MAX_SIGHTINGS = 1000
# Clocks of the people who report a sighting are not ours: a few minutes ahead is tolerated.
CLOCK_SKEW = timedelta(minutes=5)

# Where a trace may go from each status. Closing twice the same way is a conflict, not a no-op: the
# caller believes the trace was open.
TRACE_TRANSITIONS: dict[TraceStatus, frozenset[TraceStatus]] = {
    TraceStatus.OPEN: frozenset({TraceStatus.FOUND, TraceStatus.REUNITED, TraceStatus.DECEASED}),
    TraceStatus.FOUND: frozenset({TraceStatus.REUNITED, TraceStatus.DECEASED}),
}


@dataclass(frozen=True)
class Contact:
    """Someone who knows the missing person (family, a co-worker): sealed, never published."""

    relation: ReporterRelation
    name: Sealed | None = None
    phone: SealedPhone | None = None


@dataclass(frozen=True)
class Sighting:
    sighting_id: str
    seen_at: datetime
    place: Place
    details: Sealed | None  # what was seen, by whom: sealed
    reported_by: Actor
    recorded_at: datetime


@dataclass(frozen=True)
class TraceEntry:
    at: datetime
    actor: Actor
    summary: str  # built from facts, never from sealed text
    status: TraceStatus
    version: int


@dataclass
class Trace:
    trace_id: str
    missing: Subject
    minor: bool
    last_known_place: Place
    last_known_on: date
    destination: Place | None
    respondent: Respondent | None  # the employer, contractor or agent they went with
    contacts: tuple[Contact, ...]
    description: Sealed | None  # appearance, clothes, languages spoken: sealed
    grievance_id: str  # the missing-person case it came from, if any
    migration_episode_id: str  # the registry's episode, for a registered worker
    opened_by: Actor  # its partner is the opening partner
    opened_at: datetime
    status: TraceStatus = TraceStatus.OPEN
    sightings: list[Sighting] = field(default_factory=list)
    timeline: list[TraceEntry] = field(default_factory=list)
    version: int = 1
    updated_at: datetime | None = None
    pending_events: list[TraceEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        *,
        trace_id: str,
        missing: Subject,
        minor: bool,
        last_known_place: Place,
        last_known_on: date | None,
        destination: Place | None = None,
        respondent: Respondent | None = None,
        contacts: tuple[Contact, ...] = (),
        description: Sealed | None = None,
        grievance_id: str = "",
        migration_episode_id: str = "",
        opened_by: Actor,
        now: datetime,
    ) -> Trace:
        violations = [
            *id_violations("trace_id", trace_id),
            *subject_violations(missing, "missing"),
            *last_known_place.violations("last_known_place"),
            *(destination.violations("destination") if destination is not None else []),
            *respondent_violations(respondent),
            *id_violations("grievance_id", grievance_id, required=False),
            *id_violations("migration_episode_id", migration_episode_id, required=False),
        ]
        if last_known_on is None:
            violations.append(FieldViolation("last_known_on", "must be set"))
        elif not EARLIEST_LAST_KNOWN <= last_known_on <= now.date():
            violations.append(FieldViolation("last_known_on", f"must be between {EARLIEST_LAST_KNOWN} and today"))
        if migration_episode_id and not isinstance(missing, RegisteredWorker):
            violations.append(FieldViolation("migration_episode_id", "only a registered worker has migration episodes"))
        if not contacts:
            violations.append(FieldViolation("contacts", "at least one person to call when there is news"))
        elif len(contacts) > MAX_CONTACTS:
            violations.append(FieldViolation("contacts", f"at most {MAX_CONTACTS}"))
        violations.extend(
            FieldViolation(f"contacts[{i}]", "a name or a phone number")
            for i, contact in enumerate(contacts)
            if contact.name is None and contact.phone is None
        )
        if violations or last_known_on is None:
            raise InvalidArgument(violations)
        trace = cls(
            trace_id=trace_id,
            missing=missing,
            minor=minor,
            last_known_place=last_known_place,
            last_known_on=last_known_on,
            destination=destination,
            respondent=respondent,
            contacts=contacts,
            description=description,
            grievance_id=grievance_id,
            migration_episode_id=migration_episode_id,
            opened_by=opened_by,
            opened_at=now,
            updated_at=now,
        )
        trace._record(now, opened_by, "opened")
        trace.pending_events.append(TraceOpened(trace.facts(now)))
        return trace

    @property
    def worker_id(self) -> str:
        return subject_worker_id(self.missing)

    @property
    def opening_partner_id(self) -> str:
        return self.opened_by.partner_id

    def places(self) -> list[tuple[str, str]]:
        """Where the trace belongs, for geographic scoping: home side and destination side both work on it."""
        found = [self.last_known_place.scope]
        if self.destination is not None:
            found.append(self.destination.scope)
        found.extend(s.place.scope for s in self.sightings)
        return list(dict.fromkeys(found))

    def facts(self, now: datetime) -> TraceFacts:
        return TraceFacts(
            trace_id=self.trace_id,
            worker_id=self.worker_id,
            minor=self.minor,
            last_known_place=codes_only(self.last_known_place),
            last_known_on=self.last_known_on,
            destination=codes_only(self.destination) if self.destination is not None else None,
            employer_id=respondent_employer_id(self.respondent),
            respondent_kind=respondent_kind(self.respondent),
            grievance_id=self.grievance_id,
            migration_episode_id=self.migration_episode_id,
            status=self.status,
            version=self.version,
            occurred_at=now,
        )

    def record_sighting(
        self, sighting_id: str, seen_at: datetime, place: Place, details: Sealed | None, by: Actor, now: datetime
    ) -> Sighting:
        if self.status.is_closed:
            raise Conflict(f"trace {self.trace_id} is {self.status.value}: a sighting needs an open trace")
        violations = [*id_violations("sighting_id", sighting_id), *place.violations("place")]
        if seen_at > now + CLOCK_SKEW:
            violations.append(FieldViolation("seen_at", "must not be in the future"))
        if any(s.sighting_id == sighting_id for s in self.sightings):
            violations.append(FieldViolation("sighting_id", "already recorded"))
        if len(self.sightings) >= MAX_SIGHTINGS:
            violations.append(FieldViolation("sightings", f"a trace holds at most {MAX_SIGHTINGS} sightings"))
        if violations:
            raise InvalidArgument(violations)
        sighting = Sighting(sighting_id, seen_at, place, details, by, now)
        self.sightings.append(sighting)
        self._touch(now)
        self._record(now, by, f"sighting {sighting_id} in district {place.district_code}")
        self.pending_events.append(TraceSightingRecorded(self.facts(now), sighting_id, seen_at, codes_only(place)))
        return sighting

    def close(self, outcome: TraceStatus | None, by: Actor, now: datetime) -> None:
        if outcome is None or outcome is TraceStatus.OPEN:
            raise InvalidArgument.for_field("outcome", "must be found, reunited or deceased")
        if outcome not in TRACE_TRANSITIONS.get(self.status, frozenset()):
            raise Conflict(
                f"trace {self.trace_id} is {self.status.value}: closing it as {outcome.value} is not allowed "
                f"from {self.status.value}"
            )
        previous = self.status
        self.status = outcome
        self._touch(now)
        self._record(now, by, f"{previous.value} -> {outcome.value}")
        self.pending_events.append(TraceClosed(self.facts(now), outcome, previous))

    def forget_worker(self, worker_id: str, now: datetime) -> bool:
        """The worker was erased from the registry: the trace no longer names them or describes them."""
        if not worker_id or self.worker_id != worker_id:
            return False
        self.missing = UnregisteredPerson()
        self.description = None
        self.migration_episode_id = ""
        self._touch(now)
        self._record(now, REGISTRY, "the worker's personal data was erased")
        self.pending_events.append(TraceWorkerUnlinked(self.facts(now), UnlinkReason.WORKER_ERASED))
        return True

    def consent_ends_link(self, change: ConsentChange) -> bool:
        return change.ends(self.missing, self.opening_partner_id)

    def unlink_worker(self, change: ConsentChange, now: datetime) -> bool:
        """The worker's consent no longer covers the opening partner's follow-up: the trace stops naming them
        and drops what came from the registry (the migration episode); the search goes on with what the
        family and partners told (places, description, contacts, sightings). False when the change does not
        end the link. A new consent does not restore it."""
        if not self.consent_ends_link(change):
            return False
        self.missing = UnregisteredPerson()
        self.migration_episode_id = ""
        self._touch(now)
        what = "expired" if change.reason is UnlinkReason.CONSENT_EXPIRED else "was withdrawn"
        summary = f"the worker's consent to grievance follow-up {what}: the trace no longer names a registry worker"
        self._record(now, REGISTRY, summary)
        self.pending_events.append(TraceWorkerUnlinked(self.facts(now), change.reason))
        return True

    def move_to_worker(self, merged_worker_id: str, surviving_worker_id: str, now: datetime) -> bool:
        if not merged_worker_id or self.worker_id != merged_worker_id or not surviving_worker_id:
            return False
        # The surviving record holds the merged one's consents; the version the link was checked at was the
        # merged record's, so it no longer orders the survivor's changes.
        previous = self.missing
        self.missing = (
            replace(previous, worker_id=surviving_worker_id, registry_version=0)
            if isinstance(previous, RegisteredWorker)
            else RegisteredWorker(surviving_worker_id)
        )
        self._touch(now)
        self._record(now, REGISTRY, f"worker {merged_worker_id} merged into {surviving_worker_id}")
        return True

    def _touch(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now

    def _record(self, now: datetime, by: Actor, summary: str) -> None:
        self.timeline.append(TraceEntry(now, by, summary, self.status, self.version))
