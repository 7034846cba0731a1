"""What this service reads in the registry's published contract (mrc.registry.v1), never its code."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from mrc.registry.v1 import worker_pb2

LINKAGE = worker_pb2.CONSENT_PURPOSE_ENTITLEMENT_LINKAGE


def _active(consent: worker_pb2.Consent, at: datetime) -> bool:
    if consent.HasField("revoked_at"):
        return False
    return not consent.HasField("expires_at") or at < consent.expires_at.ToDatetime(tzinfo=UTC)


def consents_to_linkage(consents: Iterable[worker_pb2.Consent], at: datetime) -> bool:
    """Whether one of the consents, active at `at`, covers entitlement linkage."""
    return any(LINKAGE in consent.purposes and _active(consent, at) for consent in consents)


def registered_with_linkage_consent(worker: worker_pb2.Worker, event_time: datetime) -> bool:
    """Whether the worker consented to entitlement linkage when registering."""
    at = worker.registered_at.ToDatetime(tzinfo=UTC) if worker.HasField("registered_at") else event_time
    return consents_to_linkage(worker.consents, at)


def active_purposes_include_linkage(active_purposes: Iterable[int]) -> bool:
    """For ConsentChanged: `active_purposes` is the registry's union over all the worker's active consents."""
    return LINKAGE in active_purposes
