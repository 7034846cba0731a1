"""A link request proven with a one-time code: the code goes to the phone on record of the stored worker
(never to the partner asking), the worker reads it back, and only then does the requesting partner reach
the worker, within the purposes of its own consent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mrc_kernel.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, RateLimited
from mrc_kernel.roles import Role
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.worker import Vulnerability, WorkerStatus
from mrc_registry.domain.worker_access import FIELDS_BY_PURPOSE, Purpose
from mrc_registry.service_layer.deduplication import ReviewStatus
from mrc_registry.service_layer.reviews import Side
from tests.support.auth import caller_for

from .fakes import (
    CASEWORKER_B,
    PHONE_E164,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_A,
    FakeProtector,
    Registry,
    aadhaar,
    acting_for,
    consent_input,
    make_registry,
    register_command,
    registered,
)

CODE = "424242"  # what the harness's code generator hands out


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def link_requested(registry: Registry, **existing: object) -> tuple[str, str, str]:
    """Partner A's worker (a phone, bonded labour risk), then partner B registering the same Aadhaar for
    entitlements: (review id, A's worker, B's own record)."""
    details: dict[str, object] = {
        "identity_documents": aadhaar(),
        "vulnerabilities": frozenset({Vulnerability.BONDED_LABOUR_RISK}),
        **existing,
    }
    worker_id = registered(registry, **details).worker_id
    purposes = frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.ENTITLEMENT_LINKAGE})
    registration = registry.workers.register(
        register_command(
            "b-1",
            consent=consent_input(purposes=purposes),
            full_name="R. Kumar",
            phone="9123456789",
            identity_documents=aadhaar(),
        ),
        REGISTRAR_B,
    )
    assert registration.link_request is not None
    return registration.link_request.review_id, worker_id, registration.view.worker.worker_id


def test_the_code_goes_to_the_phone_on_record_and_is_stored_only_as_a_keyed_hash(registry: Registry) -> None:
    review_id, _, _ = link_requested(registry)

    sent = registry.reviews.send_code(review_id, REGISTRAR_B)

    assert sent.side is Side.REQUESTER and sent.candidate_id == ""
    [(phone, text, reference)] = registry.messages.sent
    assert phone == PHONE_E164  # A's worker's phone: B never learns it
    assert CODE in text and reference == review_id
    challenge = registry.review_repository.reviews[review_id].challenge
    assert challenge is not None and challenge.sends == 1
    assert challenge.expires_at == registry.clock.now + timedelta(minutes=10)
    # Stored as the keyed blind index of (review, code): a copy of the database does not reveal it.
    assert challenge.code_hash == FakeProtector().blind_index("one-time-code", f"{review_id}:{CODE}")


def test_the_right_code_links_and_the_requester_then_sees_only_its_purposes(registry: Registry) -> None:
    review_id, existing_id, own_id = link_requested(registry)
    with pytest.raises(NotFound):
        registry.workers.get(existing_id, CASEWORKER_B)
    registry.reviews.send_code(review_id, REGISTRAR_B)

    confirmed = registry.reviews.confirm_code(review_id, f" {CODE} ", REGISTRAR_B)

    assert confirmed.review.status is ReviewStatus.MERGED
    assert confirmed.review.evidence == "one_time_code"
    assert confirmed.review.resolved_by == REGISTRAR_B.client_id
    own = registry.repository.workers[own_id]
    assert (own.status, own.merged_into) == (WorkerStatus.MERGED, existing_id)
    [merged] = registry.repository.messages("mrc.registry.v1.WorkersMerged")
    assert (merged.surviving_worker_id, merged.merged_worker_id) == (existing_id, own_id)

    view = registry.workers.get(existing_id, CASEWORKER_B)  # case management under B's registration consent
    assert view.fields == FIELDS_BY_PURPOSE[Purpose.REGISTRATION]
    assert view.phone == PHONE_E164  # contact is part of registration
    assert "vulnerabilities" not in view.fields and "bonded_labour_risk" not in str(view.fields)
    # Any purpose B's consent allows may be declared; a read shows what that purpose needs (no phone here).
    for_entitlements = registry.workers.get(existing_id, acting_for(CASEWORKER_B, "entitlement_linkage"))
    assert for_entitlements.fields == FIELDS_BY_PURPOSE[Purpose.ENTITLEMENT_LINKAGE]
    assert for_entitlements.phone == ""
    with pytest.raises(NotFound):  # B's consent allows no grievance follow-up
        registry.workers.get(existing_id, acting_for(CASEWORKER_B, "grievance_follow_up"))
    # The registering partner still sees all it recorded.
    assert "vulnerabilities" in registry.workers.get(existing_id, SUPERVISOR_A).fields


def test_a_wrong_code_links_nothing_and_counts_as_an_attempt(registry: Registry) -> None:
    review_id, existing_id, _ = link_requested(registry)
    registry.reviews.send_code(review_id, REGISTRAR_B)

    with pytest.raises(InvalidArgument) as wrong:
        registry.reviews.confirm_code(review_id, "000000", REGISTRAR_B)
    with pytest.raises(InvalidArgument) as junk:
        registry.reviews.confirm_code(review_id, "12ab56", REGISTRAR_B)

    assert [v.field for v in wrong.value.violations] == ["code"]
    assert [v.field for v in junk.value.violations] == ["code"]
    review = registry.review_repository.reviews[review_id]
    assert review.status is ReviewStatus.PENDING
    assert review.challenge is not None and review.challenge.attempts == 1
    with pytest.raises(NotFound):
        registry.workers.get(existing_id, CASEWORKER_B)


def test_guessing_stops_after_five_wrong_codes_even_with_the_right_one(registry: Registry) -> None:
    review_id, existing_id, _ = link_requested(registry)
    registry.reviews.send_code(review_id, REGISTRAR_B)
    for guess in ("000001", "000002", "000003", "000004", "000005"):
        with pytest.raises(InvalidArgument):
            registry.reviews.confirm_code(review_id, guess, REGISTRAR_B)

    with pytest.raises(Conflict):
        registry.reviews.confirm_code(review_id, CODE, REGISTRAR_B)

    assert registry.review_repository.reviews[review_id].status is ReviewStatus.PENDING
    with pytest.raises(NotFound):
        registry.workers.get(existing_id, CASEWORKER_B)


def test_an_expired_code_is_refused(registry: Registry) -> None:
    review_id, _, _ = link_requested(registry)
    registry.reviews.send_code(review_id, REGISTRAR_B)
    registry.clock.now += timedelta(minutes=10)

    with pytest.raises(InvalidArgument) as caught:
        registry.reviews.confirm_code(review_id, CODE, REGISTRAR_B)

    assert "expired" in caught.value.violations[0].description
    assert registry.review_repository.reviews[review_id].status is ReviewStatus.PENDING


def test_codes_are_resent_only_after_a_minute_and_at_most_three_times(registry: Registry) -> None:
    review_id, _, _ = link_requested(registry)
    registry.reviews.send_code(review_id, REGISTRAR_B)

    with pytest.raises(RateLimited):
        registry.reviews.send_code(review_id, REGISTRAR_B)
    for _ in range(2):
        registry.clock.now += timedelta(seconds=61)
        registry.reviews.send_code(review_id, REGISTRAR_B)
    registry.clock.now += timedelta(seconds=61)
    with pytest.raises(FailedPrecondition):
        registry.reviews.send_code(review_id, REGISTRAR_B)

    assert len(registry.messages.sent) == 3


def test_confirming_needs_a_code_to_have_been_sent(registry: Registry) -> None:
    review_id, _, _ = link_requested(registry)

    with pytest.raises(FailedPrecondition):
        registry.reviews.confirm_code(review_id, CODE, REGISTRAR_B)


def test_no_code_can_be_sent_when_no_phone_is_on_record(registry: Registry) -> None:
    review_id, _, _ = link_requested(registry, phone="")

    with pytest.raises(FailedPrecondition):
        registry.reviews.send_code(review_id, REGISTRAR_B)

    assert registry.messages.sent == []


def test_only_the_requesting_partner_sends_and_confirms_codes(registry: Registry) -> None:
    review_id, _, _ = link_requested(registry)
    stranger = caller_for(Role.REGISTRAR, partner_id="partner-c", client_id="registrar-c")

    for caller in (REGISTRAR_A, SUPERVISOR_A, stranger):
        with pytest.raises(NotFound):
            registry.reviews.send_code(review_id, caller)
        with pytest.raises(NotFound):
            registry.reviews.confirm_code(review_id, CODE, caller)
    with pytest.raises(NotFound):
        registry.reviews.get(review_id, stranger)
    assert registry.messages.sent == []


def test_a_used_code_cannot_link_again(registry: Registry) -> None:
    review_id, _, _ = link_requested(registry)
    registry.reviews.send_code(review_id, REGISTRAR_B)
    registry.reviews.confirm_code(review_id, CODE, REGISTRAR_B)

    with pytest.raises((Conflict, NotFound)):
        registry.reviews.confirm_code(review_id, CODE, REGISTRAR_B)
    with pytest.raises((Conflict, NotFound)):
        registry.reviews.send_code(review_id, REGISTRAR_B)
