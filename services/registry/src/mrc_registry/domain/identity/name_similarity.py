"""How alike two written names are, word by word, whatever script and spelling habits wrote them.

`name_key` folds spellings that plainly say the same sounds (aa/a, ee/i, sh/s, doubled letters...). Across
India's scripts more differs than that, and this module compares names with it in mind:

* words are compared as their writers said them (`NamePart.heard`: Jacob's c is a k, George is jorj);
* a LOOSE key per word folds what writers of one name confuse: b/v/w (Bengali and Assamese have one
  letter, ব, for both), s/sh/ch (Assamese writes s with চ and ছ: চেলিম is Salim), all vowels and vowel
  length (Bengali o/a: Bijoy/विजय, Dravidian long and short vowels, ou/au/o), a written-out or dropped
  final vowel (Dutta/दत्त), y after a consonant (Bengali য-phala: Banerjee/ব্যানার্জী), a leading y/j
  (Jogesh/योगेश), ng/n, f/ph/p;
* COARSE consonants per word fold more, for Tamil and Malayalam names: voicing (Tamil writes k/g, t/d,
  p/b with one letter: Dhanabal/धनपाल), a leading h, ழ (zh in Latin, ज़ or झ or ल in Devanagari), -swamy
  and -samy, and where the vowels fall; two words of three consonants or more with the same coarse
  consonants are close, though less so than words with one loose key; a word from a record written in
  Tamil script, which has one letter for k/g, t/d, p/b and s/j, is compared with voicing ignored;
* words are aligned, not compared as one string: order does not matter (surname first or last), a word
  run together in one record may be two in the other (Naveenkumar / नवीन कुमार), an initial agrees with
  an initial of the same letter or with a word it could abbreviate, and an initial one record lacks
  costs little, and nothing when that record writes no initials at all (Tamil and Kerala names carry
  the father's or the house name's initial, often dropped); an initial beside a word may be the start of
  the other record's word, split from it or run into it (V. Jayan / Vijayan, एस.वी.विन / S. Vivin);
* a word left without a partner may be an initial written out (पे, मु; in an Indian script also letter
  names run together, वीके, टीवीएस; Tamil's इरा/इला for R and L; माँ against an M the other record has);
  a word only one record has, when every word of the other agreed and the other is more than one bare
  word, is most often a house, caste or place name or an occupation, and counts a quarter of a word;
* the similarity of two names is the share of their words (initials weighing less) that found a
  partner, each weighted by how alike the two are (a little less, beside another pair of words, when
  their first sounds differ: Rafiqul and Shafiqul Islam are brothers more often than one man);
* beside a record's other name (`compare_own_names`: the father's name beside the worker's, and the
  worker's beside the father's), a word both names of one record have (a surname that is the father's
  name, or the family's) is the family's, shared by siblings: with its partner it counts a quarter of a
  word, and nothing when the other record lacks it, so that the given names must agree themselves.

`name_codes` and `name_ending_codes` give each word's short coarse-consonant codes, for blocking.
Everything is pure and deterministic: no hashing, locale or clock.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from mrc_registry.domain.identity.transliteration import NamePart, name_parts, spelled_letters

__all__ = [
    "NameComparison",
    "coarse_key",
    "compare_names",
    "compare_own_names",
    "loose_key",
    "name_codes",
    "name_ending_codes",
    "word_code",
]

# A word alike only in its loose key counts a little less than one alike in its key.
LOOSE_WEIGHT = 0.92
# A word from a Tamil-script record alike but for voicing counts as a little less than the same key.
TAMIL_WEIGHT = 0.98
_DEVOICED = str.maketrans({"g": "k", "d": "t", "b": "p", "j": "s", "c": "s"})
# A word with the same coarse consonants (voicing, vowels and a leading h ignored) counts less again; only
# words of at least `MIN_COARSE_CONSONANTS` consonants are compared so (Tanu and Dina are TN both).
COARSE_WEIGHT = 0.86
MIN_COARSE_CONSONANTS = 3
# Of two names that pair more than one word, a word pair whose first sounds differ (coarse consonants: not
# voicing, vowels, a leading h or what the loose key folds) counts this much of its similarity: spelling
# seldom changes a word's first consonant, and two people of one family share the surname and often a
# given name that sounds alike (Rafiqul and Shafiqul Islam, written छफिकुल in Assam).
OTHER_FIRST_SOUND_WEIGHT = 0.95
# Two words less alike than this are not taken as the same word.
MIN_WORD_SIMILARITY = 0.6
# Weight of a word only one record has, when all the other record's words agree, against a word's 1.
OPTIONAL_WORD_WEIGHT = 0.25
# Weight of a word a record shares with its other name (a surname that is the father's name or the
# family's, agreeing), against a word's 1: it says the same family, which the fathers' names say already.
FAMILY_WORD_WEIGHT = 0.25
# Weight of an initial against a whole word's 1; an initial only one record has weighs less still.
INITIAL_WEIGHT = 0.25
UNMATCHED_INITIAL_WEIGHT = 0.1
# Letters writers exchange in initials: Tamil C/S, Bengali B/V, Tamil T/D.
_LOOSE_LETTERS = {"c": "s", "v": "b", "w": "b", "d": "t", "z": "j", "y": "j", "q": "k", "f": "p"}
CODE_LENGTH = 4
# Three coarse consonants, of words with more (the lead's decision in round 3: recall over candidates;
# four met about a third as many candidates but lost pairs whose word is misspelled in its fourth-last
# consonant, Tamil Nadu's held-out 98.7% sharing a key against 99.0%).
ENDING_LENGTH = 3
# Whole words of a name that get blocking codes of their own.
CODED_WORDS = 3


@dataclass(frozen=True)
class NameComparison:
    """How two names compare; counts say which words agreed, never what they are."""

    similarity: float  # 0..1
    words: int  # whole words of the two names together
    words_agreeing: int  # of them, those paired with a word of the other name
    words_exact: int  # of those, paired with the same key
    initials_agreeing: int  # initials agreeing with an initial or a word of the other name
    initials_unmatched: int
    joined: int  # pairs where one record's one word is the other's two words run together
    order_differs: bool  # the paired words come in another order (surname first, say)
    extra_words: int = 0  # words only one record has (every word of the other agreeing): counted less
    family_words: int = 0  # words a record shares with its other name (the family's), and their partners

    def describe(self) -> str:
        """The comparison in words, for reviewers: which words agreed, never the names."""
        if not self.words:
            return "no words to compare"
        parts = [f"{self.words_agreeing} of {self.words} words agree"]
        if self.words_exact and self.words_exact < self.words_agreeing:
            parts.append(f"{self.words_exact} spelled alike")
        elif self.words_exact:
            parts.append("all spelled alike")
        if self.joined:
            parts.append("a word run together in one record")
        if self.initials_agreeing:
            parts.append(f"{self.initials_agreeing} initials agree")
        if self.initials_unmatched:
            parts.append(f"{self.initials_unmatched} initials in one record only")
        if self.extra_words:
            parts.append(f"{self.extra_words} words in one record only")
        if self.order_differs:
            parts.append("word order differs")
        if self.family_words:
            parts.append(f"{self.family_words} family words (in the record's other name too) counted less")
        return ", ".join(parts)


_NOTHING = NameComparison(0.0, 0, 0, 0, 0, 0, 0, False)


def compare_names(a: str, b: str) -> NameComparison:
    """How alike names `a` and `b` are (symmetric: compare_names(a, b) == compare_names(b, a))."""
    if a > b:
        a, b = b, a
    return _compare(a, b, "", "")


def compare_own_names(a: str, relative_a: str, b: str, relative_b: str) -> NameComparison:
    """How alike names `a` and `b` are in what is their bearers' own: a word of one record that its other
    name also has (`relative_a`, `relative_b`: the father's or spouse's name beside a worker's name, or
    the worker's name beside the father's) counts `FAMILY_WORD_WEIGHT` of a word with its partner in the
    other name, and nothing when the other name lacks it.

    Siblings share their father's name, and Kerala's and Bengal's names carry it, or the family's name, as
    a surname (Shaji Joseph and Sunny Joseph, sons of Joseph; Sukanta Das and Susen Das, sons of Bholanath
    Das and Sanat Das): agreeing on it says the same family, which the comparison of the fathers' names
    counts already, not the same person; the given names must agree themselves. When nothing else is left
    in one of the names (Joseph, son of Joseph), the whole names are compared (`compare_names`).
    Symmetric like it.
    """
    if (a, relative_a) > (b, relative_b):
        a, relative_a, b, relative_b = b, relative_b, a, relative_a
    if not (_has_family_word(a, relative_a) or _has_family_word(b, relative_b)):
        return _compare(a, b, "", "")  # most names: nothing to set aside, and the comparison is shared
    return _compare(a, b, relative_a, relative_b)


def name_codes(name: str) -> tuple[str, ...]:
    """Blocking codes of `name`: the start code (`word_code`) of each of its first three whole words, of
    its words run together, and of its last initial run into the word after it ("V. Jayan" is Vijayan).

    Two renderings of one name share at least one: the same word, whatever its spelling, order or
    script, or the same words written as one.
    """
    return _name_codes(name)


def name_ending_codes(name: str) -> tuple[str, ...]:
    """The last `ENDING_LENGTH` coarse consonants of each of the first three whole words of `name` that
    has more than that: a word misspelled near its start (Anbuselvan/अब्बुसेल्वन) still ends alike."""
    return _name_ending_codes(name)


def loose_key(key: str) -> str:
    """The loose key of one word's `name_key` (see the module notes): "bisvas", "vishvash" → "basbas"."""
    return _loose_key(key)


