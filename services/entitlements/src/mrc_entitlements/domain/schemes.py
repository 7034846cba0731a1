"""The scheme aggregate: a welfare scheme as the catalogue describes it, with its versioned eligibility rules.

Every scheme cites where its criteria come from (an act, a notification, an official guideline), so a
determination can always be traced to a public source. Its rules are versioned: a version is drafted,
then published, then retired. A published version never changes; a new draft, once published,
supersedes it (the old one is retired in the same change, so a scheme has at most one published rule).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from mrc_entitlements.domain.facts import DocumentKind
from mrc_entitlements.domain.rules import Condition, ConditionSpec, compile_conditions
from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument, NotFound
from mrc_kernel.place import Place

SCHEME_CODE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
MAX_TEXT_LENGTH = 500
MAX_NAME_LENGTH = 200
MAX_ITEMS = 30
_URL = re.compile(r"^https://[^\s]+$")


class SchemeKind(enum.StrEnum):
    CENTRAL = "central"  # a central (Union) scheme or act, whoever administers it
    STATE = "state"  # run by one state government (administering_state)


class RuleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class BenefitKind(enum.StrEnum):
    CASH_TRANSFER = "cash_transfer"
    INSURANCE = "insurance"
    PENSION = "pension"
    RATION = "ration"
    CARD = "card"  # an identity or entitlement card (e-Shram UAN card, Ayushman card)
    HEALTH_COVER = "health_cover"
    SERVICE = "service"


@dataclass(frozen=True)
class Citation:
    title: str
    authority: str  # who issued it: a ministry, a department, Parliament
    reference: str  # act number, notification number, order number
    issued_on: date | None
    url: str


@dataclass(frozen=True)
class Benefit:
    kind: BenefitKind
    description: str
    amount_inr: int = 0  # 0 when the benefit is not a fixed sum


@dataclass(frozen=True)
class RequiredDocument:
    description: str
    document_kind: str = ""  # a DocumentKind when the registry records that kind


@dataclass(frozen=True)
class WhereToApply:
    description: str
    url: str = ""


@dataclass(frozen=True)
class SchemeDetails:
    """What describes a scheme; its rules are versioned apart."""

    name: str
    local_names: tuple[tuple[str, str], ...]  # (ISO 639 language, name): ("hi", "ई-श्रम")
    kind: SchemeKind
    administering_state: str  # LGD state code for state schemes, "" for central ones
    summary: str
    benefits: tuple[Benefit, ...]
    required_documents: tuple[RequiredDocument, ...]
    where_to_apply: tuple[WhereToApply, ...]
    citations: tuple[Citation, ...]
    renewable: bool = False  # cover that lapses unless renewed (yearly insurance)

    def violations(self, prefix: str = "") -> list[FieldViolation]:
        p = f"{prefix}." if prefix else ""
        found: list[FieldViolation] = []
        if not self.name.strip():
            found.append(FieldViolation(f"{p}name", "must not be empty"))
        elif len(self.name) > MAX_NAME_LENGTH:
            found.append(FieldViolation(f"{p}name", f"must be at most {MAX_NAME_LENGTH} characters"))
        if self.kind is SchemeKind.STATE:
            state_problems = [
                v.description
                for v in Place(self.administering_state, "").violations(f"{p}administering_state")
                if v.field.endswith(".state_code")
            ]
            if not self.administering_state or state_problems:
                found.append(FieldViolation(f"{p}administering_state", "a state scheme names its LGD state code"))
        elif self.administering_state:
            found.append(FieldViolation(f"{p}administering_state", "only state schemes have one"))
        if not self.summary.strip() or len(self.summary) > 2 * MAX_TEXT_LENGTH:
            found.append(FieldViolation(f"{p}summary", f"1 to {2 * MAX_TEXT_LENGTH} characters"))
        for name, items in (
            ("benefits", self.benefits),
            ("required_documents", self.required_documents),
            ("where_to_apply", self.where_to_apply),
            ("citations", self.citations),
        ):
            if not items:
                found.append(FieldViolation(f"{p}{name}", "at least one"))
            elif len(items) > MAX_ITEMS:
                found.append(FieldViolation(f"{p}{name}", f"at most {MAX_ITEMS}"))
        for index, citation in enumerate(self.citations):
            path = f"{p}citations.{index}"
            for field_name in ("title", "authority", "reference"):
                if not getattr(citation, field_name).strip():
                    found.append(FieldViolation(f"{path}.{field_name}", "must not be empty"))
            if not _URL.match(citation.url):
                found.append(FieldViolation(f"{path}.url", "an https:// address of the public source"))
        for index, benefit in enumerate(self.benefits):
            if not benefit.description.strip():
                found.append(FieldViolation(f"{p}benefits.{index}.description", "must not be empty"))
            if benefit.amount_inr < 0:
                found.append(FieldViolation(f"{p}benefits.{index}.amount_inr", "must not be negative"))
        for index, place in enumerate(self.where_to_apply):
            if not place.description.strip():
                found.append(FieldViolation(f"{p}where_to_apply.{index}.description", "must not be empty"))
            if place.url and not _URL.match(place.url):
                found.append(FieldViolation(f"{p}where_to_apply.{index}.url", "an https:// address"))
        for index, document in enumerate(self.required_documents):
            if not document.description.strip():
                found.append(FieldViolation(f"{p}required_documents.{index}.description", "must not be empty"))
            if document.document_kind and document.document_kind not in DocumentKind.__members__.values():
                found.append(
                    FieldViolation(
                        f"{p}required_documents.{index}.document_kind", f"one of {', '.join(DocumentKind)}, or empty"
                    )
                )
        return found


@dataclass(frozen=True)
class RuleVersion:
    """One version of a scheme's eligibility rule; once published, never changed."""

    scheme_code: str
    version: int
    status: RuleStatus
    conditions: tuple[Condition, ...]
    note: str  # why this version: the notification that changed the criteria, a correction
    drafted_by: str
    drafted_at: datetime
    published_at: datetime | None = None
    published_by: str = ""
    retired_at: datetime | None = None
    superseded_by: int = 0

    @property
    def reads(self) -> frozenset[str]:
        return frozenset(fact for condition in self.conditions for fact in condition.reads)


