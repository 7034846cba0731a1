from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from mrc_employer.domain.grievance_signals import GrievanceSignal, GrievanceSignalKind, GrievanceStanding, standings

T = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
K = GrievanceSignalKind


def signal(n: int, kind: GrievanceSignalKind, days: int, **more: object) -> GrievanceSignal:
    return GrievanceSignal(f"e{n}", "g-1", kind, T + timedelta(days=days), **more)  # type: ignore[arg-type]


def test_a_grievance_is_folded_from_its_signals_in_time_order() -> None:
    folded = standings(
        [
            signal(3, K.RESOLVED, 30, substantiated=True, outcome="wages_recovered"),
            signal(1, K.FILED, 0, category="wage_theft"),
            signal(2, K.SEVERITY_ASSESSED, 1, severity="high"),
        ]
    )
    assert folded == {
        "g-1": GrievanceStanding(
            "g-1",
            "wage_theft",
            "high",
            open=False,
            alleged_on=date(2025, 5, 1),
            substantiated_on=date(2025, 5, 31),
            outcome="wages_recovered",
        )
    }


def test_the_first_signal_naming_the_organisation_opens_the_allegation() -> None:
    (standing,) = standings([signal(1, K.SEVERITY_ASSESSED, 2, category="recruitment_fee", severity="medium")]).values()
    assert standing.open and standing.alleged_on == date(2025, 5, 3)


def test_reopening_alleges_again_and_a_later_resolution_decides_the_substantiation() -> None:
    history = [
        signal(1, K.FILED, 0),
        signal(2, K.RESOLVED, 10, substantiated=True),
        signal(3, K.REOPENED, 20),
    ]
    (reopened,) = standings(history).values()
    assert reopened.open and reopened.substantiated_on == date(2025, 5, 11) and reopened.alleged_on == date(2025, 5, 21)
    (overturned,) = standings([*history, signal(4, K.RESOLVED, 40, substantiated=False)]).values()
    assert not overturned.open and overturned.substantiated_on is None


def test_a_withdrawal_removes_the_grievance_from_this_organisation() -> None:
    (standing,) = standings(
        [signal(1, K.FILED, 0), signal(2, K.RESOLVED, 5, substantiated=True), signal(3, K.WITHDRAWN, 6)]
    ).values()
    assert standing.withdrawn and not standing.open and standing.substantiated_on is None
    assert standings([signal(1, K.WITHDRAWN, 0)]) == {}


def test_signals_carry_no_case_detail() -> None:
    assert signal(1, K.FILED, 0, category="wage theft").violations()[0].field == "category"
    assert signal(1, K.FILED, 0, substantiated=True).violations()[0].field == "substantiated"
    assert GrievanceSignal("", "", K.FILED, T).violations()[0].field == "event_id"