def coarse_key(key: str) -> str:
    """The loose key with voicing, a leading h, j/l, sv/s and m/n before p folded too (see the module
    notes): "danbal", "danpal" → "tanpal". Its consonants are what words are compared and blocked on."""
    return _coarse_key(key)


def word_code(key: str) -> str:
    """Start code of one word's key: its coarse consonants, at most `CODE_LENGTH`, upper case, after an A
    when it starts with a vowel."""
    return _skeleton(key)[:CODE_LENGTH]


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One word, two neighbouring words run together, or an initial run into the word beside it."""

    positions: frozenset[int]
    key: str
    loose: str
    coarse: str
    tamil: bool  # written in Tamil script, which does not tell k from g, t from d, p from b, s from j
    initial: int = -1  # the initial run into the word (its place among the name's initials), or -1
    whole: bool = True  # one word as written (not two run together, nor an initial run into it)


@functools.lru_cache(maxsize=65_536)
def _prepared(name: str) -> tuple[tuple[_Unit, ...], tuple[str, ...], bool]:
    """The name's units and initials, and whether it is written in an Indian script (where initials may be
    spelled out as words)."""
    parts: tuple[NamePart, ...] = name_parts(name)
    words: list[str] = []
    initials: list[str] = []
    # An initial beside a word, as (initial, word): one record writes Vijayan, the other V. Jayan (the
    # initial split from the word), or Duraisamy J as जे.जदुरास्वामी (the initial run into it, and again).
    runs: list[tuple[int, int]] = []
    for previous, part in zip((None, *parts), parts, strict=False):
        if part.initial:
            initials.append(part.key)
            if previous is not None and not previous.initial and part.key.isalpha():
                runs.append((len(initials) - 1, len(words) - 1))
        else:
            words.append(part.heard)
            if previous is not None and previous.initial and previous.key.isalpha():
                runs.append((len(initials) - 1, len(words) - 1))
    tamil = any(_TAMIL_FIRST <= char < _TAMIL_END for char in name)
    units = [_unit(frozenset({i}), word, tamil) for i, word in enumerate(words)]
    units.extend(_unit(frozenset({i, i + 1}), words[i] + words[i + 1], tamil) for i in range(len(words) - 1))
    units.extend(_unit(frozenset({w}), initials[k] + words[w], tamil, k) for k, w in runs)
    return tuple(units), tuple(initials), any(_INDIC_FIRST <= char < _INDIC_END for char in name)


def _unit(positions: frozenset[int], key: str, tamil: bool, initial: int = -1) -> _Unit:
    whole = len(positions) == 1 and initial < 0
    return _Unit(positions, key, _loose_key(key), _skeleton(key), tamil, initial, whole)


_TAMIL_FIRST, _TAMIL_END = "\u0b80", "\u0c00"
_INDIC_FIRST, _INDIC_END = "\u0900", "\u0d80"


@functools.lru_cache(maxsize=65_536)
def _loose_key(key: str) -> str:
    word = key.replace("w", "v").replace("v", "b").replace("c", "s").replace("z", "j").replace("f", "p")
    word = word.replace("q", "k").replace("x", "ks").replace("ng", "n")
    if word.startswith("y"):
        word = "j" + word[1:]
    word = _Y_AFTER_CONSONANT.sub("", word)  # ব্যা: a y after a consonant
    word = _VOWELS.sub("a", word)  # any vowels: a/o, e/i, long and short, ou/au, y between vowels
    word = _collapse_doubles(word)
    if len(word) > 3 and word.endswith("a"):
        word = word[:-1]
    return word


@functools.lru_cache(maxsize=65_536)
def _coarse_key(key: str) -> str:
    word = _loose_key(key.replace("sv", "s")).translate(_COARSE_LETTERS).removeprefix("h")
    word = _M_BEFORE_P.sub("n", word)  # अंबू/Anbu: before a labial the nasal is heard as m
    return _collapse_doubles(word)


def _collapse_doubles(word: str) -> str:
    """Each run of one letter as one letter ("aa" too, so a vowel left alone between vowels goes)."""
    return "".join(letter for letter, _ in itertools.groupby(word))


_Y_AFTER_CONSONANT = re.compile(r"(?<=[^aeiouy])y(?=[aeiou])")
_VOWELS = re.compile(r"[aeiouy]+")


# Tamil writes k/g, t/d, p/b and c/j/s with one letter each, and Malayalam and Tamil names cross into
# Latin and Devanagari voiced or not (Dhanapal/धनबाल, Deepa/தீபா); a leading h is dropped or added
# (Hari/Ari); ழ is written zh (folded to l) in Latin but ज़ or झ (as often as ल) in Devanagari; Tamil
# -samy is as often -swamy (Rangasamy/रंगास्वामी).
_COARSE_LETTERS = str.maketrans({"g": "k", "d": "t", "b": "p", "j": "l"})
_M_BEFORE_P = re.compile(r"m(?=p)")


@functools.lru_cache(maxsize=65_536)
def _skeleton(key: str) -> str:
    coarse = _coarse_key(key)
    return ("A" if coarse[:1] == "a" else "") + coarse.replace("a", "").upper()


@functools.lru_cache(maxsize=65_536)
def _name_codes(name: str) -> tuple[str, ...]:
    parts = name_parts(name)
    words = [part.heard for part in parts if not part.initial]
    run_into = [
        initial.key + word.heard
        for initial, word in itertools.pairwise(parts)
        if initial.initial and not word.initial and initial.key.isalpha()
    ]
    codes: list[str] = []
    for word in [*words[:CODED_WORDS], "".join(words), *run_into[-1:]]:
        code = word_code(word) if word else ""
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


@functools.lru_cache(maxsize=65_536)
def _name_ending_codes(name: str) -> tuple[str, ...]:
    words = [part.heard for part in name_parts(name) if not part.initial]
    codes: list[str] = []
    for word in words[:CODED_WORDS]:
        consonants = _skeleton(word).removeprefix("A")
        if len(consonants) > ENDING_LENGTH and consonants[-ENDING_LENGTH:] not in codes:
            codes.append(consonants[-ENDING_LENGTH:])
    return tuple(codes)


def _initials_written_out(
    words: list[str], spare_initials: tuple[str, ...], indic: bool
) -> tuple[list[str], list[str]]:
    """Of words left without a partner, the initials they write out, and the words that remain.

    A word of one or two letters (पे, मु: P, M); and in a name written in an Indian script, English letter
    names (एस, के, and run together: वीके, टीवीएस), Tamil's இரா/இல (इरा, इला: R, L), and a word of three
    letters whose first letter is an initial the other record has left (माँ, वाए: M, V).
    """
    letters: list[str] = []
    remaining: list[str] = []
    for word in words:
        written = spelled_letters(word) if indic else ""
        if not written and len(word) <= 2:
            written = word[0]
        if not written and indic and _TAMIL_SYLLABLE_INITIAL.fullmatch(word):
            written = word[1]
        if not written and indic and len(word) == 3 and word[0] in spare_initials:
            written = word[0]
        if written:
            letters.extend(written)
        else:
            remaining.append(word)
    return letters, remaining


# Tamil words cannot begin with r or l: the initial of Rajendran is இரா., of Lakshmanan இல.
_TAMIL_SYLLABLE_INITIAL = re.compile(r"i[rl]a?")


def _word_similarity(a: _Unit, b: _Unit) -> tuple[float, bool]:
    if a.key == b.key:
        return 1.0, True
    similarity = max(
        Indel.normalized_similarity(a.key, b.key), LOOSE_WEIGHT * Indel.normalized_similarity(a.loose, b.loose)
    )
    if a.tamil or b.tamil:
        # Tamil script writes each pair with one letter: the other record's choice tells nothing.
        devoiced = Indel.normalized_similarity(a.key.translate(_DEVOICED), b.key.translate(_DEVOICED))
        similarity = max(similarity, TAMIL_WEIGHT * devoiced)
    if a.coarse == b.coarse and len(a.coarse.removeprefix("A")) >= MIN_COARSE_CONSONANTS:
        # Words that differ only in voicing, a leading h and what the loose key folds: half as far apart,
        # at least `COARSE_WEIGHT` (coarse keys have few letters to differ in: only equal ones count) and
        # at most as alike as words with the same loose key.
        similarity = max(similarity, min(LOOSE_WEIGHT, max(COARSE_WEIGHT, (1.0 + similarity) / 2)))
    return similarity, False


@functools.lru_cache(maxsize=65_536)
def _has_family_word(name: str, relative: str) -> bool:
    if not relative:
        return False
    family = _family_words(relative)
    return any(unit.whole and unit.loose in family for unit in _prepared(name)[0])


@functools.lru_cache(maxsize=16_384)
def _family_words(relative: str) -> frozenset[str]:
    """The loose keys of the whole words of a record's other name."""
    return frozenset(_loose_key(part.heard) for part in name_parts(relative) if not part.initial)


