"""Sensitive values as the domain holds them: sealed by the service layer before they get here.

Names, phone numbers, ages and genders of people outside the registry, the reporter's identity, case
notes and the complainant's own account are encrypted per field (AES-256-GCM under the state's data key)
by the service layer. The domain never holds a key and never sees those values: it keeps the opaque
tokens, says which are required, and publishes none of them. The rules on the plain text (length,
emptiness) live here too, so that the service layer checks them before sealing.
"""

from __future__ import annotations

from dataclasses import dataclass

from mrc_kernel.errors import FieldViolation

MAX_NAME_LENGTH = 200
MAX_NOTE_LENGTH = 8000
MAX_SUMMARY_LENGTH = 4000
MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class Sealed:
    """A field-cipher token (`enc:v1:<state>:...`): only the service layer can open it."""

    token: str

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("a sealed value needs its token; use None for an absent value")


@dataclass(frozen=True)
class SealedPhone:
    """A phone number: encrypted, plus a keyed blind index (to find repeated callers) and the last 4 digits."""

    sealed: Sealed
    blind_index: str
    last4: str


def text_violations(field: str, text: str, *, max_length: int, required: bool = True) -> list[FieldViolation]:
    """What is wrong with a plain-text value before it is sealed (the service layer asks, then seals)."""
    stripped = text.strip()
    if required and not stripped:
        return [FieldViolation(field, "must not be empty")]
    if len(stripped) > max_length:
        return [FieldViolation(field, f"must be at most {max_length} characters")]
    return []
