"""What this service reads in the registry's published contract (mrc.registry.v1), never its code."""

from __future__ import annotations

from collections.abc import Iterable

from mrc.registry.v1 import worker_pb2

LINKAGE = worker_pb2.CONSENT_PURPOSE_ENTITLEMENT_LINKAGE


def active_purposes_include_linkage(active_purposes: Iterable[int]) -> bool:
    """`active_purposes` (in `WorkerFacts` and `ConsentChanged`) is the union over the worker's active consents."""
    return LINKAGE in active_purposes
