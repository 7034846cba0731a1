"""Re-evaluation jobs: progress, a checkpoint to resume from, a completion event, nothing counted twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mrc_entitlements.domain.reevaluation import JobStatus, ReevaluationCompleted, ReevaluationJob
from mrc_kernel.errors import Conflict

from .builders import NOW

LATER = NOW + timedelta(minutes=5)


def job(total: int = 250) -> ReevaluationJob:
    return ReevaluationJob.start(job_id="j-1", scheme_code="pmsby", rule_version=2, total=total, now=NOW)


def test_a_job_advances_batch_by_batch_and_completes_with_an_event() -> None:
    running = job()
    assert (running.status, running.progress, running.cursor) == (JobStatus.PENDING, 0.0, "")

    running.advance(last_worker_id="w-100", processed=100, changed=7, now=NOW)
    running.advance(last_worker_id="w-200", processed=100, changed=3, now=LATER)

    assert (running.status, running.processed, running.changed, running.cursor) == (JobStatus.RUNNING, 200, 10, "w-200")
    assert running.progress == pytest.approx(0.8)
    running.complete(LATER)
    running.complete(LATER)  # again: nothing more

    assert running.progress == 1.0
    (event,) = running.pending_events
    assert isinstance(event, ReevaluationCompleted)
    assert (event.processed, event.changed, event.rule_version) == (200, 10, 2)


def test_a_batch_redone_after_a_crash_is_not_counted_twice() -> None:
    running = job()
    running.advance(last_worker_id="w-100", processed=100, changed=7, now=NOW)

    # The same checkpoint again (a retried write, or a second runner repeating the batch): ignored.
    running.advance(last_worker_id="w-100", processed=100, changed=0, now=LATER)
    running.advance(last_worker_id="w-050", processed=50, changed=0, now=LATER)

    assert (running.processed, running.changed, running.cursor) == (100, 7, "w-100")


def test_a_superseded_job_stops_and_a_finished_job_does_not_advance() -> None:
    running = job()
    running.supersede(LATER)

    assert running.finished
    with pytest.raises(Conflict, match="superseded"):
        running.advance(last_worker_id="w-1", processed=1, changed=0, now=LATER)
    with pytest.raises(Conflict, match="superseded"):
        running.complete(LATER)


def test_an_empty_job_reports_no_progress_until_complete() -> None:
    empty = job(total=0)

    assert empty.progress == 0.0
    empty.complete(NOW)
    assert empty.progress == 1.0
