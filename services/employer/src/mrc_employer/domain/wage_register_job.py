"""The import of one uploaded wage register: its progress, and the rows it could not take."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

# What is wrong with a refused row.
INVALID = "invalid"
DUPLICATE_IN_FILE = "duplicate_in_file"


class JobStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"  # every row was stored or reported
    FAILED = "failed"  # the store failed part-way; uploading the same file again finishes it


@dataclass(frozen=True)
class JobCounts:
    total: int = 0
    stored: int = 0  # rows that became wage records (also those an earlier run of the job stored)
    refused: int = 0
    below_minimum: int = 0  # of the stored rows, those paid below the minimum wage
    no_applicable_rate: int = 0  # of the stored rows, those the table has no rate for

    @property
    def done(self) -> int:
        return self.stored + self.refused


@dataclass(frozen=True)
class RowProblem:
    """A refused row as the report shows it: the column to fix and why, never the cell's value."""

    row: int  # as a spreadsheet numbers it: the headers are row 1
    row_key: str
    code: str  # INVALID or DUPLICATE_IN_FILE
    column: str
    problem: str


@dataclass(frozen=True)
class WageRegisterJob:
    job_id: str
    organisation_id: str
    partner_id: str  # whose client uploaded it: only that partner follows the job
    file_name: str
    sha256: str
    status: JobStatus
    counts: JobCounts
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    idempotency_key: str = ""
    error: str = ""
