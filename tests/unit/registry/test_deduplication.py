"""Recognising a worker met again. A certain match with a record the partner reaches links its consent there;
a match with a record it does not reach discloses nothing: the registration is kept apart as the partner's
own record and a match review (a link request) is queued; possible matches go to review."""

from __future__ import annotations

import pytest

from mrc_kernel.audit import Action
from mrc_kernel.errors import NotFound, Unavailable
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.worker import WorkerStatus
from mrc_registry.service_layer.deduplication import MatchKind, ReviewStatus
from mrc_registry.service_layer.workers import Registration

from .fakes import (
    AADHAAR,
    ARARIA,
    CASEWORKER_A,
    CASEWORKER_B,
    IDS,
    OTHER_AADHAAR,
    REGISTRAR_A,
    REGISTRAR_B,
    SUPERVISOR_B,
    Registry,
    aadhaar,
    acting_for,
    make_registry,
    register_command,
    registered,
    sharing_with,
)

CONSENT_CHANGED = "mrc.registry.v1.ConsentChanged"


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def register_similar(registry: Registry, key: str = "key-2", **overrides: object) -> Registration:
    """Ravi Kumaar: same village, birth year and gender as the default Ravi Kumar, no phone, no documents."""
    details: dict[str, object] = {"full_name": "Ravi Kumaar", "phone": "", "father_or_spouse_name": ""}
    details.update(overrides)
    return registry.workers.register(register_command(key, **details), REGISTRAR_A)


# -- a record the partner reaches -------------------------------------------------------------------


def test_the_same_aadhaar_registered_again_by_the_same_partner_links_to_its_record(registry: Registry) -> None:
    existing = registered(registry, identity_documents=aadhaar(AADHAAR))
    notified = registry.notified

    linked = registry.workers.register(
        register_command("a-2", full_name="R. Kumar", phone="9123456789", identity_documents=aadhaar("234567890124")),
        REGISTRAR_A,
    )

    assert linked.linked_to_existing and linked.created
    assert linked.link_request is None
    assert linked.view.worker.worker_id == existing.worker_id
    assert list(registry.repository.workers) == [existing.worker_id]
    stored = registry.repository.get(existing.worker_id)
    assert stored is not None
    assert len(stored.consents) == 2
    assert stored.details.full_name == "Ravi Kumar"  # the new registration's details do not overwrite the record
    assert registry.repository.types().count(CONSENT_CHANGED) == 1
    assert registry.audit.events[-1].action is Action.UPDATE
    assert registry.audit.events[-1].fields == ("consents",)
    assert registry.notified == notified + 1
    assert registry.review_repository.reviews == {}


def test_a_retried_link_adds_no_second_consent(registry: Registry) -> None:
    existing = registered(registry, identity_documents=aadhaar())
    command = register_command("a-2", full_name="R. Kumar", phone="", identity_documents=aadhaar())

    registry.workers.register(command, REGISTRAR_A)
    retry = registry.workers.register(command, REGISTRAR_A)

    assert retry.linked_to_existing and not retry.created
    stored = registry.repository.get(existing.worker_id)
    assert stored is not None and len(stored.consents) == 2


def test_a_record_shared_with_the_partner_for_registration_is_linked_and_shown_within_its_purposes(
    registry: Registry,
) -> None:
    existing = registered(registry, identity_documents=aadhaar())
    sharing = sharing_with(
        "partner-b", purposes=frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.PARTNER_SHARING})
    )
    registry.workers.grant_consent(existing.worker_id, sharing, "share-1", REGISTRAR_A)

    linked = registry.workers.register(
        register_command("b-1", full_name="R. Kumar", phone="", identity_documents=aadhaar()), REGISTRAR_B
    )

    assert linked.linked_to_existing
    assert linked.view.worker.worker_id == existing.worker_id
    stored = registry.repository.get(existing.worker_id)
    assert stored is not None
    assert [c.captured_by_partner_id for c in stored.consents] == ["partner-a", "partner-a", "partner-b"]
    # B now holds its own consent for registration; what it sees still excludes what only A may see.
    assert "vulnerabilities" not in linked.view.fields
    assert registry.workers.get(existing.worker_id, CASEWORKER_B).worker.worker_id == existing.worker_id


