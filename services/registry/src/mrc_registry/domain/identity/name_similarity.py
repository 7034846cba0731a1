"""How alike two written names are, word by word, whatever script and spelling habits wrote them.

`name_key` folds spellings that plainly say the same sounds (aa/a, ee/i, sh/s, doubled letters...). Across
India's scripts more differs than that, and this module compares names with it in mind:

* a LOOSE key per word folds what writers of one name confuse: b/v/w (Bengali and Assamese have one
  letter, ব, for both), s/sh/ch (Assamese writes s with চ and ছ: চেলিম is Salim), all vowels and vowel
  length (Bengali o/a: Bijoy/विजय, Dravidian long and short vowels, ou/au/o), a written-out or dropped
  final vowel (Dutta/दत्त), y after a consonant (Bengali য-phala: Banerjee/ব্যানার্জী), a leading y/j
  (Jogesh/योगेश), ng/n, f/ph/p;
* words are aligned, not compared as one string: order does not matter (surname first or last), a word
  run together in one record may be two in the other (Naveenkumar / नवीन कुमार), an initial agrees with
  an initial of the same letter or with a word it could abbreviate, and an initial one record lacks
  costs little (Tamil and Kerala names carry the father's or the house name's initial, often dropped);
* the similarity of two names is the share of their words (initials weighing less) that found a
  partner, each weighted by how alike the two are.

`name_codes` gives each word's short consonant code, for blocking. Everything is pure and
deterministic: no hashing, locale or clock.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from mrc_registry.domain.identity.transliteration import NamePart, name_parts

__all__ = ["NameComparison", "compare_names", "loose_key", "name_codes", "word_code"]

# A word alike only in its loose key counts a little less than one alike in its key.
LOOSE_WEIGHT = 0.92
# Two words less alike than this are not taken as the same word.
MIN_WORD_SIMILARITY = 0.6
# Weight of an initial against a whole word's 1; an initial only one record has weighs less still.
INITIAL_WEIGHT = 0.25
UNMATCHED_INITIAL_WEIGHT = 0.1
# Letters writers exchange in initials: Tamil C/S, Bengali B/V, Tamil T/D.
_LOOSE_LETTERS = {"c": "s", "v": "b", "w": "b", "d": "t", "z": "j", "y": "j", "q": "k", "f": "p"}
CODE_LENGTH = 4


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
        if self.order_differs:
            parts.append("word order differs")
        return ", ".join(parts)


_NOTHING = NameComparison(0.0, 0, 0, 0, 0, 0, 0, False)


def compare_names(a: str, b: str) -> NameComparison:
    """How alike names `a` and `b` are (symmetric: compare_names(a, b) == compare_names(b, a))."""
    if a > b:
        a, b = b, a
    return _compare(a, b)


def name_codes(name: str) -> tuple[str, ...]:
    """Consonant codes of the whole words of `name` (at most 3), then of its words run together.

    Two renderings of one name share at least one: the same word, whatever its spelling, order or
    script, or the same words written as one.
    """
    return _name_codes(name)


def loose_key(key: str) -> str:
    """The loose key of one word's `name_key` (see the module notes): "bisvas", "vishvash" → "basbas"."""
    return _loose_key(key)


