"""Aadhaar numbers: 12 digits, the last a Verhoeff check digit, the first never 0 or 1 (UIDAI).

Verhoeff's scheme (dihedral group D5) catches every single-digit error and every transposition
of adjacent digits, the two mistakes a registrar copying a number off a card makes most.

The platform never stores an Aadhaar number: callers keep a blind index of `normalise_aadhaar(...)`
and `last4(...)` (see `mrc_plumbing.crypto`).
"""

from __future__ import annotations

from mrc_registry.domain.identity.errors import InvalidIdentifier

AADHAAR_LENGTH = 12
_SEPARATORS = " -"

# d(j, k): multiplication in the dihedral group D5.
_MULTIPLICATION: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
# p(i mod 8, n): the permutation applied to the digit at position i, counted from the right.
_PERMUTATION: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
# inv(j): the inverse of j in D5.
_INVERSE: tuple[int, ...] = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _checksum(digits: str, offset: int) -> int:
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _MULTIPLICATION[check][_PERMUTATION[(position + offset) % 8][int(digit)]]
    return check


def _require_digits(digits: str) -> None:
    if not digits or not (digits.isascii() and digits.isdigit()):
        raise ValueError("Verhoeff works on a non-empty string of ASCII digits")


def verhoeff_check_digit(payload: str) -> str:
    """The digit to append to `payload` (ASCII digits) so that the whole passes `verhoeff_is_valid`."""
    _require_digits(payload)
    return str(_INVERSE[_checksum(payload, offset=1)])


def verhoeff_is_valid(number: str) -> bool:
    """Whether `number` (ASCII digits, check digit last) has a correct Verhoeff check digit."""
    _require_digits(number)
    return _checksum(number, offset=0) == 0


def normalise_aadhaar(raw: str) -> str:
    """The 12 digits of an Aadhaar number typed with or without spaces and hyphens.

    Raises `InvalidIdentifier` (a `ValueError`) naming what is wrong; the message never echoes the number.
    """
    stripped = raw.strip()
    if any(not (char in _SEPARATORS or (char.isascii() and char.isdigit())) for char in stripped):
        raise InvalidIdentifier("aadhaar", "may contain only digits, spaces and hyphens")
    digits = "".join(char for char in stripped if char not in _SEPARATORS)
    if len(digits) != AADHAAR_LENGTH:
        raise InvalidIdentifier("aadhaar", f"must have {AADHAAR_LENGTH} digits, got {len(digits)}")
    if digits[0] in "01":
        raise InvalidIdentifier("aadhaar", "cannot start with 0 or 1")
    if not verhoeff_is_valid(digits):
        raise InvalidIdentifier("aadhaar", "check digit does not match: a digit is probably mistyped")
    return digits


def last4(raw: str) -> str:
    """The last four digits of a valid Aadhaar number, the only part of it the platform keeps."""
    return normalise_aadhaar(raw)[-4:]
