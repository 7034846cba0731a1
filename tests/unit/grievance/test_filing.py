from __future__ import annotations

import dataclasses

import pytest

from mrc.audit.v1 import audit_pb2
from mrc_grievance.domain.grievance import GrievanceFiled, GrievanceStatus
from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.errors import IdempotencyKeyReused, InvalidArgument, NotFound, PermissionDenied, Unavailable
from mrc_kernel.roles import Role, Scope
from tests.support.auth import caller_for

from .fakes import CASEWORKER, HELPLINE, IN_ARARIA, IN_BIHAR, IN_MAHARASHTRA, NOW, command, make_service


def test_filing_stores_the_grievance_raises_its_event_and_wakes_the_relay() -> None:
    service, repository, notifier, _ = make_service()

    filing = service.file(command(), HELPLINE)

    assert filing.created
    assert filing.grievance.status is GrievanceStatus.OPEN
    assert filing.grievance.filed_at == NOW
    assert repository.events == [GrievanceFiled(filing.grievance)]
    assert notifier.calls == 1
    assert service.get(filing.grievance.grievance_id, CASEWORKER) == filing.grievance


def test_the_filing_partner_is_kept_from_the_token() -> None:
    service, repository, _, _ = make_service()

    filing = service.file(command(), caller_for(Role.HELPLINE_AGENT, partner_id="helpline-bihar"))

    assert repository.grievances[filing.grievance.grievance_id].filed_by_partner_id == "helpline-bihar"


def test_the_write_stores_its_audit_event_with_the_grievance() -> None:
    service, repository, _, audit = make_service()

    filing = service.file(command(), HELPLINE)

    (message,) = repository.audit_messages()
    assert message.action == audit_pb2.ACCESS_ACTION_CREATE
    assert message.outcome == audit_pb2.ACCESS_OUTCOME_ALLOWED
    assert message.resource_type == "grievance"
    assert message.resource_id == filing.grievance.grievance_id
    assert message.actor.client_id == HELPLINE.client_id
    assert message.actor.partner_id == "partner-a"
    assert message.purpose == "grievance_follow_up"
    assert {"summary", "worker_id", "location", "category"} <= set(message.fields)
    assert audit.records == []  # a write is not published on its own: it waits in the outbox


def test_an_anonymous_write_names_no_worker_field() -> None:
    service, repository, _, _ = make_service()

    service.file(command(worker_id="", anonymous=True), HELPLINE)

    (message,) = repository.audit_messages()
    assert "worker_id" not in message.fields


def test_a_retry_with_the_same_key_returns_the_first_result_and_raises_no_second_event() -> None:
    service, repository, notifier, _ = make_service()

    first = service.file(command(), HELPLINE)
    retry = service.file(command(), HELPLINE)

    assert not retry.created
    assert retry.grievance == first.grievance
    assert len(repository.grievances) == 1
    assert len(repository.events) == 1
    assert len(repository.envelopes) == 1
    assert notifier.calls == 1


def test_the_same_key_with_a_different_body_is_refused() -> None:
    service, repository, notifier, _ = make_service()
    service.file(command(), HELPLINE)

    with pytest.raises(IdempotencyKeyReused):
        service.file(command(summary="Something else entirely."), HELPLINE)

    assert len(repository.events) == 1
    assert notifier.calls == 1


def test_keys_are_scoped_by_the_callers_partner() -> None:
    service, repository, _, _ = make_service()

    a = service.file(command(), caller_for(Role.HELPLINE_AGENT, partner_id="partner-a"))
    b = service.file(command(), caller_for(Role.HELPLINE_AGENT, partner_id="partner-b"))

    assert a.created
    assert b.created
    assert a.grievance.grievance_id != b.grievance.grievance_id
    assert len(repository.events) == 2


def test_without_a_key_every_call_files_a_new_grievance() -> None:
    service, repository, _, _ = make_service()

    service.file(command(idempotency_key=""), HELPLINE)
    service.file(command(idempotency_key=""), HELPLINE)

    assert len(repository.grievances) == 2


def test_an_invalid_grievance_stores_nothing() -> None:
    service, repository, notifier, _ = make_service()

    with pytest.raises(InvalidArgument):
        service.file(command(summary=""), HELPLINE)

    assert repository.grievances == {}
    assert repository.events == []
    assert repository.envelopes == []
    assert notifier.calls == 0


