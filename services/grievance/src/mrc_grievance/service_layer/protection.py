"""Sealing and opening the sensitive values of cases and traces.

The domain holds only tokens (`Sealed`); this is where plain text is checked, sealed under the data key of
the record's state, and opened again for a caller the access policy let through. Each kind of value has
its own field name, bound into the token (a note's token never opens as a summary).
"""

from __future__ import annotations

import re

from mrc_grievance.domain.protected import Sealed, SealedPhone
from mrc_grievance.service_layer.ports import Sealer
from mrc_kernel.errors import FieldViolation

SUMMARY = "grievance.summary"
RECORDING_REF = "grievance.recording_ref"
SUBJECT_NAME = "grievance.subject.name"
SUBJECT_AGE = "grievance.subject.age"
SUBJECT_GENDER = "grievance.subject.gender"
SUBJECT_PHONE = "grievance.subject.phone"
RESPONDENT_NAME = "grievance.respondent.name"
REPORTER_NAME = "grievance.reporter.name"
REPORTER_PHONE = "grievance.reporter.phone"
NOTE = "grievance.note"
REASON = "grievance.reason"
CONTACT_NAME = "trace.contact.name"
CONTACT_PHONE = "trace.contact.phone"
DESCRIPTION = "trace.description"
SIGHTING_DETAILS = "trace.sighting.details"
# Phone blind indexes of this service (repeated callers), unrelated to the registry's.
PHONE_INDEX_KIND = "grievance-phone"

_PHONE_DIGITS = re.compile(r"^\+?[0-9]{6,15}$")


def normalised_phone(raw: str) -> str:
    """E.164: a 10-digit Indian mobile (with or without 0 or +91) as +91..., anything else with its +."""
    compact = re.sub(r"[\s\-().]", "", raw)
    if not _PHONE_DIGITS.match(compact):
        raise ValueError("must be a phone number of 6 to 15 digits, optionally after a +")
    digits = compact.lstrip("+")
    if compact.startswith("+"):
        return f"+{digits}"
    if len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    if len(digits) == 12 and digits.startswith("91"):
        return f"+{digits}"
    if len(digits) == 10:
        return f"+91{digits}"
    return f"+{digits}"


class Protection:
    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer

    def seal(self, state_code: str, field: str, text: str) -> Sealed | None:
        stripped = text.strip()
        return Sealed(self._sealer.seal(state_code, field, stripped)) if stripped else None

    def open(self, field: str, sealed: Sealed | None) -> str:
        return self._sealer.open(field, sealed.token) if sealed is not None else ""

    def phone(
        self, state_code: str, field: str, raw: str, path: str, violations: list[FieldViolation]
    ) -> SealedPhone | None:
        if not raw.strip():
            return None
        try:
            phone = normalised_phone(raw)
        except ValueError as exc:
            violations.append(FieldViolation(path, str(exc)))
            return None
        return SealedPhone(
            Sealed(self._sealer.seal(state_code, field, phone)),
            self._sealer.blind_index(PHONE_INDEX_KIND, phone),
            phone[-4:],
        )

    def open_phone(self, field: str, phone: SealedPhone | None) -> str:
        return self._sealer.open(field, phone.sealed.token) if phone is not None else ""
