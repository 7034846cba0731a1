"""What the use cases need from the outside world; the adapters implement these on the store port.

Every write stores the aggregate's pending domain events and the audit events passed with it in the
same document (the unit of work); the adapters map domain events to their published contracts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_employer.domain.compliance_history import ComplianceHistory, WageBatchSummary
from mrc_employer.domain.compliance_records import IloFinding, RecruitmentCostRecord, WorkingConditionsCheck
from mrc_employer.domain.minimum_wages import MinimumWageEvent, MinimumWageRate
from mrc_employer.domain.organisation import Organisation
from mrc_employer.domain.wage_register_job import RowProblem, WageRegisterJob
from mrc_employer.domain.wages import WageRecord
from mrc_kernel.events import Event

ComplianceRecord = WageRecord | RecruitmentCostRecord | WorkingConditionsCheck | IloFinding


class Organisations(Protocol):
    def add(
        self, organisation: Organisation, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event]
    ) -> tuple[Organisation, bool]:
        """Store a new organisation with its events, unless the idempotency key was seen (then the first
        one, and False). AlreadyExists if its id, or one of its public identifiers, is taken."""
        ...

    def get(self, organisation_id: str) -> Organisation | None: ...

    def get_many(self, organisation_ids: Sequence[str]) -> list[Organisation]: ...

    def save(self, organisation: Organisation, *, expected_version: int, also_publish: Sequence[Event]) -> None:
        """Store a changed organisation with its events if it is still at `expected_version` (else Conflict)."""
        ...

    def add_recruiter(self, client_id: str, recruiter_id: str) -> None:
        """Note that `recruiter_id` recruits for `client_id` (the client's side of a link)."""
        ...

    def holder_of(self, public_key: str) -> str | None:
        """The organisation answering to a public identifier (GSTIN, LIN, licence number), if any."""
        ...


class ComplianceRecords(Protocol):
    def add(
        self,
        record: ComplianceRecord,
        *,
        recorded_by_partner_id: str,
        idempotency_key: str,
        fingerprint: str,
        also_publish: Sequence[Event],
    ) -> tuple[ComplianceRecord, bool]:
        """Store a record with its events, unless the key was seen (then the first record, and False)."""
        ...

    def get(self, record_id: str) -> ComplianceRecord | None: ...

    def get_many(self, record_ids: Sequence[str]) -> list[ComplianceRecord]: ...

    def forget_worker(self, worker_id: str) -> int:
        """Remove the registry worker's id from every record naming it; how many changed."""
        ...

    def rekey_worker(self, merged_worker_id: str, surviving_worker_id: str) -> int:
        """Records of the merged worker name the surviving one; how many changed."""
        ...

    def add_batch(self, batch: WageBatchStored, records: Sequence[NewRecord], *, also_publish: Sequence[Event]) -> bool:
        """Store a wage-register batch: its records (those an earlier run of the import did not store), then
        their events, then the batch document with `also_publish` (its audit event) and
        `WageRecordsBatched`. False if the batch was stored before."""
        ...

    def batch(self, batch_id: str) -> WageBatchStored | None: ...


@dataclass(frozen=True)
class NewRecord:
    record: WageRecord
    recorded_by_partner_id: str
    idempotency_key: str
    also_publish: Sequence[Event]


@dataclass(frozen=True)
class WageBatchStored:
    """Wage records of one wage-register import stored together: the history takes them as one batch."""

    batch_id: str
    organisation_id: str
    job_id: str
    record_ids: tuple[str, ...]
    records_below_minimum: int
    stored_at: datetime
    # What the history needs of the records, summed up where they were written: it reads none of them.
    summary: WageBatchSummary


class Histories(Protocol):
    def get(self, organisation_id: str) -> ComplianceHistory | None: ...

    def create(self, history: ComplianceHistory) -> bool:
        """Store a new history with its events; False if one exists already."""
        ...

    def save(self, history: ComplianceHistory, *, expected_version: int) -> bool:
        """Store the changed history with its events if it is still at `expected_version`; False otherwise."""
        ...

    def organisation_ids(self) -> Iterator[str]:
        """Every organisation with a history (for the periodic re-evaluation)."""
        ...


class MinimumWageRates(Protocol):
    def all(self) -> list[MinimumWageRate]: ...

    def add(
        self,
        rate: MinimumWageRate,
        *,
        fingerprint: str,
        events: Sequence[MinimumWageEvent],
        also_publish: Sequence[Event],
    ) -> tuple[MinimumWageRate, bool]:
        """Store a new row with its events; if its id exists, the stored row and False (IdempotencyKeyReused
        when that row was made by another request)."""
        ...

    def retire(
        self,
        rate: MinimumWageRate,
        *,
        expected_version: int,
        events: Sequence[MinimumWageEvent] = (),
        also_publish: Sequence[Event] = (),
    ) -> bool:
        """Store a row superseded or withdrawn (with its events), if the stored one is still active at
        `expected_version`; False otherwise."""
        ...

    def seed(self, rates: Sequence[MinimumWageRate]) -> int:
        """Store the seed rows missing from the table (no events: they are the starting point); how many."""
        ...


class EvidenceProtector(Protocol):
    """Encrypts evidence text (case text) at rest, with the data key of the state it belongs to."""

    def protect(self, state_code: str, text: str) -> str: ...

    def reveal(self, token: str) -> str: ...


class WageRegisterJobs(Protocol):
    def get(self, job_id: str) -> WageRegisterJob | None: ...

    def find_by_key(self, idempotency_key: str) -> WageRegisterJob | None: ...

    def claim(self, job: WageRegisterJob, *, stale_before: datetime) -> tuple[bool, WageRegisterJob]:
        """Store `job` to run it, unless a job with its id is completed or running (updated since
        `stale_before`): then False and that job. A failed or stale job is taken over (True)."""
        ...

    def save(self, job: WageRegisterJob, report: Sequence[RowProblem] | None = None) -> None: ...

    def report(self, job_id: str) -> list[RowProblem]: ...
