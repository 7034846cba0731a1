from __future__ import annotations

import pytest

from mrc_grievance.domain.grievance import GrievanceFiled, GrievanceStatus
from mrc_plumbing.errors import IdempotencyKeyReused, InvalidArgument, NotFound

from .fakes import NOW, command, make_service


def test_filing_stores_the_grievance_raises_its_event_and_wakes_the_relay() -> None:
    service, repository, notifier = make_service()

    filing = service.file(command())

    assert filing.created
    assert filing.grievance.status is GrievanceStatus.OPEN
    assert filing.grievance.filed_at == NOW
    assert repository.events == [GrievanceFiled(filing.grievance)]
    assert notifier.calls == 1
    assert service.get(filing.grievance.grievance_id) == filing.grievance


def test_a_retry_with_the_same_key_returns_the_first_result_and_raises_no_second_event() -> None:
    service, repository, notifier = make_service()

    first = service.file(command())
    retry = service.file(command())

    assert not retry.created
    assert retry.grievance == first.grievance
    assert len(repository.grievances) == 1
    assert len(repository.events) == 1
    assert notifier.calls == 1


def test_the_same_key_with_a_different_body_is_refused() -> None:
    service, repository, notifier = make_service()
    service.file(command())

    with pytest.raises(IdempotencyKeyReused):
        service.file(command(summary="Something else entirely."))

    assert len(repository.events) == 1
    assert notifier.calls == 1


def test_keys_are_scoped_by_partner() -> None:
    service, repository, _ = make_service()

    a = service.file(command(partner_id="partner-a"))
    b = service.file(command(partner_id="partner-b"))

    assert a.created
    assert b.created
    assert a.grievance.grievance_id != b.grievance.grievance_id
    assert len(repository.events) == 2


def test_without_a_key_every_call_files_a_new_grievance() -> None:
    service, repository, _ = make_service()

    service.file(command(idempotency_key=""))
    service.file(command(idempotency_key=""))

    assert len(repository.grievances) == 2


def test_an_invalid_grievance_stores_nothing() -> None:
    service, repository, notifier = make_service()

    with pytest.raises(InvalidArgument):
        service.file(command(summary=""))

    assert repository.grievances == {}
    assert repository.events == []
    assert notifier.calls == 0


def test_an_unknown_grievance_is_not_found() -> None:
    service, _, _ = make_service()

    with pytest.raises(NotFound):
        service.get("nope")
