"""The rows of a field survey (CSV or XLSX): which columns exist, and each row parsed into the
`RegisterWorker` command a single registration over REST would build, or what is wrong with it.

Problems are named by the column a registrar has to fix, and never repeat a phone or identity number.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from mrc_kernel.errors import FieldViolation, InvalidArgument
from mrc_kernel.place import Place
from mrc_kernel.vocabulary import Gender, Sector
from mrc_registry.domain.consent import CaptureMethod, ConsentPurpose
from mrc_registry.domain.identity.matching import PHONE_KIND
from mrc_registry.domain.worker import DocumentKind, Vulnerability
from mrc_registry.service_layer.commands import ConsentInput, DocumentInput, RegisterWorker, WorkerInput

MAX_ROW_KEY_LENGTH = 128
LIST_SEPARATOR = ";"

DOCUMENT_COLUMNS: dict[str, DocumentKind] = {
    "aadhaar": DocumentKind.AADHAAR,
    "e_shram_uan": DocumentKind.E_SHRAM_UAN,
    "voter_id": DocumentKind.VOTER_ID,
    "ration_card": DocumentKind.RATION_CARD,
}
COLUMNS = (
    "full_name",
    "gender",
    "birth_year",
    "home_state_code",
    "home_district_code",
    "home_subdistrict_code",
    "home_village",
    "occupation",
    "sector",
    "father_or_spouse_name",
    "phone",
    *DOCUMENT_COLUMNS,
    "languages",
    "skills",
    "vulnerabilities",
    "consent_purposes",
    "consent_method",
    "consent_witness",
    # For consent purpose cross_state_sharing: LGD state codes (e.g. 32;27); empty: every state.
    "consent_shared_with_states",
    "row_key",
)
REQUIRED_COLUMNS = (
    "full_name",
    "gender",
    "home_state_code",
    "home_district_code",
    "consent_purposes",
    "consent_method",
)
# Values that must never reach a report, even inside another column's problem.
SENSITIVE_COLUMNS = ("phone", *DOCUMENT_COLUMNS)
# A violation's field, as the domain names it, to the column a registrar has to fix.
_COLUMN_OF_FIELD = {
    "home.state_code": "home_state_code",
    "home.district_code": "home_district_code",
    "home.subdistrict_code": "home_subdistrict_code",
    "home.village_name": "home_village",
    "consent.purposes": "consent_purposes",
    "consent.method": "consent_method",
    "consent.witness_name": "consent_witness",
    "consent.shared_with_partner_ids": "consent_purposes",
    "consent.expires_at": "consent_purposes",
    "consent.shared_with_state_codes": "consent_shared_with_states",
}
_DOCUMENT_FIELD = re.compile(r"^identity_documents(?:\[(\d+)\]|\.(\d+))")
COLUMN_OF_MATCH_KIND = {PHONE_KIND: "phone", **{kind.value: column for column, kind in DOCUMENT_COLUMNS.items()}}


@dataclass(frozen=True)
class SurveyRow:
    """One data row: the command it asks for, or what is wrong with it before any rule runs."""

    number: int
    row_key: str  # as given ("" if not)
    key: str  # the row's idempotency key within its file: row_key, or a hash of the row
    command: RegisterWorker
    problems: tuple[tuple[str, str], ...]  # (column, problem)
    document_columns: tuple[str, ...]  # the column of each of command.details.identity_documents
    sensitive: tuple[str, ...]  # raw phone and document values, to keep out of the report


def check_headers(headers: Sequence[str]) -> None:
    """The whole file is refused for unknown, repeated or missing columns."""
    named = [h for h in headers if h]
    violations = []
    unknown = sorted(set(named) - set(COLUMNS))
    if unknown:
        violations.append(FieldViolation("file", f"unknown columns: {', '.join(unknown)}; known: {', '.join(COLUMNS)}"))
    repeated = sorted({h for h in named if named.count(h) > 1})
    if repeated:
        violations.append(FieldViolation("file", f"columns named twice: {', '.join(repeated)}"))
    missing = [c for c in REQUIRED_COLUMNS if c not in named]
    if missing:
        violations.append(FieldViolation("file", f"missing columns: {', '.join(missing)}"))
    if violations:
        raise InvalidArgument(violations)


E = TypeVar("E", bound=enum.StrEnum)


def parse_row(number: int, headers: Sequence[str], cells: Sequence[str], file_sha256: str) -> SurveyRow:
    values: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for position, cell in enumerate(cells):
        name = headers[position] if position < len(headers) else ""
        if name:
            values[name] = cell.strip()
        elif cell.strip():
            problems.append((f"column {position + 1}", "has a value but no header"))

    def text(column: str) -> str:
        return values.get(column, "")

    def items(column: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in text(column).split(LIST_SEPARATOR) if item.strip())

    def choice(column: str, kind: type[E]) -> E | None:
        value = text(column).lower()
        if not value:
            return None
        try:
            return kind(value)
        except ValueError:
            problems.append((column, f"must be one of {', '.join(m.value for m in kind)}"))
            return None

    def choices(column: str, kind: type[E]) -> frozenset[E]:
        chosen: set[E] = set()
        for item in items(column):
            try:
                chosen.add(kind(item.lower()))
            except ValueError:
                allowed = ", ".join(m.value for m in kind)
                problems.append((column, f"each item (separated by '{LIST_SEPARATOR}') must be one of {allowed}"))
                break
        return frozenset(chosen)

    birth_year: int | None = None
    if text("birth_year"):
        if text("birth_year").isascii() and text("birth_year").isdigit():
            birth_year = int(text("birth_year"))
        else:
            problems.append(("birth_year", "must be a year such as 1990"))
    row_key = text("row_key")
    if len(row_key) > MAX_ROW_KEY_LENGTH:
        problems.append(("row_key", f"must be at most {MAX_ROW_KEY_LENGTH} characters"))
        row_key = ""
    documents = [
        (column, DocumentInput(kind, text(column))) for column, kind in DOCUMENT_COLUMNS.items() if text(column)
    ]
    if not row_key:
        content = json.dumps(sorted(values.items()), ensure_ascii=False, separators=(",", ":"))
        row_key_or_hash = "content-" + hashlib.sha256(content.encode()).hexdigest()[:32]
    key = f"import:{file_sha256}:{row_key or row_key_or_hash}"
    command = RegisterWorker(
        idempotency_key=key,
        details=WorkerInput(
            full_name=text("full_name"),
            gender=choice("gender", Gender),
            birth_year=birth_year,
            home=Place(
                state_code=text("home_state_code"),
                district_code=text("home_district_code"),
                subdistrict_code=text("home_subdistrict_code"),
                village_name=text("home_village"),
            ),
            occupation=text("occupation"),
            sector=choice("sector", Sector),
            skills=items("skills"),
            languages=items("languages"),
            vulnerabilities=choices("vulnerabilities", Vulnerability),
            father_or_spouse_name=text("father_or_spouse_name"),
            phone=text("phone"),
            identity_documents=tuple(document for _, document in documents),
        ),
        consent=ConsentInput(
            purposes=choices("consent_purposes", ConsentPurpose),
            method=choice("consent_method", CaptureMethod),
            witness_name=text("consent_witness"),
            shared_with_state_codes=frozenset(items("consent_shared_with_states")),
        ),
    )
    return SurveyRow(
        number=number,
        row_key=row_key,
        key=key,
        command=command,
        problems=tuple(problems),
        document_columns=tuple(column for column, _ in documents),
        sensitive=tuple(values[c] for c in SENSITIVE_COLUMNS if values.get(c)),
    )


def column_of(violation_field: str, document_columns: Sequence[str]) -> str:
    found = _DOCUMENT_FIELD.match(violation_field)
    position = int(found.group(1) or found.group(2)) if found else -1
    if 0 <= position < len(document_columns):
        return document_columns[position]
    return _COLUMN_OF_FIELD.get(violation_field, violation_field)


def redact(text: str, sensitive: Iterable[str]) -> str:
    for value in sensitive:
        digits = "".join(ch for ch in value if ch.isdigit())
        for secret in {value, digits}:
            if len(secret) >= 4:
                text = text.replace(secret, "[redacted]")
    return text
