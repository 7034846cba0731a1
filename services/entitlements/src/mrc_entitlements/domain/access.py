"""Eligibility and application records as the shared access policy (`mrc_kernel.policy`) sees them.

A worker's determinations and applications belong where the worker does (home, and the current
destination of an ongoing migration) and are reachable by the partners the worker's active consents
admit, for the purposes they admit: the grants the registry publishes with the worker's facts. Nobody
owns them here: this service never captured a consent itself.
"""

from __future__ import annotations

from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_kernel.policy import Protected, Purpose

ELIGIBILITY = "eligibility"
APPLICATION = "application"
# What reads of determinations and applications are for.
READ_PURPOSE = Purpose.ENTITLEMENT_LINKAGE
# The grievance service asks about refusals while following up a complaint.
REFUSAL_PURPOSES = frozenset({Purpose.ENTITLEMENT_LINKAGE, Purpose.GRIEVANCE_FOLLOW_UP})


def protected(record: WorkerRecord, kind: str = ELIGIBILITY) -> Protected:
    """The worker's record for the policy; an erased or merged one is reachable by nobody."""
    if not record.active:
        return Protected(kind, places=())
    return Protected(kind, places=record.places, grants=record.grants)
