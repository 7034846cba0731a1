from datetime import UTC, datetime

import pytest

from mrc_plumbing.errors import InvalidArgument
from mrc_registry.domain.worker import Gender, Place, Worker, WorkerRegistered

NOW = datetime(2026, 11, 25, tzinfo=UTC)
PATNA = Place(state_code="10", district_code="212", village_name="Phulwari")


def register(**overrides: object) -> Worker:
    fields: dict[str, object] = {
        "worker_id": "w-1",
        "full_name": "  सीता   देवी ",
        "gender": Gender.FEMALE,
        "birth_year": 1994,
        "home": PATNA,
        "occupation": "construction",
        "registering_partner_id": "cso-1",
        "now": NOW,
    }
    fields.update(overrides)
    return Worker.register(**fields)  # type: ignore[arg-type]


def test_registration_normalises_the_name_and_raises_one_event() -> None:
    worker = register()
    assert worker.full_name == "सीता देवी"
    assert worker.pending_events == [WorkerRegistered(worker)]
    assert worker.registered_at == worker.updated_at == NOW


def violated_fields(**overrides: object) -> set[str]:
    with pytest.raises(InvalidArgument) as caught:
        register(**overrides)
    return {v.field for v in caught.value.violations}


def test_every_invalid_field_is_named() -> None:
    assert violated_fields(full_name="   ") == {"full_name"}
    assert violated_fields(full_name="x" * 201) == {"full_name"}
    assert violated_fields(birth_year=1850) == {"birth_year"}
    assert violated_fields(birth_year=2025) == {"birth_year"}  # a one-year-old is no migrant worker
    assert violated_fields(gender=None) == {"gender"}
    assert violated_fields(home=Place("10", "99")) == {"home.district_code"}
    assert violated_fields(home=Place("77", "212")) == {"home.state_code"}
    assert violated_fields(full_name="", gender=None, birth_year=1) == {"full_name", "gender", "birth_year"}


def test_birth_year_is_optional() -> None:
    assert register(birth_year=None).birth_year is None