def _family_positions(units: tuple[_Unit, ...], family_words: frozenset[str]) -> set[int]:
    if not family_words:
        return set()
    return {position for unit in units if unit.whole and unit.loose in family_words for position in unit.positions}


def _run_pairs(a: _Unit, b: _Unit) -> bool:
    """Whether an initial run into a word may pair with the other unit: a word as written that begins with
    the initial's letter (V. Jayan is Vijayan; A. Mani is not Salaman)."""
    run, word = (a, b) if a.initial >= 0 else (b, a)
    return word.whole and _LOOSE_LETTERS.get(word.key[0], word.key[0]) == _LOOSE_LETTERS.get(run.key[0], run.key[0])


@functools.lru_cache(maxsize=65_536)
def _compare(a: str, b: str, relative_a: str = "", relative_b: str = "") -> NameComparison:
    units_a, initials_a, indic_a = _prepared(a)
    units_b, initials_b, indic_b = _prepared(b)
    words_a = sum(1 for unit in units_a if unit.whole)
    words_b = sum(1 for unit in units_b if unit.whole)
    if not (words_a or initials_a) or not (words_b or initials_b):
        return _NOTHING
    # Words a record shares with its other name (the father's, beside a worker's name): set aside with
    # their partners, counted at `FAMILY_WORD_WEIGHT` when paired, when each name keeps a word or an
    # initial of its own. (Initials stay: in Tamil Nadu the initial is the father's, and what the
    # registry has besides a garbled given name.)
    family_words_a = _family_words(relative_a) if relative_a else frozenset()
    family_words_b = _family_words(relative_b) if relative_b else frozenset()
    family_positions_a = _family_positions(units_a, family_words_a)
    family_positions_b = _family_positions(units_b, family_words_b)
    # Pair words (or two words run together) greedily, most alike first; ties go to the earlier words.
    scored = []
    for i, unit_a in enumerate(units_a):
        for j, unit_b in enumerate(units_b):
            if len(unit_a.positions) + len(unit_b.positions) > 3:
                continue  # two words against two words is two pairs of words
            if (unit_a.initial >= 0 or unit_b.initial >= 0) and not _run_pairs(unit_a, unit_b):
                continue
            similarity, exact = _word_similarity(unit_a, unit_b)
            if similarity >= MIN_WORD_SIMILARITY:
                scored.append((-similarity, -(len(unit_a.positions) + len(unit_b.positions)), i, j, exact))
    scored.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    run_a: set[int] = set()  # initials run into a word, paired so
    run_b: set[int] = set()
    aside_a: set[int] = set()  # positions of words paired as the family's
    aside_b: set[int] = set()
    pairs: list[tuple[_Unit, _Unit, float, bool]] = []
    for negative_similarity, _, i, j, exact in scored:
        unit_a, unit_b = units_a[i], units_b[j]
        if unit_a.positions & used_a or unit_b.positions & used_b:
            continue
        if unit_a.initial in run_a or unit_b.initial in run_b:
            continue
        used_a |= unit_a.positions
        used_b |= unit_b.positions
        if unit_a.initial >= 0:
            run_a.add(unit_a.initial)
        if unit_b.initial >= 0:
            run_b.add(unit_b.initial)
        # The family's when each record that has another name has the word in it too (Raam and श्याम
        # paired, श्याम being the father's name of one record only, is two given names).
        family_in_a = bool(unit_a.positions & family_positions_a)
        family_in_b = bool(unit_b.positions & family_positions_b)
        if (family_in_a or family_in_b) and (family_in_a or not relative_a) and (family_in_b or not relative_b):
            aside_a |= unit_a.positions
            aside_b |= unit_b.positions
        pairs.append((unit_a, unit_b, -negative_similarity, exact))
    # A family word the other record lacks says nothing of the person either.
    aside_a |= family_positions_a - used_a
    aside_b |= family_positions_b - used_b
    if (aside_a or aside_b) and (
        (words_a == len(aside_a) and not initials_a) or (words_b == len(aside_b) and not initials_b)
    ):
        return _compare(a, b)  # nothing of the person's own left in one name: compare the whole names
    numerator = 0.0
    agreeing = exact_words = joined = 0
    order: list[tuple[int, int]] = []
    family_weight = 0.0
    several = len(pairs) > 1
    for unit_a, unit_b, similarity, exact in pairs:
        if several and unit_a.coarse[:1] != unit_b.coarse[:1]:
            similarity *= OTHER_FIRST_SOUND_WEIGHT
        covered = len(unit_a.positions) + len(unit_b.positions)
        if unit_a.positions & aside_a:
            numerator += FAMILY_WORD_WEIGHT * similarity * covered
            family_weight += FAMILY_WORD_WEIGHT * covered
            continue
        numerator += similarity * covered
        agreeing += covered
        exact_words += covered if exact else 0
        joined += covered > 2 or unit_a.initial >= 0 or unit_b.initial >= 0
        order.append((min(unit_a.positions), min(unit_b.positions)))
    words_a -= len(aside_a)
    words_b -= len(aside_b)
    # Words left without a partner: initials written out, or words one record has and the other lacks.
    leftover_a = [unit.key for unit in units_a if unit.whole and not unit.positions & (used_a | aside_a)]
    leftover_b = [unit.key for unit in units_b if unit.whole and not unit.positions & (used_b | aside_b)]
    # Whether each record writes initials at all: an initial the other lacks costs nothing when it writes none.
    wrote_initials_a, wrote_initials_b = bool(initials_a), bool(initials_b)
    initials_a = tuple(letter for k, letter in enumerate(initials_a) if k not in run_a)
    initials_b = tuple(letter for k, letter in enumerate(initials_b) if k not in run_b)
    written_a, extra_a = _initials_written_out(leftover_a, initials_b, indic_a)
    written_b, extra_b = _initials_written_out(leftover_b, (*initials_a, *written_a), indic_b)
    if extra_a and not extra_b:
        more, extra_a = _initials_written_out(extra_a, (*initials_b, *written_b), indic_a)
        written_a.extend(more)
    words_a -= len(leftover_a) - len(extra_a)
    words_b -= len(leftover_b) - len(extra_b)
    initials_a = (*initials_a, *written_a)
    initials_b = (*initials_b, *written_b)
    denominator = float(words_a + words_b) + family_weight

    # Initials: against an initial of the same (or a loosely equal) letter, else a word it could abbreviate.
    initials_agreeing = initials_unmatched = 0
    spare_b = list(initials_b)
    first_letters_b = {unit.key[0] for unit in units_b if unit.whole and not unit.positions & aside_b}
    first_letters_a = {unit.key[0] for unit in units_a if unit.whole and not unit.positions & aside_a}
    for letter in initials_a:
        weight = 0.0
        if letter in spare_b:
            spare_b.remove(letter)
            weight = 1.0
        elif _LOOSE_LETTERS.get(letter, letter) in {_LOOSE_LETTERS.get(x, x) for x in spare_b}:
            loose = _LOOSE_LETTERS.get(letter, letter)
            spare_b.remove(next(x for x in spare_b if _LOOSE_LETTERS.get(x, x) == loose))
            weight = 0.6
        elif letter in first_letters_b:
            weight = 1.0
        if weight:
            numerator += weight * 2 * INITIAL_WEIGHT
            denominator += 2 * INITIAL_WEIGHT
            initials_agreeing += 1
        else:
            denominator += UNMATCHED_INITIAL_WEIGHT if wrote_initials_b else 0.0
            initials_unmatched += 1
    for letter in spare_b:
        if letter in first_letters_a:
            numerator += 2 * INITIAL_WEIGHT
            denominator += 2 * INITIAL_WEIGHT
            initials_agreeing += 1
        else:
            denominator += UNMATCHED_INITIAL_WEIGHT if wrote_initials_a else 0.0
            initials_unmatched += 1

    # A word only one record has, when every word of the other found its partner, is most often a house,
    # caste or place name, an occupation or a second given name one writer left out: it counts less. Not
    # when the other record is one bare word, or one word and initials that agree with nothing: "Ali" is
    # the surname of "Salim Ali" (or what remains of "Md. Ali") as often as it is his name.
    optional_a = bool(extra_a) and not extra_b and agreeing > 0 and (words_b > 1 or initials_agreeing > 0)
    optional_b = bool(extra_b) and not extra_a and agreeing > 0 and (words_a > 1 or initials_agreeing > 0)
    denominator -= (1.0 - OPTIONAL_WORD_WEIGHT) * (len(extra_a) * optional_a + len(extra_b) * optional_b)

    order.sort()
    order_differs = any(later[1] < earlier[1] for earlier, later in itertools.pairwise(order))
    return NameComparison(
        family_words=len(aside_a) + len(aside_b),
        extra_words=len(extra_a) * optional_a + len(extra_b) * optional_b,
        similarity=round(numerator / denominator, 4) if denominator else 0.0,
        words=words_a + words_b,
        words_agreeing=agreeing,
        words_exact=exact_words,
        initials_agreeing=initials_agreeing,
        initials_unmatched=initials_unmatched,
        joined=joined,
        order_differs=order_differs,
    )
