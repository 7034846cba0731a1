"""Turns raw personal values into what the registry stores: validated, normalised, encrypted,
blind-indexed and masked. Aadhaar numbers stop here: only their blind index and last 4 digits go on."""

from __future__ import annotations

from mrc_kernel.errors import FieldViolation
from mrc_registry.domain.identity import aadhaar, identity_documents, phone
from mrc_registry.domain.identity.transliteration import to_latin
from mrc_registry.domain.worker import DocumentKind, IdentityDocument, ProtectedPhone, WorkerDetails
from mrc_registry.service_layer.commands import DocumentInput, WorkerInput
from mrc_registry.service_layer.ports import Protector

PHONE_FIELD = "phone"
MASKED_PHONE_PREFIX = "XXXXXX"


def document_field(kind: DocumentKind) -> str:
    return f"identity_documents.{kind.value}"


def mask(number: str, kind: DocumentKind) -> str:
    if kind is DocumentKind.AADHAAR:
        return f"XXXX XXXX {number[-4:]}"
    return "X" * max(0, len(number) - 4) + number[-4:]


def normalised_document(document: DocumentInput) -> str:
    """The canonical number, or ValueError saying what is wrong with it."""
    if document.kind is DocumentKind.AADHAAR:
        return aadhaar.normalise_aadhaar(document.number)
    return identity_documents.normalise_document(document.kind.value, document.number)


class WorkerProtection:
    def __init__(self, protector: Protector) -> None:
        self._protector = protector

    def phone_index(self, raw: str) -> str:
        return self._protector.blind_index(PHONE_FIELD, phone.normalise_phone(raw))

    def document_index(self, document: DocumentInput) -> str:
        return self._protector.blind_index(document.kind.value, normalised_document(document))

    def protect_document(self, state_code: str, document: DocumentInput) -> IdentityDocument:
        number = normalised_document(document)
        return IdentityDocument(
            kind=document.kind,
            blind_index=self._protector.blind_index(document.kind.value, number),
            masked=mask(number, document.kind),
            encrypted=""
            if document.kind is DocumentKind.AADHAAR
            else self._protector.encrypt(state_code, document_field(document.kind), number),
        )

    def details(
        self, raw: WorkerInput, *, keep: WorkerDetails | None = None
    ) -> tuple[WorkerDetails, list[FieldViolation]]:
        """Protected details and the violations found in the sensitive values (the domain checks the rest).

        `keep` supplies the stored phone and documents when an update leaves them out.
        """
        violations: list[FieldViolation] = []
        state = raw.home.state_code or "00"
        protected_phone = keep.phone if keep else None
        if raw.phone:
            try:
                e164 = phone.normalise_phone(raw.phone)
                protected_phone = ProtectedPhone(
                    encrypted=self._protector.encrypt(state, PHONE_FIELD, e164),
                    blind_index=self._protector.blind_index(PHONE_FIELD, e164),
                    last4=e164[-4:],
                )
            except ValueError as exc:
                violations.append(FieldViolation("phone", getattr(exc, "problem", str(exc))))
        documents = {d.kind: d for d in (keep.identity_documents if keep else ())}
        for position, document in enumerate(raw.identity_documents):
            try:
                documents[document.kind] = self.protect_document(state, document)
            except ValueError as exc:
                violations.append(
                    FieldViolation(f"identity_documents.{position}.number", getattr(exc, "problem", str(exc)))
                )
        details = WorkerDetails(
            full_name=raw.full_name,
            gender=raw.gender,
            birth_year=raw.birth_year,
            home=raw.home,
            occupation=raw.occupation,
            sector=raw.sector,
            skills=raw.skills,
            languages=raw.languages,
            vulnerabilities=raw.vulnerabilities,
            father_or_spouse_name=raw.father_or_spouse_name,
            phone=protected_phone,
            identity_documents=tuple(documents[k] for k in sorted(documents)),
            latin_name=to_latin(raw.full_name) if raw.full_name.strip() else "",
        )
        return details, violations

    def reveal_phone(self, details: WorkerDetails) -> str:
        """The phone number; only its masked form for a copy of another state's record (the number itself
        never crossed the border)."""
        if details.phone is None:
            return ""
        if not details.phone.encrypted:
            return MASKED_PHONE_PREFIX + details.phone.last4
        return self._protector.decrypt(PHONE_FIELD, details.phone.encrypted)