@dataclass(frozen=True)
class RuleVersionDrafted:
    scheme_code: str
    version: int
    drafted_by: str
    at: datetime


@dataclass(frozen=True)
class RuleVersionPublished:
    """Every worker whose determination used the superseded version is re-evaluated."""

    scheme_code: str
    version: int
    superseded_version: int  # 0: the scheme's first published rule
    published_by: str
    at: datetime


@dataclass(frozen=True)
class RuleVersionRetired:
    scheme_code: str
    version: int
    at: datetime


DomainEvent = RuleVersionDrafted | RuleVersionPublished | RuleVersionRetired


@dataclass
class Scheme:
    code: str
    details: SchemeDetails
    rule_versions: list[RuleVersion] = field(default_factory=list)
    version: int = 1  # of the aggregate, for optimistic concurrency
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, code: str, details: SchemeDetails) -> Scheme:
        violations: list[FieldViolation] = []
        if not SCHEME_CODE.match(code):
            violations.append(FieldViolation("code", "lower-case letters, digits and '-', 2 to 40 long"))
        violations += details.violations()
        if violations:
            raise InvalidArgument(violations)
        return cls(code=code, details=details)

    @property
    def published_rule(self) -> RuleVersion | None:
        return next((r for r in self.rule_versions if r.status is RuleStatus.PUBLISHED), None)

    def rule(self, version: int) -> RuleVersion:
        for rule in self.rule_versions:
            if rule.version == version:
                return rule
        raise NotFound(f"scheme {self.code!r} has no rule version {version}")

    def draft_rule(
        self, conditions: Sequence[ConditionSpec], *, note: str, by: str, now: datetime, expected_version: int = 0
    ) -> RuleVersion:
        """A new draft numbered after every version so far; InvalidArgument names each bad condition."""
        self._check_version(expected_version)
        compiled = compile_conditions(conditions)
        note = " ".join(note.split())
        if len(note) > MAX_TEXT_LENGTH:
            raise InvalidArgument.for_field("note", f"must be at most {MAX_TEXT_LENGTH} characters")
        number = max((r.version for r in self.rule_versions), default=0) + 1
        draft = RuleVersion(
            scheme_code=self.code,
            version=number,
            status=RuleStatus.DRAFT,
            conditions=compiled,
            note=note,
            drafted_by=by,
            drafted_at=now,
        )
        self.rule_versions.append(draft)
        self._changed(RuleVersionDrafted(self.code, number, by, now))
        return draft

    def publish(self, version: int, *, by: str, now: datetime, expected_version: int = 0) -> RuleVersion:
        """Publish a draft; the version it supersedes is retired by the same change."""
        self._check_version(expected_version)
        rule = self.rule(version)
        if rule.status is not RuleStatus.DRAFT:
            raise Conflict(
                f"rule version {version} of {self.code!r} is {rule.status.value}; only a draft can become published"
            )
        current = self.published_rule
        if current is not None and current.version > version:
            raise Conflict(
                f"rule version {version} of {self.code!r} is older than the published version {current.version}; "
                "draft a new version instead"
            )
        superseded = 0
        if current is not None:
            superseded = current.version
            self._put(replace(current, status=RuleStatus.RETIRED, retired_at=now, superseded_by=version))
        published = replace(rule, status=RuleStatus.PUBLISHED, published_at=now, published_by=by)
        self._put(published)
        self._changed(RuleVersionPublished(self.code, version, superseded, by, now))
        return published

    def retire(self, version: int, *, now: datetime, expected_version: int = 0) -> RuleVersion:
        """Retire a published version (the scheme then has no rule until another is published) or drop a draft."""
        self._check_version(expected_version)
        rule = self.rule(version)
        if rule.status is RuleStatus.RETIRED:
            raise Conflict(f"rule version {version} of {self.code!r} is already retired")
        retired = replace(rule, status=RuleStatus.RETIRED, retired_at=now)
        self._put(retired)
        self._changed(RuleVersionRetired(self.code, version, now))
        return retired

    def _check_version(self, expected_version: int) -> None:
        if expected_version and expected_version != self.version:
            raise Conflict(
                f"scheme {self.code!r} is at version {self.version}, not {expected_version}; read it again and retry"
            )

    def _put(self, rule: RuleVersion) -> None:
        self.rule_versions = [rule if r.version == rule.version else r for r in self.rule_versions]

    def _changed(self, event: DomainEvent) -> None:
        self.version += 1
        self.pending_events.append(event)
