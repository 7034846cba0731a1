"""The worker aggregate: who a migrant worker is, as the registry records them.

Sensitive values arrive here already protected (encrypted, blind-indexed, masked) by the service
layer: the domain decides what is valid and what changed, never holds a key, and never sees an
Aadhaar number.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument, NotFound
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Gender, Sector
from mrc_registry.domain.consent import Consent, active_purposes
from mrc_registry.domain.federation import (
    NOTHING,
    FederationScope,
    ForeignRecord,
    ReadOnlyCopy,
    SharingPlan,
    WithdrawalReason,
    sharing_grants,
    withdrawal_reason,
)

MAX_NAME_LENGTH = 200
MAX_TEXT_LENGTH = 200
MAX_LIST_ITEMS = 20
EARLIEST_BIRTH_YEAR = 1900
# Child labour is a risk we record, not a reason to refuse registration; but nobody under 10 migrates for work.
YOUNGEST_AGE_YEARS = 10
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class WorkerStatus(enum.StrEnum):
    ACTIVE = "active"
    MERGED = "merged"
    ERASED = "erased"


class Vulnerability(enum.StrEnum):
    SINGLE_WOMAN = "single_woman"
    DISABILITY = "disability"
    CHILD_LABOUR_RISK = "child_labour_risk"
    BONDED_LABOUR_RISK = "bonded_labour_risk"
    ELDERLY = "elderly"
    PREGNANT = "pregnant"
    NO_DOCUMENTS = "no_documents"


class DocumentKind(enum.StrEnum):
    AADHAAR = "aadhaar"
    E_SHRAM_UAN = "e_shram_uan"
    RATION_CARD = "ration_card"
    VOTER_ID = "voter_id"
    JOB_CARD = "job_card"
    PAN = "pan"
    PASSPORT = "passport"


@dataclass(frozen=True)
class ProtectedPhone:
    encrypted: str  # field-cipher token; only the service layer can open it
    blind_index: str  # keyed hash of the E.164 number, for matching
    last4: str


@dataclass(frozen=True)
class IdentityDocument:
    kind: DocumentKind
    blind_index: str
    masked: str
    # Empty for Aadhaar: the number itself is never stored, only its blind index and last 4 digits.
    encrypted: str = ""


@dataclass(frozen=True)
class WorkerDetails:
    """Everything about a worker that a registrar records and may later correct."""

    full_name: str
    gender: Gender | None
    birth_year: int | None
    home: Place
    occupation: str = ""
    sector: Sector | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    vulnerabilities: frozenset[Vulnerability] = frozenset()
    father_or_spouse_name: str = ""
    phone: ProtectedPhone | None = None
    identity_documents: tuple[IdentityDocument, ...] = ()
    # Latin transliteration of full_name, derived by the service layer for search and matching.
    latin_name: str = ""

    def normalised(self) -> WorkerDetails:
        return replace(
            self,
            full_name=" ".join(self.full_name.split()),
            father_or_spouse_name=" ".join(self.father_or_spouse_name.split()),
            occupation=self.occupation.strip(),
            skills=tuple(s.strip() for s in self.skills if s.strip()),
            languages=tuple(code.strip().lower() for code in self.languages),
        )

    def violations(self, now: datetime) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        if not self.full_name:
            found.append(FieldViolation("full_name", "must not be empty"))
        elif len(self.full_name) > MAX_NAME_LENGTH:
            found.append(FieldViolation("full_name", f"must be at most {MAX_NAME_LENGTH} characters"))
        if self.gender is None:
            found.append(FieldViolation("gender", "must be set"))
        latest = now.year - YOUNGEST_AGE_YEARS
        if self.birth_year is not None and not EARLIEST_BIRTH_YEAR <= self.birth_year <= latest:
            found.append(FieldViolation("birth_year", f"must be between {EARLIEST_BIRTH_YEAR} and {latest}"))
        found += self.home.violations("home")
        for name, value in (
            ("occupation", self.occupation),
            ("father_or_spouse_name", self.father_or_spouse_name),
        ):
            if len(value) > MAX_TEXT_LENGTH:
                found.append(FieldViolation(name, f"must be at most {MAX_TEXT_LENGTH} characters"))
        if len(self.skills) > MAX_LIST_ITEMS or any(len(s) > 60 for s in self.skills):
            found.append(FieldViolation("skills", f"at most {MAX_LIST_ITEMS} skills of up to 60 characters"))
        if len(self.languages) > MAX_LIST_ITEMS or not all(LANGUAGE_CODE.match(c) for c in self.languages):
            found.append(FieldViolation("languages", "ISO 639 codes such as 'hi', 'bho', 'mai'"))
        kinds = [d.kind for d in self.identity_documents]
        if len(kinds) != len(set(kinds)):
            found.append(FieldViolation("identity_documents", "one document of each kind"))
        return found


@dataclass(frozen=True)
class WorkerRegistered:
    worker: Worker


@dataclass(frozen=True)
class WorkerUpdated:
    worker: Worker
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class ConsentChanged:
    worker: Worker
    consent: Consent


@dataclass(frozen=True)
class WorkerErased:
    worker_id: str
    erased_at: datetime


@dataclass(frozen=True)
class WorkersMerged:
    surviving_worker_id: str
    merged_worker_id: str
    merged_at: datetime


DomainEvent = WorkerRegistered | WorkerUpdated | ConsentChanged | WorkerErased | WorkersMerged


@dataclass
class Worker:
    worker_id: str
    details: WorkerDetails
    registering_partner_id: str
    registered_at: datetime
    updated_at: datetime
    consents: list[Consent] = field(default_factory=list)
    status: WorkerStatus = WorkerStatus.ACTIVE
    merged_into: str = ""
    version: int = 1
    # The other states this record was last shared with (cross-state federation).
    shared_with_states: frozenset[str] = frozenset()
    # Set when this is a read-only copy of a record another state's registry holds; its `consents` are then
    # only those captured by this state's partners (linking to the copy), kept when the copy is replaced.
    foreign: ForeignRecord | None = None
    # Events raised by the last change, not yet stored; the repository moves them into the outbox.
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls,
        *,
        worker_id: str,
        details: WorkerDetails,
        consent: Consent,
        registering_partner_id: str,
        now: datetime,
        extra_violations: list[FieldViolation] | None = None,
    ) -> Worker:
        details = details.normalised()
        violations = [*(extra_violations or []), *details.violations(now)]
        if violations:
            raise InvalidArgument(violations)
        worker = cls(
            worker_id=worker_id,
            details=details,
            registering_partner_id=registering_partner_id,
            registered_at=now,
            updated_at=now,
            consents=[consent],
        )
        worker.pending_events.append(WorkerRegistered(worker))
        return worker

    def _require_active(self) -> None:
        if self.status is not WorkerStatus.ACTIVE:
            raise NotFound(f"no worker {self.worker_id!r}")

    @property
    def is_copy(self) -> bool:
        """A read-only copy of another state's record (cross-state federation)."""
        return self.foreign is not None

    def require_own(self, what: str) -> None:
        """Refuse a change that only the record's home state makes (`what`: e.g. "it is changed")."""
        if self.foreign is not None:
            raise ReadOnlyCopy(self.worker_id, self.foreign.home_state_code, what)

    def update(self, changes: WorkerDetails, now: datetime, *, expected_version: int = 0) -> tuple[str, ...]:
        """Apply corrected details; returns the names of the fields that changed (none: no event)."""
        self._require_active()
        self.require_own("its details are corrected")
        if expected_version and expected_version != self.version:
            raise Conflict(f"worker {self.worker_id} is at version {self.version}, not {expected_version}")
        changes = changes.normalised()
        if violations := changes.violations(now):
            raise InvalidArgument(violations)
        changed = tuple(
            f.name for f in fields(WorkerDetails) if getattr(changes, f.name) != getattr(self.details, f.name)
        )
        if changed:
            self.details = changes
            self.updated_at = now
            self.version += 1
            self.pending_events.append(WorkerUpdated(self, changed))
        return changed

    def grant_consent(self, consent: Consent) -> None:
        self._require_active()
        self.consents.append(consent)
        self.updated_at = consent.captured_at
        self.version += 1
        self.pending_events.append(ConsentChanged(self, consent))

    def revoke_consent(self, consent_id: str, now: datetime) -> Consent:
        self._require_active()
        for index, consent in enumerate(self.consents):
            if consent.consent_id == consent_id and consent.revoked_at is None:
                revoked = consent.revoked(now)
                self.consents[index] = revoked
                self.updated_at = now
                self.version += 1
                self.pending_events.append(ConsentChanged(self, revoked))
                return revoked
        raise NotFound(f"no active consent {consent_id!r} for worker {self.worker_id!r}")

    def announce_expired_consents(self, now: datetime) -> bool:
        """Publish each consent that has reached its expiry (once), so consumers stop using it. A copy whose
        home state's consent expired goes, even if the withdrawal from its home state has not arrived."""
        if self.foreign is not None and self.status is WorkerStatus.ACTIVE and not self.foreign.is_active(now):
            self.withdraw_copy(now, self.foreign.source_version)
            return True
        expired = [i for i, c in enumerate(self.consents) if c.expired_unannounced(now)]
        for index in expired:
            self.consents[index] = replace(self.consents[index], expiry_announced=True)
            self.pending_events.append(ConsentChanged(self, self.consents[index]))
        if expired:
            self.updated_at = now
            self.version += 1
        return bool(expired)

    def unannounced_expiries(self) -> list[datetime]:
        """When the consents not yet announced as expired will expire (for the store to find them), and when
        the consent allowing a copy expires."""
        expiries = [
            c.expires_at
            for c in self.consents
            if c.expires_at is not None and c.revoked_at is None and not c.expiry_announced
        ]
        if self.foreign is not None and self.foreign.consent_expires_at is not None:
            expiries.append(self.foreign.consent_expires_at)
        return sorted(expiries)

    def active_purposes(self, now: datetime) -> frozenset[str]:
        return frozenset(p.value for p in active_purposes(self.consents, now))

    def erase(self, now: datetime) -> None:
        """Remove personal data for good; what stays (gender, home district, sector) only feeds anonymous counts."""
        if self.status is WorkerStatus.ERASED:
            return
        self.require_own("erasure is requested")
        self._erase(now)

    def _erase(self, now: datetime) -> None:
        home = self.details.home
        self.details = WorkerDetails(
            full_name="",
            gender=self.details.gender,
            birth_year=None,
            home=Place(home.state_code, home.district_code),
            sector=self.details.sector,
        )
        self.consents = []
        self.status = WorkerStatus.ERASED
        self.updated_at = now
        self.version += 1
        self.pending_events.append(WorkerErased(self.worker_id, now))

    def merge_into(self, surviving_worker_id: str, now: datetime) -> None:
        self._require_active()
        self.require_own("duplicates are merged")
        if surviving_worker_id == self.worker_id:
            raise InvalidArgument.for_field("surviving_worker_id", "cannot merge a worker into itself")
        self.status = WorkerStatus.MERGED
        self.merged_into = surviving_worker_id
        self.updated_at = now
        self.version += 1
        self.pending_events.append(WorkersMerged(surviving_worker_id, self.worker_id, now))

    def absorb(self, duplicate: Worker, now: datetime) -> None:
        """Take over what only the duplicate knew: its consents (so its partners keep access) and documents.
        A copy of another state's record takes the consents only: its details are its home state's."""
        self._require_active()
        known = {c.consent_id for c in self.consents}
        self.consents.extend(c for c in duplicate.consents if c.consent_id not in known)
        if self.foreign is not None:
            self.updated_at = now
            self.version += 1
            self.pending_events.append(WorkerUpdated(self, ("consents",)))
            return
        kinds = {d.kind for d in self.details.identity_documents}
        extra = tuple(d for d in duplicate.details.identity_documents if d.kind not in kinds)
        changed = ["consents"]
        if extra:
            self.details = replace(self.details, identity_documents=self.details.identity_documents + extra)
            changed.append("identity_documents")
        if self.details.phone is None and duplicate.details.phone is not None:
            self.details = replace(self.details, phone=duplicate.details.phone)
            changed.append("phone")
        self.updated_at = now
        self.version += 1
        self.pending_events.append(WorkerUpdated(self, tuple(changed)))

    def places(self) -> list[tuple[str, str]]:
        """Where the worker belongs, for geographic data scoping. A copy of another state's record also
        belongs to this whole state, where its home state shared it."""
        home = (self.details.home.state_code, self.details.home.district_code)
        if self.foreign is not None:
            return [home, (self.foreign.local_state_code, "")]
        return [home]

    # -- cross-state federation ----------------------------------------------------------------------

    def plan_sharing(self, scope: FederationScope, now: datetime) -> SharingPlan:
        """Where the change just made (its pending events) must be told in other states: the current summary to
        every state the worker's cross-state consents allow, a withdrawal to each state that held the record
        and no longer may. Records where they now are (`shared_with_states`). Copies are never passed on."""
        if self.foreign is not None or not scope.enabled or not self.pending_events:
            return NOTHING
        previously = self.shared_with_states
        if self.status is WorkerStatus.ACTIVE:
            grants = sharing_grants(self.consents, scope, now)
            withdrawn = {s: withdrawal_reason(self.consents, s, now) for s in sorted(previously - set(grants))}
        else:
            grants = {}
            reason = WithdrawalReason.MERGED if self.status is WorkerStatus.MERGED else WithdrawalReason.ERASED
            withdrawn = dict.fromkeys(sorted(previously), reason)
        self.shared_with_states = frozenset(grants)
        return SharingPlan(grants, withdrawn, self.merged_into)

    def withdraw_copy(self, now: datetime, source_version: int) -> None:
        """This copy may no longer be held here (its home state withdrew it, or the consent allowing it
        expired): its personal data goes, and `WorkerErased` tells this state's services to drop what they
        derived from it. The mark of its origin stays, so an older summary delivered again is recognised."""
        if self.foreign is None:
            raise ValueError("only a copy of another state's record is withdrawn")
        if self.status is not WorkerStatus.ACTIVE:
            return
        self.foreign = replace(self.foreign, source_version=max(source_version, self.foreign.source_version))
        self._erase(now)
