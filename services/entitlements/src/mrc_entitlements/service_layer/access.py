"""Reads a worker's record here for a caller, through the shared access policy, auditing refusals.

A worker the caller may not use for the declared purpose, one without consent to entitlement linkage,
an erased or merged one and one never seen all answer the same "not found", so an answer never reveals
that a person is on the platform. A refused attempt on a real record is audited (best effort).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable

from mrc_entitlements.domain.access import ELIGIBILITY, READ_PURPOSE, protected
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_entitlements.service_layer.ports import AuditRecorder, WorkerRecordRepository
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.errors import FieldViolation, InvalidArgument, NotFound
from mrc_kernel.policy import Purpose, decide


def with_purpose(caller: Caller, allowed: Iterable[Purpose] = (READ_PURPOSE,)) -> Caller:
    """The caller with its declared purpose (entitlement_linkage by default); another purpose is refused."""
    purpose = check_purpose(caller.purpose, READ_PURPOSE.value)
    permitted = sorted(p.value for p in allowed)
    if purpose not in permitted:
        raise InvalidArgument.for_field("purpose", f"this operation is for {' or '.join(permitted)}")
    return dataclasses.replace(caller, purpose=purpose)


def require_place_in_geography(caller: Caller, state_code: str, district_code: str) -> None:
    if caller.states and state_code not in caller.states:
        raise InvalidArgument(FieldViolation("state_code", "is outside your partner's geography"))
    if caller.districts and district_code not in caller.districts:
        raise InvalidArgument(FieldViolation("district_code", "is outside your partner's geography"))


class RecordAccess:
    def __init__(self, records: WorkerRecordRepository, audit: AuditRecorder) -> None:
        self._records = records
        self._audit = audit

    def load(
        self,
        worker_id: str,
        caller: Caller,
        *,
        kind: str = ELIGIBILITY,
        resource_id: str = "",
        not_found: Callable[[], Exception] = lambda: NotFound("no such worker"),
    ) -> WorkerRecord:
        """The worker's record if the caller's declared purpose reaches it; `not_found()` otherwise."""
        record = self._records.get(worker_id) if worker_id else None
        if record is None or not record.consents_to_linkage:
            raise not_found()
        if not decide(caller, protected(record, kind), caller.purpose):
            with contextlib.suppress(Exception):
                self._audit.record(
                    caller, Action.READ, kind, resource_id or worker_id, allowed=False, state_code=record.state_code
                )
            raise not_found()
        return record
