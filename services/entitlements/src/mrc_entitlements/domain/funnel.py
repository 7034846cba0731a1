"""The entitlement funnel: how many workers are eligible, applied, approved and delivered, per place and scheme.

Counts are published with small cells suppressed exactly as the registry's statistics are
(`mrc_kernel.privacy.suppress_small_cells`): a district where two workers got a scheme points at them.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mrc_entitlements.domain.applications import Application, ApplicationStatus
from mrc_entitlements.domain.determinations import Determination
from mrc_entitlements.domain.rules import Outcome
from mrc_kernel.privacy import DEFAULT_MIN_CELL_SIZE, SafeCounts, suppress_small_cells


class FunnelStage(enum.StrEnum):
    ELIGIBLE = "eligible"
    APPLIED = "applied"
    APPROVED = "approved"
    DELIVERED = "delivered"


S = ApplicationStatus
# An application counts at a stage once it has reached it, whatever happened after (an approved
# application that later lapsed was still approved).
_STAGE_OF_STATUS: dict[ApplicationStatus, FunnelStage] = {
    S.APPLIED: FunnelStage.APPLIED,
    S.DOCUMENTS_PENDING: FunnelStage.APPLIED,
    S.SUBMITTED: FunnelStage.APPLIED,
    S.REJECTED: FunnelStage.APPLIED,
    S.APPROVED: FunnelStage.APPROVED,
    S.DELIVERED: FunnelStage.DELIVERED,
    S.RENEWAL_DUE: FunnelStage.DELIVERED,
}
_ORDER = (FunnelStage.APPLIED, FunnelStage.APPROVED, FunnelStage.DELIVERED)


def stages_reached(application: Application) -> frozenset[FunnelStage]:
    """The application stages it has reached; reaching one means having passed the ones before it."""
    furthest = -1
    for status in application.reached:
        stage = _STAGE_OF_STATUS.get(status)
        if stage is not None:
            furthest = max(furthest, _ORDER.index(stage))
    return frozenset(_ORDER[: furthest + 1])


@dataclass(frozen=True)
class FunnelCell:
    state_code: str
    district_code: str
    scheme_code: str
    stage: FunnelStage


def count_funnel(
    eligible: Iterable[tuple[Determination, str, str]],
    applications: Iterable[Application],
) -> Counter[FunnelCell]:
    """Raw counts: eligible determinations with the worker's (state, district), and applications by stage.

    Each worker counts once per scheme and stage: several applications of one worker to one scheme (a
    re-application after a lapse) are one person in the funnel.
    """
    counted: set[tuple[str, str, FunnelStage]] = set()
    counts: Counter[FunnelCell] = Counter()
    for determination, state_code, district_code in eligible:
        if determination.outcome is not Outcome.ELIGIBLE:
            continue
        key = (determination.worker_id, determination.scheme_code, FunnelStage.ELIGIBLE)
        if key not in counted:
            counted.add(key)
            counts[FunnelCell(state_code, district_code, determination.scheme_code, FunnelStage.ELIGIBLE)] += 1
    for application in applications:
        for stage in stages_reached(application):
            key = (application.worker_id, application.scheme_code, stage)
            if key not in counted:
                counted.add(key)
                cell = FunnelCell(application.state_code, application.district_code, application.scheme_code, stage)
                counts[cell] += 1
    return counts


def safe_funnel(counts: Mapping[FunnelCell, int], min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> SafeCounts[FunnelCell]:
    """The counts as they may be published: cells under `min_cell_size` (but not zero) suppressed."""
    return suppress_small_cells(counts, min_cell_size)
