import pytest

from mrc_registry.domain.identity.aadhaar import verhoeff_check_digit
from mrc_registry.domain.identity.errors import InvalidIdentifier
from mrc_registry.domain.identity.identity_documents import DocumentKind, document_kind, normalise_document

AADHAAR = "23456789012" + verhoeff_check_digit("23456789012")


@pytest.mark.parametrize(
    ("kind", "raw", "canonical"),
    [
        (DocumentKind.AADHAAR, f"{AADHAAR[:4]} {AADHAAR[4:8]} {AADHAAR[8:]}", AADHAAR),
        (DocumentKind.E_SHRAM_UAN, "1234 5678 9012", "123456789012"),
        (DocumentKind.E_SHRAM_UAN, "1234-5678-9012", "123456789012"),
        (DocumentKind.RATION_CARD, "10 0123 4567 89", "100123456789"),
        (DocumentKind.RATION_CARD, "wb/123/456-78a", "WB12345678A"),
        (DocumentKind.VOTER_ID, "abc 1234567", "ABC1234567"),
        (DocumentKind.VOTER_ID, "XYZ-7654321", "XYZ7654321"),
        (DocumentKind.JOB_CARD, " br-05-004-001-001/123 ", "BR-05-004-001-001/123"),
        (DocumentKind.JOB_CARD, "UP 01 002 003 004/56", "UP01002003004/56"),
        (DocumentKind.PAN, "abcpe 1234 f", "ABCPE1234F"),
        (DocumentKind.PASSPORT, "k1234567", "K1234567"),
        (DocumentKind.PASSPORT, "".join(chr(ord(c) + 0xFEE0) for c in "K1234567"), "K1234567"),  # full-width
    ],
)
def test_valid_numbers_are_normalised(kind: DocumentKind, raw: str, canonical: str) -> None:
    assert normalise_document(kind, raw) == canonical
    assert normalise_document(kind.value, raw) == canonical


@pytest.mark.parametrize(
    ("kind", "raw", "expected_problem"),
    [
        (DocumentKind.AADHAAR, "1234 5678", "must have 12 digits, got 8"),
        (DocumentKind.E_SHRAM_UAN, "12345678901", "must be 12 digits"),
        (DocumentKind.E_SHRAM_UAN, "12345678901A", "must be 12 digits"),
        (DocumentKind.RATION_CARD, "1234567", "must be 8 to 20 letters and digits"),
        (DocumentKind.RATION_CARD, "1" * 21, "must be 8 to 20 letters and digits"),
        (DocumentKind.RATION_CARD, "1234_5678", "must be 8 to 20 letters and digits"),
        (DocumentKind.VOTER_ID, "AB12345678", "must be 3 letters followed by 7 digits"),
        (DocumentKind.VOTER_ID, "ABC123456", "must be 3 letters followed by 7 digits"),
        (DocumentKind.JOB_CARD, "UP-05-004", "must be 10 to 40 letters, digits, hyphens and slashes"),
        (DocumentKind.JOB_CARD, "BR-05-004-001-001#123", "must be 10 to 40 letters, digits, hyphens and slashes"),
        (DocumentKind.PAN, "ABCP1234EF", "must be 5 letters, 4 digits and a letter"),
        (DocumentKind.PASSPORT, "12345678", "must be a letter followed by 7 digits"),
        (DocumentKind.PASSPORT, "क1234567", "found a character outside A-Z and 0-9"),
        (DocumentKind.PAN, "   ", "must not be empty"),
        (DocumentKind.PAN, "A" * 81, "must be at most 80 characters"),
    ],
)
def test_invalid_numbers_name_the_problem(kind: DocumentKind, raw: str, expected_problem: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_document(kind, raw)
    assert caught.value.kind == kind.value
    assert expected_problem in caught.value.problem
    if raw.strip():
        assert raw.strip() not in str(caught.value)


def test_unknown_kinds_are_refused_with_the_known_ones_listed() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_document("driving_licence", "DL-0420110012345")
    assert caught.value.kind == "document_kind"
    assert "aadhaar" in caught.value.problem
    assert "passport" in caught.value.problem


def test_kind_names_are_read_case_insensitively() -> None:
    assert document_kind(" Voter_ID ") is DocumentKind.VOTER_ID
