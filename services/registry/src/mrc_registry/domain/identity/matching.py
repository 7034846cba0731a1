"""Is this the worker another partner already registered? Scoring a pair of records, and blocking keys.

Decisions, in order:

1. a shared blind index of a personal document (Aadhaar, e-Shram UAN, voter ID, PAN, passport)
   → CERTAIN: one number, one person;
2. different Aadhaar, e-Shram UAN or PAN numbers → NONE: each person has only one;
3. genders recorded differently (neither undisclosed) → NONE;
4. a shared phone or household document (ration card, MGNREGA job card): families share these, so
   alone they make a pair POSSIBLE; with similar names (≥ 0.8) and birth years at most
   `MAX_BIRTH_YEAR_GAP_FOR_SHARED_LINK` apart, CERTAIN;
5. otherwise a weighted score of the names, father's or spouse's names, birth years, home
   district and village, against `MatchThresholds`. The names are compared on what is their
   bearers' own (`compare_own_names`: a surname that is the father's name or the family's counts
   little, for siblings share it); a father's name one record lacks counts a little for when both
   names carry its initial (`FATHER_INITIAL_SCORE`).

Only blind indexes reach this module, never the numbers themselves, and reasons name no one:
they say which facts agreed and how closely, so they can be logged and shown to reviewers.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Set
from dataclasses import dataclass, field

import jellyfish

from mrc_kernel.vocabulary import Gender
from mrc_registry.domain.identity.identity_documents import DocumentKind
from mrc_registry.domain.identity.name_similarity import (
    NameComparison,
    compare_names,
    compare_own_names,
    name_codes,
    name_ending_codes,
)
from mrc_registry.domain.identity.transliteration import name_key, name_parts, name_tokens

# One number, one person: sharing one of these is proof of identity.
PERSONAL_DOCUMENT_KINDS = frozenset(
    {DocumentKind.AADHAAR, DocumentKind.E_SHRAM_UAN, DocumentKind.VOTER_ID, DocumentKind.PAN, DocumentKind.PASSPORT}
)
# Nobody has two of these, so two different numbers are two people. (Passports and voter IDs get reissued.)
UNIQUE_DOCUMENT_KINDS = frozenset({DocumentKind.AADHAAR, DocumentKind.E_SHRAM_UAN, DocumentKind.PAN})
PHONE_KIND = "phone"
# The version of the rules that turn a worker into stored keys (`blocking_keys`, and the name keys search
# uses). Raise it with any change to those rules: stored workers are then re-keyed in the background
# (`service_layer/rekeying.py`), since old keys and a new registration's keys would no longer meet.
MATCH_KEYS_VERSION = 3

WEIGHTS: dict[str, float] = {
    "name": 0.40,
    "father_or_spouse_name": 0.20,
    "birth_year": 0.15,
    "home_district": 0.15,
    "home_village": 0.10,
}
# What a fact one side lacks contributes: no evidence either way.
MISSING_FACT_SCORE = 0.5
# The father's or spouse's name one record lacks, when that record's name has an initial that is the first
# letter of the other record's father's name (Tamil Nadu names carry the father's initial: R. Saravanan,
# son of Rajamanickam): a little evidence for, between unknown and agreeing.
FATHER_INITIAL_SCORE = 0.75
# A name similarity (0..1) at or below this counts for nothing; above, it scales linearly to 1.
SIMILARITY_FLOOR = 0.5
BIRTH_YEAR_SCORES = {0: 1.0, 1: 0.8, 2: 0.5}
SHARED_LINK_NAME_SIMILARITY = 0.8
# Start codes cut to this many coarse consonants, with birth year and district (`start+birth_year+district:`).
SHORT_CODE_LENGTH = 3
# Parents and children share phones and ration cards, sometimes with similar names.
MAX_BIRTH_YEAR_GAP_FOR_SHARED_LINK = 2


class MatchDecision(enum.StrEnum):
    CERTAIN = "certain"
    POSSIBLE = "possible"
    NONE = "none"


@dataclass(frozen=True)
class MatchThresholds:
    """Weighted scores at or above `certain` merge automatically; at or above `possible` go to review."""

    certain: float = 0.92
    possible: float = 0.75

    def __post_init__(self) -> None:
        if not 0.0 <= self.possible <= self.certain <= 1.0:
            raise ValueError("thresholds must satisfy 0 <= possible <= certain <= 1")


@dataclass(frozen=True)
class CandidateFacts:
    """What the matcher may know of a worker; empty strings and None mean unknown.

    `gender` may be given as its value ("female"); it is stored as a `Gender` (or None).

    `phone_index` and `identity_indexes` are blind indexes (`BlindIndexer.index(kind, normalised)`),
    `identity_indexes` holding (kind, index) pairs with kinds as in `DocumentKind`.
    """

    name: str
    father_or_spouse_name: str = ""
    birth_year: int | None = None
    home_district_code: str = ""
    home_village: str = ""
    gender: Gender | str | None = None
    phone_index: str = ""
    identity_indexes: Set[tuple[str, str]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gender", Gender(self.gender) if self.gender else None)
        object.__setattr__(self, "identity_indexes", frozenset(self.identity_indexes))


@dataclass(frozen=True)
class Agreement:
    """How one fact of two records compares, for reviewers: never the values, only how alike they are.

    `similarity` is 0..1 (None when one record lacks the fact); `detail` says more in words (for names:
    how many words and initials agree, whether the order differs).
    """

    fact: str
    similarity: float | None
    detail: str = ""


@dataclass(frozen=True)
class MatchResult:
    """The decision on a pair, its score, and why.

    `reasons` are short strings ("name: 0.93", "same phone"); `agreements` the same facts structured, for
    the review queue; `shared_keys` the kinds of blocking key the two records share ("word+district"...).
    None of them holds a name or a number.
    """

    decision: MatchDecision
    score: float
    reasons: tuple[str, ...]
    agreements: tuple[Agreement, ...] = ()
    shared_keys: tuple[str, ...] = ()

    def explanation(self) -> str:
        """One line for a reviewer: the decision, then each known fact and how closely it agrees."""
        facts = [
            f"{a.fact} {a.similarity:.2f}" + (f" ({a.detail})" if a.detail else "")
            for a in self.agreements
            if a.similarity is not None
        ]
        keys = f"; shared keys: {', '.join(self.shared_keys)}" if self.shared_keys else ""
        return f"{self.decision.value} {self.score:.2f}: " + "; ".join(facts) + keys


def rank(results: Iterable[tuple[str, MatchResult]]) -> list[tuple[str, MatchResult]]:
    """Candidates (id, result) best first: certain before possible before none, then by score, then by
    how alike the names are, then by id, so that the same candidates always come in the same order."""
    order = {MatchDecision.CERTAIN: 0, MatchDecision.POSSIBLE: 1, MatchDecision.NONE: 2}

    def name_agreement(result: MatchResult) -> float:
        return next((a.similarity or 0.0 for a in result.agreements if a.fact == "name"), 0.0)

    return sorted(
        results, key=lambda item: (order[item[1].decision], -item[1].score, -name_agreement(item[1]), item[0])
    )


def score(a: CandidateFacts, b: CandidateFacts, thresholds: MatchThresholds | None = None) -> MatchResult:
    """How likely `a` and `b` are the same worker (symmetric: score(a, b) == score(b, a))."""
    thresholds = thresholds or MatchThresholds()
    gender_differs = _genders_differ(a.gender, b.gender)

    shared = sorted(a.identity_indexes & b.identity_indexes)
    personal = sorted({kind for kind, _ in shared if kind in PERSONAL_DOCUMENT_KINDS})
    if personal:
        reasons = [f"same {kind}" for kind in personal]
        if gender_differs:
            reasons.append("gender recorded differently: correct one of the records")
        proof = tuple(Agreement(kind, 1.0, "same document") for kind in personal)
        return MatchResult(MatchDecision.CERTAIN, 1.0, tuple(reasons), proof, _shared_key_kinds(a, b))

    conflicting = sorted(_conflicting_kinds(a, b))
    if conflicting:
        differing = tuple(Agreement(kind, 0.0, "different documents") for kind in conflicting)
        return MatchResult(MatchDecision.NONE, 0.0, tuple(f"different {kind}" for kind in conflicting), differing)
    if gender_differs:
        return MatchResult(MatchDecision.NONE, 0.0, ("different gender",), (Agreement("gender", 0.0, "different"),))

    weighted, reasons, agreements = _weighted_score(a, b)
    shared_keys = _shared_key_kinds(a, b)
    links = sorted({kind for kind, _ in shared})
    if a.phone_index and a.phone_index == b.phone_index:
        links.insert(0, PHONE_KIND)
    if links:
        reasons = [f"same {kind}" for kind in links] + reasons
        agreements = [Agreement(kind, 1.0, "shared") for kind in links] + agreements
        name_similarity = _similarity(a.name, b.name)
        gap = _birth_year_gap(a.birth_year, b.birth_year)
        close_in_age = gap is None or gap <= MAX_BIRTH_YEAR_GAP_FOR_SHARED_LINK
        if name_similarity >= SHARED_LINK_NAME_SIMILARITY and close_in_age:
            return MatchResult(
                MatchDecision.CERTAIN, max(weighted, thresholds.certain), tuple(reasons), tuple(agreements), shared_keys
            )
        return MatchResult(
            MatchDecision.POSSIBLE,
            max(weighted, thresholds.possible),
            (*reasons, "shared by a household: names or ages differ"),
            tuple(agreements),
            shared_keys,
        )

    if weighted >= thresholds.certain:
        decision = MatchDecision.CERTAIN
    elif weighted >= thresholds.possible:
        decision = MatchDecision.POSSIBLE
    else:
        decision = MatchDecision.NONE
    return MatchResult(decision, weighted, tuple(reasons), tuple(agreements), shared_keys)


def blocking_keys(facts: CandidateFacts) -> set[str]:
    """Keys under which to look for candidates; two records worth scoring share at least one.

    Identity and phone indexes; the Metaphone code of the first name (its first word of two letters or
    more, titles and a leading Md dropped) with the home district (`name+district:`) and with the birth
    year (`name+birth_year:`); the start code of each of the first three words of the name, of its words
    run together and of an initial run into the next word (`name_codes`), with the district
    (`word+district:`) and with the birth year (`word+birth_year:`), so that surname-first order,
    initials in front, spelling across scripts and names run together still meet; with the district only,
    the ending code of those words of four coarse consonants or more (`end+district:`, for a word
    misspelled near its start) and the start code of the first whole word of the father's or spouse's
    name (`father+district:`, for a name mistranslated or garbled in one record); and, for names with
    initials (in Tamil Nadu and Kerala the initials of the father's or the house name), the first
    initial with the birth year and the district (`initial+birth_year+district:`, for a name garbled in
    one record that lacks the father's name); with the birth year and the district, each start code of
    more than `SHORT_CODE_LENGTH` consonants cut to that many (`start+birth_year+district:`, for a word
    whose end one record dropped: Murugesan, मुरुगन). The registry reads candidates listed under more
    keys first.
    """
    keys = {f"{kind}:{index}" for kind, index in facts.identity_indexes if index}
    if facts.phone_index:
        keys.add(f"{PHONE_KIND}:{facts.phone_index}")
    keys.update(_name_keys(facts.name, facts.father_or_spouse_name, facts.birth_year, facts.home_district_code))
    return keys


@functools.lru_cache(maxsize=65_536)
def _name_keys(name: str, father: str, birth_year: int | None, district: str) -> frozenset[str]:
    """The blocking keys made from the names (see `blocking_keys`); cached: a record is scored many times."""
    keys: set[str] = set()
    code = _first_name_code(name)
    codes = name_codes(name)
    if district:
        if code:
            keys.add(f"name+district:{code}:{district}")
        keys.update(f"word+district:{word}:{district}" for word in codes)
        keys.update(f"end+district:{ending}:{district}" for ending in name_ending_codes(name))
        keys.update(f"father+district:{word}:{district}" for word in name_codes(father)[:1])
    if birth_year is not None:
        if code:
            keys.add(f"name+birth_year:{code}:{birth_year}")
        keys.update(f"word+birth_year:{word}:{birth_year}" for word in codes)
        initial = _first_initial(name)
        if initial and district:
            keys.add(f"initial+birth_year+district:{initial}:{birth_year}:{district}")
        if district:
            starts = {word[:SHORT_CODE_LENGTH] for word in codes if len(word) > SHORT_CODE_LENGTH}
            keys.update(f"start+birth_year+district:{start}:{birth_year}:{district}" for start in starts)
    return frozenset(keys)


def name_similarity(a: str, b: str) -> float:
    """0..1: how alike two names are, word by word across scripts (`name_similarity.compare_names`)."""
    return _similarity(a, b)


# ---------------------------------------------------------------------------------------------


def _genders_differ(a: Gender | str | None, b: Gender | str | None) -> bool:
    known = {Gender(gender) for gender in (a, b) if gender and gender != Gender.UNDISCLOSED}
    return len(known) == 2


def _conflicting_kinds(a: CandidateFacts, b: CandidateFacts) -> set[str]:
    conflicting: set[str] = set()
    for kind in UNIQUE_DOCUMENT_KINDS:
        mine = {index for k, index in a.identity_indexes if k == kind}
        theirs = {index for k, index in b.identity_indexes if k == kind}
        if mine and theirs and not mine & theirs:
            conflicting.add(kind.value)
    return conflicting


def _weighted_score(a: CandidateFacts, b: CandidateFacts) -> tuple[float, list[str], list[Agreement]]:
    names = _own_comparison(a.name, a.father_or_spouse_name, b.name, b.father_or_spouse_name)
    fathers = _own_comparison(a.father_or_spouse_name, a.name, b.father_or_spouse_name, b.name)
    district_known = bool(a.home_district_code and b.home_district_code)
    father: tuple[float | None, str] = (None, "")
    if fathers is not None:
        father = (_scaled(fathers.similarity), fathers.describe())
    elif _father_initial_agrees(a, b) or _father_initial_agrees(b, a):
        father = (FATHER_INITIAL_SCORE, "one record has only an initial of it, agreeing")
    parts: dict[str, tuple[float | None, str]] = {
        "name": (None, "") if names is None else (_scaled(names.similarity), names.describe()),
        "father_or_spouse_name": father,
        "birth_year": (_birth_year_score(a.birth_year, b.birth_year), _birth_year_detail(a.birth_year, b.birth_year)),
        "home_district": ((float(a.home_district_code == b.home_district_code), "") if district_known else (None, "")),
        "home_village": (_village_score(a, b), ""),
    }
    total = 0.0
    reasons: list[str] = []
    agreements: list[Agreement] = []
    for name, (value, detail) in parts.items():
        total += WEIGHTS[name] * (MISSING_FACT_SCORE if value is None else value)
        reasons.append(f"{name}: unknown" if value is None else f"{name}: {value:.2f}")
        if name == "home_district" and value is not None:
            detail = "same" if value else "different"
        agreements.append(Agreement(name, None if value is None else round(value, 2), detail))
    return round(total, 4), reasons, agreements


def _father_initial_agrees(without: CandidateFacts, given: CandidateFacts) -> bool:
    """Whether `without` lacks the father's or spouse's name, and both names carry, as an initial, the first
    letter of the one `given` records (Tamil Nadu's habit: R. Saravanan, son of Rajamanickam)."""
    if _key(without.father_or_spouse_name) or not _key(given.father_or_spouse_name):
        return False
    first = next((part.key[0] for part in name_parts(given.father_or_spouse_name) if not part.initial), "")
    return bool(first) and all(
        any(part.initial and part.key == first for part in name_parts(name)) for name in (without.name, given.name)
    )


def _birth_year_detail(a: int | None, b: int | None) -> str:
    gap = _birth_year_gap(a, b)
    if gap is None:
        return ""
    return "same year" if gap == 0 else ("a year apart" if gap == 1 else "years apart")


def _comparison(a: str, b: str) -> NameComparison | None:
    if not (_key(a) and _key(b)):
        return None
    return compare_names(a, b)


def _own_comparison(a: str, relative_a: str, b: str, relative_b: str) -> NameComparison | None:
    """The names compared on what is their bearers' own (`compare_own_names`): each record's words that its
    other name shares (a son's surname that is his father's name, or the family's) set aside."""
    if not (_key(a) and _key(b)):
        return None
    return compare_own_names(a, relative_a, b, relative_b)


def _shared_key_kinds(a: CandidateFacts, b: CandidateFacts) -> tuple[str, ...]:
    shared = blocking_keys(a) & blocking_keys(b)
    return tuple(sorted({key.split(":", 1)[0] for key in shared}))


def _village_score(a: CandidateFacts, b: CandidateFacts) -> float | None:
    if not (_key(a.home_village) and _key(b.home_village)):
        return None
    if a.home_district_code and b.home_district_code and a.home_district_code != b.home_district_code:
        return 0.0  # the same village name in another district is another village
    return _scaled(_similarity(a.home_village, b.home_village))


def _birth_year_score(a: int | None, b: int | None) -> float | None:
    gap = _birth_year_gap(a, b)
    return None if gap is None else BIRTH_YEAR_SCORES.get(gap, 0.0)


def _birth_year_gap(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else abs(a - b)


def _scaled(similarity: float) -> float:
    return max(0.0, (similarity - SIMILARITY_FLOOR) / (1.0 - SIMILARITY_FLOOR))


def _similarity(a: str, b: str) -> float:
    comparison = _comparison(a, b)
    return 0.0 if comparison is None else comparison.similarity


@functools.lru_cache(maxsize=65_536)
def _key(text: str) -> str:
    return name_key(text)


def _first_initial(name: str) -> str:
    """The first initial of the name as written ("K.S. Murugan" → "k"), or "" when it has none."""
    return next((part.key for part in name_parts(name) if part.initial), "")


def _first_name_code(name: str) -> str:
    """Metaphone of the first word, skipping initials ("S. Murugan"); the same code `phonetic_keys` gives."""
    tokens = name_tokens(name)
    first = next((token for token in tokens if len(token) > 1), tokens[0] if tokens else "")
    code: str = jellyfish.metaphone(first) if first else ""
    return code
