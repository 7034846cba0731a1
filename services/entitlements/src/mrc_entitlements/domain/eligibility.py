"""Eligibility of a worker for welfare schemes.

For now the record is a placeholder made when a worker is registered; the rules engine that assesses
schemes (BOCW welfare board, PDS portability under One Nation One Ration Card, PM-JAY...) fills it in.

The record may only be used while the worker consents to entitlement linkage (DPDP Act). Without that
consent it stays as a bare status (`awaiting_consent` if never given, `consent_withdrawn` once revoked)
that reads like a missing record, so the consumer can restore it when consent comes back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime


class EligibilityStatus(enum.StrEnum):
    PENDING_ASSESSMENT = "pending_assessment"
    ASSESSED = "assessed"
    # Registered without consent to entitlement linkage: nothing may be assessed or shown.
    AWAITING_CONSENT = "awaiting_consent"
    # The worker revoked consent to entitlement linkage: the record must not be used.
    CONSENT_WITHDRAWN = "consent_withdrawn"


USABLE_STATUSES = frozenset({EligibilityStatus.PENDING_ASSESSMENT, EligibilityStatus.ASSESSED})


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
    # The worker's home state and district (LGD codes): what remains, as a count, once they are erased.
    state_code: str = ""
    district_code: str = ""
    pending_events: list[EligibilityRecorded] = field(default_factory=list, repr=False, compare=False)

    @property
    def usable(self) -> bool:
        """Whether the record may be used or shown (the worker consents to entitlement linkage)."""
        return self.status in USABLE_STATUSES

    @classmethod
    def for_new_worker(
        cls,
        worker_id: str,
        *,
        linkage_consented: bool,
        source_event_id: str,
        now: datetime,
        state_code: str = "",
        district_code: str = "",
    ) -> Eligibility:
        """Pending assessment if the worker consents to entitlement linkage, else awaiting consent (no event)."""
        eligibility = cls(
            worker_id=worker_id,
            status=EligibilityStatus.PENDING_ASSESSMENT if linkage_consented else EligibilityStatus.AWAITING_CONSENT,
            eligible_scheme_codes=[],
            recorded_at=now,
            source_event_id=source_event_id,
            state_code=state_code,
            district_code=district_code,
        )
        if linkage_consented:
            eligibility.pending_events.append(EligibilityRecorded(eligibility))
        return eligibility

    def consent_changed(self, linkage_consented: bool, *, source_event_id: str, now: datetime) -> bool:
        """Follow the worker's consent to entitlement linkage; True if the record changed."""
        if not linkage_consented:
            if self.usable:
                self.status = EligibilityStatus.CONSENT_WITHDRAWN
                # An assessment made under the revoked consent is not kept; it is redone if consent returns.
                self.eligible_scheme_codes = []
                return True
            return False
        if self.usable:
            return False
        self.status = EligibilityStatus.PENDING_ASSESSMENT
        self.eligible_scheme_codes = []
        self.recorded_at = now
        self.source_event_id = source_event_id
        self.pending_events.append(EligibilityRecorded(self))
        return True

    def moved_to(self, surviving_worker_id: str) -> Eligibility:
        """This record under the id of the worker it was merged into (announced again if usable)."""
        moved = replace(self, worker_id=surviving_worker_id, eligible_scheme_codes=list(self.eligible_scheme_codes))
        moved.pending_events = [EligibilityRecorded(moved)] if moved.usable else []
        return moved
