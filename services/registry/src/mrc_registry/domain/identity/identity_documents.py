"""Identity documents a migrant worker may hold, and the canonical form of each one's number.

The canonical form is what the registry blind-indexes, so two partners typing the same card
("br-05-004-001-001/123" and "BR-05-004-001-001/123 ") must reach the same string.
"""

from __future__ import annotations

import enum
import re
import unicodedata

from mrc_registry.domain.identity.aadhaar import normalise_aadhaar
from mrc_registry.domain.identity.errors import InvalidIdentifier


class DocumentKind(enum.StrEnum):
    """Mirrors `mrc.registry.v1.IdentityDocumentKind`."""

    AADHAAR = "aadhaar"
    E_SHRAM_UAN = "e_shram_uan"  # Universal Account Number of the e-Shram card
    RATION_CARD = "ration_card"
    VOTER_ID = "voter_id"  # EPIC number
    JOB_CARD = "job_card"  # MGNREGA job card
    PAN = "pan"
    PASSPORT = "passport"


# Per kind: characters dropped before checking, the pattern of the result, and what it must look like.
_RULES: dict[DocumentKind, tuple[str, re.Pattern[str], str]] = {
    DocumentKind.E_SHRAM_UAN: (" -", re.compile(r"[0-9]{12}"), "must be 12 digits"),
    DocumentKind.RATION_CARD: (
        " -/",
        re.compile(r"[A-Z0-9]{8,20}"),
        "must be 8 to 20 letters and digits (spaces, hyphens and slashes are ignored)",
    ),
    DocumentKind.VOTER_ID: (" -", re.compile(r"[A-Z]{3}[0-9]{7}"), "must be 3 letters followed by 7 digits"),
    DocumentKind.JOB_CARD: (
        " ",
        re.compile(r"[A-Z0-9/-]{10,40}"),
        "must be 10 to 40 letters, digits, hyphens and slashes, e.g. BR-05-004-001-001/123",
    ),
    DocumentKind.PAN: (" ", re.compile(r"[A-Z]{5}[0-9]{4}[A-Z]"), "must be 5 letters, 4 digits and a letter"),
    DocumentKind.PASSPORT: (" ", re.compile(r"[A-Z][0-9]{7}"), "must be a letter followed by 7 digits"),
}
MAX_DOCUMENT_INPUT_LENGTH = 80


def document_kind(value: str) -> DocumentKind:
    """The kind named `value` ("aadhaar", "voter_id"...), or `InvalidIdentifier` for an unknown one."""
    try:
        return DocumentKind(value.strip().lower())
    except ValueError:
        expected = ", ".join(kind.value for kind in DocumentKind)
        raise InvalidIdentifier("document_kind", f"must be one of {expected}") from None


def normalise_document(kind: DocumentKind | str, raw: str) -> str:
    """The canonical number of a document: upper case, separators dropped where the format has none.

    Raises `InvalidIdentifier` (a `ValueError`) naming the kind and what its number must look like;
    the message never repeats the number.
    """
    kind = kind if isinstance(kind, DocumentKind) else document_kind(kind)
    if kind is DocumentKind.AADHAAR:
        return normalise_aadhaar(raw)
    # NFKC turns full-width letters and digits (some phone keyboards) into ASCII.
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise InvalidIdentifier(kind.value, "must not be empty")
    if len(text) > MAX_DOCUMENT_INPUT_LENGTH:
        raise InvalidIdentifier(kind.value, f"must be at most {MAX_DOCUMENT_INPUT_LENGTH} characters")
    ignored, pattern, shape = _RULES[kind]
    canonical = "".join(char for char in text.upper() if char not in ignored)
    if not canonical.isascii():
        raise InvalidIdentifier(kind.value, f"{shape}; found a character outside A-Z and 0-9")
    if not pattern.fullmatch(canonical):
        raise InvalidIdentifier(kind.value, shape)
    return canonical
