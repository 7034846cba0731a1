"""The scheme catalogue as data: a document (parsed from YAML or JSON) checked and turned into schemes.

Every problem is reported at once, each named by its path in the document (`schemes.3.citations.0.url`,
`schemes.1.rule.conditions.2.expression`), and unknown keys are refused so a misspelt field is never
silently ignored. Each scheme comes out with its rule drafted and published as version 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from mrc_entitlements.domain.rules import ConditionSpec
from mrc_entitlements.domain.schemes import (
    Benefit,
    BenefitKind,
    Citation,
    RequiredDocument,
    Scheme,
    SchemeDetails,
    SchemeKind,
    WhereToApply,
)
from mrc_kernel.errors import FieldViolation, InvalidArgument

CATALOGUE_AUTHOR = "catalogue"
_SCHEME_KEYS = frozenset(
    {
        "code",
        "name",
        "local_names",
        "kind",
        "administering_state",
        "summary",
        "benefits",
        "required_documents",
        "where_to_apply",
        "citations",
        "renewable",
        "rule",
        "notes",
    }
)


class _Reader:
    """Reads typed values out of untyped data, collecting violations instead of stopping at the first."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def fail(self, path: str, problem: str) -> None:
        self.violations.append(FieldViolation(path, problem))

    def mapping(self, value: Any, path: str, allowed: frozenset[str] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, "must be a mapping")
            return {}
        if allowed is not None:
            for key in sorted(set(value) - allowed, key=str):
                self.fail(f"{path}.{key}" if path else str(key), "is not a known field")
        return value

    def items(self, value: Any, path: str, *, required: bool = True) -> list[Any]:
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.fail(path, "must be a list")
            return []
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(f"{path}.{key}", "must be text")
            return ""
        if required and not value.strip():
            self.fail(f"{path}.{key}", "must be set")
        return " ".join(value.split()) if key != "expression" else value.strip()

    def integer(self, data: Mapping[str, Any], key: str, path: str) -> int:
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{path}.{key}", "must be a whole number")
            return 0
        return value

    def day(self, data: Mapping[str, Any], key: str, path: str) -> date | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{path}.{key}", "a date as YYYY-MM-DD")
            return None


def _details(reader: _Reader, data: Mapping[str, Any], path: str) -> SchemeDetails | None:
    kind_text = reader.text(data, "kind", path)
    kind = SchemeKind(kind_text) if kind_text in SchemeKind.__members__.values() else None
    if kind_text and kind is None:
        reader.fail(f"{path}.kind", f"one of {', '.join(SchemeKind)}")
    local_names = reader.mapping(data.get("local_names", {}), f"{path}.local_names")
    benefits = []
    for index, item in enumerate(reader.items(data.get("benefits"), f"{path}.benefits")):
        item_path = f"{path}.benefits.{index}"
        entry = reader.mapping(item, item_path, frozenset({"kind", "description", "amount_inr"}))
        benefit_kind = reader.text(entry, "kind", item_path)
        if benefit_kind and benefit_kind not in BenefitKind.__members__.values():
            reader.fail(f"{item_path}.kind", f"one of {', '.join(BenefitKind)}")
            continue
        benefits.append(
            Benefit(
                BenefitKind(benefit_kind) if benefit_kind else BenefitKind.SERVICE,
                reader.text(entry, "description", item_path),
                reader.integer(entry, "amount_inr", item_path),
            )
        )
    documents = []
    for index, item in enumerate(reader.items(data.get("required_documents"), f"{path}.required_documents")):
        item_path = f"{path}.required_documents.{index}"
        entry = reader.mapping(item, item_path, frozenset({"description", "document_kind"}))
        documents.append(
            RequiredDocument(
                reader.text(entry, "description", item_path),
                reader.text(entry, "document_kind", item_path, required=False),
            )
        )
    places = []
    for index, item in enumerate(reader.items(data.get("where_to_apply"), f"{path}.where_to_apply")):
        item_path = f"{path}.where_to_apply.{index}"
        entry = reader.mapping(item, item_path, frozenset({"description", "url"}))
        places.append(
            WhereToApply(
                reader.text(entry, "description", item_path), reader.text(entry, "url", item_path, required=False)
            )
        )
    citations = []
    for index, item in enumerate(reader.items(data.get("citations"), f"{path}.citations")):
        item_path = f"{path}.citations.{index}"
        entry = reader.mapping(item, item_path, frozenset({"title", "authority", "reference", "issued_on", "url"}))
        citations.append(
            Citation(
                title=reader.text(entry, "title", item_path),
                authority=reader.text(entry, "authority", item_path),
                reference=reader.text(entry, "reference", item_path),
                issued_on=reader.day(entry, "issued_on", item_path),
                url=reader.text(entry, "url", item_path),
            )
        )
    renewable = data.get("renewable", False)
    if not isinstance(renewable, bool):
        reader.fail(f"{path}.renewable", "true or false")
    if kind is None:
        return None
    return SchemeDetails(
        name=reader.text(data, "name", path),
        local_names=tuple(sorted((str(k), str(v)) for k, v in local_names.items())),
        kind=kind,
        administering_state=reader.text(data, "administering_state", path, required=False),
        summary=reader.text(data, "summary", path),
        benefits=tuple(benefits),
        required_documents=tuple(documents),
        where_to_apply=tuple(places),
        citations=tuple(citations),
        renewable=renewable is True,
    )


