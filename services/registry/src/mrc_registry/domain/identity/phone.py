"""Phone numbers as registrars type them (098765 43210, +91-98765-43210) to E.164 (+919876543210)."""

from __future__ import annotations

import phonenumbers

from mrc_registry.domain.identity.errors import InvalidIdentifier

DEFAULT_REGION = "IN"
MAX_PHONE_INPUT_LENGTH = 40


def normalise_phone(raw: str, *, default_region: str = DEFAULT_REGION, field: str = "phone") -> str:
    """`raw` in E.164, read as a number of `default_region` unless it starts with + and a country code.

    Raises `InvalidIdentifier` (a `ValueError`) for text that is not a phone number, or a number
    that cannot exist (wrong length) or is not assigned in its country's numbering plan.
    """
    text = raw.strip()
    if not text:
        raise InvalidIdentifier(field, "must not be empty")
    if len(text) > MAX_PHONE_INPUT_LENGTH:
        raise InvalidIdentifier(field, f"must be at most {MAX_PHONE_INPUT_LENGTH} characters")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier(field, "is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentifier(field, "has the wrong number of digits for its country")
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(field, "is not a number in use in its country's numbering plan")
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164