def word_code(key: str) -> str:
    """Blocking code of one word's key: its loose consonants, at most `CODE_LENGTH`, upper case."""
    loose = _loose_key(key)
    code = ("A" if loose[:1] == "a" else "") + re.sub(r"[a]+", "", loose).upper()
    return code[:CODE_LENGTH]


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One word, or two neighbouring words run together."""

    positions: frozenset[int]
    key: str
    loose: str


@functools.lru_cache(maxsize=65_536)
def _prepared(name: str) -> tuple[tuple[_Unit, ...], tuple[str, ...]]:
    parts: tuple[NamePart, ...] = name_parts(name)
    words = [part.key for part in parts if not part.initial]
    initials = tuple(part.key for part in parts if part.initial)
    units = [_Unit(frozenset({i}), word, _loose_key(word)) for i, word in enumerate(words)]
    for i in range(len(words) - 1):
        joined = words[i] + words[i + 1]
        units.append(_Unit(frozenset({i, i + 1}), joined, _loose_key(joined)))
    return tuple(units), initials


@functools.lru_cache(maxsize=65_536)
def _loose_key(key: str) -> str:
    word = key.replace("w", "v").replace("v", "b").replace("c", "s").replace("z", "j").replace("f", "p")
    word = word.replace("q", "k").replace("x", "ks").replace("ng", "n")
    if word.startswith("y"):
        word = "j" + word[1:]
    word = re.sub(r"(?<=[^aeiouy])y(?=[aeiou])", "", word)  # ব্যা: a y after a consonant
    word = re.sub(r"[aeiouy]+", "a", word)  # any vowels: a/o, e/i, long and short, ou/au, y between vowels
    word = re.sub(r"(.)\1+", r"\1", word)
    if len(word) > 3 and word.endswith("a"):
        word = word[:-1]
    return word


@functools.lru_cache(maxsize=65_536)
def _name_codes(name: str) -> tuple[str, ...]:
    words = [part.key for part in name_parts(name) if not part.initial]
    codes: list[str] = []
    for word in [*words[:3], "".join(words)]:
        code = word_code(word) if word else ""
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


def _word_similarity(a: _Unit, b: _Unit) -> tuple[float, bool]:
    if a.key == b.key:
        return 1.0, True
    similarity = max(
        Indel.normalized_similarity(a.key, b.key), LOOSE_WEIGHT * Indel.normalized_similarity(a.loose, b.loose)
    )
    return similarity, False


@functools.lru_cache(maxsize=65_536)
def _compare(a: str, b: str) -> NameComparison:
    units_a, initials_a = _prepared(a)
    units_b, initials_b = _prepared(b)
    words_a = sum(1 for unit in units_a if len(unit.positions) == 1)
    words_b = sum(1 for unit in units_b if len(unit.positions) == 1)
    if not (words_a or initials_a) or not (words_b or initials_b):
        return _NOTHING
    # Pair words (or two words run together) greedily, most alike first; ties go to the earlier words.
    scored = []
    for i, unit_a in enumerate(units_a):
        for j, unit_b in enumerate(units_b):
            if len(unit_a.positions) + len(unit_b.positions) > 3:
                continue  # two words against two words is two pairs of words
            similarity, exact = _word_similarity(unit_a, unit_b)
            if similarity >= MIN_WORD_SIMILARITY:
                scored.append((-similarity, -(len(unit_a.positions) + len(unit_b.positions)), i, j, exact))
    scored.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    numerator = 0.0
    agreeing = exact_words = joined = 0
    order: list[tuple[int, int]] = []
    for negative_similarity, _, i, j, exact in scored:
        unit_a, unit_b = units_a[i], units_b[j]
        if unit_a.positions & used_a or unit_b.positions & used_b:
            continue
        used_a |= unit_a.positions
        used_b |= unit_b.positions
        covered = len(unit_a.positions) + len(unit_b.positions)
        numerator += -negative_similarity * covered
        agreeing += covered
        exact_words += covered if exact else 0
        joined += covered > 2
        order.append((min(unit_a.positions), min(unit_b.positions)))
    # A word of one or two letters left without a partner may be an initial written out (पे, मु: P, M).
    short_a = [
        unit.key[0]
        for unit in units_a
        if len(unit.positions) == 1 and len(unit.key) <= 2 and not unit.positions & used_a
    ]
    short_b = [
        unit.key[0]
        for unit in units_b
        if len(unit.positions) == 1 and len(unit.key) <= 2 and not unit.positions & used_b
    ]
    words_a -= len(short_a)
    words_b -= len(short_b)
    initials_a = (*initials_a, *short_a)
    initials_b = (*initials_b, *short_b)
    denominator = float(words_a + words_b)

    # Initials: against an initial of the same (or a loosely equal) letter, else a word it could abbreviate.
    initials_agreeing = initials_unmatched = 0
    spare_b = list(initials_b)
    first_letters_b = {unit.key[0] for unit in units_b if len(unit.positions) == 1}
    first_letters_a = {unit.key[0] for unit in units_a if len(unit.positions) == 1}
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
            denominator += UNMATCHED_INITIAL_WEIGHT
            initials_unmatched += 1
    for letter in spare_b:
        if letter in first_letters_a:
            numerator += 2 * INITIAL_WEIGHT
            denominator += 2 * INITIAL_WEIGHT
            initials_agreeing += 1
        else:
            denominator += UNMATCHED_INITIAL_WEIGHT
            initials_unmatched += 1

    order.sort()
    order_differs = any(later[1] < earlier[1] for earlier, later in itertools.pairwise(order))
    return NameComparison(
        similarity=round(numerator / denominator, 4) if denominator else 0.0,
        words=words_a + words_b,
        words_agreeing=agreeing,
        words_exact=exact_words,
        initials_agreeing=initials_agreeing,
        initials_unmatched=initials_unmatched,
        joined=joined,
        order_differs=order_differs,
    )
