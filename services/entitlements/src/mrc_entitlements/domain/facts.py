"""The facts eligibility rules read, and how they are assembled from the registry's events.

The registry publishes non-identifying facts about each worker (`WorkerFacts` on registration and
update, `MigrationRecorded`, `HouseholdChanged`, `ConsentChanged`); this service keeps the latest of each
in a `WorkerProfile` and turns it into a `FactsSnapshot`: the values a rule may read, by name. A fact we
do not hold is absent from the snapshot, never defaulted: a condition that needs it is `unknown`, and
the fact is named so a caseworker knows what to ask.

Names, phone numbers, identity numbers and case text never reach this module.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Final

from mrc_kernel.errors import InvalidArgument


class FactType(enum.StrEnum):
    """The CEL type of a fact (what a rule's expression is type-checked against)."""

    INT = "int"
    BOOL = "bool"
    STRING = "string"
    STRING_LIST = "list<string>"


class FactSource(enum.StrEnum):
    REGISTRY = "registry"  # WorkerFacts
    MIGRATION = "migration"  # MigrationRecorded
    HOUSEHOLD = "household"  # HouseholdChanged
    NOT_HELD = "not_held"  # never in the registry's events: always unknown, to be asked


@dataclass(frozen=True)
class FactDefinition:
    name: str
    type: FactType
    source: FactSource
    description: str


def _define(*definitions: FactDefinition) -> Mapping[str, FactDefinition]:
    return MappingProxyType({d.name: d for d in definitions})


R, M, H, N = FactSource.REGISTRY, FactSource.MIGRATION, FactSource.HOUSEHOLD, FactSource.NOT_HELD

FACTS: Final[Mapping[str, FactDefinition]] = _define(
    FactDefinition("age", FactType.INT, R, "age in completed years, from the birth year (see date_of_birth)"),
    FactDefinition("birth_year", FactType.INT, R, "year of birth"),
    FactDefinition("gender", FactType.STRING, R, "female, male or transgender (unknown when undisclosed)"),
    FactDefinition("sector", FactType.STRING, R, "construction, agriculture, brick_kiln, domestic_work..."),
    FactDefinition("occupation", FactType.STRING, R, "occupation as recorded, free text"),
    FactDefinition("home_state", FactType.STRING, R, "LGD code of the home (source) state"),
    FactDefinition("home_district", FactType.STRING, R, "LGD code of the home district"),
    FactDefinition("home_subdistrict", FactType.STRING, R, "LGD code of the home sub-district"),
    FactDefinition("documents", FactType.STRING_LIST, R, "kinds of identity document held (aadhaar, pan...)"),
    FactDefinition("vulnerabilities", FactType.STRING_LIST, R, "single_woman, disability, elderly..."),
    FactDefinition("migration_status", FactType.STRING, M, "none, planned, ongoing, returned or missing"),
    FactDefinition("destination_state", FactType.STRING, M, "LGD state code of the current destination in India"),
    FactDefinition("destination_district", FactType.STRING, M, "LGD district code of the current destination"),
    FactDefinition("destination_country", FactType.STRING, M, "ISO 3166 code of the current destination abroad"),
    FactDefinition("interstate_migrant", FactType.BOOL, M, "working now in another state than the home state"),
    FactDefinition("household_size", FactType.INT, H, "number of members of the worker's household"),
    FactDefinition("household_has_ration_card", FactType.BOOL, H, "whether the household holds a ration card"),
    FactDefinition("ration_card_state", FactType.STRING, H, "LGD code of the state that issued the ration card"),
    FactDefinition("date_of_birth", FactType.STRING, N, "exact date of birth, when the birth year leaves age open"),
    FactDefinition("monthly_income", FactType.INT, N, "monthly income in rupees"),
    FactDefinition("income_tax_payer", FactType.BOOL, N, "whether the worker pays income tax"),
    FactDefinition("government_employee", FactType.BOOL, N, "whether the worker is a government employee"),
    FactDefinition("epfo_member", FactType.BOOL, N, "member of the Employees' Provident Fund (EPFO)"),
    FactDefinition("esic_member", FactType.BOOL, N, "insured under the Employees' State Insurance (ESIC)"),
    FactDefinition("nps_member", FactType.BOOL, N, "subscriber to the National Pension System"),
    FactDefinition("bank_account", FactType.BOOL, N, "holds a savings bank (or Jan Dhan / post office) account"),
    FactDefinition("construction_days_last_12_months", FactType.INT, N, "days of construction work, last 12 months"),
    FactDefinition("bocw_board_registered", FactType.BOOL, N, "registered with a construction workers' board"),
    FactDefinition("nfsa_ration_card", FactType.BOOL, N, "the ration card is an NFSA card (AAY or priority)"),
    FactDefinition("pmjay_listed", FactType.BOOL, N, "the family is in the PM-JAY beneficiary database"),
)

# What a caseworker is asked when a birth year leaves an age boundary open (18 this year, or 17 still?).
DATE_OF_BIRTH: Final = "date_of_birth"
UNKNOWN_DESTINATION_FACTS: Final = ("destination_state", "destination_district", "destination_country")


class DocumentKind(enum.StrEnum):
    AADHAAR = "aadhaar"
    E_SHRAM_UAN = "e_shram_uan"
    RATION_CARD = "ration_card"
    VOTER_ID = "voter_id"
    JOB_CARD = "job_card"
    PAN = "pan"
    PASSPORT = "passport"


class Vulnerability(enum.StrEnum):
    SINGLE_WOMAN = "single_woman"
    DISABILITY = "disability"
    CHILD_LABOUR_RISK = "child_labour_risk"
    BONDED_LABOUR_RISK = "bonded_labour_risk"
    ELDERLY = "elderly"
    PREGNANT = "pregnant"
    NO_DOCUMENTS = "no_documents"


class ConsentPurpose(enum.StrEnum):
    REGISTRATION = "registration"
    ENTITLEMENT_LINKAGE = "entitlement_linkage"
    PARTNER_SHARING = "partner_sharing"
    GOVERNMENT_SHARING = "government_sharing"
    GRIEVANCE_FOLLOW_UP = "grievance_follow_up"
    # Sharing with another state's partners (cross-state federation).
    CROSS_STATE_SHARING = "cross_state_sharing"


class MigrationStatus(enum.StrEnum):
    PLANNED = "planned"
    ONGOING = "ongoing"
    RETURNED = "returned"
    MISSING = "missing"


NO_MIGRATION: Final = "none"
# Genders a rule can rely on; `undisclosed` (or unset) leaves gender unknown.
KNOWN_GENDERS: Final = frozenset({"female", "male", "transgender"})


@dataclass(frozen=True)
class LgdPlace:
    state_code: str
    district_code: str = ""
    subdistrict_code: str = ""


@dataclass(frozen=True)
class WorkerFacts:
    """What the registry's `WorkerFacts` message carries (on WorkerRegistered and WorkerUpdated)."""

    worker_id: str
    birth_year: int  # 0: unknown
    gender: str
    sector: str
    occupation: str
    home: LgdPlace
    documents: frozenset[DocumentKind]
    vulnerabilities: frozenset[Vulnerability]
    active_purposes: frozenset[ConsentPurpose]
    registering_partner_id: str


@dataclass(frozen=True)
class MigrationEpisodeFacts:
    """One `MigrationRecorded` episode: the places and dates, never who recorded what about whom."""

    episode_id: str
    origin: LgdPlace | None
    destination: LgdPlace | None  # in India
    destination_country: str  # abroad, instead of destination
    sector: str
    employer_id: str
    start_date: date | None
    end_date: date | None
    status: MigrationStatus


@dataclass(frozen=True)
class HouseholdFacts:
    """What `HouseholdChanged` tells about the worker's household: never the ration card number."""

    household_id: str
    member_worker_ids: frozenset[str]
    size: int
    has_ration_card: bool
    ration_card_state: str  # "" when the registry does not know


def current_episode(episodes: Iterable[MigrationEpisodeFacts]) -> MigrationEpisodeFacts | None:
    """Where the worker is now: the latest ongoing episode (by start date, then id, for a stable answer).

    A worker can have overlapping ongoing episodes when a return was never recorded; the one that started
    last is taken as current. Planned, returned and missing episodes never make a current destination.
    """
    ongoing = [e for e in episodes if e.status is MigrationStatus.ONGOING]
    if not ongoing:
        return None
    return max(ongoing, key=lambda e: (e.start_date or date.min, e.episode_id))


def latest_episode(episodes: Iterable[MigrationEpisodeFacts]) -> MigrationEpisodeFacts | None:
    listed = list(episodes)
    if not listed:
        return None
    return max(listed, key=lambda e: (e.start_date or date.min, e.episode_id))


@dataclass(frozen=True)
class FactsSnapshot:
    """The facts a rule may read, by name; a fact absent from `values` is unknown.

    `age_range` is (youngest, oldest) the worker can be, from the birth year: both are evaluated, and a
    condition on which they disagree is unknown until the date of birth is known.
    """

    values: Mapping[str, object]
    age_range: tuple[int, int] | None = None

    def knows(self, name: str) -> bool:
        return name in self.values

    def subset(self, names: Iterable[str]) -> dict[str, object]:
        return {name: self.values[name] for name in sorted(set(names)) if name in self.values}


def age_range(birth_year: int, today: date) -> tuple[int, int] | None:
    """(youngest, oldest) completed years for someone born in `birth_year`, as of `today`."""
    if birth_year <= 0 or birth_year > today.year:
        return None
    oldest = today.year - birth_year
    return (max(oldest - 1, 0), oldest)


@dataclass
class WorkerProfile:
    """The latest facts this service holds about one worker, as the registry's events brought them.

    Each source is replaced whole by its newer event, so applying the same event twice changes nothing;
    the use case (phase 2) keeps the ids of applied events to refuse an older event arriving late.
    """

    worker_id: str
    worker: WorkerFacts | None = None
    episodes: dict[str, MigrationEpisodeFacts] = field(default_factory=dict)
    household: HouseholdFacts | None = None
    # Facts the registry never holds (income, EPFO membership...), as the worker declared them to a
    # caseworker: they turn `unknown` conditions into passed or failed ones.
    declared: dict[str, object] = field(default_factory=dict)

    @property
    def active_purposes(self) -> frozenset[ConsentPurpose]:
        return self.worker.active_purposes if self.worker is not None else frozenset()

    @property
    def consents_to_linkage(self) -> bool:
        """No determination without consent to entitlement linkage (DPDP Act purpose limitation)."""
        return ConsentPurpose.ENTITLEMENT_LINKAGE in self.active_purposes

    def snapshot(self, today: date) -> FactsSnapshot:
        values: dict[str, object] = {}
        ages: tuple[int, int] | None = None
        worker = self.worker
        if worker is not None:
            ages = age_range(worker.birth_year, today)
            born = self.declared.get(DATE_OF_BIRTH)
            if isinstance(born, str) and (exact := exact_age(born, today)) is not None:
                ages = (exact, exact)
            if ages is not None:
                values["birth_year"] = worker.birth_year
                values["age"] = ages[1]
            if worker.gender in KNOWN_GENDERS:
                values["gender"] = worker.gender
            if worker.sector:
                values["sector"] = worker.sector
            if worker.occupation.strip():
                values["occupation"] = worker.occupation.strip()
            if worker.home.state_code:
                values["home_state"] = worker.home.state_code
            if worker.home.district_code:
                values["home_district"] = worker.home.district_code
            if worker.home.subdistrict_code:
                values["home_subdistrict"] = worker.home.subdistrict_code
            values["documents"] = sorted(kind.value for kind in worker.documents)
            values["vulnerabilities"] = sorted(v.value for v in worker.vulnerabilities)
        self._migration_facts(values)
        values.update(self.declared)
        if self.household is not None:
            values["household_size"] = self.household.size
            values["household_has_ration_card"] = self.household.has_ration_card
            if self.household.has_ration_card and self.household.ration_card_state:
                values["ration_card_state"] = self.household.ration_card_state
        return FactsSnapshot(MappingProxyType(values), ages)

    def _migration_facts(self, values: dict[str, object]) -> None:
        latest = latest_episode(self.episodes.values())
        values["migration_status"] = latest.status.value if latest is not None else NO_MIGRATION
        current = current_episode(self.episodes.values())
        if current is None:
            # Not away now, as far as the registry knows: not an inter-state migrant at present.
            values["interstate_migrant"] = False
            return
        values["migration_status"] = MigrationStatus.ONGOING.value
        if current.destination is not None:
            values["destination_state"] = current.destination.state_code
            if current.destination.district_code:
                values["destination_district"] = current.destination.district_code
            home = self.worker.home.state_code if self.worker is not None else ""
            if home:
                values["interstate_migrant"] = current.destination.state_code != home
        elif current.destination_country:
            values["destination_country"] = current.destination_country
            values["interstate_migrant"] = False

    def record_worker(self, facts: WorkerFacts) -> bool:
        """Replace the worker's own facts; True if anything a rule reads changed."""
        changed = self.worker != facts
        self.worker = facts
        return changed

    def record_episode(self, episode: MigrationEpisodeFacts) -> bool:
        changed = self.episodes.get(episode.episode_id) != episode
        self.episodes[episode.episode_id] = episode
        return changed

    def record_household(self, household: HouseholdFacts) -> bool:
        """The worker's household as last published; a household that no longer lists the worker is dropped."""
        if self.worker_id not in household.member_worker_ids:
            if self.household is not None and self.household.household_id == household.household_id:
                self.household = None
                return True
            return False
        changed = self.household != household
        self.household = household
        return changed

    def declare(self, name: str, value: object, today: date) -> bool:
        """Record a fact the worker declared (only facts the registry never holds); True if it changed."""
        problem = declared_fact_problem(name, value, today)
        if problem:
            raise InvalidArgument.for_field(f"declared.{name}", problem)
        held_year = self.worker.birth_year if self.worker is not None else 0
        if name == DATE_OF_BIRTH and held_year and str(value)[:4] != str(held_year):
            raise InvalidArgument.for_field(
                f"declared.{name}", "is not in the birth year the registry holds; correct the registry first"
            )
        changed = self.declared.get(name) != value
        self.declared[name] = value
        return changed

    def record_consent(self, active_purposes: frozenset[ConsentPurpose]) -> bool:
        if self.worker is None:
            return False
        if self.worker.active_purposes == active_purposes:
            return False
        self.worker = replace(self.worker, active_purposes=active_purposes)
        return True


def exact_age(date_of_birth: str, today: date) -> int | None:
    try:
        born = date.fromisoformat(date_of_birth)
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def declared_fact_problem(name: str, value: object, today: date) -> str:
    """Why `value` cannot be declared for the fact `name` ("" when it can)."""
    definition = FACTS.get(name)
    if definition is None:
        return "not a fact of the vocabulary"
    if definition.source is not FactSource.NOT_HELD:
        return f"comes from the registry ({definition.source.value}); correct it there"
    expected: type = {FactType.INT: int, FactType.BOOL: bool, FactType.STRING: str, FactType.STRING_LIST: list}[
        definition.type
    ]
    if isinstance(value, bool) and expected is int:
        return "must be a whole number"
    if not isinstance(value, expected):
        return f"must be {definition.type.value}"
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return "must not be negative"
    if name == DATE_OF_BIRTH:
        try:
            born = date.fromisoformat(str(value))
        except ValueError:
            return "a date as YYYY-MM-DD"
        if not date(1900, 1, 1) <= born <= today:
            return "must be between 1900-01-01 and today"
    return ""


def unknown_facts(snapshot: FactsSnapshot, reads: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(name for name in set(reads) if not snapshot.knows(name)))
