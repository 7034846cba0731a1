"""What callers ask of the registry, as plain data: raw values, not yet validated or protected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Gender, Sector
from mrc_registry.domain.consent import CaptureMethod, ConsentPurpose
from mrc_registry.domain.worker import DocumentKind, Vulnerability


@dataclass(frozen=True)
class DocumentInput:
    kind: DocumentKind
    number: str


@dataclass(frozen=True)
class ConsentInput:
    purposes: frozenset[ConsentPurpose]
    method: CaptureMethod | None
    witness_name: str = ""
    shared_with_partner_ids: frozenset[str] = frozenset()
    expires_at: datetime | None = None
    # For cross_state_sharing: the LGD codes of the states named; empty: every state of the federation.
    shared_with_state_codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WorkerInput:
    full_name: str
    gender: Gender | None
    birth_year: int | None
    home: Place
    occupation: str = ""
    sector: Sector | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    vulnerabilities: frozenset[Vulnerability] = frozenset()
    father_or_spouse_name: str = ""
    phone: str = ""
    identity_documents: tuple[DocumentInput, ...] = ()


@dataclass(frozen=True)
class RegisterWorker:
    details: WorkerInput
    consent: ConsentInput
    idempotency_key: str = ""


# Fields a partial update may name; `identity_documents` adds or replaces documents by kind.
UPDATABLE_FIELDS = frozenset(
    {
        "full_name",
        "gender",
        "birth_year",
        "home",
        "occupation",
        "sector",
        "skills",
        "languages",
        "vulnerabilities",
        "father_or_spouse_name",
        "phone",
        "identity_documents",
    }
)


@dataclass(frozen=True)
class UpdateWorker:
    worker_id: str
    changes: WorkerInput
    paths: frozenset[str] = field(default_factory=frozenset)
    expected_version: int = 0


@dataclass(frozen=True)
class Search:
    name: str = ""
    phone: str = ""
    document: DocumentInput | None = None
    district_code: str = ""
    registering_partner_id: str = ""
    sector: Sector | None = None
    page_size: int = 50
    page_token: str = ""
