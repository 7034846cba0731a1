from __future__ import annotations

import dataclasses

import pytest

from mrc_entitlements.domain.eligibility import EligibilityStatus
from mrc_entitlements.service_layer.eligibility import EligibilityService
from mrc_kernel.audit import Action
from mrc_kernel.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from mrc_kernel.roles import Role
from tests.support.auth import caller_for

from .fakes import FakeEligibilityRepository, Notifier, make_services

CASEWORKER = caller_for(Role.CASEWORKER)


def test_a_registered_worker_gets_a_pending_record_once() -> None:
    repo, notifier = FakeEligibilityRepository(), Notifier()
    service = EligibilityService(repo, notifier)
    assert service.worker_registered("w-1", event_id="e-1", linkage_consented=True) is True
    assert service.worker_registered("w-1", event_id="e-1", linkage_consented=True) is False  # redelivered
    record = repo.records["w-1"]
    assert record.status is EligibilityStatus.PENDING_ASSESSMENT
    assert record.source_event_id == "e-1"
    assert len(repo.outbox) == 1
    assert notifier.count == 1


def test_a_read_is_recorded_before_it_is_returned() -> None:
    service, lookup, _, audit = make_services()
    service.worker_registered("w-1", event_id="e-1", linkage_consented=True)

    record = lookup.get("w-1", CASEWORKER)

    assert record.worker_id == "w-1"
    (call,) = audit.records
    assert (call.action, call.resource_type, call.resource_id, call.allowed) == (
        Action.READ,
        "eligibility",
        "w-1",
        True,
    )
    assert call.caller.purpose == "entitlement_linkage"
    assert "eligible_scheme_codes" in call.fields


def test_a_read_fails_closed_when_the_audit_path_is_down() -> None:
    service, lookup, _, audit = make_services()
    service.worker_registered("w-1", event_id="e-1", linkage_consented=True)
    audit.failing = True

    with pytest.raises(Unavailable):
        lookup.get("w-1", CASEWORKER)


def test_unknown_worker_is_not_found_and_recorded_as_denied() -> None:
    _, lookup, _, audit = make_services()

    with pytest.raises(NotFound):
        lookup.get("w-x", CASEWORKER)

    assert [(r.resource_id, r.allowed) for r in audit.records] == [("w-x", False)]
    audit.failing = True
    with pytest.raises(NotFound):  # best effort: still a 404 when that cannot be recorded
        lookup.get("w-x", CASEWORKER)


def test_the_scope_and_purpose_are_checked_before_any_lookup() -> None:
    service, lookup, repository, _ = make_services()
    service.worker_registered("w-1", event_id="e-1", linkage_consented=True)

    for worker_id in ("w-1", "w-x"):
        with pytest.raises(PermissionDenied):
            lookup.get(worker_id, caller_for(Role.HELPLINE_AGENT))
    with pytest.raises(InvalidArgument) as caught:
        lookup.get("w-1", dataclasses.replace(CASEWORKER, purpose="marketing"))
    assert [v.field for v in caught.value.violations] == ["purpose"]
    assert repository.lookups == 0