def test_a_read_is_recorded_before_it_is_returned() -> None:
    service, _, _, audit = make_service()
    filed = service.file(command(), HELPLINE).grievance

    service.get(filed.grievance_id, dataclasses.replace(CASEWORKER, purpose="case_management"))

    (call,) = audit.records
    assert (call.action, call.resource_type, call.resource_id, call.allowed) == (
        Action.READ,
        "grievance",
        filed.grievance_id,
        True,
    )
    assert call.caller.purpose == "case_management"
    assert "summary" in call.fields


def test_a_read_fails_closed_when_the_audit_path_is_down() -> None:
    service, _, _, audit = make_service()
    filed = service.file(command(), HELPLINE).grievance
    audit.failing = True

    with pytest.raises(Unavailable):
        service.get(filed.grievance_id, CASEWORKER)


@pytest.mark.parametrize("caller", [IN_BIHAR, IN_ARARIA])
def test_a_caller_reads_grievances_in_its_geography(caller: Caller) -> None:
    service, _, _, _ = make_service()
    filed = service.file(command(), HELPLINE).grievance

    assert service.get(filed.grievance_id, caller) == filed


@pytest.mark.parametrize(
    "caller",
    [IN_MAHARASHTRA, caller_for(Role.CASEWORKER, states={"10"}, districts={"189"})],
    ids=["other-state", "other-district"],
)
def test_a_grievance_outside_the_callers_geography_is_not_found_like_a_missing_one(caller: Caller) -> None:
    service, _, _, audit = make_service()
    filed = service.file(command(), HELPLINE).grievance

    with pytest.raises(NotFound) as outside:
        service.get(filed.grievance_id, caller)
    with pytest.raises(NotFound) as missing:
        service.get("id-404", caller)

    assert outside.value.detail == f"no grievance {filed.grievance_id!r}"
    assert missing.value.detail == "no grievance 'id-404'"
    assert [(c.resource_id, c.allowed, c.fields) for c in audit.records] == [
        (filed.grievance_id, False, ()),
        ("id-404", False, ()),
    ]


def test_a_denied_read_is_still_not_found_when_it_cannot_be_recorded() -> None:
    service, _, _, audit = make_service()
    filed = service.file(command(), HELPLINE).grievance
    audit.failing = True

    with pytest.raises(NotFound):
        service.get(filed.grievance_id, IN_MAHARASHTRA)


def test_the_scope_is_checked_before_any_lookup() -> None:
    service, repository, _, _ = make_service()
    filed = service.file(command(), HELPLINE).grievance
    registrar = caller_for(Role.REGISTRAR)

    for grievance_id in (filed.grievance_id, "id-404"):
        with pytest.raises(PermissionDenied):
            service.get(grievance_id, registrar)
    with pytest.raises(PermissionDenied):
        service.file(command(idempotency_key="key-2"), registrar)
    assert repository.lookups == 0
    assert len(repository.grievances) == 1


def test_an_employer_is_refused_even_with_grievance_scopes() -> None:
    service, _, _, _ = make_service()
    filed = service.file(command(), HELPLINE).grievance
    employer = dataclasses.replace(
        caller_for(Role.EMPLOYER, employer_id="employer-7"),
        scopes=frozenset({Scope.GRIEVANCES_READ, Scope.GRIEVANCES_WRITE}),
    )

    with pytest.raises(PermissionDenied):
        service.get(filed.grievance_id, employer)
    with pytest.raises(PermissionDenied):
        service.file(command(idempotency_key="key-2"), employer)


def test_an_unknown_purpose_is_refused_naming_purpose() -> None:
    service, repository, _, _ = make_service()

    with pytest.raises(InvalidArgument) as caught:
        service.get("id-1", dataclasses.replace(CASEWORKER, purpose="marketing"))
    assert [v.field for v in caught.value.violations] == ["purpose"]
    with pytest.raises(InvalidArgument):
        service.file(command(), dataclasses.replace(HELPLINE, purpose="marketing"))
    assert repository.lookups == 0
    assert repository.grievances == {}


def test_an_unknown_grievance_is_not_found() -> None:
    service, _, _, _ = make_service()

    with pytest.raises(NotFound):
        service.get("nope", CASEWORKER)
