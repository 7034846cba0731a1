import pytest

from mrc_registry.domain.identity.errors import InvalidIdentifier
from mrc_registry.domain.identity.phone import normalise_phone


@pytest.mark.parametrize(
    "raw",
    ["9876543210", "098765 43210", "+91-98765-43210", "+91 98765 43210", "(+91) 9876543210", " 919876543210 "],
)
def test_indian_mobile_numbers_in_local_formats(raw: str) -> None:
    assert normalise_phone(raw) == "+919876543210"


def test_landline_with_trunk_prefix() -> None:
    assert normalise_phone("022 2345 6789") == "+912223456789"


def test_foreign_numbers_keep_their_country_code() -> None:
    assert normalise_phone("+1 650 253 0000") == "+16502530000"
    assert normalise_phone("050 123 4567", default_region="AE") == "+971501234567"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("not a phone", "is not a phone number"),
        ("98765", "has the wrong number of digits for its country"),
        ("0000000000", "is not a number in use in its country's numbering plan"),
        ("5555555555", "is not a number in use in its country's numbering plan"),
        ("9" * 41, "must be at most 40 characters"),
    ],
)
def test_invalid_numbers_are_refused(raw: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_phone(raw)
    assert caught.value.kind == "phone"
    assert caught.value.problem == problem


def test_the_field_name_can_be_chosen() -> None:
    with pytest.raises(ValueError, match=r"^contact\.phone: is not a phone number$"):
        normalise_phone("abc", field="contact.phone")