def test_a_record_shared_only_for_sharing_is_not_linked_to_but_requested(registry: Registry) -> None:
    existing = registered(registry, identity_documents=aadhaar())
    registry.workers.grant_consent(existing.worker_id, sharing_with("partner-b"), "share-1", REGISTRAR_A)

    registration = registry.workers.register(
        register_command("b-1", phone="", identity_documents=aadhaar()), REGISTRAR_B
    )

    assert not registration.linked_to_existing
    assert registration.view.worker.worker_id != existing.worker_id
    assert registration.link_request is not None


def test_a_shared_phone_and_a_similar_name_from_the_same_partner_is_the_same_person(registry: Registry) -> None:
    existing = registered(registry)

    again = registry.workers.register(register_command("a-2", full_name="रवि कुमार", home=ARARIA), REGISTRAR_A)

    assert again.linked_to_existing
    assert again.view.worker.worker_id == existing.worker_id


# -- a record the partner does not reach ------------------------------------------------------------


def test_another_partners_worker_with_the_same_aadhaar_is_kept_apart_and_a_link_is_requested(
    registry: Registry,
) -> None:
    existing = registered(registry, identity_documents=aadhaar(AADHAAR))

    registration = registry.workers.register(
        register_command("b-1", full_name="R. Kumar", phone="9123456789", identity_documents=aadhaar(AADHAAR)),
        REGISTRAR_B,
    )

    own = registration.view.worker
    assert registration.created and not registration.linked_to_existing
    assert own.worker_id != existing.worker_id
    assert own.registering_partner_id == "partner-b"
    assert own.details.full_name == "R. Kumar"  # its own record: what B sent, nothing of A's
    assert registration.view.phone == "+919123456789"
    assert registration.possible_duplicates == ()
    assert registration.link_request is not None
    assert registration.link_request.can_send_code  # A's record has a phone
    [review] = registry.review_repository.reviews.values()
    assert review.review_id == registration.link_request.review_id
    assert (review.worker_id, review.candidate_id) == (own.worker_id, existing.worker_id)
    assert review.kind is MatchKind.CERTAIN
    assert review.status is ReviewStatus.PENDING
    assert review.requested_by_partner_id == "partner-b"
    assert review.partner_ids == ("partner-a", "partner-b")  # B's link request, A's to approve
    assert review.challenge is None  # no code is sent until B asks
    assert registry.messages.sent == []
    unchanged = registry.repository.get(existing.worker_id)
    assert unchanged is not None and unchanged.version == 1
    assert [c.captured_by_partner_id for c in unchanged.consents] == ["partner-a"]
    with pytest.raises(NotFound):
        registry.workers.get(existing.worker_id, CASEWORKER_B)


def test_a_link_request_says_when_no_code_can_be_sent(registry: Registry) -> None:
    registered(registry, phone="", identity_documents=aadhaar())

    registration = registry.workers.register(
        register_command("b-1", phone="9123456789", identity_documents=aadhaar()), REGISTRAR_B
    )

    assert registration.link_request is not None
    assert not registration.link_request.can_send_code


def test_a_retried_registration_that_was_kept_apart_is_the_same_record_and_the_same_request(
    registry: Registry,
) -> None:
    registered(registry, identity_documents=aadhaar())
    command = register_command("b-1", full_name="R. Kumar", phone="", identity_documents=aadhaar())

    first = registry.workers.register(command, REGISTRAR_B)
    retry = registry.workers.register(command, REGISTRAR_B)

    assert not retry.created
    assert retry.view.worker.worker_id == first.view.worker.worker_id
    assert retry.link_request == first.link_request
    assert len(registry.review_repository.reviews) == 1
    assert len(registry.repository.workers) == 2


def test_a_shared_phone_and_a_similar_name_from_another_partner_is_kept_apart(registry: Registry) -> None:
    existing = registered(registry)

    again = registry.workers.register(register_command("b-1", full_name="रवि कुमार", home=ARARIA), REGISTRAR_B)

    assert again.created and not again.linked_to_existing
    assert again.view.worker.worker_id != existing.worker_id
    assert again.link_request is not None
    [review] = registry.review_repository.reviews.values()
    assert review.kind is MatchKind.CERTAIN and review.candidate_id == existing.worker_id


def test_review_ids_are_opaque_and_stable(registry: Registry) -> None:
    existing = registered(registry, identity_documents=aadhaar())

    registration = registry.workers.register(
        register_command("b-1", identity_documents=aadhaar(), phone=""), REGISTRAR_B
    )

    assert registration.link_request is not None
    review_id = registration.link_request.review_id
    new_id = registration.view.worker.worker_id
    assert review_id == IDS.derive("match-review", f"{new_id}:{existing.worker_id}")
    assert existing.worker_id not in review_id and new_id not in review_id


