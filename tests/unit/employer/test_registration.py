from __future__ import annotations

import pytest

from mrc_employer.domain.employer import EmployerRegistered
from mrc_plumbing.errors import IdempotencyKeyReused, InvalidArgument, NotFound

from .fakes import NOW, command, make_service


def test_registering_stores_the_employer_raises_its_event_and_wakes_the_relay() -> None:
    service, repository, notifier = make_service()

    registration = service.register(command())

    assert registration.created
    assert registration.employer.registered_at == NOW
    assert repository.events == [EmployerRegistered(registration.employer)]
    assert notifier.calls == 1
    assert service.get(registration.employer.employer_id) == registration.employer


def test_a_retry_with_the_same_key_returns_the_first_result_and_raises_no_second_event() -> None:
    service, repository, notifier = make_service()

    first = service.register(command())
    retry = service.register(command())

    assert not retry.created
    assert retry.employer == first.employer
    assert len(repository.employers) == 1
    assert len(repository.events) == 1
    assert notifier.calls == 1


def test_the_same_key_with_a_different_body_is_refused() -> None:
    service, repository, notifier = make_service()
    service.register(command())

    with pytest.raises(IdempotencyKeyReused):
        service.register(command(legal_name="Another Company"))

    assert len(repository.events) == 1
    assert notifier.calls == 1


def test_keys_are_scoped_by_partner() -> None:
    service, repository, _ = make_service()

    a = service.register(command(partner_id="partner-a"))
    b = service.register(command(partner_id="partner-b"))

    assert a.created
    assert b.created
    assert a.employer.employer_id != b.employer.employer_id
    assert len(repository.events) == 2


def test_without_a_key_every_call_registers_a_new_employer() -> None:
    service, repository, _ = make_service()

    service.register(command(idempotency_key=""))
    service.register(command(idempotency_key=""))

    assert len(repository.employers) == 2


def test_an_invalid_employer_stores_nothing() -> None:
    service, repository, notifier = make_service()

    with pytest.raises(InvalidArgument):
        service.register(command(sector="software"))

    assert repository.employers == {}
    assert repository.events == []
    assert notifier.calls == 0


def test_an_unknown_employer_is_not_found() -> None:
    service, _, _ = make_service()

    with pytest.raises(NotFound):
        service.get("nope")
