"""Household links another state shares with this one: which of a household's members (registered workers
whose records that state shares here) live together, and the household's non-identifying facts. Kept as
its home state last published them, replaced by a newer snapshot, removed when no member is shared any
more. Never a member's name or the ration card number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SharedHouseholdLinks:
    household_id: str
    home_state_code: str
    shared_with_state_codes: frozenset[str]
    member_worker_ids: tuple[str, ...]
    size: int
    holds_ration_card: bool
    ration_card_state_code: str
    # Where the household lives (LGD state and district codes).
    lives_in_state_code: str
    lives_in_district_code: str
    version: int
    shared_at: datetime

    def addressed_to(self, state_code: str) -> bool:
        return not self.shared_with_state_codes or state_code in self.shared_with_state_codes

    def newer_than(self, held: SharedHouseholdLinks) -> bool:
        """A snapshot replaces an older one. A member's consent changing re-sends the household at the same
        version, so the time it was shared orders snapshots of one version."""
        return (self.version, self.shared_at) > (held.version, held.shared_at)
