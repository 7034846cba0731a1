from __future__ import annotations

import dataclasses

import pytest

from mrc.audit.v1 import audit_pb2
from mrc_employer.domain.employer import EmployerRegistered
from mrc_kernel.errors import AlreadyExists, IdempotencyKeyReused, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.roles import Role
from tests.support.auth import caller_for

from .fakes import BRICK_CO, CASEWORKER, IN_MAHARASHTRA, NOW, OPERATOR, command, make_service


def test_registering_stores_the_employer_raises_its_event_and_wakes_the_relay() -> None:
    service, repository, notifier, _ = make_service()

    registration = service.register(command(), OPERATOR)

    assert registration.created
    assert registration.employer.registered_at == NOW
    assert repository.events == [EmployerRegistered(registration.employer)]
    assert notifier.calls == 1
    assert service.get(registration.employer.employer_id, CASEWORKER) == registration.employer


def test_the_write_stores_its_audit_event_and_reads_are_not_audited() -> None:
    service, repository, _, audit = make_service()

    registration = service.register(command(), OPERATOR)
    service.get(registration.employer.employer_id, CASEWORKER)

    (message,) = repository.audit_messages()
    assert message.action == audit_pb2.ACCESS_ACTION_CREATE
    assert message.resource_type == "employer"
    assert message.resource_id == registration.employer.employer_id
    assert message.purpose == "compliance"
    assert message.actor.client_id == OPERATOR.client_id
    assert set(message.fields) == {"legal_name", "kind", "sector", "location", "registration_number"}
    assert audit.records == []


def test_a_retry_with_the_same_key_returns_the_first_result_and_raises_no_second_event() -> None:
    service, repository, notifier, _ = make_service()

    first = service.register(command(), OPERATOR)
    retry = service.register(command(), OPERATOR)

    assert not retry.created
    assert retry.employer == first.employer
    assert len(repository.employers) == 1
    assert len(repository.events) == 1
    assert len(repository.envelopes) == 1
    assert notifier.calls == 1


def test_the_same_key_with_a_different_body_is_refused() -> None:
    service, repository, notifier, _ = make_service()
    service.register(command(), OPERATOR)

    with pytest.raises(IdempotencyKeyReused):
        service.register(command(legal_name="Another Company"), OPERATOR)

    assert len(repository.events) == 1
    assert notifier.calls == 1


def test_keys_are_scoped_by_the_callers_partner() -> None:
    service, repository, _, _ = make_service()

    a = service.register(command(), caller_for(Role.OPERATOR, partner_id="partner-a"))
    b = service.register(command(), caller_for(Role.OPERATOR, partner_id="partner-b"))

    assert a.created
    assert b.created
    assert a.employer.employer_id != b.employer.employer_id
    assert len(repository.events) == 2


def test_without_a_key_every_call_registers_a_new_employer() -> None:
    service, repository, _, _ = make_service()

    service.register(command(idempotency_key=""), OPERATOR)
    service.register(command(idempotency_key=""), OPERATOR)

    assert len(repository.employers) == 2


def test_an_invalid_employer_stores_nothing() -> None:
    service, repository, notifier, _ = make_service()

    with pytest.raises(InvalidArgument):
        service.register(command(sector="software"), OPERATOR)

    assert repository.employers == {}
    assert repository.events == []
    assert repository.envelopes == []
    assert notifier.calls == 0


def test_an_employer_registers_its_own_record_once() -> None:
    service, repository, _, _ = make_service()

    own = service.register(command(), BRICK_CO)
    replay = service.register(command(), BRICK_CO)

    assert own.employer.employer_id == "brick-co"
    assert replay.employer == own.employer
    assert not replay.created
    with pytest.raises(AlreadyExists):
        service.register(command(idempotency_key="key-2", legal_name="Brick Co Two"), BRICK_CO)
    assert list(repository.employers) == ["brick-co"]


def test_an_employer_client_acting_for_no_employer_cannot_register() -> None:
    service, repository, _, _ = make_service()

    with pytest.raises(PermissionDenied):
        service.register(command(), caller_for(Role.EMPLOYER))

    assert repository.employers == {}


def test_an_employer_reads_only_its_own_record_and_others_look_missing() -> None:
    service, _, _, _ = make_service()
    own = service.register(command(), BRICK_CO).employer
    other = service.register(command(legal_name="Kaveri Constructions"), OPERATOR).employer

    assert service.get("brick-co", BRICK_CO) == own
    with pytest.raises(NotFound) as not_own:
        service.get(other.employer_id, BRICK_CO)
    with pytest.raises(NotFound) as missing:
        service.get("id-404", BRICK_CO)

    assert not_own.value.detail == f"no employer {other.employer_id!r}"
    assert missing.value.detail == "no employer 'id-404'"


def test_an_employer_outside_the_callers_geography_is_not_found_like_a_missing_one() -> None:
    service, _, _, _ = make_service()
    registered = service.register(command(), OPERATOR).employer

    with pytest.raises(NotFound) as outside:
        service.get(registered.employer_id, IN_MAHARASHTRA)

    assert outside.value.detail == f"no employer {registered.employer_id!r}"
    assert service.get(registered.employer_id, caller_for(Role.CASEWORKER, states={"10"})) == registered


def test_the_scope_is_checked_before_any_lookup() -> None:
    service, repository, _, _ = make_service()
    registered = service.register(command(), OPERATOR).employer
    public = caller_for(Role.PUBLIC)

    for employer_id in (registered.employer_id, "id-404"):
        with pytest.raises(PermissionDenied):
            service.get(employer_id, public)
    with pytest.raises(PermissionDenied):
        service.register(command(idempotency_key="key-2"), CASEWORKER)
    assert repository.lookups == 0
    assert len(repository.employers) == 1


def test_an_unknown_purpose_is_refused_naming_purpose() -> None:
    service, repository, _, _ = make_service()

    with pytest.raises(InvalidArgument) as caught:
        service.get("id-1", dataclasses.replace(CASEWORKER, purpose="marketing"))
    assert [v.field for v in caught.value.violations] == ["purpose"]
    with pytest.raises(InvalidArgument):
        service.register(command(), dataclasses.replace(OPERATOR, purpose="marketing"))
    assert repository.lookups == 0
    assert repository.employers == {}


def test_an_unknown_employer_is_not_found() -> None:
    service, _, _, _ = make_service()

    with pytest.raises(NotFound):
        service.get("nope", CASEWORKER)
