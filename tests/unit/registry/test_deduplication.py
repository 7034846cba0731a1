"""Recognising a worker met again: certain matches link to the existing record, possible ones go to review."""

from __future__ import annotations

import pytest

from mrc_kernel.audit import Action
from mrc_kernel.errors import Unavailable
from mrc_registry.domain.worker import ConsentChanged
from mrc_registry.service_layer.deduplication import ReviewStatus
from mrc_registry.service_layer.workers import Registration

from .fakes import (
    AADHAAR,
    ARARIA,
    CASEWORKER_B,
    OTHER_AADHAAR,
    REGISTRAR_A,
    REGISTRAR_B,
    Registry,
    aadhaar,
    make_registry,
    register_command,
    registered,
)


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def register_similar(registry: Registry, key: str = "key-2", **overrides: object) -> Registration:
    """Ravi Kumaar: same village, birth year and gender as the default Ravi Kumar, no phone, no documents."""
    details: dict[str, object] = {"full_name": "Ravi Kumaar", "phone": "", "father_or_spouse_name": ""}
    details.update(overrides)
    return registry.workers.register(register_command(key, **details), REGISTRAR_A)


def test_a_second_partner_registering_the_same_aadhaar_is_linked_to_the_existing_worker(registry: Registry) -> None:
    existing = registered(registry, identity_documents=aadhaar(AADHAAR))
    notified = registry.notifier.count

    linked = registry.workers.register(
        register_command("b-1", full_name="R. Kumar", phone="9123456789", identity_documents=aadhaar("234567890124")),
        REGISTRAR_B,
    )

    assert linked.linked_to_existing and linked.created
    assert linked.view.worker.worker_id == existing.worker_id
    assert list(registry.repository.workers) == [existing.worker_id]
    stored = registry.repository.get(existing.worker_id)
    assert stored is not None
    assert [c.captured_by_partner_id for c in stored.consents] == ["partner-a", "partner-b"]
    assert stored.details.full_name == "Ravi Kumar"  # the second partner's details do not overwrite the record
    assert isinstance(registry.repository.events[-1], ConsentChanged)
    assert registry.audit.events[-1].action is Action.UPDATE
    assert registry.notifier.count == notified + 1
    assert registry.workers.get(existing.worker_id, CASEWORKER_B).worker.worker_id == existing.worker_id


def test_a_retried_link_adds_no_second_consent(registry: Registry) -> None:
    existing = registered(registry, identity_documents=aadhaar())
    command = register_command("b-1", full_name="R. Kumar", phone="", identity_documents=aadhaar())

    registry.workers.register(command, REGISTRAR_B)
    retry = registry.workers.register(command, REGISTRAR_B)

    assert retry.linked_to_existing and not retry.created
    stored = registry.repository.get(existing.worker_id)
    assert stored is not None and len(stored.consents) == 2


def test_a_shared_phone_and_a_similar_name_is_the_same_person(registry: Registry) -> None:
    existing = registered(registry)

    again = registry.workers.register(register_command("b-1", full_name="रवि कुमार", home=ARARIA), REGISTRAR_B)

    assert again.linked_to_existing
    assert again.view.worker.worker_id == existing.worker_id


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
    [possible] = second.possible_duplicates
    assert possible.worker_id == first.worker_id
    assert 0.75 <= possible.score < 0.92
    assert "birth_year: 1.00" in possible.reasons
    assert len(registry.repository.workers) == 2
    [review] = registry.review_repository.reviews.values()
    new_id = second.view.worker.worker_id
    assert (review.review_id, review.worker_id, review.candidate_id) == (
        f"{new_id}:{first.worker_id}",
        new_id,
        first.worker_id,
    )
    assert review.status is ReviewStatus.PENDING
    assert review.created_at == registry.clock.now


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


def test_possible_duplicates_the_partner_may_not_see_are_not_disclosed(registry: Registry) -> None:
    registered(registry)  # by partner A

    second = registry.workers.register(
        register_command("b-1", full_name="Ravi Kumaar", phone="", father_or_spouse_name=""), REGISTRAR_B
    )

    assert second.created
    assert second.possible_duplicates == ()
