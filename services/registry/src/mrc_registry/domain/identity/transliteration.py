"""Names in any Indian script to a plain Latin form, and keys for matching them.

The same worker is registered as "राम कुमार" by one partner and "Ram Kumar" or "Raam Kumaar" by
another. `to_latin` reads the nine major Brahmic scripts and writes names the way their bearers
usually write them in English; `name_key` then folds the spelling variants that remain
(aa/a, ee/i, w/v, sh/s, ph/f, doubled letters...); `phonetic_keys` gives coarse codes for blocking.

How `to_latin` works, per run of one script:

1. the run is mapped onto Devanagari (the Unicode Indic blocks share one layout, so this is an
   offset plus a few per-script fixes: Malayalam chillus, Gurmukhi addak, Bengali and Odia ya/ja);
2. `indic_transliteration.sanscript` writes it in SLP1, which has one letter per sound, so the
   inherent vowel of every consonant is visible;
3. the inherent vowel is dropped where Hindi, Punjabi, Gujarati, Bengali and Odia speakers drop it:
   at the end of a word after a single consonant (राम → ram, not rama; but कृष्ण → krishna,
   आदित्य → aditya, आनंद → anand) and between two single consonants (जगदीश → jagdish). The
   Dravidian scripts mark a bare consonant with a virama, so there nothing is dropped;
4. the sounds are written in everyday spelling: श/ष → sh, च → ch, छ → chh, ज्ञ → gy, ऋ → ri,
   long vowels as short (सीता → sita), anusvara as n or m; Tamil stops are voiced between
   vowels (முருகன் → murugan).

`name_parts` splits a name into words and initials: titles and a leading Md go, abbreviations are written
out, and initials are recognised however they are written (K.S., के. एस., Tamil's मु. and इरा, letter
names such as जी for G, and what a machine translation of the English record made of a letter: रों for S,
मैं for I). Each Latin word also carries how its writer said it (`NamePart.sound`: English and French
habits such as Jacob's k, Vincent's s, Djeamourthy's j), for comparisons; keys keep the spelling.

Everything here is pure and deterministic: the same input gives the same key on every node.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import jellyfish
from indic_transliteration import sanscript

__all__ = ["TITLES", "NamePart", "name_key", "name_parts", "name_tokens", "phonetic_keys", "to_latin"]

# Base code point of each script's Unicode block; all share the ISCII-derived layout of Devanagari.
_SCRIPT_BASES: dict[int, str] = {
    0x0900: "devanagari",
    0x0980: "bengali",
    0x0A00: "gurmukhi",
    0x0A80: "gujarati",
    0x0B00: "oriya",
    0x0B80: "tamil",
    0x0C00: "telugu",
    0x0C80: "kannada",
    0x0D00: "malayalam",
}
_DEVANAGARI_BASE = 0x0900
_INDIC_END = 0x0D80
# Scripts whose speakers drop the inherent vowel; the Dravidian scripts write a virama instead.
_SCHWA_DROPPING = frozenset({"devanagari", "bengali", "gurmukhi", "gujarati", "oriya"})
_DRAVIDIAN = frozenset({"tamil", "telugu", "kannada", "malayalam"})

_VIRAMA = "\u094d"
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))

# Per-script characters whose offset image in Devanagari is wrong or missing.
_SCRIPT_FIXES: dict[str, dict[str, str]] = {
    "bengali": {
        "\u09ce": "\u0924\u094d",  # khanda ta: a bare t
        "\u09df": "\u092f",  # য় is ya
        "\u09f0": "\u0930",  # Assamese ra
        "\u09f1": "\u0935",  # Assamese wa
    },
    "gurmukhi": {
        "\u0a70": "\u0902",  # tippi: a nasal, like anusvara
        "\u0a72": "\u0905",  # vowel bearers; a following sign makes them a full vowel
        "\u0a73": "\u0905",
        "\u0a75": "",  # yakash
    },
    "oriya": {
        "\u0b5f": "\u092f",  # ୟ is ya
        "\u0b71": "\u0935",  # wa
    },
    "tamil": {"\u0bd7": ""},  # au length mark (left over only in unnormalised text)
    "kannada": {"\u0cde": "\u0934"},  # ೞ (the offset would give फ़)
    "malayalam": {
        # Chillus: a consonant without its vowel.
        "\u0d7a": "\u0923\u094d",
        "\u0d7b": "\u0928\u094d",
        "\u0d7c": "\u0930\u094d",
        "\u0d7d": "\u0932\u094d",
        "\u0d7e": "\u0933\u094d",
        "\u0d7f": "\u0915\u094d",
        "\u0d4e": "\u0930\u094d",  # dot reph
        "\u0d57": "",  # au length mark
    },
}
# Independent vowel from अ + vowel sign (Gurmukhi vowel bearers, and stray sequences anywhere).
_VOWEL_FROM_SIGN = {
    "\u093e": "\u0906",
    "\u093f": "\u0907",
    "\u0940": "\u0908",
    "\u0941": "\u0909",
    "\u0942": "\u090a",
    "\u0943": "\u090b",
    "\u0946": "\u090e",
    "\u0947": "\u090f",
    "\u0948": "\u0910",
    "\u094a": "\u0912",
    "\u094b": "\u0913",
    "\u094c": "\u0914",
}
# A doubled aspirate is written with its plain form first: ਅੱਛਾ is अच्छा.
_UNASPIRATED = dict(zip("खघछझठढथधफभ", "कगचजटडतदपब", strict=True))
# Signs sanscript does not know: the English o of कॉलेज and the e of कॅमेरा.
_DEVANAGARI_FIXES = {"\u0949": "\u094b", "\u0945": "\u0947", "\u0911": "\u0913", "\u090d": "\u090f", "\u0972": "\u0905"}

# SLP1 letters.
_CONSONANTS = frozenset("kKgGNcCjJYwWqQRtTdDnpPbBmyrlvSzshL")
_VOWELS = frozenset("aAiIuUfFxXeEoOèò")
_NASALS = frozenset("NYRnm")
_LABIALS = frozenset("pPbB")  # before m the anusvara is an n: चिंमय → chinmay

_CONSONANT_SPELLING = {
    "k": "k",
    "K": "kh",
    "g": "g",
    "G": "gh",
    "N": "n",
    "c": "ch",
    "C": "chh",
    "j": "j",
    "J": "jh",
    "Y": "n",
    "w": "t",
    "W": "th",
    "q": "d",
    "Q": "dh",
    "R": "n",
    "t": "t",
    "T": "th",
    "d": "d",
    "D": "dh",
    "n": "n",
    "p": "p",
    "P": "ph",
    "b": "b",
    "B": "bh",
    "m": "m",
    "y": "y",
    "r": "r",
    "l": "l",
    "v": "v",
    "S": "sh",
    "z": "sh",
    "s": "s",
    "h": "h",
    "L": "l",
    # With a nukta (SLP1 marks it "0"; "2" is the Dravidian alveolar r).
    "k0": "q",
    "K0": "kh",
    "g0": "g",
    "j0": "z",
    "q0": "d",  # ड़ is written d more often than r: ladka, badi
    "Q0": "dh",
    "P0": "f",
    "Y0": "y",
    "n0": "n",
    "r2": "r",
    "L0": "zh",
}
_VOWEL_SPELLING = {
    "a": "a",
    "A": "a",
    "i": "i",
    "I": "i",
    "u": "u",
    "U": "u",
    "f": "ri",
    "F": "ri",
    "x": "lri",
    "X": "lri",
    "e": "e",
    "E": "ai",
    "o": "o",
    "O": "au",
    "è": "e",
    "ò": "o",
}
# Tamil writes k/g, c/j/s, ṭ/ḍ, t/d, p/b with one letter each: voiced between vowels and after nasals.
_TAMIL_VOICED = {"k": "g", "c": "s", "w": "q", "t": "d", "p": "b"}
_TAMIL_AFTER_NASAL = {"k": "g", "c": "j", "w": "q", "t": "d", "p": "b"}


@dataclass
class _Sound:
    kind: str  # "C" consonant, "V" vowel, "M" anusvara, "~" chandrabindu, "H" visarga
    value: str
    inherent: bool = False  # the vowel a consonant carries without a sign
    dropped: bool = False


def to_latin(name: str) -> str:
    """`name` in lower-case ASCII Latin, whatever Indian script(s) it was written in.

    Latin text passes through with its accents removed; characters of other scripts are dropped.
    """
    text = unicodedata.normalize("NFC", name).translate(_ZERO_WIDTH)
    parts: list[str] = []
    for script, run in _script_runs(text):
        parts.append(_fold_latin(run) if script is None else _transliterate_run(run, script))
    return " ".join("".join(parts).split())


def name_tokens(name: str) -> list[str]:
    """The matching keys of each word of `name`: titles (Shri, Smt, Late, Dr, स्वर्गीय...) and a leading
    Md/Mohd/मो. removed, abbreviations written out (Sk → sheikh, Ch → chandra, Kr → kumar), initials as one
    letter each ("K.S.", "के. एस.", "CK" → k s), and what follows S/o, D/o, W/o or C/o dropped."""
    return [part.key for part in name_parts(name)]


def name_key(name: str) -> str:
    """A key under which spellings of one name agree: "Shri Raam Kumaar" and "राम कुमार" → "ram kumar"."""
    return " ".join(name_tokens(name))


def phonetic_keys(name: str) -> list[str]:
    """Metaphone code of each word of `name_key(name)`, for blocking candidate lookups."""
    codes = (jellyfish.metaphone(token) for token in name_tokens(name))
    return [code for code in codes if code]


def spelled_letters(key: str) -> str:
    """The letters `key` spells when it is English letter names as Indian scripts write them, one or run
    together ("es" → "s", "vike" (वीके) → "vk", "tivies" (टीवीएस) → "tvs"); else "". Only a name's
    leftover words should be read so: बीबी is Bibi as well as B. B."""
    return _spelled_letters(key)


@functools.lru_cache(maxsize=16_384)
def _spelled_letters(key: str) -> str:
    if key in _FOLDED_LETTER_NAMES:
        return _FOLDED_LETTER_NAMES[key]
    if len(key) > _MAX_SPELLED:
        return ""
    # Two or more names of two letters or more, longest first at each step (deterministic).
    for length in range(min(len(key) - 2, _LONGEST_LETTER_NAME), 1, -1):
        head = _FOLDED_LETTER_NAMES.get(key[:length])
        if not head:
            continue
        rest = key[length:]
        # आरएम is read "araem": the inherent a of र before the vowel of एम is not a letter.
        for tail in (rest, rest[1:] if rest[:1] == "a" and key[length - 1] not in _LATIN_VOWELS else ""):
            letters = _spelled_letters(tail) if len(tail) > 1 else ""
            if letters:
                return head + letters
    return ""


@dataclass(frozen=True)
class NamePart:
    """One word of a name: its matching key, and whether it is an initial (a key of one letter).

    `sound` is the key of the word read the way its writer spelled it (English and French habits of
    Latin records: Jacob's c is a k, Vincent's an s, Djeamourthy's dj a j): comparisons use it. The key
    keeps the c of every Latin word as ch (Chandra and Candra agree), so that keys are stable and folding
    a key again gives the same key. Empty when it is the key.
    """

    key: str
    initial: bool
    sound: str = ""

    @property
    def heard(self) -> str:
        """The key to compare: `sound`, or `key` when the two are the same."""
        return self.sound or self.key


def name_parts(name: str) -> tuple[NamePart, ...]:
    """The words of `name` as `NamePart`s, in the order written (see `name_tokens`)."""
    return _name_parts(name)


@functools.lru_cache(maxsize=65_536)
def _name_parts(name: str) -> tuple[NamePart, ...]:
    text = _RELATION.split(unicodedata.normalize("NFC", name), maxsplit=1)[0]
    text = _BRACKETED.sub(" ", text)
    text = text.translate(_ZERO_WIDTH)
    parts: list[NamePart] = []
    for match in _WORD.finditer(text):
        abbreviated = text[match.end() : match.end() + 1] in _ABBREVIATION_MARKS
        parts.extend(_word_parts(match.group(), abbreviated))
    # Titles and a leading Md/Mohd go; a name that is nothing else keeps its last word.
    while len(parts) > 1 and (parts[0].key in _FOLDED_TITLES or parts[0].key in _FOLDED_MOHAMMAD):
        parts.pop(0)
    return tuple(parts)


@functools.lru_cache(maxsize=65_536)
def _word_parts(word: str, abbreviated: bool) -> tuple[NamePart, ...]:
    """The parts of one written word; `abbreviated` when a full stop follows it (cached: words recur)."""
    indic = any(_script_of(char) for char in word)
    latin = to_latin(word)
    out: list[NamePart] = []
    mistranslated = _MISTRANSLATED_LETTERS.get(word) if indic else None
    if mistranslated:
        return (NamePart(mistranslated, True),)
    if word in _LETTER_M:
        return (NamePart("m", True),)
    for piece in _NOT_LETTERS.split(latin):
        if not piece:
            continue
        key = _fold_spelling(piece)
        if key in _FOLDED_TITLES or key in _FOLDED_MOHAMMAD:
            out.append(NamePart(key, False))
            continue
        if indic and piece in _LETTER_NAMES:
            out.append(NamePart(_LETTER_NAMES[piece], True))  # एस, के, आर, जी, यू: a letter spelled out
            continue
        if indic and _is_one_akshara(word, abbreviated):
            out.append(NamePart(piece[0], True))  # क, पे., मु.: a Tamil or Kerala initial written in Devanagari
            continue
        if not indic:
            expanded = _FOLDED_ABBREVIATIONS.get(piece)
            if expanded:
                out.append(NamePart(expanded, False))
                continue
            if len(piece) <= 3 and not _LATIN_VOWELS.intersection(piece) and "y" not in piece:
                out.extend(NamePart(letter, True) for letter in piece)  # CK, KV: initials run together
                continue
            heard = _latin_habits(piece)
            sound = key if heard == piece else _fold_spelling(heard)
            if key:
                out.append(NamePart(key, len(key) == 1, "" if sound == key or len(key) == 1 else sound))
            continue
        if key:
            out.append(NamePart(key, len(key) == 1))
    return tuple(out)


def _is_one_akshara(word: str, abbreviated: bool) -> bool:
    """One consonant alone (क, व्), or with a vowel sign before a full stop (पे., मु.): an initial.

    With a vowel sign and no full stop it is a word: the surnames दे (De), सिं (Singh), बे (Bey).
    """
    letters = [char for char in word if _script_of(char) and not unicodedata.category(char).startswith("M")]
    if len(letters) != 1:
        return False
    if not _is_devanagari_consonant(chr(ord(letters[0]) - (ord(letters[0]) & ~0x7F) + _DEVANAGARI_BASE)):
        return False
    signs = [char for char in word if unicodedata.category(char) == "Mc" or (_script_of(char) and char != letters[0])]
    has_vowel_sign = any(_is_vowel_sign(char) for char in signs)
    return abbreviated or not has_vowel_sign


def _is_vowel_sign(char: str) -> bool:
    offset = ord(char) & 0x7F
    return 0x3E <= offset <= 0x4C or offset in (0x62, 0x63, 0x57)


# ---------------------------------------------------------------------------------------------
# Scripts


def _script_of(char: str) -> str | None:
    point = ord(char)
    if _DEVANAGARI_BASE <= point < _INDIC_END:
        return _SCRIPT_BASES[point & ~0x7F]
    return None


def _script_runs(text: str) -> Iterator[tuple[str | None, str]]:
    """Maximal runs of one Indic script, or of anything else (script None)."""
    start = 0
    current: str | None = None
    for position, char in enumerate(text):
        script = _script_of(char)
        if script != current:
            if position > start:
                yield current, text[start:position]
            start, current = position, script
    if start < len(text):
        yield current, text[start:]


def _fold_latin(text: str) -> str:
    """Lower-case ASCII: accents removed, characters of other scripts and odd symbols turned to spaces."""
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char):
            continue
        out.append(char.lower() if char.isascii() and (char.isalnum() or char in " .'-") else " ")
    return "".join(out)


def _to_devanagari(run: str, script: str) -> str:
    fixes = _SCRIPT_FIXES.get(script, {})
    out: list[str] = []
    geminate_next = False
    for index, char in enumerate(run):
        if script == "gurmukhi" and char == "\u0a71":  # addak: double the next consonant
            geminate_next = True
            continue
        if script in ("bengali", "oriya") and char in ("\u09af", "\u0b2f"):
            # Bengali য and Odia ଯ are ja, except as the second member of a cluster (্য), where they are ya.
            after_virama = index > 0 and run[index - 1] in ("\u09cd", "\u0b4d")
            out.append("\u092f" if after_virama else "\u091c")
            continue
        if script == "bengali" and char == "\u09ac" and index > 0 and run[index - 1] == "\u09cd":
            out.append("\u0935")  # ব-phala: বিশ্বজিৎ is Biswajit
            continue
        mapped = fixes.get(char)
        if mapped is None:
            mapped = chr(ord(char) - (ord(char) & ~0x7F) + _DEVANAGARI_BASE)
        if geminate_next and mapped and _is_devanagari_consonant(mapped[0]):
            out.append(_UNASPIRATED.get(mapped[0], mapped[0]) + _VIRAMA)
            geminate_next = False
        out.append(mapped)
    text = "".join(out)
    for sign, full in _VOWEL_FROM_SIGN.items():
        text = text.replace("\u0905" + sign, full)
    for odd, usual in _DEVANAGARI_FIXES.items():
        text = text.replace(odd, usual)
    return text


def _is_devanagari_consonant(char: str) -> bool:
    return "\u0915" <= char <= "\u0939" or "\u0958" <= char <= "\u095f"


def _transliterate_run(run: str, script: str) -> str:
    slp1 = sanscript.transliterate(_to_devanagari(run, script), sanscript.DEVANAGARI, sanscript.SLP1)
    out: list[str] = []
    for is_word, chunk in _slp1_chunks(slp1):
        if not is_word:
            out.append(_fold_latin(chunk))
            continue
        sounds = _parse_slp1(chunk)
        if script in _SCHWA_DROPPING:
            _drop_schwas(sounds)
        out.append(_spell(sounds, script))
    return "".join(out)


_NOT_LETTERS = re.compile(r"[^a-z]+")
_SLP1_WORD = re.compile(r"[kKgGNcCjJYwWqQRtTdDnpPbBmyrlvSzshLaAiIuUfFxXeEoOèòMH~02]+")


def _slp1_chunks(slp1: str) -> Iterator[tuple[bool, str]]:
    position = 0
    for match in _SLP1_WORD.finditer(slp1):
        if match.start() > position:
            yield False, slp1[position : match.start()]
        yield True, match.group()
        position = match.end()
    if position < len(slp1):
        yield False, slp1[position:]


def _parse_slp1(word: str) -> list[_Sound]:
    sounds: list[_Sound] = []
    for char in word:
        if char in "02" and sounds and sounds[-1].kind == "C":
            sounds[-1].value += char
        elif char in _CONSONANTS:
            sounds.append(_Sound("C", char))
        elif char in _VOWELS:
            inherent = char == "a" and bool(sounds) and sounds[-1].kind == "C"
            sounds.append(_Sound("V", char, inherent=inherent))
        elif char in "MH~":
            sounds.append(_Sound(char, char))
    return sounds


# ---------------------------------------------------------------------------------------------
# Schwa deletion


def _drop_schwas(sounds: list[_Sound]) -> None:
    vowels = sum(1 for sound in sounds if sound.kind == "V")
    if vowels < 2:
        return
    last = sounds[-1]
    if last.inherent and _final_schwa_drops(sounds):
        last.dropped = True
    # Between single consonants, from the right: कमला → kamla, जगदीश → jagdish, but not the first syllable.
    for index in range(len(sounds) - 3, 1, -1):
        sound = sounds[index]
        if not sound.inherent or sound.dropped:
            continue
        if (
            _is_consonant(sounds, index - 1)
            and _is_live_vowel(sounds, index - 2)
            and _is_consonant(sounds, index + 1)
            and _is_live_vowel(sounds, index + 2)
        ):
            sound.dropped = True


def _final_schwa_drops(sounds: list[_Sound]) -> bool:
    cluster: list[str] = []
    index = len(sounds) - 2
    while index >= 0 and sounds[index].kind == "C":
        cluster.insert(0, sounds[index].value[0])
        index -= 1
    if len(cluster) <= 1:
        return True
    # After a cluster the a stays when it ends in a semivowel or nasal (मित्र, आदित्य, कृष्ण, पद्म) and
    # goes otherwise (आनंद → anand, आदर्श → adarsh, सिद्धार्थ → siddharth).
    return cluster[-1] not in "yrvnmR"


def _is_consonant(sounds: list[_Sound], index: int) -> bool:
    return 0 <= index < len(sounds) and sounds[index].kind == "C"


def _is_live_vowel(sounds: list[_Sound], index: int) -> bool:
    return 0 <= index < len(sounds) and sounds[index].kind == "V" and not sounds[index].dropped


# ---------------------------------------------------------------------------------------------
# Spelling


def _spell(sounds: list[_Sound], script: str) -> str:
    out: list[str] = []
    live = [sound for sound in sounds if not sound.dropped]
    for index, sound in enumerate(live):
        following = live[index + 1] if index + 1 < len(live) else None
        previous = live[index - 1] if index > 0 else None
        if sound.kind == "V":
            out.append(_VOWEL_SPELLING[sound.value])
        elif sound.kind == "C":
            out.append(_spell_consonant(sound.value, previous, following, script))
        elif sound.kind == "M":
            out.append(_spell_anusvara(following, script))
        elif sound.kind == "~":
            out.append(_spell_anusvara(following, "") if following is not None else "n")
        elif sound.kind == "H":
            out.append("h")
    return "".join(out)


def _spell_consonant(value: str, previous: _Sound | None, following: _Sound | None, script: str) -> str:
    if value == "j" and following is not None and following.value == "Y":
        return "g"  # ज्ञ: gyan, not jnan
    if value == "Y" and previous is not None and previous.value == "j":
        return "y"
    if value == "h" and previous is not None and previous.kind == "M" and following is None:
        return "gh"  # सिंह → singh
    if script == "tamil" and value in _TAMIL_VOICED:
        if previous is None:
            return "s" if value == "c" else _CONSONANT_SPELLING[value]
        if previous.kind == "V":
            return _CONSONANT_SPELLING[_TAMIL_VOICED[value]]
        if previous.kind == "C" and previous.value in _NASALS | {"n0"}:
            return _CONSONANT_SPELLING[_TAMIL_AFTER_NASAL[value]]
    if script == "tamil" and value == "r2" and following is not None and following.value == "r2":
        return "t"  # வெற்றி → vetri
    return _CONSONANT_SPELLING.get(value, "")


def _spell_anusvara(following: _Sound | None, script: str) -> str:
    if following is None:
        return "m" if script in _DRAVIDIAN else "n"
    if following.kind == "C" and following.value[0] in _LABIALS:
        return "m"
    return "n"


# ---------------------------------------------------------------------------------------------
# Matching keys

# Words that precede a name without being part of it, as `_fold_spelling` leaves them; the Indic ones
# as `to_latin` writes them (स्वर्गीय, स्व., प्रयात and मृत are all "late", डॉ/डा: "Dr", अधिवक्ता/वकील "Adv").
TITLES = (
    "shri",
    "shree",
    "sri",
    "sree",
    "shrimati",
    "srimati",
    "shrimti",
    "smt",
    "sushri",
    "shriman",
    "sriman",
    "thiru",
    "tiru",
    "thirumathi",
    "tmt",
    "selvi",
    "kumari",
    "kum",
    "km",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "doctor",
    "do",  # डॉ
    "dah",  # डाः
    "adv",
    "advocate",
    "adav",  # अडव
    "adva",  # अड्व, अडवा
    "edav",  # एडव
    "aidva",  # ऐड्व
    "edva",
    "adhivakta",
    "vakil",
    "chikitsak",  # चिकित्सक: "Dr." machine-translated
    "abhibhashak",
    "prof",
    "pro",  # प्रो.
    "late",
    "lt",
    "lte",
    "swargiya",
    "svargiya",
    "svargiy",
    "sv",
    "sva",
    "svah",
    "swargabasi",  # स्वर्गबासी, स्वर्गवासी: "the late", as Bengal writes it
    "swargavasi",
    "prayat",
    "mrit",
    "marhum",
    "janab",
    "begum",
    "mohtarma",
)
# Mohammad in all its spellings and abbreviations (Md., Mohd., मो., मोः, महः): written before so many
# Muslim men's names that, in front, it tells nothing apart; dropped there like a title.
MOHAMMAD = (
    "md",
    "mohd",
    "mahd",
    "mo",
    "moh",
    "mah",
    "mahah",
    "mahammad",
    "mohammad",
    "mohammed",
    "mohamad",
    "mohamed",
    "muhammad",
    "muhammed",
    "muhamad",
    "muhamed",
    "mohmmad",
    "mohmad",
)
# Abbreviations of a word of the name, written out (Latin words only).
ABBREVIATIONS = {"sk": "sheikh", "ch": "chandra", "kr": "kumar", "pd": "prasad", "md": "mohammad"}
# English letter names as Devanagari and the other scripts spell them (एस, के, आर...), read as initials.
_LETTER_NAMES = {
    "e": "a",
    "bi": "b",
    "si": "c",
    "di": "d",
    "i": "e",
    "ef": "f",
    "ji": "g",
    "ech": "h",
    "ecch": "h",
    "aich": "h",
    "hach": "h",
    "ai": "i",
    "je": "j",
    "ke": "k",
    "el": "l",
    "ail": "l",
    "em": "m",
    "aim": "m",
    "en": "n",
    "ain": "n",
    "o": "o",
    "pi": "p",
    "kyu": "q",
    "ar": "r",
    "aar": "r",
    "es": "s",
    "ais": "s",
    "yas": "s",
    "yes": "s",
    "ti": "t",
    "yu": "u",
    "vi": "v",
    "dablyu": "w",
    "eks": "x",
    "vai": "y",
    "jed": "z",
    "zed": "z",
}
# Devanagari words a machine translation of the English record wrote for an initial: "S" as the plural
# ending रों, "I" as the pronoun मैं, "A" as the numeral एक. Nobody is named so; the letter is meant.
_MISTRANSLATED_LETTERS = {"\u0930\u094b\u0902": "s", "\u092e\u0948\u0902": "i", "\u090f\u0915": "a"}
# M as Malayalam writes it (എം, "em" with an anusvara) carried into Devanagari: एं, ऎं. Read as a letter name,
# the final anusvara would be an n.
_LETTER_M = frozenset({"\u090f\u0902", "\u090e\u0902"})
# English and French spelling habits of Latin records, read as the sounds they stand for (Latin words
# only, for `NamePart.sound`): Puducherry's French spellings (Djeamourthy, Canagaradjou, Cartigueyane),
# tch for ch (Pitchai), the English names Kerala's Christians write as English does and Hindi as they
# are said (George/जॉर्ज, Mathew/मात्यु, Xavier/ज़ेवियर); and c before e/i/y as s (Vincent, Francis),
# elsewhere as k (Jacob, Catherine), but c before h is the ch of chandra.
_LATIN_SPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"dj"), "j"),
    (re.compile(r"tch"), "ch"),
    (re.compile(r"gue"), "ge"),
    (re.compile(r"^geo"), "jo"),
    (re.compile(r"(?<=.)ge$"), "j"),
    (re.compile(r"(?<=[^aeiou])ew$"), "yu"),
    (re.compile(r"^x"), "z"),
)
_LATIN_C = re.compile(r"cc?h|c(?=[eiy])|c")


def _latin_habits(word: str) -> str:
    for pattern, sound in _LATIN_SPELLINGS:
        word = pattern.sub(sound, word)
    return _LATIN_C.sub(_latin_c, word)


def _latin_c(match: re.Match[str]) -> str:
    letters = match.group()
    if letters != "c":
        return "ch"
    following = match.string[match.end() : match.end() + 1]
    return "s" if following and following in "eiy" else "k"


# "S/o", "D/o", "W/o", "C/o" and what follows (the relative's name), and bracketed aliases.
_RELATION = re.compile(r"(?i)(?<![a-z])[sdwc]\s*/\s*o(?![a-z])")
_BRACKETED = re.compile(r"\([^)]*\)|\[[^]]*\]")
_WORD = re.compile(r"[^\s.,;:/\\|&_+*#()\[\]{}<>\"'`~!?@$%^=\-\u0964\u0965]+")
_ABBREVIATION_MARKS = frozenset(".\u0964:")  # a full stop, a danda (डी। वेंकटेशन), a colon (डा:)

# Applied in order to each lower-case word; then doubled letters are collapsed.
_SPELLING_FOLDS: tuple[tuple[str, str], ...] = (
    ("ee", "i"),
    ("oo", "u"),
    ("ou", "au"),
    ("x", "ks"),
    ("q", "k"),
    ("zh", "l"),
    ("z", "j"),
    ("ph", "f"),
    ("w", "v"),
    ("ck", "k"),
    ("chh", "c"),
    ("ch", "c"),
    ("sh", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("bh", "b"),
    ("kh", "k"),
    ("gh", "g"),
    ("jh", "j"),
)
_DOUBLED = re.compile(r"(.)\1+")
_EH = re.compile(r"eh(?=[^aeiou])")
_FINAL_ER = re.compile(r"(?<=.)er$")
_CONSONANT_RU = re.compile(r"(?<=[^aeiouh])ru")


def _fold_spelling(word: str) -> str:
    """The matching key of one lower-case word; folding it again changes nothing."""
    for _ in range(_MAX_FOLDS):
        folded = _fold_once(word)
        if folded == word:
            break
        word = folded
    return word


# Dropping an a can make a new digraph (bahu → bhu → bu); a few passes reach the fixed point.
_MAX_FOLDS = 6


def _fold_once(word: str) -> str:
    word = _EH.sub("ah", _DOUBLED.sub(r"\1\1", word))  # Rehman/Rahman, Mehboob/Mahboob: अह is said eh
    for variant, usual in _SPELLING_FOLDS:
        word = word.replace(variant, usual)
    word = _DOUBLED.sub(r"\1", word)
    if word.endswith("ey"):
        word = word[:-1]  # Pandey, Dubey: पाण्डेय, दुबे
    elif word.endswith("y") and len(word) > 1:
        word = word[:-1] + "i"
    word = _FINAL_ER.sub("ar", word)  # Surinder, Dharmender: the Punjabi -दर
    word = _DOUBLED.sub(r"\1", _drop_medial_a(word))
    return _CONSONANT_RU.sub("ri", word)  # Krupa, Trupti, Mrunal: ऋ as Gujarati and Marathi write it


def _drop_medial_a(word: str) -> str:
    """Drop an a between single consonants, from the right, as Hindi speech does: kamala → kamla.

    Applied to Latin spellings as well as to transliterations, it makes "Jagadish" and "Jagdish",
    "Malati" and "Malti" agree whether or not the writer kept the vowel.
    """
    chars = list(word)
    for index in range(len(chars) - 3, 1, -1):
        if (
            chars[index] == "a"
            and chars[index - 1] not in _LATIN_VOWELS
            and chars[index - 2] in _LATIN_VOWELS
            and chars[index + 1] not in _LATIN_VOWELS
            and chars[index + 2] in _LATIN_VOWELS
        ):
            del chars[index]
    return "".join(chars)


_LATIN_VOWELS = frozenset("aeiou")


_FOLDED_TITLES = frozenset(_fold_spelling(title) for title in TITLES)
_FOLDED_MOHAMMAD = frozenset(_fold_spelling(word) for word in MOHAMMAD)
_FOLDED_ABBREVIATIONS = {short: _fold_spelling(word) for short, word in ABBREVIATIONS.items()}
# Keys of letter names that are also names: यश (Yash) folds to yas, which is also how some write S.
_NAMES_NOT_LETTERS = frozenset({"yas", "yes"})
# English letter names as keys; one-letter keys only where the letter is itself (o), not e for A or i for E.
_FOLDED_LETTER_NAMES = {
    folded: letter
    for name, letter in sorted(_LETTER_NAMES.items())
    for folded in (_fold_spelling(name),)
    if folded and (len(folded) > 1 or folded == letter) and folded not in _NAMES_NOT_LETTERS
}
_LONGEST_LETTER_NAME = max(map(len, _FOLDED_LETTER_NAMES))
_MAX_SPELLED = 12
