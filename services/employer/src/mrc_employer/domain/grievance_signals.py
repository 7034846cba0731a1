"""What the employer service learns from grievance events naming one of its organisations.

Agreed with the grievance service: its events on `mrc.grievance.grievances.v1` carry `employer_id`
(this service's organisation id, empty when none), the category, the severity and the status;
`GrievanceFiled` and `GrievanceReopened` count as allegations; `GrievanceResolved` carries the
outcome and `substantiated`. Nothing else is taken: no worker, no reporter, no case text, no place
finer than the organisation. Each event becomes one signal, kept with its event id so a redelivered
event is recognised and has no second effect.

A grievance's standing is folded from its signals in time order: the first signal naming this
organisation opens an allegation (the respondent may be identified only at triage); a resolution
closes it, substantiated or not; a reopening alleges again (an earlier substantiation stands until a
new resolution says otherwise); a signal that the grievance no longer names this organisation
(respondent corrected) withdraws it entirely.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from mrc_employer.domain.values import check_id, is_key
from mrc_kernel.errors import FieldViolation

MAX_OUTCOME_LENGTH = 64


class GrievanceSignalKind(enum.StrEnum):
    FILED = "filed"  # GrievanceFiled
    REOPENED = "reopened"  # GrievanceReopened
    SEVERITY_ASSESSED = "severity_assessed"  # GrievanceTriaged (severity set or overridden)
    RESOLVED = "resolved"  # GrievanceResolved
    WITHDRAWN = "withdrawn"  # the grievance no longer names this organisation


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class GrievanceSignal:
    event_id: str  # the CloudEvent id: what makes a redelivery recognisable
    grievance_id: str
    kind: GrievanceSignalKind
    occurred_at: datetime
    category: str = ""  # the grievance service's category key, e.g. wage_theft, recruitment_fee
    severity: str = ""
    substantiated: bool = False
    outcome: str = ""

    def violations(self) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        check_id("event_id", self.event_id, found)
        check_id("grievance_id", self.grievance_id, found)
        if self.category and not is_key(self.category):
            found.append(FieldViolation("category", "must be a key such as wage_theft"))
        if self.severity and not is_key(self.severity):
            found.append(FieldViolation("severity", "must be a key such as high"))
        if len(self.outcome) > MAX_OUTCOME_LENGTH or (self.outcome and not is_key(self.outcome)):
            found.append(FieldViolation("outcome", "must be a key such as wages_recovered"))
        if self.substantiated and self.kind is not GrievanceSignalKind.RESOLVED:
            found.append(FieldViolation("substantiated", "only a resolution substantiates"))
        return found


@dataclass(frozen=True)
class GrievanceStanding:
    grievance_id: str
    category: str
    severity: str
    open: bool
    alleged_on: date | None  # the latest filing or reopening (or first naming)
    substantiated_on: date | None  # the latest resolution, when it found the grievance substantiated
    withdrawn: bool = False
    outcome: str = ""


def standings(signals: Iterable[GrievanceSignal]) -> dict[str, GrievanceStanding]:
    """Each grievance's standing, folded from its signals in time order (arrival order breaks ties)."""
    ordered = sorted(enumerate(signals), key=lambda pair: (pair[1].occurred_at, pair[0]))
    folded: dict[str, GrievanceStanding] = {}
    for _, signal in ordered:
        day = signal.occurred_at.date()
        current = folded.get(signal.grievance_id)
        if current is None:
            if signal.kind is GrievanceSignalKind.WITHDRAWN:
                continue
            current = GrievanceStanding(signal.grievance_id, "", "", open=True, alleged_on=day, substantiated_on=None)
        if signal.category:
            current = replace(current, category=signal.category)
        if signal.severity:
            current = replace(current, severity=signal.severity)
        match signal.kind:
            case GrievanceSignalKind.FILED | GrievanceSignalKind.REOPENED:
                current = replace(current, open=True, alleged_on=day, withdrawn=False)
            case GrievanceSignalKind.RESOLVED:
                current = replace(
                    current,
                    open=False,
                    substantiated_on=day if signal.substantiated else None,
                    outcome=signal.outcome,
                )
            case GrievanceSignalKind.WITHDRAWN:
                current = replace(current, open=False, substantiated_on=None, withdrawn=True)
            case GrievanceSignalKind.SEVERITY_ASSESSED:
                pass
        folded[signal.grievance_id] = current
    return folded
