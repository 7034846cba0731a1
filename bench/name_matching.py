"""How well the registry's matcher finds one person written two ways, and keeps different people apart.

    uv run python -m bench.name_matching                 # held-out evaluation (the figures to report)
    uv run python -m bench.name_matching --split tuning  # the tuning split, with --misses to look at failures
    uv run python -m bench.name_matching --split fresh   # round 3's fresh held-out split, run once at the end

Everything goes through the registry's own functions: ``blocking_keys`` and ``score`` with both names
(the worker's and the father's or husband's), the birth year and the home district. Data: ``bench/data/names``
(see its README for sources, licences and which files are TUNING and which HELD-OUT). Nothing is written.

Groups and pairs:

* ``affidavits``: 2021 election affidavits (West Bengal, Assam, Tamil Nadu, Kerala, Puducherry). One
  candidate's Latin record (name, father's or husband's name as filed in English) against the same
  candidate's Devanagari record (as filed in Hindi); same birth year (from the age) and district (the
  assembly constituency stands for it). Both renderings are attested.
* ``dakshina``: first names of eight languages from the Dakshina lexicons, with their attested
  romanisations. People are COMPOSED from them (given name, a second name as surname, father = another
  name + the same surname): the Latin record uses attested romanisations, the other record the native
  script (attested) or the native script moved to Devanagari by Unicode block offset (derived).
* ``fresh`` (``--split fresh``): Dakshina's Hindi names, which no round tuned on or evaluated before round
  3, composed into people the same way, against their attested Devanagari (Hindi's own script); the
  affidavits have no such rows left (see the data README).
* Hard negatives: two different people with different first names and the same surname (for names of
  initials and one given name, as in Tamil Nadu, the same initials), given the same birth year and
  district: one's Latin record against the other's Devanagari or native record.

Columns: pairs; ``block`` share of same-person pairs sharing a blocking key made from the names (the
worker's or the father's/husband's); ``review+`` share reaching review or certain; ``certain``; hard-negative
pairs; their share reaching review or certain and certain. Groups whose pairs are in good part not one
name written twice (Dakshina Tamil, see the data README) are printed apart. Then what blocking costs (name
keys per record, other records sharing one) and the CPU time of ``score`` per pair.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Indel

from mrc_registry.domain.identity.matching import CandidateFacts, MatchDecision, MatchResult, blocking_keys, score
from mrc_registry.domain.identity.name_similarity import coarse_key
from mrc_registry.domain.identity.transliteration import name_key

DATA = Path(__file__).resolve().parent / "data" / "names"
YEAR = 2021
# Blocking keys made from the names (the worker's, and the father's or spouse's), not phone or documents.
NAME_KEY_PREFIXES = ("name+", "word+", "end+", "father+", "initial+", "start+")
REVIEW_OR_CERTAIN = frozenset({MatchDecision.POSSIBLE, MatchDecision.CERTAIN})
# Groups whose "same-person" pairs are in good part not one name written two ways: printed apart, not
# counted against the targets. The reason is printed with the table.
EXCLUDED = {
    "dakshina Tamil": (
        "Dakshina's Tamil lexicon gives, for some words, a translation or another word instead of a "
        "reading (TUNING split: அருண் Arun typed 'vijay' by 7 of 16 annotators, ஆடி Aadi 'maatham' (the "
        "month) by 6 of 18, நவீன Naveena 'raga' or 'raka' by all 7), and English loanwords in their English "
        "spelling (கோல் 'goal', கயானா 'guyana', பேல் 'bell'); a composed person takes three such words, so "
        "many pairs are not the same person written twice"
    ),
}
UNRELATED_BELOW = 0.5
IDENTITY_MODULES = ("transliteration", "name_similarity", "matching")
# Caches keyed by a pair of names (the rest are keyed by one name or word).
PAIRWISE_CACHES = frozenset({"_compare"})
LANGUAGE_NAMES = {
    "bn": "Bengali",
    "gu": "Gujarati",
    "kn": "Kannada",
    "ml": "Malayalam",
    "mr": "Marathi",
    "pa": "Punjabi",
    "ta": "Tamil",
    "te": "Telugu",
    "hi": "Hindi",
}
# Per split, the Dakshina file; the FRESH split (round 3) is Dakshina's Hindi names, which no round tuned
# on or evaluated before: it is run once, with the final rules (see the data README).
DAKSHINA_FILES = {
    "tuning": "dakshina_names_tuning.tsv",
    "heldout": "dakshina_names_heldout.tsv",
    "fresh": "dakshina_hindi_fresh.tsv",
}
# Words that precede a name in the English affidavit columns; only used to find the surname of a record.
_LEADING_WORDS = frozenset(
    {"MR", "MRS", "MS", "DR", "ADV", "SMT", "SHRI", "SRI", "KUMARI", "LATE", "LT", "PROF", "ER"}
    | {"MD", "MOHD", "MOHAMMAD", "MOHAMMED", "MUHAMMAD", "MOHAMED", "MUHAMMED", "SK", "SHEIKH", "SHAIKH"}
)


def first_name_skeleton(word: str) -> str:
    """Consonants of an upper-case first name, to tell different first names from spellings of one
    (Santosh/Sontush, Rafikul/Rafiqul): H and vowels dropped, W/V/B, Q/K, Z/J, PH/F as one, doubles once.
    A rule of this benchmark's own, not the matcher's."""
    word = word.replace("PH", "F").replace("W", "B").replace("V", "B").replace("Q", "K").replace("Z", "J")
    word = re.sub(r"[AEIOUYH]", "", word)
    return re.sub(r"(.)\1+", r"\1", word)


@dataclass(frozen=True)
class Pair:
    group: str
    kind: str  # "same" or "different"
    a: CandidateFacts
    b: CandidateFacts
    # Dakshina: every romanised word of the Latin record reads its native word (see `reads_native`).
    reads: bool = True


@dataclass
class Tally:
    pairs: int = 0
    blocked: int = 0
    review: int = 0
    certain: int = 0
    negatives: int = 0
    negative_review: int = 0
    negative_certain: int = 0


# ---------------------------------------------------------------------------------------------
# Affidavits


@dataclass(frozen=True)
class _Candidate:
    state: str
    district: str
    birth_year: int
    name_latin: str
    name_devanagari: str
    father_latin: str
    father_devanagari: str

    def latin(self, birth_year: int | None = None, district: str | None = None) -> CandidateFacts:
        return CandidateFacts(
            name=self.name_latin,
            father_or_spouse_name=self.father_latin,
            birth_year=birth_year or self.birth_year,
            home_district_code=district or self.district,
        )

    def devanagari(self, birth_year: int | None = None, district: str | None = None) -> CandidateFacts:
        return CandidateFacts(
            name=self.name_devanagari,
            father_or_spouse_name=self.father_devanagari,
            birth_year=birth_year or self.birth_year,
            home_district_code=district or self.district,
        )


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _candidates(split: str) -> list[_Candidate]:
    return [
        _Candidate(
            state=row["state"],
            district=row["district"],
            birth_year=YEAR - int(row["age"]),
            name_latin=row["name_latin"],
            name_devanagari=row["name_devanagari"],
            father_latin=row["father_latin"],
            father_devanagari=row["father_devanagari"],
        )
        for row in _read_tsv(DATA / f"affidavits_2021_{split}.tsv")
    ]


def _first_and_family(name_latin: str) -> tuple[str, str]:
    """The first given name and the surname (or, for names of initials and one name, the initials)."""
    words = [word for word in re.split(r"[^A-Z]+", name_latin.upper()) if word]
    while words and words[0] in _LEADING_WORDS:
        words.pop(0)
    long_words = [word for word in words if len(word) > 1]
    initials = [word for word in words if len(word) == 1]
    if not long_words:
        return "", ""
    if len(long_words) >= 2:
        return long_words[0], long_words[-1]
    return long_words[0], "+".join(sorted(initials))


def affidavit_pairs(split: str, negatives_per_person: int, rng: random.Random) -> Iterator[Pair]:
    candidates = _candidates(split)
    for person in candidates:
        yield Pair(f"affidavits {person.state}", "same", person.latin(), person.devanagari())
    by_family: dict[tuple[str, str], list[_Candidate]] = defaultdict(list)
    for person in candidates:
        first, family = _first_and_family(person.name_latin)
        if first and family:
            by_family[(person.state, family)].append(person)
    for person in candidates:
        first, family = _first_and_family(person.name_latin)
        if not (first and family):
            continue
        relatives = by_family[(person.state, family)]
        skeleton = first_name_skeleton(first)
        others = [
            other for other in relatives if first_name_skeleton(_first_and_family(other.name_latin)[0]) != skeleton
        ]
        for other in rng.sample(others, min(negatives_per_person, len(others))):
            # Same surname, birth year and district; different people.
            yield Pair(
                f"affidavits {person.state}",
                "different",
                person.latin(),
                other.devanagari(birth_year=person.birth_year, district=person.district),
            )


# ---------------------------------------------------------------------------------------------
# Dakshina


def _dakshina(split: str) -> dict[str, dict[str, list[tuple[str, int]]]]:
    lexicon: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    for row in _read_tsv(DATA / DAKSHINA_FILES[split]):
        lexicon[row["lang"]][row["native"]].append((row["latin"], int(row["attestations"] or 1)))
    return lexicon


# Letters whose place in their block has no Devanagari counterpart: Malayalam chillus (a consonant with
# no vowel), Bengali khanda ta, য় and the Assamese ra and wa, Odia ୟ; Gurmukhi tippi (a nasal, as anusvara)
# and addak (which doubles the next consonant: dropped), which would fall on ॰ and ॱ, signs that split words.
_NO_COUNTERPART = {
    "\u0a70": "\u0902",
    "\u0a71": "",
    "\u0d7a": "\u0923\u094d",
    "\u0d7b": "\u0928\u094d",
    "\u0d7c": "\u0930\u094d",
    "\u0d7d": "\u0932\u094d",
    "\u0d7e": "\u0933\u094d",
    "\u0d7f": "\u0915\u094d",
    "\u09ce": "\u0924\u094d",
    "\u09df": "\u092f",
    "\u09f0": "\u0930",
    "\u09f1": "\u0935",
    "\u0b5f": "\u092f",
}


def to_devanagari_by_offset(native: str) -> str:
    """Derived rendering: each Indic letter moved to the same place in the Devanagari block (the letters
    of `_NO_COUNTERPART` to their Devanagari equivalents)."""
    out = []
    for char in native:
        point = ord(char)
        if char in _NO_COUNTERPART:
            out.append(_NO_COUNTERPART[char])
        else:
            out.append(chr(point - (point & ~0x7F) + 0x0900) if 0x0980 <= point < 0x0D80 else char)
    return "".join(out)


def _romanised(rng: random.Random, romans: list[tuple[str, int]]) -> str:
    spellings = [roman for roman, _ in romans]
    weights = [max(count, 1) for _, count in romans]
    return rng.choices(spellings, weights=weights)[0]


_Person = tuple[str, str, str, int, str]  # given name, surname, father's given name, birth year, district


def _latin_record(rng: random.Random, lexicon: dict[str, list[tuple[str, int]]], person: _Person) -> CandidateFacts:
    given, surname, father, year, district = person
    return CandidateFacts(
        name=f"{_romanised(rng, lexicon[given])} {_romanised(rng, lexicon[surname])}",
        father_or_spouse_name=f"{_romanised(rng, lexicon[father])} {_romanised(rng, lexicon[surname])}",
        birth_year=year,
        home_district_code=district,
    )


def _native_record(person: _Person, derived: bool) -> CandidateFacts:
    given, surname, father, year, district = person
    convert = to_devanagari_by_offset if derived else str
    return CandidateFacts(
        name=convert(f"{given} {surname}"),
        father_or_spouse_name=convert(f"{father} {surname}"),
        birth_year=year,
        home_district_code=district,
    )


def dakshina_pairs(split: str, negatives_per_person: int, rng: random.Random) -> Iterator[Pair]:
    for lang, lexicon in sorted(_dakshina(split).items()):
        names = sorted(lexicon)
        people: list[_Person] = [
            (given, rng.choice(names), rng.choice(names), rng.randint(1960, 2005), f"{lang}-{index % 40}")
            for index, given in enumerate(names)
        ]
        by_surname: dict[str, list[_Person]] = defaultdict(list)
        for person in people:
            by_surname[person[1]].append(person)
        # Hindi's native script is Devanagari: there is nothing to derive.
        renderings: tuple[tuple[bool, str], ...] = ((False, "native script"), (True, "Devanagari, derived"))
        if lang == "hi":
            renderings = ((False, "Devanagari"),)
        for derived, label in renderings:
            group = f"dakshina {LANGUAGE_NAMES[lang]} ({label})"
            for person in people:
                latin, native = _latin_record(rng, lexicon, person), _native_record(person, False)
                yield Pair(group, "same", latin, _native_record(person, derived), reads_native(latin, native))
            for person in people:
                given, surname, father, year, district = person
                # Different people: another given name and father, the same surname, year and district
                # (someone of this surname when the list has one, else anyone given this surname).
                sharing = [other for other in by_surname[surname] if other[0] != given and other[2] != father]
                pool = sharing or [other for other in rng.sample(people, 8) if other[0] != given and other[2] != father]
                for other in rng.sample(pool, min(negatives_per_person, len(pool))):
                    negative = (other[0], surname, other[2], year, district)
                    yield Pair(
                        group, "different", _latin_record(rng, lexicon, person), _native_record(negative, derived)
                    )


# ---------------------------------------------------------------------------------------------


def evaluate(pairs: list[Pair], misses: int) -> tuple[dict[str, Tally], float]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    shown: dict[tuple[str, str], int] = defaultdict(int)
    elapsed = 0.0
    for pair in pairs:
        started = time.process_time()
        result = score(pair.a, pair.b)
        elapsed += time.process_time() - started
        tally = tallies[pair.group]
        if _excluded(pair.group) and pair.reads:
            # The pairs of an excluded group whose romanisations all read their words, counted apart too.
            reading = tallies[f"{pair.group}, readings only"]
            _count(reading, pair, result)
        _count(tally, pair, result)
        if pair.kind == "same":
            missed = result.decision not in REVIEW_OR_CERTAIN
        else:
            missed = result.decision in REVIEW_OR_CERTAIN
        if missed and shown[(pair.group, pair.kind)] < misses:
            shown[(pair.group, pair.kind)] += 1
            print(
                f"MISS {pair.kind:9} {pair.group}: {pair.a.name!r} / {pair.a.father_or_spouse_name!r}"
                f"  vs  {pair.b.name!r} / {pair.b.father_or_spouse_name!r}  {result.score:.3f} {result.reasons}",
                file=sys.stderr,
            )
    return tallies, elapsed / max(len(pairs), 1) * 1e6


def _count(tally: Tally, pair: Pair, result: MatchResult) -> None:
    if pair.kind == "same":
        tally.pairs += 1
        tally.blocked += bool(name_keys(pair.a) & name_keys(pair.b))
        tally.review += result.decision in REVIEW_OR_CERTAIN
        tally.certain += result.decision is MatchDecision.CERTAIN
    else:
        tally.negatives += 1
        tally.negative_review += result.decision in REVIEW_OR_CERTAIN
        tally.negative_certain += result.decision is MatchDecision.CERTAIN


def reads_native(latin: CandidateFacts, native: CandidateFacts) -> bool:
    """Whether each romanised word of a composed person's Latin record reads the native word it stands for
    (coarse keys at least half alike; see `unrelated_romanisations`)."""
    for romanised, written in ((latin.name, native.name), (latin.father_or_spouse_name, native.father_or_spouse_name)):
        for roman_word, native_word in zip(romanised.split(), written.split(), strict=True):
            if _reading_similarity(native_word, roman_word) < UNRELATED_BELOW:
                return False
    return True


def _reading_similarity(native: str, latin: str) -> float:
    return Indel.normalized_similarity(
        coarse_key(name_key(native).replace(" ", "")), coarse_key(name_key(latin).replace(" ", ""))
    )


def name_keys(facts: CandidateFacts) -> set[str]:
    """The blocking keys of a record made from its names (not phone or documents)."""
    return {key for key in blocking_keys(facts) if key.startswith(NAME_KEY_PREFIXES)}


def sampled_costs(pairs: list[Pair], sample: int) -> tuple[float, float]:
    """CPU microseconds of `score` per pair over an evenly spaced sample of the pairs: with every cache of the
    matcher emptied before each pair (two names never seen before), and with only the pair's own comparison
    forgotten (both records' names already read: a stored candidate scored against a new registration
    whose name was read for the first candidate)."""
    # (The identity package exports a function named like the name_similarity module: read sys.modules.)
    modules = [sys.modules[f"mrc_registry.domain.identity.{name}"] for name in IDENTITY_MODULES]
    caches = [value for module in modules for value in vars(module).values() if hasattr(value, "cache_clear")]
    pairwise = [value for value in caches if getattr(value, "__name__", "") in PAIRWISE_CACHES]
    chosen = pairs[:: max(1, len(pairs) // sample)][:sample]
    cold = known = 0.0
    for pair in chosen:
        for cache in caches:
            cache.cache_clear()
        started = time.process_time()
        score(pair.a, pair.b)
        cold += time.process_time() - started
        for cache in pairwise:
            cache.cache_clear()
        started = time.process_time()
        score(pair.a, pair.b)
        known += time.process_time() - started
    return cold / max(len(chosen), 1) * 1e6, known / max(len(chosen), 1) * 1e6


@dataclass
class KeyLoad:
    """What blocking costs: name keys per record (each a store write at registration and a lookup), and how
    many other records of the same source share at least one (each a `score` call)."""

    records: int = 0
    keys_total: int = 0
    keys_max: int = 0
    candidates_total: int = 0
    candidates_max: int = 0
    largest_bucket: int = 0


def key_load(pairs: list[Pair]) -> dict[str, KeyLoad]:
    """Per source (affidavits, dakshina): every record of the same-person pairs, once."""
    loads: dict[str, KeyLoad] = {}
    by_source: dict[str, list[set[str]]] = defaultdict(list)
    for pair in pairs:
        if pair.kind == "same":
            source = pair.group.split()[0]
            by_source[source].extend((name_keys(pair.a), name_keys(pair.b)))
    for source, records in by_source.items():
        load = loads[source] = KeyLoad(records=len(records))
        index: dict[str, list[int]] = defaultdict(list)
        for number, keys in enumerate(records):
            load.keys_total += len(keys)
            load.keys_max = max(load.keys_max, len(keys))
            for key in keys:
                index[key].append(number)
        load.largest_bucket = max((len(numbers) for numbers in index.values()), default=0)
        for number, keys in enumerate(records):
            others = {other for key in keys for other in index[key]} - {number}
            load.candidates_total += len(others)
            load.candidates_max = max(load.candidates_max, len(others))
    return loads


def load_at_scale(split: str, samples: int, rng: random.Random) -> dict[str, tuple[float, float]]:
    """Per affidavit state: of 100,000 workers registered in one district, how many a new registration
    shares a district key with (`word+district`, `end+district`, ...), and of 1,000,000 registered
    anywhere, how many it shares a birth-year key with (`word+birth_year`...): each one is a `score`
    call. Estimated from random pairs of the state's records (both renderings), put in one district."""
    by_state: dict[str, list[tuple[set[str], set[str]]]] = defaultdict(list)
    for person in _candidates(split):
        for facts in (person.latin(district="D"), person.devanagari(district="D")):
            keys = name_keys(facts)
            district = {key for key in keys if key.split(":", 1)[0].endswith("district")}
            by_state[person.state].append((district, keys - district))
    loads = {}
    for state, records in sorted(by_state.items()):
        district_hits = year_hits = 0
        for _ in range(samples):
            (district_a, year_a), (district_b, year_b) = rng.sample(records, 2)
            district_hits += bool(district_a & district_b)
            year_hits += bool(year_a & year_b)
        loads[state] = (100_000 * district_hits / samples, 1_000_000 * year_hits / samples)
    return loads


