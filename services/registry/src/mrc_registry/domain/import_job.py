"""A bulk import of a partner's field survey: its progress and the rows it could not register."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

# What is wrong with a refused row.
INVALID = "invalid"
DUPLICATE_IN_FILE = "duplicate_in_file"


class ImportStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"  # every row was registered, linked or reported
    FAILED = "failed"  # the store failed part-way; upload the same file again to resume


@dataclass(frozen=True)
class ImportCounts:
    total: int = 0
    registered: int = 0
    linked: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.registered + self.linked + self.failed


@dataclass(frozen=True)
class RowError:
    """A refused row, as the report shows it: never a phone or identity number."""

    row: int  # as a spreadsheet numbers it: the headers are row 1
    row_key: str  # the survey's own row id, when the file gives one
    code: str  # INVALID or DUPLICATE_IN_FILE
    field: str  # the column to fix
    problem: str


@dataclass(frozen=True)
class ImportJob:
    job_id: str
    partner_id: str
    file_name: str
    sha256: str
    status: ImportStatus
    counts: ImportCounts
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    idempotency_key: str = ""
    error: str = ""
