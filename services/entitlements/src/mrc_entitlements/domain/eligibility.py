"""Eligibility of a worker for welfare schemes.

For now the record is a placeholder made when a worker is registered; the rules engine that assesses
schemes (BOCW welfare board, PDS portability under One Nation One Ration Card, PM-JAY...) fills it in.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class EligibilityStatus(enum.StrEnum):
    PENDING_ASSESSMENT = "pending_assessment"
    ASSESSED = "assessed"


@dataclass(frozen=True)
class EligibilityRecorded:
    eligibility: Eligibility


@dataclass
class Eligibility:
    worker_id: str
    status: EligibilityStatus
    eligible_scheme_codes: list[str]
    recorded_at: datetime
    source_event_id: str
    pending_events: list[EligibilityRecorded] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def pending_for_new_worker(cls, worker_id: str, *, source_event_id: str, now: datetime) -> Eligibility:
        eligibility = cls(
            worker_id=worker_id,
            status=EligibilityStatus.PENDING_ASSESSMENT,
            eligible_scheme_codes=[],
            recorded_at=now,
            source_event_id=source_event_id,
        )
        eligibility.pending_events.append(EligibilityRecorded(eligibility))
        return eligibility