def unrelated_romanisations(split: str) -> dict[str, tuple[int, int]]:
    """Per Dakshina language: attested romanisations (counted by attestation), and how many of them do not
    read the native word at all (coarse keys less than half alike: அருண் typed "vijay", ஆடி "maatham").
    A property of the data, not of the matcher's decisions."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in _read_tsv(DATA / DAKSHINA_FILES[split]):
        weight = int(row["attestations"] or 1)
        counts[row["lang"]][0] += weight
        counts[row["lang"]][1] += weight * (_reading_similarity(row["native"], row["latin"]) < UNRELATED_BELOW)
    return {LANGUAGE_NAMES[lang]: (total, unrelated) for lang, (total, unrelated) in counts.items()}


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:6.1f}%" if whole else "      -"


def _excluded(group: str) -> str:
    return next((reason for prefix, reason in EXCLUDED.items() if group.startswith(prefix)), "")


def print_table(tallies: dict[str, Tally], split: str) -> None:
    print(f"Name matching, {split.upper()} split: score() with both names, birth year and district")
    header = (
        f"{'group':52} {'pairs':>6} {'block':>7} {'review+':>7} {'certain':>7} | "
        f"{'hard neg':>8} {'review+':>7} {'certain':>7}"
    )
    ordered = sorted(tallies, key=lambda g: (not g.startswith("affidavits"), g))
    for title, groups in (
        ("", [g for g in ordered if not _excluded(g)]),
        ("Excluded from the targets (see below):", [g for g in ordered if _excluded(g)]),
    ):
        if not groups:
            continue
        if title:
            print(f"\n{title}")
        print(header)
        print("-" * len(header))
        for group in groups:
            t = tallies[group]
            print(
                f"{group:52} {t.pairs:6d} {_percent(t.blocked, t.pairs)} {_percent(t.review, t.pairs)} "
                f"{_percent(t.certain, t.pairs)} | {t.negatives:8d} {_percent(t.negative_review, t.negatives)} "
                f"{_percent(t.negative_certain, t.negatives)}"
            )


def print_costs(
    loads: dict[str, KeyLoad], scale: dict[str, tuple[float, float]], warm_us: float, costs: tuple[float, float]
) -> None:
    print("\nBlocking keys made from the names, per record (identity documents and phone add one each):")
    for source, load in sorted(loads.items()):
        print(
            f"  {source:11} {load.records:6d} records: {load.keys_total / max(load.records, 1):5.2f} keys on average, "
            f"at most {load.keys_max}; other records sharing a key: {load.candidates_total / max(load.records, 1):.2f}"
            f" on average, at most {load.candidates_max}; largest key lists {load.largest_bucket} records"
        )
    if scale:
        print("Candidates a registration meets, estimated from random pairs of one state's affidavit records:")
        for state, (district, year) in scale.items():
            print(
                f"  {state:12} {district:6.0f} of 100,000 workers of its district (district keys); "
                f"{year:6.0f} of 1,000,000 workers anywhere (birth-year keys)"
            )
    cold_us, known_us = costs
    print(
        f"score() cost (CPU time, one process): {warm_us:.1f} us per pair as the caches fill over the run; "
        f"{cold_us:.1f} us with every cache emptied before each pair; {known_us:.1f} us when both names were "
        "read before (only the pair is new)"
    )


def print_exclusions(split: str) -> None:
    print("\nWhy excluded:")
    for prefix, reason in EXCLUDED.items():
        print(f"  {prefix}: {reason}")
    print(
        '  The rows "readings only" count the group\'s pairs whose romanised words all read their native words;'
        " hard negatives as in the group."
    )
    print("  Attested romanisations that do not read the native word (coarse keys less than half alike):")
    line = [
        f"{language} {100.0 * unrelated / total:.1f}%"
        for language, (total, unrelated) in sorted(unrelated_romanisations(split).items())
    ]
    print("    " + ", ".join(line))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--split",
        choices=("heldout", "tuning", "fresh"),
        default="heldout",
        help="fresh: Dakshina Hindi names no round has seen (round 3), to be run once with the final rules",
    )
    parser.add_argument("--negatives", type=int, default=3, help="hard negatives drawn per person")
    parser.add_argument("--misses", type=int, default=0, help="print up to N failing pairs per group (stderr)")
    parser.add_argument("--only", choices=("affidavits", "dakshina"), default=None)
    parser.add_argument("--cost-sample", type=int, default=2000, help="pairs timed with the caches emptied")
    parser.add_argument("--scale-sample", type=int, default=20000, help="random record pairs per state for scale")
    args = parser.parse_args(argv)
    if args.misses and args.split != "tuning":
        parser.error("--misses is for the tuning split: looking at held-out failures would tune on them")
    if args.split == "fresh":
        args.only = "dakshina"  # the affidavits have no rows that no round has seen
    rng = random.Random(20240601)
    pairs: list[Pair] = []
    if args.only in (None, "affidavits"):
        pairs.extend(affidavit_pairs(args.split, args.negatives, rng))
    if args.only in (None, "dakshina"):
        pairs.extend(dakshina_pairs(args.split, args.negatives, rng))
    tallies, warm = evaluate(pairs, args.misses)
    print_table(tallies, args.split)
    scale = load_at_scale(args.split, args.scale_sample, rng) if args.only in (None, "affidavits") else {}
    print_costs(key_load(pairs), scale, warm, sampled_costs(pairs, args.cost_sample))
    if any(_excluded(group) for group in tallies):
        print_exclusions(args.split)


if __name__ == "__main__":
    main()
