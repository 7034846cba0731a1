"""GSTIN checksums, PAN and LIN formats, with real published identifiers.

Sources of the valid GSTINs (each published by or about its holder):
- 27AAACR5055K1Z7: Reliance Industries Ltd, Maharashtra (GST register entry quoted in public code).
- 24AAACG6864F1ZO: Gujarat State Electricity Corporation Ltd, printed on its tender notices.
- 24AAATT6829N1ZY: Nirma University, in Gujarat Appellate Authority for Advance Ruling order
  GUJ/GAAAR/APPEAL/2021/09.
- 36AAACT8873F1Z1: a Telangana public-sector GST number printed on a tender notice.
- 27AAPFU0939F1ZV: the example in python-stdnum's GSTIN module.
"""

from __future__ import annotations

import pytest

from mrc_employer.domain.identifiers import (
    IdentifierKind,
    OrganisationIdentifier,
    canonical,
    gstin_check_character,
    gstin_problems,
    lin_problems,
    pan_problems,
    parse_identifier,
)
from mrc_kernel.errors import FieldViolation

PUBLISHED_GSTINS = ["27AAACR5055K1Z7", "24AAACG6864F1ZO", "24AAATT6829N1ZY", "36AAACT8873F1Z1", "27AAPFU0939F1ZV"]


@pytest.mark.parametrize("gstin", PUBLISHED_GSTINS)
def test_published_gstins_pass_the_mod_36_check(gstin: str) -> None:
    assert gstin_check_character(gstin[:14]) == gstin[14]
    assert gstin_problems(gstin) == []


@pytest.mark.parametrize("gstin", PUBLISHED_GSTINS)
def test_any_other_check_character_is_refused(gstin: str) -> None:
    for wrong in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".replace(gstin[14], ""):
        assert gstin_problems(gstin[:14] + wrong) == [
            "the check character (15th) does not match: a character was mistyped"
        ]


@pytest.mark.parametrize(
    ("typo", "why"),
    [
        ("27AAACR5055K1Z8", "last character mistyped"),
        ("27AAACR5O55K1Z7", "a zero read as the letter O"),
        ("27AAACR5505K1Z7", "two digits swapped"),
        ("28AAACR5055K1Z7", "state code mistyped"),
    ],
)
def test_typical_typing_errors_fail_the_checksum(typo: str, why: str) -> None:
    assert gstin_problems(typo), why


def test_the_sample_buyer_gstin_of_the_e_invoice_sandbox_is_not_a_real_gstin() -> None:
    # 29AWGPV7107B1Z1 appears in countless e-invoice examples; its check character does not match.
    assert gstin_problems("29AWGPV7107B1Z1") == ["the check character (15th) does not match: a character was mistyped"]


@pytest.mark.parametrize(
    ("gstin", "problem"),
    [
        ("27AAACR5055K1Z", "a GSTIN has 15 characters"),
        ("27AAACR5055K1Y7", "a GSTIN is a 2-digit state code"),
        ("27AAACR5055K0Z7", "a GSTIN is a 2-digit state code"),  # entity number 0 does not exist
        ("40AAACR5055K1Z7", "40 is not a GST state code"),
        ("27AAAXR5055K1Z7", "embedded PAN: the 4th character of a PAN is the holder type"),
        ("27AAACR0000K1Z7", "embedded PAN: a PAN's serial number"),
    ],
)
def test_gstin_structure_is_checked_before_the_checksum(gstin: str, problem: str) -> None:
    problems = gstin_problems(gstin)
    assert problems and problems[0].startswith(problem)


def test_gstin_state_codes_follow_gst_numbering_including_ladakh_and_other_territory() -> None:
    for state in ("01", "26", "37", "38", "97"):
        body = state + "AAACR5055K1Z"
        assert gstin_problems(body + gstin_check_character(body)) == []
    for state in ("00", "39", "99"):
        body = state + "AAACR5055K1Z"
        assert gstin_problems(body + gstin_check_character(body))


@pytest.mark.parametrize("pan", ["AAACR5055K", "AAAPL1234C", "AABCS1429B", "AAAGA0001Z", "AAATT6829N"])
def test_pans_of_each_holder_type_format(pan: str) -> None:
    assert pan_problems(pan) == []


@pytest.mark.parametrize(
    ("pan", "problem"),
    [
        ("AAACR5055", "a PAN has 10 characters"),
        ("AAACR505KK", "a PAN is 5 letters, 4 digits and a letter"),
        ("1AACR5055K", "a PAN is 5 letters, 4 digits and a letter"),
        ("AAAXR5055K", "the 4th character of a PAN is the holder type"),
        ("AAAKR5055K", "the 4th character of a PAN is the holder type"),
        ("AAACR0000K", "a PAN's serial number (characters 6-9) is never 0000"),
    ],
)
def test_pan_format_and_holder_type(pan: str, problem: str) -> None:
    assert pan_problems(pan)[0].startswith(problem)


@pytest.mark.parametrize("lin", ["1234567890", canonical("1-2345-6789-0"), canonical("12345 67890")])
def test_a_lin_is_ten_digits_however_grouped(lin: str) -> None:
    assert lin_problems(lin) == []


@pytest.mark.parametrize("lin", ["123456789", "12345678901", "12345A7890", "1/2345/6789/0"])
def test_other_lins_are_refused(lin: str) -> None:
    assert lin_problems(canonical(lin)) == ["a Labour Identification Number has 10 digits (e.g. 1-2345-6789-0)"]


def test_parsing_normalises_case_spaces_and_hyphens() -> None:
    violations: list[FieldViolation] = []
    parsed = parse_identifier("identifiers.0", IdentifierKind.GSTIN, " 27aaacr5055k1z7 ", violations)
    assert parsed == OrganisationIdentifier(IdentifierKind.GSTIN, "27AAACR5055K1Z7")
    assert parsed.embedded_pan == "AAACR5055K"
    assert parse_identifier("x", IdentifierKind.LIN, "1-2345-6789-0", violations) == OrganisationIdentifier(
        IdentifierKind.LIN, "1234567890"
    )
    assert violations == []


def test_parsing_names_the_field_of_each_problem() -> None:
    violations: list[FieldViolation] = []
    assert parse_identifier("identifiers.2", IdentifierKind.PAN, "AAAXR5055K", violations) is None
    assert parse_identifier("identifiers.3", None, "AAACR5055K", violations) is None
    assert parse_identifier("identifiers.4", IdentifierKind.LIN, "  ", violations) is None
    assert [v.field for v in violations] == ["identifiers.2.value", "identifiers.3.kind", "identifiers.4.value"]
