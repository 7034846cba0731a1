"""The minimum-wage table: rows operators maintain as data, each citing its notification, and the rules
that pick the row applying to a worker on a day.

A row is one rate of one notification: sphere (central or a state), scheduled employment, skill
category and area as the notification prints them, a rate per day or per month, the dates it covers,
and where it comes from. Rows are never edited in place: a correction supersedes a row with a new
revision (the old one stays, marked superseded, so past assessments can be re-read); a row entered by
mistake is withdrawn. Caveats travel with a row (a derived value, a source conflicting with a reissue,
an OCR transcription, an unknown effective date) and with every assessment made against it.

Which row applies, for (sphere, state, scheduled employment, skill, area, day):
1. Sphere: the appropriate government of the employment decides. Central-sphere employments (the
   centre's own establishments, railways, mines, oilfields, major ports, central corporations) take
   central rows, whatever the state; all others take the rows of the worksite's state. A state-sphere
   employment never borrows a central rate, nor the reverse: without its own row it has no rate here.
2. Scheduled employment: rows for that employment; only if none of them is in force on the day, the
   state's rows for all scheduled employments (`all_scheduled_employments`).
3. Skill: the row's category, or any part of a category printed with a slash ("Semi-skilled/Unskilled
   supervisory" answers to semi_skilled and unskilled_supervisory too).
4. Area: the row's area; a row without an area covers the whole jurisdiction. A jurisdiction with area
   classes needs the area: without it no row matches.
5. Day: active rows with effective_from <= day (and day <= effective_until when a row has an end);
   the latest effective_from wins; a row of the exact area beats a whole-jurisdiction row of the same
   date. Rows whose effective date is unknown are kept and listed but never applied.
A monthly rate counts per day as 1/26 of the month, the divisor the central orders (monthly = daily x
26) and the draft OSH rules for overtime use.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from mrc_employer.domain.values import check_text, is_key, key_of, parse_amount, parse_date
from mrc_geography import lgd
from mrc_kernel.errors import AlreadyExists, Conflict, FieldViolation, InvalidArgument, NotFound

MONTHLY_DAYS_DIVISOR = 26
ALL_SCHEDULED_EMPLOYMENTS = "all_scheduled_employments"
MAX_LABEL_LENGTH = 200
MAX_REFERENCE_LENGTH = 300
MAX_NOTE_LENGTH = 1000
MAX_URL_LENGTH = 500
MAX_SOURCES = 5


class WageSphere(enum.StrEnum):
    CENTRAL = "central"
    STATE = "state"


class RateUnit(enum.StrEnum):
    PER_DAY = "per_day"
    PER_MONTH = "per_month"


class ValueStatus(enum.StrEnum):
    STATED = "stated"  # the amount is printed in the source
    DERIVED = "derived"  # computed by whoever transcribed it (e.g. basic + VDA from two orders)


class RateCaveat(enum.StrEnum):
    DERIVED_VALUE = "derived_value"
    # The total is stated; only its split into basic and VDA was derived.
    COMPONENT_SPLIT_DERIVED = "component_split_derived"
    # A corrected reissue of the order gives other figures.
    CONFLICTS_WITH_REISSUE = "conflicts_with_reissue"
    OCR_TRANSCRIPTION = "ocr_transcription"
    EFFECTIVE_DATE_UNKNOWN = "effective_date_unknown"
    # The date is inferred (e.g. from a later order quoting these as the previous rates).
    EFFECTIVE_DATE_INFERRED = "effective_date_inferred"
    SCHEDULED_EMPLOYMENT_UNSPECIFIED = "scheduled_employment_unspecified"


# Caveats that put the amount or its date in doubt: an underpayment measured against such a row is
# reported as provisional (and counts half in the score).
PROVISIONAL_CAVEATS = frozenset(
    {
        RateCaveat.DERIVED_VALUE,
        RateCaveat.CONFLICTS_WITH_REISSUE,
        RateCaveat.OCR_TRANSCRIPTION,
        RateCaveat.EFFECTIVE_DATE_INFERRED,
    }
)


class RateStatus(enum.StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class MinimumWageKey:
    """What a wage record asks the table: keys, not labels."""

    sphere: WageSphere
    state_code: str  # LGD state code of the worksite (ignored for the central sphere)
    scheduled_employment: str
    skill_category: str
    area: str = ""


@dataclass(frozen=True)
class RateInput:
    """A row as an operator (or the seed) states it: labels as printed, amounts as text."""

    sphere: WageSphere | None
    state_code: str
    scheduled_employment: str
    skill_category: str
    area: str
    unit: RateUnit | None
    amount: str
    effective_from: str
    notification_ref: str
    source_urls: tuple[str, ...] = ()
    effective_until: str = ""
    basic: str = ""
    vda: str = ""
    # The key wage records use; derived from the label when empty.
    scheduled_employment_key: str = ""
    value_status: ValueStatus = ValueStatus.STATED
    caveats: frozenset[RateCaveat] = frozenset()
    note: str = ""


@dataclass(frozen=True)
class MinimumWageRate:
    rate_id: str
    sphere: WageSphere
    state_code: str  # LGD; empty for the central sphere
    scheduled_employment: str  # key
    scheduled_employment_label: str
    skill_label: str
    area_label: str
    unit: RateUnit
    amount: Decimal  # rupees per unit, basic + VDA where both are known
    basic: Decimal | None
    vda: Decimal | None
    effective_from: date | None
    effective_until: date | None
    notification_ref: str
    source_urls: tuple[str, ...]
    value_status: ValueStatus
    caveats: frozenset[RateCaveat]
    note: str
    recorded_at: datetime
    status: RateStatus = RateStatus.ACTIVE
    # 1 for a first entry, +1 for each correction that supersedes the one before.
    revision: int = 1
    supersedes: str = ""
    superseded_by: str = ""
    change_reason: str = ""
    # Optimistic concurrency for operators editing the row.
    version: int = 1

    # Cached: every lookup compares them, and a row never changes (a correction is a new row).
    @functools.cached_property
    def skill_keys(self) -> frozenset[str]:
        parts = {key_of(part) for part in self.skill_label.split("/") if key_of(part)}
        return frozenset({key_of(self.skill_label), *parts})

    @functools.cached_property
    def area_key(self) -> str:
        return key_of(self.area_label)

    @property
    def per_day(self) -> Decimal:
        """The rate for one day, unrounded (rounding happens once, on the amount due)."""
        return self.amount if self.unit is RateUnit.PER_DAY else self.amount / MONTHLY_DAYS_DIVISOR

    @property
    def provisional(self) -> bool:
        return bool(self.caveats & PROVISIONAL_CAVEATS)

    @property
    def applicable(self) -> bool:
        return self.status is RateStatus.ACTIVE and self.effective_from is not None

    def in_force_on(self, day: date) -> bool:
        return (
            self.applicable
            and self.effective_from is not None
            and self.effective_from <= day
            and (self.effective_until is None or day <= self.effective_until)
        )

    def matches(self, key: MinimumWageKey, scheduled_employment: str) -> bool:
        return (
            self.sphere is key.sphere
            and (key.sphere is WageSphere.CENTRAL or self.state_code == key.state_code)
            and self.scheduled_employment == scheduled_employment
            and key.skill_category in self.skill_keys
            and self.area_key in ("", key.area)
        )

    @property
    def identity(self) -> tuple[object, ...]:
        """Two active rows may not share this: the same rate twice, or two rates for one day."""
        return (
            self.sphere,
            self.state_code,
            self.scheduled_employment,
            key_of(self.skill_label),
            self.area_key,
            self.effective_from,
        )


@dataclass(frozen=True)
class RateSpan:
    """Part of a wage period during which one row (or none) applies."""

    start: date
    end: date  # inclusive
    rate: MinimumWageRate | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class MinimumWageRateRecorded:
    rate: MinimumWageRate


@dataclass(frozen=True)
class MinimumWageRateSuperseded:
    superseded: MinimumWageRate
    replacement: MinimumWageRate


@dataclass(frozen=True)
class MinimumWageRateWithdrawn:
    rate: MinimumWageRate


MinimumWageEvent = MinimumWageRateRecorded | MinimumWageRateSuperseded | MinimumWageRateWithdrawn


def build_rate(rate_id: str, given: RateInput, now: datetime) -> MinimumWageRate:
    """A validated row, or InvalidArgument naming every bad field."""
    violations: list[FieldViolation] = []
    if given.sphere is None:
        violations.append(FieldViolation("sphere", "must be central or state"))
    state_code = given.state_code.strip()
    if given.sphere is WageSphere.CENTRAL and state_code:
        violations.append(FieldViolation("state_code", "must be empty for a central-sphere rate"))
    elif given.sphere is WageSphere.STATE and state_code not in lgd().states:
        violations.append(FieldViolation("state_code", f"must be an LGD state code, not {state_code!r}"))
    employment_label = check_text(
        "scheduled_employment", given.scheduled_employment, violations, max_length=MAX_LABEL_LENGTH, required=True
    )
    employment_key = given.scheduled_employment_key.strip() or key_of(employment_label)
    if employment_label and not is_key(employment_key):
        violations.append(FieldViolation("scheduled_employment_key", "must be lower-case words joined by _"))
    skill_label = check_text(
        "skill_category", given.skill_category, violations, max_length=MAX_LABEL_LENGTH, required=True
    )
    area_label = check_text("area", given.area, violations, max_length=MAX_LABEL_LENGTH, required=False)
    if given.unit is None:
        violations.append(FieldViolation("unit", "must be per_day or per_month"))
    amount = parse_amount("amount", given.amount, violations, positive=True)
    basic = parse_amount("basic", given.basic, violations, required=False)
    vda = parse_amount("vda", given.vda, violations, required=False)
    if amount is not None and basic is not None and vda is not None and basic + vda != amount:
        violations.append(FieldViolation("amount", f"must equal basic + vda ({basic + vda})"))
    effective_from = parse_date("effective_from", given.effective_from, violations, required=False)
    effective_until = parse_date("effective_until", given.effective_until, violations, required=False)
    if effective_until and not effective_from:
        violations.append(FieldViolation("effective_until", "needs effective_from"))
    elif effective_from and effective_until and effective_until < effective_from:
        violations.append(FieldViolation("effective_until", "must not be before effective_from"))
    reference = check_text(
        "notification_ref", given.notification_ref, violations, max_length=MAX_REFERENCE_LENGTH, required=False
    )
    urls = tuple(url.strip() for url in given.source_urls if url.strip())
    if len(urls) > MAX_SOURCES:
        violations.append(FieldViolation("source_urls", f"at most {MAX_SOURCES} sources"))
    for position, url in enumerate(urls):
        if not url.startswith(("https://", "http://")) or len(url) > MAX_URL_LENGTH or " " in url:
            violations.append(FieldViolation(f"source_urls.{position}", "must be an http(s) address"))
    if not reference and not urls:
        violations.append(FieldViolation("notification_ref", "cite the notification (or at least a source address)"))
    note = check_text("note", given.note, violations, max_length=MAX_NOTE_LENGTH, required=False)
    if violations or given.sphere is None or given.unit is None or amount is None:
        raise InvalidArgument(violations)
    caveats = set(given.caveats)
    if effective_from is None:
        caveats.add(RateCaveat.EFFECTIVE_DATE_UNKNOWN)
    if given.value_status is ValueStatus.DERIVED:
        caveats.add(RateCaveat.DERIVED_VALUE)
    return MinimumWageRate(
        rate_id=rate_id,
        sphere=given.sphere,
        state_code=state_code if given.sphere is WageSphere.STATE else "",
        scheduled_employment=employment_key,
        scheduled_employment_label=employment_label,
        skill_label=skill_label,
        area_label=area_label,
        unit=given.unit,
        amount=amount,
        basic=basic,
        vda=vda,
        effective_from=effective_from,
        effective_until=effective_until,
        notification_ref=reference,
        source_urls=urls,
        value_status=given.value_status,
        caveats=frozenset(caveats),
        note=note,
        recorded_at=now,
    )


class MinimumWageTable:
    """The rows, indexed for lookups, and the operations that keep them consistent."""

    def __init__(self, rates: Iterable[MinimumWageRate] = ()) -> None:
        self._rates: dict[str, MinimumWageRate] = {}
        # (sphere, state or "", scheduled employment) -> applicable rows, latest effective_from first.
        self._families: dict[tuple[WageSphere, str, str], list[MinimumWageRate]] = {}
        self.pending_events: list[MinimumWageEvent] = []
        for rate in rates:
            self._rates[rate.rate_id] = rate
        self._reindex()

    def _reindex(self) -> None:
        self._families = {}
        for rate in self._rates.values():
            if rate.applicable:
                self._families.setdefault(self._family_of(rate), []).append(rate)
        for rows in self._families.values():
            rows.sort(key=lambda r: (r.effective_from, r.rate_id), reverse=True)

    @staticmethod
    def _family_of(rate: MinimumWageRate) -> tuple[WageSphere, str, str]:
        return (rate.sphere, rate.state_code, rate.scheduled_employment)

    @staticmethod
    def _families_for(key: MinimumWageKey) -> list[tuple[WageSphere, str, str]]:
        state = "" if key.sphere is WageSphere.CENTRAL else key.state_code
        return [(key.sphere, state, key.scheduled_employment), (key.sphere, state, ALL_SCHEDULED_EMPLOYMENTS)]

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rates)

    def rate(self, rate_id: str) -> MinimumWageRate:
        found = self._rates.get(rate_id)
        if found is None:
            raise NotFound(f"no minimum-wage rate {rate_id!r}")
        return found

    def rows(
        self,
        *,
        sphere: WageSphere | None = None,
        state_code: str = "",
        scheduled_employment: str = "",
        include_inactive: bool = False,
    ) -> list[MinimumWageRate]:
        """Rows for listing, most recent first; undated rows last."""
        chosen = [
            r
            for r in self._rates.values()
            if (include_inactive or r.status is RateStatus.ACTIVE)
            and (sphere is None or r.sphere is sphere)
            and (not state_code or r.state_code == state_code)
            and (not scheduled_employment or r.scheduled_employment == scheduled_employment)
        ]
        return sorted(chosen, key=lambda r: (r.effective_from or date.min, r.rate_id), reverse=True)

    def applicable(self, key: MinimumWageKey, on: date) -> MinimumWageRate | None:
        for family in self._families_for(key):
            employment = family[2]
            best: MinimumWageRate | None = None
            for rate in self._families.get(family, ()):
                if best is not None and best.effective_from != rate.effective_from:
                    break  # rows are latest first: nothing later can win
                if (
                    rate.in_force_on(on)
                    and rate.matches(key, employment)
                    and (best is None or (rate.area_key and not best.area_key))
                ):
                    best = rate
            if best is not None:
                return best
        return None

    def spans(self, key: MinimumWageKey, start: date, end: date) -> list[RateSpan]:
        """[start, end] cut where the applicable row may change, each part with its row (or None)."""
        changes = {start}
        for family in self._families_for(key):
            for rate in self._families.get(family, ()):
                for boundary in (rate.effective_from, rate.effective_until and rate.effective_until + timedelta(1)):
                    if boundary and start < boundary <= end:
                        changes.add(boundary)
        cuts = sorted(changes)
        spans: list[RateSpan] = []
        for position, cut in enumerate(cuts):
            last = cuts[position + 1] - timedelta(1) if position + 1 < len(cuts) else end
            found = self.applicable(key, cut)
            if spans and spans[-1].rate is found:
                spans[-1] = RateSpan(spans[-1].start, last, found)
            else:
                spans.append(RateSpan(cut, last, found))
        return spans

    # -- changes ----------------------------------------------------------------------------

    def _check_unique(self, candidate: MinimumWageRate, ignoring: str = "") -> None:
        if candidate.rate_id in self._rates:
            raise AlreadyExists(f"minimum-wage rate {candidate.rate_id!r} exists")
        if candidate.effective_from is None:
            return  # an undated row is never applied, so it cannot clash
        for other in self._rates.values():
            if other.rate_id != ignoring and other.status is RateStatus.ACTIVE and other.identity == candidate.identity:
                raise Conflict(
                    f"rate {other.rate_id} already gives {candidate.skill_label!r} in {candidate.scheduled_employment} "
                    f"from {candidate.effective_from}: supersede it instead"
                )

    def add(self, rate_id: str, given: RateInput, now: datetime) -> MinimumWageRate:
        rate = build_rate(rate_id, given, now)
        self._check_unique(rate)
        self._rates[rate_id] = rate
        self._reindex()
        self.pending_events.append(MinimumWageRateRecorded(rate))
        return rate

    def supersede(
        self,
        rate_id: str,
        *,
        replacement_id: str,
        given: RateInput,
        reason: str,
        now: datetime,
        expected_version: int = 0,
    ) -> tuple[MinimumWageRate, MinimumWageRate]:
        """Correct a row: the new revision replaces it in every lookup; the old one is kept, superseded."""
        old = self._active(rate_id, expected_version)
        violations: list[FieldViolation] = []
        reason = check_text("reason", reason, violations, max_length=MAX_NOTE_LENGTH, required=True)
        if violations:
            raise InvalidArgument(violations)
        new = replace(
            build_rate(replacement_id, given, now),
            revision=old.revision + 1,
            supersedes=old.rate_id,
            change_reason=reason,
        )
        self._check_unique(new, ignoring=old.rate_id)
        retired = replace(
            old, status=RateStatus.SUPERSEDED, superseded_by=new.rate_id, change_reason=reason, version=old.version + 1
        )
        self._rates[old.rate_id] = retired
        self._rates[new.rate_id] = new
        self._reindex()
        self.pending_events.append(MinimumWageRateSuperseded(retired, new))
        return retired, new

    def withdraw(self, rate_id: str, *, reason: str, now: datetime, expected_version: int = 0) -> MinimumWageRate:
        """Take out a row entered by mistake; it stays listed, withdrawn, and is never applied again."""
        old = self._active(rate_id, expected_version)
        violations: list[FieldViolation] = []
        reason = check_text("reason", reason, violations, max_length=MAX_NOTE_LENGTH, required=True)
        if violations:
            raise InvalidArgument(violations)
        withdrawn = replace(old, status=RateStatus.WITHDRAWN, change_reason=reason, version=old.version + 1)
        self._rates[rate_id] = withdrawn
        self._reindex()
        self.pending_events.append(MinimumWageRateWithdrawn(withdrawn))
        return withdrawn

    def _active(self, rate_id: str, expected_version: int) -> MinimumWageRate:
        rate = self.rate(rate_id)
        if expected_version and expected_version != rate.version:
            raise Conflict(f"rate {rate_id} is at version {rate.version}, not {expected_version}")
        if rate.status is not RateStatus.ACTIVE:
            raise Conflict(f"rate {rate_id} is {rate.status.value}, not active")
        return rate
