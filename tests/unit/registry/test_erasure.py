"""Erasure, the worker's right: at once only by a supervisor of the registering partner; any other partner
that reaches the worker files a request, carried out when the code sent to the phone on record is read
back. Every erasure is audited with its evidence, and reaches households and migration episodes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mrc_kernel.audit import Action
from mrc_kernel.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, RateLimited
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.domain.household import Member, Relationship
from mrc_registry.domain.migration import Location, MigrationStatus, RecruitmentChannel
from mrc_registry.domain.worker import WorkerStatus
from mrc_registry.service_layer.erasure import ErasureStatus
from mrc_registry.service_layer.households import CreateHousehold
from mrc_registry.service_layer.migrations import RecordMigration
from mrc_registry.service_layer.workers import PERSONAL_FIELDS

from .fakes import (
    CASEWORKER_A,
    CASEWORKER_B,
    PHONE_E164,
    REGISTRAR_A,
    SUPERVISOR_A,
    SUPERVISOR_B,
    FakeProtector,
    Registry,
    make_registry,
    registered,
    sharing_with,
)

CODE = "135790"  # what the harness's erasure code generator hands out


@pytest.fixture
def registry() -> Registry:
    return make_registry()


@pytest.fixture
def worker_id(registry: Registry) -> str:
    """Partner A's worker, shared with partner B for registration (so B reaches her), with a household and
    a migration episode."""
    worker_id = registered(registry).worker_id
    purposes = frozenset({ConsentPurpose.REGISTRATION, ConsentPurpose.PARTNER_SHARING})
    registry.workers.grant_consent(worker_id, sharing_with("partner-b", purposes=purposes), "share-1", REGISTRAR_A)
    head = Member(relationship=Relationship.HEAD, worker_id=worker_id)
    child = Member(relationship=Relationship.CHILD, name="Amit", birth_year=2015)
    registry.households.create(REGISTRAR_A, CreateHousehold(members=(head, child), idempotency_key="h-1"))
    registry.migrations.record(
        REGISTRAR_A,
        RecordMigration(
            worker_id=worker_id,
            origin=Location("10", "212"),
            destination=Location("27", "490"),
            destination_country="",
            sector="construction",
            recruitment_channel=RecruitmentChannel.AGENT,
            start_date="2025-11-01",
            status=MigrationStatus.ONGOING,
            idempotency_key="m-1",
        ),
    )
    return worker_id


def assert_erased_everywhere(registry: Registry, worker_id: str) -> None:
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.status is WorkerStatus.ERASED
    assert stored.details.full_name == "" and stored.details.phone is None and stored.consents == []
    assert registry.repository.match_keys(worker_id) == set()
    [household] = registry.store.collection("households").documents.values()
    assert [m["worker_id"] for m in household["members"]] == [""]
    assert registry.store.collection("migration_episodes").documents == {}
    for caller in (CASEWORKER_A, SUPERVISOR_A, CASEWORKER_B):
        with pytest.raises(NotFound):
            registry.workers.get(worker_id, caller)


def erasure_audit(registry: Registry) -> tuple[str, ...]:
    [audit] = [e for e in registry.audit.events if e.action is Action.ERASE]
    return audit.fields


# -- at once --------------------------------------------------------------------------------------


def test_a_supervisor_of_the_registering_partner_erases_at_once_with_its_evidence(
    registry: Registry, worker_id: str
) -> None:
    registry.workers.erase(worker_id, "asked at the Patna helpdesk", SUPERVISOR_A)

    assert_erased_everywhere(registry, worker_id)
    assert erasure_audit(registry) == tuple(sorted([*PERSONAL_FIELDS, "evidence:supervisor_of_registering_partner"]))
    [erased] = registry.repository.messages("mrc.registry.v1.WorkerErased")
    assert erased.worker_id == worker_id


def test_a_supervisor_of_another_partner_that_reaches_the_worker_cannot_erase_at_once(
    registry: Registry, worker_id: str
) -> None:
    assert registry.workers.get(worker_id, CASEWORKER_B).worker.worker_id == worker_id

    with pytest.raises(PermissionDenied):
        registry.workers.erase(worker_id, "asked", SUPERVISOR_B)
    with pytest.raises(PermissionDenied):
        registry.workers.erase(worker_id, "asked", CASEWORKER_A)  # no erase scope

    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.status is WorkerStatus.ACTIVE


# -- on a request verified with a code ------------------------------------------------------------


def test_another_partner_erases_on_a_request_confirmed_with_the_code_sent_to_the_phone_on_record(
    registry: Registry, worker_id: str
) -> None:
    request = registry.erasures.request(worker_id, "  asked at our office  ", CASEWORKER_B)

    assert (request.worker_id, request.requested_by_partner_id) == (worker_id, "partner-b")
    assert (request.status, request.reason) == (ErasureStatus.PENDING, "asked at our office")
    [(phone, text, reference)] = registry.messages.sent
    assert (phone, reference) == (PHONE_E164, request.request_id)
    assert CODE in text
    stored_request = registry.store.collection("erasure_requests").documents[request.request_id]
    # Only the keyed hash of (request, code) is kept.
    hashed = FakeProtector().blind_index("one-time-code", f"{request.request_id}:{CODE}")
    assert stored_request["challenge"]["code_hash"] == hashed
    assert CODE not in str({k: v for k, v in stored_request.items() if k != "challenge"})
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.status is WorkerStatus.ACTIVE  # nothing happens before the code

    done = registry.erasures.confirm(request.request_id, CODE, CASEWORKER_B)

    assert done.status is ErasureStatus.COMPLETED and done.completed_at == registry.clock.now
    assert_erased_everywhere(registry, worker_id)
    assert "evidence:one_time_code" in erasure_audit(registry)
    with pytest.raises(Conflict):
        registry.erasures.confirm(request.request_id, CODE, CASEWORKER_B)


def test_a_wrong_or_expired_code_erases_nothing(registry: Registry, worker_id: str) -> None:
    request = registry.erasures.request(worker_id, "asked", CASEWORKER_B)

    with pytest.raises(InvalidArgument) as wrong:
        registry.erasures.confirm(request.request_id, "000000", CASEWORKER_B)
    registry.clock.now += timedelta(minutes=10)
    with pytest.raises(InvalidArgument) as expired:
        registry.erasures.confirm(request.request_id, CODE, CASEWORKER_B)

    assert [v.field for v in wrong.value.violations] == [v.field for v in expired.value.violations] == ["code"]
    assert "expired" in expired.value.violations[0].description
    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.status is WorkerStatus.ACTIVE


def test_a_request_is_confirmed_only_by_the_partner_that_filed_it(registry: Registry, worker_id: str) -> None:
    request = registry.erasures.request(worker_id, "asked", CASEWORKER_B)

    with pytest.raises(NotFound):
        registry.erasures.confirm(request.request_id, CODE, SUPERVISOR_A)
    with pytest.raises(NotFound):
        registry.erasures.resend(request.request_id, SUPERVISOR_A)
    with pytest.raises(NotFound):
        registry.erasures.confirm("no-such-request", CODE, CASEWORKER_B)

    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.status is WorkerStatus.ACTIVE


def test_codes_are_resent_within_limits(registry: Registry, worker_id: str) -> None:
    request = registry.erasures.request(worker_id, "asked", CASEWORKER_B)

    with pytest.raises(RateLimited):
        registry.erasures.resend(request.request_id, CASEWORKER_B)
    registry.clock.now += timedelta(seconds=61)
    again = registry.erasures.resend(request.request_id, CASEWORKER_B)

    assert again.challenge.sends == 2
    assert len(registry.messages.sent) == 2
    registry.erasures.confirm(request.request_id, CODE, CASEWORKER_B)
    assert_erased_everywhere(registry, worker_id)


def test_a_request_needs_a_reason_the_worker_reached_and_a_phone_on_record(registry: Registry) -> None:
    no_phone = registered(registry, key="k-2", full_name="Mohan Lal", phone="").worker_id
    theirs = registered(registry, key="k-3", full_name="Geeta Paswan", phone="9123456780").worker_id

    with pytest.raises(InvalidArgument) as no_reason:
        registry.erasures.request(no_phone, "   ", CASEWORKER_A)
    with pytest.raises(InvalidArgument) as too_long:
        registry.erasures.request(no_phone, "x" * 501, CASEWORKER_A)
    with pytest.raises(FailedPrecondition):
        registry.erasures.request(no_phone, "asked", CASEWORKER_A)
    with pytest.raises(NotFound):
        registry.erasures.request(theirs, "asked", CASEWORKER_B)  # not shared with B

    assert [v.field for v in no_reason.value.violations] == [v.field for v in too_long.value.violations] == ["reason"]
    assert registry.messages.sent == []
