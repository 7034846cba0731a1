"""Who is who: identity numbers, phone numbers, names across scripts, and matching workers.

Pure functions and values only (no I/O): the registry's deduplication uses them with blind
indexes computed by `mrc_plumbing.crypto.BlindIndexer`.
"""

from mrc_registry.domain.identity.aadhaar import last4, normalise_aadhaar, verhoeff_check_digit, verhoeff_is_valid
from mrc_registry.domain.identity.errors import InvalidIdentifier
from mrc_registry.domain.identity.identity_documents import DocumentKind, document_kind, normalise_document
from mrc_registry.domain.identity.matching import (
    CandidateFacts,
    MatchDecision,
    MatchResult,
    MatchThresholds,
    blocking_keys,
    name_similarity,
    score,
)
from mrc_registry.domain.identity.phone import normalise_phone
from mrc_registry.domain.identity.transliteration import name_key, name_tokens, phonetic_keys, to_latin

__all__ = [
    "CandidateFacts",
    "DocumentKind",
    "InvalidIdentifier",
    "MatchDecision",
    "MatchResult",
    "MatchThresholds",
    "blocking_keys",
    "document_kind",
    "last4",
    "name_key",
    "name_similarity",
    "name_tokens",
    "normalise_aadhaar",
    "normalise_document",
    "normalise_phone",
    "phonetic_keys",
    "score",
    "to_latin",
    "verhoeff_check_digit",
    "verhoeff_is_valid",
]