def _conditions(reader: _Reader, data: Any, path: str) -> tuple[str, list[ConditionSpec]]:
    rule = reader.mapping(data, path, frozenset({"note", "conditions"}))
    specs = []
    for index, item in enumerate(reader.items(rule.get("conditions"), f"{path}.conditions")):
        item_path = f"{path}.conditions.{index}"
        entry = reader.mapping(item, item_path, frozenset({"name", "description", "reads", "expression"}))
        reads = reader.items(entry.get("reads"), f"{item_path}.reads")
        if not all(isinstance(r, str) for r in reads):
            reader.fail(f"{item_path}.reads", "a list of fact names")
            reads = []
        specs.append(
            ConditionSpec(
                name=reader.text(entry, "name", item_path),
                expression=reader.text(entry, "expression", item_path),
                description=reader.text(entry, "description", item_path),
                reads=tuple(reads),
            )
        )
    return reader.text(rule, "note", path, required=False), specs


def parse_catalogue(document: Any, *, now: datetime) -> list[Scheme]:
    """The catalogue's schemes, each with rule version 1 published; InvalidArgument lists every problem."""
    reader = _Reader()
    root = reader.mapping(document, "", frozenset({"schemes"}))
    schemes: list[Scheme] = []
    seen: set[str] = set()
    for index, item in enumerate(reader.items(root.get("schemes"), "schemes")):
        path = f"schemes.{index}"
        data = reader.mapping(item, path, _SCHEME_KEYS)
        code = reader.text(data, "code", path)
        if code in seen:
            reader.fail(f"{path}.code", f"another scheme is already {code!r}")
        seen.add(code)
        details = _details(reader, data, path)
        note, specs = _conditions(reader, data.get("rule"), f"{path}.rule")
        if details is None:
            continue
        try:
            scheme = Scheme.create(code, details)
        except InvalidArgument as invalid:
            reader.violations += [FieldViolation(f"{path}.{v.field}", v.description) for v in invalid.violations]
            continue
        try:
            draft = scheme.draft_rule(specs, note=note, by=CATALOGUE_AUTHOR, now=now)
        except InvalidArgument as invalid:
            reader.violations += [FieldViolation(f"{path}.rule.{v.field}", v.description) for v in invalid.violations]
            continue
        scheme.publish(draft.version, by=CATALOGUE_AUTHOR, now=now)
        schemes.append(scheme)
    if not schemes and not reader.violations:
        reader.fail("schemes", "the catalogue has at least one scheme")
    if reader.violations:
        raise InvalidArgument(reader.violations)
    return schemes
