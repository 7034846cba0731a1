"""The application state machine, deliveries recorded once per external reference, refusals of the eligible."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from mrc_entitlements.domain.applications import (
    TRANSITIONS,
    Actor,
    Application,
    ApplicationStatus,
    ApplicationTransitioned,
    BenefitDelivered,
    Delivery,
    DeliveryKind,
)
from mrc_entitlements.domain.determinations import WorkerEligibility
from mrc_entitlements.domain.refusals import refusals_of_eligible
from mrc_entitlements.domain.rules import Outcome
from mrc_kernel.errors import Conflict, InvalidArgument

from .builders import BIHAR, KERALA, NOW, PATNA, determination, profile

S = ApplicationStatus
CASEWORKER = Actor("p-1", "client-7")
LATER = NOW + timedelta(days=1)
# How to reach each status from `identified` (delivered: through a delivery).
PATHS: dict[ApplicationStatus, list[ApplicationStatus]] = {
    S.IDENTIFIED: [],
    S.APPLIED: [S.APPLIED],
    S.DOCUMENTS_PENDING: [S.APPLIED, S.DOCUMENTS_PENDING],
    S.SUBMITTED: [S.APPLIED, S.SUBMITTED],
    S.APPROVED: [S.APPLIED, S.SUBMITTED, S.APPROVED],
    S.REJECTED: [S.APPLIED, S.SUBMITTED, S.REJECTED],
    S.DELIVERED: [S.APPLIED, S.SUBMITTED, S.APPROVED, S.DELIVERED],
    S.RENEWAL_DUE: [S.APPLIED, S.SUBMITTED, S.APPROVED, S.DELIVERED, S.RENEWAL_DUE],
    S.LAPSED: [S.LAPSED],
}
LEGAL = [(source, target) for source, targets in TRANSITIONS.items() for target in sorted(targets)]
ILLEGAL = [(source, target) for source in S for target in S if target not in TRANSITIONS[source]]


def delivery(reference: str = "PFMS-0001", **changes: object) -> Delivery:
    made = Delivery(
        external_reference=reference,
        kind=DeliveryKind.ENROLMENT,
        delivered_on=date(2026, 12, 1),
        amount_paise=0,
        quantity="",
        state_code=KERALA,
        district_code="540",
        recorded_by=CASEWORKER,
        recorded_at=NOW,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def application(scheme_code: str = "pmsby") -> Application:
    return Application.identify(
        application_id="a-1",
        worker_id="w-1",
        scheme_code=scheme_code,
        state_code=BIHAR,
        district_code=PATNA,
        by=CASEWORKER,
        now=NOW,
        eligibility_outcome=Outcome.ELIGIBLE,
    )


def move(app: Application, target: ApplicationStatus, reference: str = "") -> None:
    if target is S.DELIVERED:
        app.record_delivery(delivery(reference or f"ref-{len(app.deliveries)}"))
    else:
        app.transition(target, by=CASEWORKER, now=LATER, reason=f"to {target.value}")


def reach(status: ApplicationStatus) -> Application:
    app = application()
    for step in PATHS[status]:
        move(app, step)
    assert app.status is status
    app.pending_events.clear()
    return app


def test_a_new_application_is_identified_and_announced() -> None:
    app = application()

    assert app.status is S.IDENTIFIED
    (event,) = app.pending_events
    assert isinstance(event, ApplicationTransitioned)
    assert (event.transition.from_status, event.transition.to_status, event.transition.by) == (
        None,
        S.IDENTIFIED,
        CASEWORKER,
    )


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{s.value}->{t.value}" for s, t in LEGAL])
def test_every_legal_transition_records_who_when_why_and_is_announced(
    source: ApplicationStatus, target: ApplicationStatus
) -> None:
    app = reach(source)
    version = app.version

    move(app, target, reference="ref-next")

    assert app.status is target
    assert app.version > version
    last = app.history[-1]
    assert (last.from_status, last.to_status, last.by) == (source, target, CASEWORKER)
    assert last.reason
    transitioned = [e for e in app.pending_events if isinstance(e, ApplicationTransitioned)]
    assert [e.transition for e in transitioned] == [last]


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{s.value}->{t.value}" for s, t in ILLEGAL])
def test_every_illegal_transition_is_a_conflict_naming_both_states(
    source: ApplicationStatus, target: ApplicationStatus
) -> None:
    app = reach(source)

    with pytest.raises(Conflict) as caught:
        app.transition(target, by=CASEWORKER, now=LATER, reason="trying")

    assert source.value in caught.value.detail and target.value in caught.value.detail
    assert app.status is source
    assert app.pending_events == []


def test_delivered_is_reached_only_by_recording_a_delivery() -> None:
    app = reach(S.APPROVED)

    with pytest.raises(Conflict, match="when a benefit delivery is recorded"):
        app.transition(S.DELIVERED, by=CASEWORKER, now=LATER)


@pytest.mark.parametrize("target", [S.REJECTED, S.LAPSED, S.DOCUMENTS_PENDING])
def test_a_refusal_a_lapse_or_missing_papers_need_a_reason(target: ApplicationStatus) -> None:
    app = reach(S.SUBMITTED) if target is not S.LAPSED else reach(S.APPLIED)

    with pytest.raises(InvalidArgument) as caught:
        app.transition(target, by=CASEWORKER, now=LATER, reason="  ")

    assert [v.field for v in caught.value.violations] == ["reason"]


def test_a_stale_version_is_a_conflict() -> None:
    app = reach(S.APPLIED)

    with pytest.raises(Conflict, match="read it again"):
        app.transition(S.SUBMITTED, by=CASEWORKER, now=LATER, expected_version=app.version - 1)


def test_a_repeated_delivery_notification_counts_once() -> None:
    app = reach(S.APPROVED)

    assert app.record_delivery(delivery("PFMS-0001")) is True
    assert app.record_delivery(delivery("PFMS-0001", recorded_at=LATER)) is False  # redelivered later

    assert app.status is S.DELIVERED
    assert [d.external_reference for d in app.deliveries] == ["PFMS-0001"]
    assert len([e for e in app.pending_events if isinstance(e, BenefitDelivered)]) == 1


def test_monthly_rations_add_deliveries_to_a_delivered_application() -> None:
    app = reach(S.APPROVED)
    for month in (10, 11, 12):
        app.record_delivery(
            delivery(
                f"EPOS-2026-{month}",
                kind=DeliveryKind.RATION_DRAWN,
                quantity="5 kg rice",
                delivered_on=date(2026, month, 1),
            )
        )

    assert len(app.deliveries) == 3
    assert {d.state_code for d in app.deliveries} == {KERALA}  # drawn at the destination
    assert app.history[-1].to_status is S.DELIVERED and len(app.history) == 5


def test_the_same_reference_with_other_details_is_a_conflict() -> None:
    app = reach(S.APPROVED)
    app.record_delivery(delivery("PFMS-0001"))

    with pytest.raises(Conflict, match="PFMS-0001"):
        app.record_delivery(delivery("PFMS-0001", delivered_on=date(2026, 11, 2)))


def test_deliveries_wait_for_approval_and_are_checked() -> None:
    with pytest.raises(Conflict, match="submitted"):
        reach(S.SUBMITTED).record_delivery(delivery())
    with pytest.raises(InvalidArgument) as caught:
        reach(S.APPROVED).record_delivery(
            delivery(" bad ref", kind=DeliveryKind.CASH_TRANSFER, delivered_on=date(2027, 1, 1), state_code="")
        )
    assert [v.field for v in caught.value.violations] == [
        "external_reference",
        "amount_paise",
        "delivered_on",
        "state_code",
    ]


def test_a_renewal_is_a_delivery_on_a_renewal_due_application() -> None:
    app = reach(S.RENEWAL_DUE)

    app.record_delivery(delivery("PMSBY-2027", delivered_on=date(2026, 12, 3)))

    assert app.status is S.DELIVERED


def test_the_grievance_question_finds_refusals_of_eligible_workers() -> None:
    refused = reach(S.SUBMITTED)
    refused.transition(
        S.REJECTED, by=CASEWORKER, now=LATER, reason="not a resident", eligibility_outcome=Outcome.ELIGIBLE
    )
    other = replace(
        reach(S.SUBMITTED), application_id="a-2", scheme_code="kerala-aawaz", history=list(refused.history[:3])
    )
    other.transition(S.REJECTED, by=CASEWORKER, now=LATER, reason="no proof of work")
    still_open = replace(reach(S.SUBMITTED), application_id="a-3")
    eligibility = WorkerEligibility("w-1")
    eligibility.record([determination("kerala-aawaz", profile()), determination("pmsby", profile())])

    found = refusals_of_eligible([refused, other, still_open], eligibility)

    assert [(r.application_id, r.outcome_at_refusal, r.reason) for r in found] == [
        ("a-1", Outcome.ELIGIBLE, "not a resident")
    ]
    assert found[0].outcome_now is Outcome.UNDETERMINED  # PMSBY: the bank account is not known now


def test_a_refusal_counts_when_the_worker_is_eligible_now() -> None:
    app = reach(S.SUBMITTED)
    app = replace(app, scheme_code="kerala-aawaz")
    app.transition(S.REJECTED, by=CASEWORKER, now=LATER, reason="not a migrant")
    eligibility = WorkerEligibility("w-1")
    eligibility.record([determination("kerala-aawaz", profile(migrating_to=KERALA))])

    (found,) = refusals_of_eligible([app], eligibility)

    assert (found.outcome_at_refusal, found.outcome_now, found.rule_version_now) == (None, Outcome.ELIGIBLE, 1)
    assert refusals_of_eligible([app], None) == []
