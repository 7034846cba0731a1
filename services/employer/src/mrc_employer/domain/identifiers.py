"""Public identifiers of an organisation, each checked by its published format or checksum.

- GSTIN (Goods and Services Tax Identification Number), 15 characters: a 2-digit GST state code, the
  holder's 10-character PAN, an entity number (1-9, then A-Z, for several registrations of one PAN in
  one state), the letter Z, and a check character. The check character is the Luhn mod 36 scheme GSTN
  uses: characters 0-9 and A-Z count 0..35; from the left, every second character's value is doubled;
  each product adds its base-36 digits (quotient + remainder of division by 36); the check character
  is (36 - sum mod 36) mod 36. Checked against GSTINs published by their holders (see the tests).
- PAN (Permanent Account Number), 10 characters: 5 letters, 4 digits (not 0000), a letter. The 4th
  letter is the holder type (P individual, C company, H Hindu undivided family, F firm, A association
  of persons, T trust, B body of individuals, L local authority, J artificial juridical person,
  G government). The last letter is a check letter whose algorithm the Income Tax Department does not
  publish, so only the format is checked.
- LIN (Labour Identification Number, Shram Suvidha portal): 10 digits, often printed in groups
  (1-2345-6789-0). No check-digit algorithm is published; only the format is checked.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from mrc_kernel.errors import FieldViolation

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# GST state codes (Census 2011 numbering, not LGD's): 25 and 26 were merged into 26 in 2020 and 28
# is Andhra Pradesh before its division, but GSTINs issued under them remain valid; 97 is "Other
# Territory". (99, Centre Jurisdiction, is used for non-resident online services, not employers.)
GST_STATE_CODES = frozenset({f"{n:02d}" for n in range(1, 39)} | {"97"})

PAN_HOLDER_TYPES: dict[str, str] = {
    "P": "individual",
    "C": "company",
    "H": "hindu_undivided_family",
    "F": "firm",
    "A": "association_of_persons",
    "T": "trust",
    "B": "body_of_individuals",
    "L": "local_authority",
    "J": "artificial_juridical_person",
    "G": "government",
}
# Holders who are people: their name is personal data and never shown publicly.
PERSONAL_HOLDER_TYPES = frozenset({"P", "H"})

_PAN = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
_GSTIN = re.compile(r"^[0-9]{2}[A-Z0-9]{10}[1-9A-Z]Z[0-9A-Z]$")
_LIN = re.compile(r"^[0-9]{10}$")
_SEPARATORS = re.compile(r"[\s-]+")


class IdentifierKind(enum.StrEnum):
    GSTIN = "gstin"
    PAN = "pan"
    LIN = "lin"


@dataclass(frozen=True)
class OrganisationIdentifier:
    kind: IdentifierKind
    value: str  # canonical: upper case, no spaces or hyphens

    @property
    def embedded_pan(self) -> str:
        """The PAN a GSTIN is built on (the PAN itself for a PAN); empty for a LIN."""
        if self.kind is IdentifierKind.GSTIN:
            return self.value[2:12]
        return self.value if self.kind is IdentifierKind.PAN else ""


def canonical(value: str) -> str:
    """How identifiers are compared: upper case, without the spaces and hyphens people print them with."""
    return _SEPARATORS.sub("", value).upper()


def gstin_check_character(first_fourteen: str) -> str:
    total = 0
    for position, character in enumerate(first_fourteen):
        product = _BASE36.index(character) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return _BASE36[(36 - total % 36) % 36]


def pan_problems(pan: str) -> list[str]:
    if len(pan) != 10:
        return ["a PAN has 10 characters"]
    if not _PAN.fullmatch(pan):
        return ["a PAN is 5 letters, 4 digits and a letter (e.g. AAACR5055K)"]
    problems = []
    if pan[3] not in PAN_HOLDER_TYPES:
        problems.append(f"the 4th character of a PAN is the holder type, one of {', '.join(PAN_HOLDER_TYPES)}")
    if pan[5:9] == "0000":
        problems.append("a PAN's serial number (characters 6-9) is never 0000")
    return problems


def gstin_problems(gstin: str) -> list[str]:
    if len(gstin) != 15:
        return ["a GSTIN has 15 characters"]
    if not _GSTIN.fullmatch(gstin):
        return ["a GSTIN is a 2-digit state code, a PAN, an entity number (1-9 or A-Z), Z and a check character"]
    problems = []
    if gstin[:2] not in GST_STATE_CODES:
        problems.append(f"{gstin[:2]} is not a GST state code (01-38 or 97)")
    problems += [f"embedded PAN: {problem}" for problem in pan_problems(gstin[2:12])]
    if not problems and gstin_check_character(gstin[:14]) != gstin[14]:
        problems.append("the check character (15th) does not match: a character was mistyped")
    return problems


def lin_problems(lin: str) -> list[str]:
    return [] if _LIN.fullmatch(lin) else ["a Labour Identification Number has 10 digits (e.g. 1-2345-6789-0)"]


_PROBLEMS = {IdentifierKind.GSTIN: gstin_problems, IdentifierKind.PAN: pan_problems, IdentifierKind.LIN: lin_problems}


def parse_identifier(
    path: str, kind: IdentifierKind | None, raw: str, violations: list[FieldViolation]
) -> OrganisationIdentifier | None:
    """The identifier in canonical form, or None with the reasons appended to `violations`."""
    if kind is None:
        violations.append(
            FieldViolation(f"{path}.kind", f"must be one of {', '.join(k.value for k in IdentifierKind)}")
        )
        return None
    value = canonical(raw)
    if not value:
        violations.append(FieldViolation(f"{path}.value", "must be set"))
        return None
    problems = _PROBLEMS[kind](value)
    violations.extend(FieldViolation(f"{path}.value", problem) for problem in problems)
    return None if problems else OrganisationIdentifier(kind, value)
