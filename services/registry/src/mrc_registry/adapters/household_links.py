"""Household links other states share with this one, in the document store (collection `household_links`):
one document per household as its home state last published it, with the event ids applied to it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mrc_plumbing.store import APPLIED_EVENTS_FIELD, DocumentStore, DuplicateDocument
from mrc_registry.domain.household_links import SharedHouseholdLinks

COLLECTION = "household_links"


def _document(links: SharedHouseholdLinks) -> dict[str, Any]:
    return {
        "home_state_code": links.home_state_code,
        "shared_with_state_codes": sorted(links.shared_with_state_codes),
        "member_worker_ids": list(links.member_worker_ids),
        "size": links.size,
        "holds_ration_card": links.holds_ration_card,
        "ration_card_state_code": links.ration_card_state_code,
        "lives_in_state_code": links.lives_in_state_code,
        "lives_in_district_code": links.lives_in_district_code,
        "version": links.version,
        "shared_at": links.shared_at,
    }


def _links(doc: dict[str, Any]) -> SharedHouseholdLinks:
    shared_at: datetime = doc["shared_at"]
    return SharedHouseholdLinks(
        household_id=doc["_id"],
        home_state_code=doc["home_state_code"],
        shared_with_state_codes=frozenset(doc.get("shared_with_state_codes", [])),
        member_worker_ids=tuple(doc.get("member_worker_ids", [])),
        size=int(doc.get("size", 0)),
        holds_ration_card=bool(doc.get("holds_ration_card", False)),
        ration_card_state_code=doc.get("ration_card_state_code", ""),
        lives_in_state_code=doc.get("lives_in_state_code", ""),
        lives_in_district_code=doc.get("lives_in_district_code", ""),
        version=int(doc["version"]),
        shared_at=shared_at if shared_at.tzinfo else shared_at.replace(tzinfo=UTC),
    )


class StoredHouseholdLinks:
    def __init__(self, store: DocumentStore) -> None:
        self._links = store.collection(COLLECTION)

    def get_links(self, household_id: str) -> SharedHouseholdLinks | None:
        doc = self._links.get(household_id, exclude=[APPLIED_EVENTS_FIELD]) if household_id else None
        return _links(doc) if doc else None

    def put_links(self, links: SharedHouseholdLinks, *, event_id: str) -> bool:
        document = _document(links)
        if self._links.get(links.household_id, fields=["_id"]) is None:
            try:
                self._links.insert({"_id": links.household_id, **document, APPLIED_EVENTS_FIELD: [event_id]})
                return True
            except DuplicateDocument:
                pass  # stored meanwhile: replace it below, once
        return self._links.apply_once(links.household_id, {"$set": document}, event_id)

    def remove_links(self, household_id: str) -> None:
        self._links.delete(household_id)

    def with_member(self, worker_id: str) -> list[SharedHouseholdLinks]:
        """Shared households naming a worker (a scan on FerretDB: reads only)."""
        return [_links(d) for d in self._links.find({"member_worker_ids": worker_id}, exclude=[APPLIED_EVENTS_FIELD])]
