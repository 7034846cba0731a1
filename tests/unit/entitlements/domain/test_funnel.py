"""Funnel counts per state, district and scheme, with small cells suppressed as the registry does."""

from __future__ import annotations

from dataclasses import replace

from mrc_entitlements.domain.applications import Application, ApplicationStatus
from mrc_entitlements.domain.funnel import FunnelCell, FunnelStage, count_funnel, safe_funnel, stages_reached

from .builders import BIHAR, KERALA, PATNA, determination, profile
from .test_applications import reach

S = ApplicationStatus
F = FunnelStage


def of_worker(app: Application, worker_id: str) -> Application:
    return replace(app, worker_id=worker_id, application_id=f"a-{worker_id}")


def test_an_application_counts_at_every_stage_it_has_reached() -> None:
    assert stages_reached(reach(S.IDENTIFIED)) == frozenset()
    assert stages_reached(reach(S.REJECTED)) == {F.APPLIED}
    assert stages_reached(reach(S.APPROVED)) == {F.APPLIED, F.APPROVED}
    assert stages_reached(reach(S.RENEWAL_DUE)) == {F.APPLIED, F.APPROVED, F.DELIVERED}
    lapsed_after_delivery = reach(S.RENEWAL_DUE)
    lapsed_after_delivery.transition(
        S.LAPSED, by=lapsed_after_delivery.history[0].by, now=lapsed_after_delivery.history[-1].at, reason="not renewed"
    )
    assert stages_reached(lapsed_after_delivery) == {F.APPLIED, F.APPROVED, F.DELIVERED}


def test_counts_per_place_scheme_and_stage_count_each_worker_once() -> None:
    eligible = determination("kerala-aawaz", profile(migrating_to=KERALA))
    not_eligible = determination("kerala-aawaz", profile())
    delivered = reach(S.DELIVERED)
    reapplied = reach(S.APPLIED)  # the same worker, applying again: one person in the funnel

    counts = count_funnel(
        [(eligible, BIHAR, PATNA), (replace(eligible, worker_id="w-2"), BIHAR, PATNA), (not_eligible, BIHAR, PATNA)],
        [delivered, reapplied, of_worker(reach(S.SUBMITTED), "w-2")],
    )

    assert counts == {
        FunnelCell(BIHAR, PATNA, "kerala-aawaz", F.ELIGIBLE): 2,
        FunnelCell(BIHAR, PATNA, "pmsby", F.APPLIED): 2,
        FunnelCell(BIHAR, PATNA, "pmsby", F.APPROVED): 1,
        FunnelCell(BIHAR, PATNA, "pmsby", F.DELIVERED): 1,
    }


def test_small_cells_are_suppressed_and_the_total_hidden() -> None:
    applications = [of_worker(reach(S.DELIVERED), f"w-{n}") for n in range(7)]
    counts = count_funnel([], applications)

    published = safe_funnel(counts)

    cell = FunnelCell(BIHAR, PATNA, "pmsby", F.DELIVERED)
    assert published.cells[cell] == 7
    assert published.total == 21

    small = safe_funnel(count_funnel([], applications[:2]))
    assert small.cells[cell] is None
    assert small.total is None
    assert safe_funnel(counts, min_cell_size=10).cells[cell] is None
