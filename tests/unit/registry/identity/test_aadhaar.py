import random

import pytest

from mrc_kernel.errors import ErrorCode, InvalidArgument
from mrc_registry.domain.identity.aadhaar import last4, normalise_aadhaar, verhoeff_check_digit, verhoeff_is_valid
from mrc_registry.domain.identity.errors import InvalidIdentifier


def valid_numbers(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    numbers = []
    for _ in range(count):
        payload = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
        numbers.append(payload + verhoeff_check_digit(payload))
    return numbers


VALID = valid_numbers(200)


def test_published_verhoeff_examples() -> None:
    # Verhoeff (1969) and the usual worked examples: 236 → 2363, 12345 → 123451.
    assert verhoeff_check_digit("236") == "3"
    assert verhoeff_check_digit("12345") == "1"
    assert verhoeff_is_valid("2363")
    assert verhoeff_is_valid("123451")
    assert not verhoeff_is_valid("2364")


def test_generated_numbers_are_valid() -> None:
    assert all(verhoeff_is_valid(number) for number in VALID)
    assert all(normalise_aadhaar(number) == number for number in VALID)


@pytest.mark.parametrize("number", VALID[:50])
def test_every_single_digit_error_is_caught(number: str) -> None:
    for position in range(len(number)):
        for digit in "0123456789":
            if digit != number[position]:
                assert not verhoeff_is_valid(number[:position] + digit + number[position + 1 :])


@pytest.mark.parametrize("number", VALID[:50])
def test_every_adjacent_transposition_is_caught(number: str) -> None:
    for position in range(len(number) - 1):
        first, second = number[position], number[position + 1]
        if first != second:
            swapped = number[:position] + second + first + number[position + 2 :]
            assert not verhoeff_is_valid(swapped)


def test_spaces_and_hyphens_are_allowed() -> None:
    number = VALID[0]
    spaced = f" {number[:4]} {number[4:8]}-{number[8:]} "
    assert normalise_aadhaar(spaced) == number
    assert last4(spaced) == number[-4:]


def problem_with(raw: str) -> str:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_aadhaar(raw)
    assert caught.value.kind == "aadhaar"
    assert raw.strip() not in str(caught.value) or not raw.strip()  # never echoes the number
    return caught.value.problem


def test_each_problem_is_named() -> None:
    number = VALID[1]
    assert problem_with(number[:-1]) == "must have 12 digits, got 11"
    assert problem_with(number + "0") == "must have 12 digits, got 13"
    assert problem_with("") == "must have 12 digits, got 0"
    assert problem_with(number[:6] + "O" + number[7:]) == "may contain only digits, spaces and hyphens"
    assert problem_with("२" + number[1:]) == "may contain only digits, spaces and hyphens"
    wrong_check = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert "check digit" in problem_with(wrong_check)


def test_numbers_starting_with_0_or_1_are_refused_even_with_a_good_check_digit() -> None:
    for first in "01":
        payload = first + "2345678901"
        assert problem_with(payload + verhoeff_check_digit(payload)) == "cannot start with 0 or 1"


def test_the_error_is_a_value_error_and_an_invalid_argument() -> None:
    with pytest.raises(ValueError, match="aadhaar: must have 12 digits"):
        normalise_aadhaar("1234")
    with pytest.raises(InvalidArgument) as caught:
        normalise_aadhaar("1234")
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert [v.field for v in caught.value.violations] == ["aadhaar"]


def test_verhoeff_refuses_non_digits() -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        verhoeff_check_digit("12a")
    with pytest.raises(ValueError, match="ASCII digits"):
        verhoeff_is_valid("")
