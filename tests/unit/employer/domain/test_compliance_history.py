"""The history aggregate: records and grievance events applied once, the score recomputed, and the risk
flag raised exactly once per crossing, also when events are redelivered."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from mrc_employer.domain.compliance_history import (
    ComplianceHistory,
    Recommendation,
    RiskFlagCleared,
    RiskFlagRaised,
    ScoreChanged,
)
from mrc_employer.domain.compliance_records import (
    ContractStatus,
    IloFinding,
    IloIndicator,
    ProtectedEvidence,
    RecordSource,
    RecruitmentCostKind,
    RecruitmentCostRecord,
    WorkingConditionsCheck,
)
from mrc_employer.domain.grievance_signals import GrievanceSignal, GrievanceSignalKind
from mrc_employer.domain.history_sheet import EntryKind
from mrc_employer.domain.score import Component, FlagReason
from mrc_employer.domain.values import WorkerRef
from mrc_employer.domain.wages import Deduction, DeductionKind
from mrc_kernel.errors import InvalidArgument

from .support import wage_record

D = Decimal
T0 = datetime(2025, 4, 1, 10, 0, tzinfo=UTC)


def filed(n: int, *, at: datetime = T0, severity: str = "high", category: str = "wage_theft") -> GrievanceSignal:
    return GrievanceSignal(f"evt-filed-{n}", f"g-{n}", GrievanceSignalKind.FILED, at, category, severity)


def resolved(n: int, *, at: datetime, substantiated: bool = True) -> GrievanceSignal:
    return GrievanceSignal(
        f"evt-resolved-{n}",
        f"g-{n}",
        GrievanceSignalKind.RESOLVED,
        at,
        substantiated=substantiated,
        outcome="wages_recovered",
    )


def ilo(record_id: str, indicator: IloIndicator, on: date, source: RecordSource = RecordSource.AUDITOR) -> IloFinding:
    return IloFinding.record(
        record_id=record_id,
        organisation_id="org-1",
        worksite_id="site-1",
        indicator=indicator,
        observed_on=on,
        workers_affected=4,
        evidence=ProtectedEvidence("v1:key-2025:ciphertext"),
        source=source,
        now=datetime.combine(on, datetime.min.time(), UTC),
    )


def raised(history: ComplianceHistory) -> list[RiskFlagRaised]:
    return [e for e in history.pending_events if isinstance(e, RiskFlagRaised)]


def cleared(history: ComplianceHistory) -> list[RiskFlagCleared]:
    return [e for e in history.pending_events if isinstance(e, RiskFlagCleared)]


def test_a_grievance_moves_the_score_and_a_redelivery_changes_nothing() -> None:
    history = ComplianceHistory("org-1")

    assert history.apply_grievance(filed(1), T0)
    assert history.score is not None and history.score.value == D(98)  # an open, high-severity allegation: 2 points
    assert history.pending_events == [ScoreChanged("org-1", None, history.score, 1)]
    version = history.version

    history.pending_events.clear()
    assert not history.apply_grievance(filed(1), T0 + timedelta(minutes=5))
    assert history.version == version and history.pending_events == [] and len(history.grievance_signals) == 1


def test_a_substantiated_resolution_replaces_the_allegation_and_an_unsubstantiated_one_clears_it() -> None:
    history = ComplianceHistory("org-1")
    history.apply_grievance(filed(1), T0)
    history.apply_grievance(filed(2), T0)
    history.apply_grievance(resolved(1, at=T0 + timedelta(days=20)), T0 + timedelta(days=20))
    history.apply_grievance(resolved(2, at=T0 + timedelta(days=20), substantiated=False), T0 + timedelta(days=20))

    assert history.score is not None and history.score.penalty(Component.GRIEVANCES) == D(8)
    assert history.grievance_counts().alleged == {"wage_theft": 2}
    assert history.grievance_counts().substantiated == {"wage_theft": 1}
    sheet = history.history_sheet()
    assert [(line.kind, line.source_id, line.occurred_on) for line in sheet] == [
        (EntryKind.GRIEVANCE_SUBSTANTIATED, "g-1", date(2025, 4, 21))
    ]


def test_grievance_counts_shown_to_the_employer_hide_small_cells() -> None:
    history = ComplianceHistory("org-1")
    for n in range(6):
        history.apply_grievance(filed(n), T0)
    history.apply_grievance(filed(99, category="document_confiscation"), T0)
    alleged, substantiated = history.safe_grievance_counts()
    assert alleged.cells == {"wage_theft": 6, "document_confiscation": None}
    assert alleged.total is None
    assert substantiated.cells == {}


def test_a_withdrawn_grievance_stops_counting() -> None:
    history = ComplianceHistory("org-1")
    history.apply_grievance(filed(1, severity="critical"), T0)
    history.apply_grievance(GrievanceSignal("evt-w", "g-1", GrievanceSignalKind.WITHDRAWN, T0 + timedelta(hours=1)), T0)
    assert history.score is not None and history.score.value == D(100)
    assert history.grievance_counts().alleged == {}


def test_a_grievance_event_with_case_details_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        ComplianceHistory("org-1").apply_grievance(
            GrievanceSignal("evt-1", "g-1", GrievanceSignalKind.FILED, T0, category="Worker said she was beaten"), T0
        )


def test_repeated_substantiated_grievances_raise_the_flag_exactly_once_even_when_redelivered() -> None:
    history = ComplianceHistory("org-1")
    signals = []
    for n, day in enumerate((0, 40, 80, 120)):
        at = T0 + timedelta(days=day)
        signals += [filed(n, at=at, severity="medium"), resolved(n, at=at + timedelta(days=10))]
    for signal in signals:
        history.apply_grievance(signal, signal.occurred_at)

    flags = raised(history)
    assert len(flags) == 1
    assert flags[0].crossing == 1
    assert flags[0].reasons == (FlagReason.REPEATED_ESTABLISHED_FINDINGS,)
    assert flags[0].recommendation is Recommendation.REFER_TO_LICENSING_AUTHORITY
    assert history.flag.raised and history.flag.crossings == 1

    version = history.version
    history.pending_events.clear()
    for signal in signals:  # the whole topic replayed
        assert not history.apply_grievance(signal, T0 + timedelta(days=200))
    assert history.pending_events == [] and history.version == version


def test_the_flag_is_raised_by_a_low_score_and_cleared_only_past_the_higher_threshold() -> None:
    history = ComplianceHistory("org-1")
    visit = date(2025, 4, 1)
    at = datetime(2025, 4, 1, tzinfo=UTC)
    for n, indicator in enumerate(
        [
            IloIndicator.PHYSICAL_AND_SEXUAL_VIOLENCE,
            IloIndicator.DEBT_BONDAGE,
            IloIndicator.RESTRICTION_OF_MOVEMENT,
            IloIndicator.ISOLATION,
        ]
    ):
        history.apply_ilo_finding(ilo(f"ilo-{n}", indicator, visit), at)
    assert history.score is not None and history.score.value == D(60)  # ILO capped at 40
    assert raised(history) == []

    check = WorkingConditionsCheck.record(
        record_id="wc-1",
        organisation_id="org-1",
        worksite_id="site-1",
        observed_on=visit,
        workers_covered=12,
        written_contract=ContractStatus.NOT_GIVEN,
        identity_documents_retained=True,
        free_to_leave=False,
        source=RecordSource.AUDITOR,
        now=at,
    )
    history.apply_conditions(check, at)
    assert history.score.value == D(48)
    history.apply_grievance(
        GrievanceSignal("e-1", "g-1", GrievanceSignalKind.RESOLVED, at, "trafficking", "critical", True), at
    )
    assert history.score.value == D(36)
    assert [f.reasons for f in raised(history)] == [(FlagReason.SCORE_BELOW_THRESHOLD,)]

    # 200 days on the findings weigh 0.68: about 54, still below the clear threshold of 60.
    history.pending_events.clear()
    history.reevaluate(at + timedelta(days=200))
    assert cleared(history) == [] and history.flag.raised
    # A year on they weigh half (about 66) and the visit has left the repeat window: cleared, once.
    assert history.reevaluate(at + timedelta(days=366))
    assert len(cleared(history)) == 1 and not history.flag.raised
    history.reevaluate(at + timedelta(days=367))
    assert len(cleared(history)) == 1

    # A new crossing raises it again, numbered 2.
    history.pending_events.clear()
    later = at + timedelta(days=400)
    for n, indicator in enumerate(
        [IloIndicator.PHYSICAL_AND_SEXUAL_VIOLENCE, IloIndicator.DEBT_BONDAGE, IloIndicator.WITHHOLDING_OF_WAGES]
    ):
        history.apply_ilo_finding(ilo(f"ilo-late-{n}", indicator, later.date()), later)
    assert raised(history) == []  # about 49: low, but above 40
    history.apply_grievance(
        GrievanceSignal("e-2", "g-2", GrievanceSignalKind.RESOLVED, later, "forced_labour", "critical", True), later
    )
    assert [f.crossing for f in raised(history)] == [2]
    assert history.flag.crossings == 2


def test_between_the_thresholds_the_flag_keeps_its_state() -> None:
    history = ComplianceHistory("org-1")
    at = datetime(2025, 4, 1, tzinfo=UTC)
    for n, days_ago in enumerate((0, 50, 100)):  # three audit visits within a year
        on = at.date() - timedelta(days=days_ago)
        history.apply_ilo_finding(ilo(f"ilo-{n}", IloIndicator.EXCESSIVE_OVERTIME, on), at)
    assert len(raised(history)) == 1 and history.score is not None and history.score.value > D(80)

    # A fourth visit, score still high: no second flag.
    history.apply_ilo_finding(ilo("ilo-3", IloIndicator.DECEPTION, at.date()), at)
    assert len(raised(history)) == 1

    # 300 days on, only the visits of the last year count: two remain (more than one), so the flag stays.
    history.reevaluate(at + timedelta(days=300))
    assert cleared(history) == [] and history.flag.raised


def test_partner_reports_are_allegations_and_count_half() -> None:
    audited, reported = ComplianceHistory("a"), ComplianceHistory("b")
    audited.apply_ilo_finding(ilo("x", IloIndicator.DEBT_BONDAGE, T0.date()), T0)
    reported.apply_ilo_finding(ilo("x", IloIndicator.DEBT_BONDAGE, T0.date(), RecordSource.PARTNER), T0)
    assert audited.score is not None and reported.score is not None
    assert (audited.score.value, reported.score.value) == (D(88), D(94))
    assert reported.score.established_occasions == 0


def test_records_are_applied_once_by_their_id() -> None:
    history = ComplianceHistory("org-1")
    fee = RecruitmentCostRecord.record(
        record_id="fee-1",
        organisation_id="org-1",
        worksite_id="site-1",
        worker=WorkerRef("wkr-7"),
        cost_kind=RecruitmentCostKind.RECRUITMENT_FEE,
        amount=D(15000),
        reimbursed=D(0),
        charged_on=date(2025, 3, 1),
        source=RecordSource.AUDITOR,
        now=T0,
    )
    assert history.apply_recruitment_cost(fee, T0)
    assert not history.apply_recruitment_cost(fee, T0)
    assert history.score is not None and history.score.penalty(Component.RECRUITMENT_FEES) == D("4.7")  # a month old
    assert [(e.kind, e.amount, e.established) for e in history.history_sheet()] == [
        (EntryKind.RECRUITMENT_COST, D(15000), True)
    ]


def test_a_wage_batch_adds_monthly_totals_and_a_line_per_month_that_fell_short() -> None:
    history = ComplianceHistory("org-1")
    records = [
        wage_record("w-1"),  # paid the minimum
        wage_record("w-2", amount_paid=D(13000)),  # 7358 short
        wage_record("w-3", amount_paid=D(17358), deductions=[Deduction(DeductionKind.RECRUITMENT_FEE, D(3000))]),
    ]
    at = datetime(2024, 12, 5, tzinfo=UTC)
    assert history.apply_wage_batch("upload-1", records, at)
    assert not history.apply_wage_batch("upload-1", records, at)

    (batch,) = history.wage_batches
    (month,) = batch.months
    assert (month.month_end, month.due, month.shortfall, month.records, month.records_below) == (
        date(2024, 11, 30),
        D("61074.00"),
        D("10358.00"),
        3,
        2,
    )
    lines = history.history_sheet()
    assert [(line.kind, line.detail, line.workers_affected, line.amount) for line in lines] == [
        (EntryKind.WAGE_SHORTFALL, "2024-11", 2, D("10358.00")),
        (EntryKind.RECRUITMENT_COST, "recruitment_fee_deducted_from_wages", 1, D(3000)),
    ]
    assert history.score is not None and history.score.penalty(Component.WAGES) == D("20.4")  # 10358 / 61074 x 120


def test_a_history_read_back_from_the_store_still_recognises_what_it_applied() -> None:
    history = ComplianceHistory("org-1")
    history.apply_grievance(filed(1), T0)
    history.apply_ilo_finding(ilo("ilo-1", IloIndicator.DECEPTION, T0.date()), T0)
    history.apply_wage_batch("upload-1", [wage_record("w-1")], T0)

    reloaded = ComplianceHistory(
        "org-1",
        entries=list(history.entries),
        wage_batches=list(history.wage_batches),
        grievance_signals=list(history.grievance_signals),
        score=history.score,
        flag=history.flag,
        version=history.version,
    )
    assert not reloaded.apply_grievance(filed(1), T0)
    assert not reloaded.apply_ilo_finding(ilo("ilo-1", IloIndicator.DECEPTION, T0.date()), T0)
    assert not reloaded.apply_wage_batch("upload-1", [wage_record("w-1")], T0)
    assert reloaded.version == history.version and reloaded.pending_events == []
    assert reloaded.compute(T0.date()) == history.compute(T0.date())
