"""Collections and their indexes as mongoengine document classes declare them.

mongoengine is the platform's schema language (field types, choices, indexes); reads and writes go
through the store port, so the strategy decides how each index is used.
"""

from __future__ import annotations

from typing import Any

from mrc_plumbing.store.port import IndexSpec


def collection_of(document_class: Any) -> str:
    return str(document_class._meta["collection"])


def indexes_of(document_class: Any) -> list[IndexSpec]:
    specs: list[IndexSpec] = []
    for declared in document_class._meta.get("indexes", []):
        # A single-field index serves both sort directions, so the direction prefix is dropped.
        fields = tuple(str(f).lstrip("+-") for f in declared["fields"])
        specs.append(
            IndexSpec(
                fields=fields,
                name=str(declared.get("name") or "_".join(fields)),
                unique=bool(declared.get("unique", False)),
                sparse=bool(declared.get("sparse", False)),
            )
        )
    return specs