# -- possible matches -------------------------------------------------------------------------------


def test_different_aadhaar_numbers_are_different_people_however_alike(registry: Registry) -> None:
    registered(registry, identity_documents=aadhaar(AADHAAR))

    other = register_similar(registry, identity_documents=aadhaar(OTHER_AADHAAR))

    assert other.created and not other.linked_to_existing
    assert other.possible_duplicates == ()
    assert registry.review_repository.reviews == {}


def test_a_similar_name_in_the_same_village_and_birth_year_is_registered_with_a_possible_duplicate(
    registry: Registry,
) -> None:
    first = registered(registry)

    second = register_similar(registry)

    assert second.created and not second.linked_to_existing
    assert second.link_request is None
    [possible] = second.possible_duplicates
    assert possible.worker_id == first.worker_id
    assert 0.75 <= possible.score < 0.92
    assert "birth_year: 1.00" in possible.reasons
    assert len(registry.repository.workers) == 2
    [review] = registry.review_repository.reviews.values()
    new_id = second.view.worker.worker_id
    assert (review.worker_id, review.candidate_id, review.kind) == (new_id, first.worker_id, MatchKind.POSSIBLE)
    assert review.review_id == IDS.derive("match-review", f"{new_id}:{first.worker_id}")
    assert review.status is ReviewStatus.PENDING
    assert review.created_at == registry.clock.now
    assert review.partner_ids == ("partner-a",)


def test_a_retried_registration_queues_no_second_review(registry: Registry) -> None:
    registered(registry)
    register_similar(registry)

    retry = register_similar(registry)

    assert not retry.created
    assert len(registry.review_repository.reviews) == 1


def test_a_retry_after_the_review_queue_failed_still_queues_the_review(registry: Registry) -> None:
    registered(registry)
    registry.review_repository.fail_next_add = True
    with pytest.raises(Unavailable):
        register_similar(registry)  # the worker is stored, the review is not

    retry = register_similar(registry)

    assert not retry.created
    assert len(registry.review_repository.reviews) == 1


def test_possible_duplicates_the_partner_may_not_see_are_queued_but_not_disclosed(registry: Registry) -> None:
    first = registered(registry)  # by partner A

    second = registry.workers.register(
        register_command("b-1", full_name="Ravi Kumaar", phone="", father_or_spouse_name=""), REGISTRAR_B
    )

    assert second.created
    assert second.possible_duplicates == ()
    assert second.link_request is None  # only certain matches make a link request
    [review] = registry.review_repository.reviews.values()
    assert (review.candidate_id, review.kind) == (first.worker_id, MatchKind.POSSIBLE)
    # Only the holder of the stored record reviews it: nothing tells partner B a similar person is registered.
    assert review.partner_ids == ("partner-a",)
    assert registry.reviews.pending(SUPERVISOR_B) == []


def test_a_fuzzy_match_is_never_linked_automatically_even_for_the_same_partner(registry: Registry) -> None:
    first = registered(registry, phone="")

    # Same name, father's name, birth year, district and village: no document, no phone.
    again = registry.workers.register(register_command("a-2", phone=""), REGISTRAR_A)

    assert again.created and not again.linked_to_existing
    assert again.view.worker.worker_id != first.worker_id
    assert [p.worker_id for p in again.possible_duplicates] == [first.worker_id]
    stored = registry.repository.get(first.worker_id)
    assert stored is not None and len(stored.consents) == 1 and stored.status is WorkerStatus.ACTIVE


def test_nothing_of_a_record_kept_apart_reaches_the_other_partner_through_search(registry: Registry) -> None:
    existing = registered(registry, identity_documents=aadhaar())
    registry.workers.register(register_command("b-1", phone="", identity_documents=aadhaar()), REGISTRAR_B)

    from mrc_registry.service_layer.commands import Search

    by_b, _ = registry.workers.search(Search(document=aadhaar()[0]), CASEWORKER_B)
    by_a, _ = registry.workers.search(Search(document=aadhaar()[0]), CASEWORKER_A)
    shared, _ = registry.workers.search(Search(document=aadhaar()[0]), acting_for(CASEWORKER_B, "sharing"))

    assert [v.worker.registering_partner_id for v in by_b] == ["partner-b"]
    assert [v.worker.worker_id for v in by_a] == [existing.worker_id]
    assert shared == []
