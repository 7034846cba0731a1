from datetime import UTC, datetime

import pytest

from mrc_plumbing.errors import IdempotencyKeyReused, InvalidArgument, NotFound
from mrc_registry.domain.worker import Gender, Place, WorkerRegistered
from mrc_registry.service_layer.registration import RegisterWorker, RegistrationService
from tests.unit.registry.fakes import CountingNotifier, FakeWorkerRepository


def make_service() -> tuple[RegistrationService, FakeWorkerRepository, CountingNotifier]:
    repo, notifier = FakeWorkerRepository(), CountingNotifier()
    ids = iter(f"id-{n}" for n in range(100))
    service = RegistrationService(
        repo, notifier, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), new_id=lambda: next(ids)
    )
    return service, repo, notifier


def command(**overrides: object) -> RegisterWorker:
    fields: dict[str, object] = {
        "full_name": "Ravi Kumar",
        "gender": Gender.MALE,
        "birth_year": 1990,
        "home": Place("10", "212"),
        "occupation": "mason",
        "partner_id": "cso-1",
        "idempotency_key": "key-1",
    }
    fields.update(overrides)
    return RegisterWorker(**fields)  # type: ignore[arg-type]


def test_register_stores_the_worker_with_its_event_and_wakes_the_relay() -> None:
    service, repo, notifier = make_service()
    result = service.register(command())
    assert result.created
    assert repo.outbox == [WorkerRegistered(result.worker)]
    assert notifier.count == 1
    assert service.get(result.worker.worker_id).full_name == "Ravi Kumar"


def test_retry_with_the_same_key_returns_the_first_result_and_no_second_event() -> None:
    service, repo, notifier = make_service()
    first = service.register(command())
    retry = service.register(command())
    assert not retry.created
    assert retry.worker.worker_id == first.worker.worker_id
    assert len(repo.workers) == 1
    assert len(repo.outbox) == 1
    assert notifier.count == 1


def test_same_key_from_another_partner_is_another_request() -> None:
    service, repo, _ = make_service()
    service.register(command())
    assert service.register(command(partner_id="cso-2")).created
    assert len(repo.workers) == 2


def test_same_key_with_a_different_body_is_refused() -> None:
    service, _, _ = make_service()
    service.register(command())
    with pytest.raises(IdempotencyKeyReused):
        service.register(command(full_name="Someone Else"))


def test_without_a_key_each_call_registers() -> None:
    service, repo, _ = make_service()
    service.register(command(idempotency_key=""))
    service.register(command(idempotency_key=""))
    assert len(repo.workers) == 2


def test_invalid_command_stores_and_publishes_nothing() -> None:
    service, repo, notifier = make_service()
    with pytest.raises(InvalidArgument):
        service.register(command(home=Place("10", "99999")))
    assert repo.workers == {} and repo.outbox == [] and notifier.count == 0


def test_unknown_worker_is_not_found() -> None:
    service, _, _ = make_service()
    with pytest.raises(NotFound):
        service.get("nobody")
