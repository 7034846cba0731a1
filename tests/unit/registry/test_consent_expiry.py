"""Consents that reach their expiry: they stop admitting anyone at once, and `announce_expired_consents` (run
by a sweep thread in the registry process) publishes `ConsentChanged` with `expired=true` once for each, so
every consuming service stops using them too."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from mrc.registry.v1 import worker_pb2
from mrc_kernel.errors import NotFound
from mrc_registry.domain.consent import ConsentPurpose
from mrc_registry.entrypoints.process import ConsentExpirySweep

from .fakes import (
    CASEWORKER_A,
    CASEWORKER_B,
    REGISTRAR_A,
    Registry,
    acting_for,
    consent_input,
    make_registry,
    register_command,
    registered,
    sharing_with,
)

CHANGED = "mrc.registry.v1.ConsentChanged"


@pytest.fixture
def registry() -> Registry:
    return make_registry()


def shared_until(registry: Registry, days: int, key: str = "key-1", **details: object) -> str:
    """A worker of partner A, shared with partner B until `days` from now."""
    worker_id = registered(registry, key=key, **details).worker_id
    expires = registry.clock.now + timedelta(days=days)
    registry.workers.grant_consent(worker_id, sharing_with("partner-b", expires_at=expires), f"{key}-s", REGISTRAR_A)
    return worker_id


def test_an_expired_consent_is_announced_once_and_no_longer_counts(registry: Registry) -> None:
    worker_id = shared_until(registry, 30)
    before = registry.repository.get(worker_id)
    assert before is not None

    assert registry.workers.announce_expired_consents() == 0  # nothing has expired yet
    registry.clock.now += timedelta(days=30)
    announced = registry.workers.announce_expired_consents()
    again = registry.workers.announce_expired_consents()

    assert (announced, again) == (1, 0)
    changes = registry.repository.messages(CHANGED)
    expiry = changes[-1]
    assert expiry.expired
    assert expiry.consent.consent_id == before.consents[-1].consent_id
    assert list(expiry.shared_with_partner_ids) == []
    assert list(expiry.active_purposes) == [worker_pb2.CONSENT_PURPOSE_REGISTRATION]
    assert "partner-b" not in [g.partner_id for g in expiry.facts.grants]
    assert [c.expired for c in changes] == [False, True]  # the grant itself was no expiry
    after = registry.repository.get(worker_id)
    assert after is not None
    assert after.version == before.version + 1
    assert after.consents[-1].expiry_announced and after.consents[-1].revoked_at is None
    assert registry.repository.with_consents_expiring(registry.clock.now, limit=10) == []
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, acting_for(CASEWORKER_B, "sharing"))
    assert registry.workers.get(worker_id, CASEWORKER_A).worker.worker_id == worker_id


def test_access_ends_at_the_expiry_even_before_it_is_announced(registry: Registry) -> None:
    worker_id = shared_until(registry, 1)
    registry.clock.now += timedelta(days=1)

    with pytest.raises(NotFound):
        registry.workers.get(worker_id, acting_for(CASEWORKER_B, "sharing"))


def test_a_revoked_consent_is_not_announced_as_expired(registry: Registry) -> None:
    worker_id = shared_until(registry, 1)
    stored = registry.repository.get(worker_id)
    assert stored is not None
    registry.workers.revoke_consent(worker_id, stored.consents[-1].consent_id, REGISTRAR_A)
    registry.clock.now += timedelta(days=2)

    assert registry.workers.announce_expired_consents() == 0
    assert [c.expired for c in registry.repository.messages(CHANGED)] == [False, False]


def test_the_registering_partner_loses_the_worker_when_its_only_consent_expires(registry: Registry) -> None:
    consent = consent_input(
        purposes=frozenset({ConsentPurpose.REGISTRATION}), expires_at=registry.clock.now + timedelta(days=365)
    )
    worker_id = registry.workers.register(register_command(consent=consent), REGISTRAR_A).view.worker.worker_id
    registry.clock.now += timedelta(days=366)

    assert registry.workers.announce_expired_consents() == 1
    [expiry] = registry.repository.messages(CHANGED)
    assert expiry.expired and list(expiry.active_purposes) == []
    with pytest.raises(NotFound):
        registry.workers.get(worker_id, CASEWORKER_A)


def test_each_round_announces_at_most_its_limit_and_the_next_round_the_rest(registry: Registry) -> None:
    for n, name in enumerate(["Mohan Lal", "Geeta Paswan", "Anil Yadav"]):
        shared_until(registry, 1, key=f"k-{n}", full_name=name, phone=f"912345678{n}", father_or_spouse_name="")
    registry.clock.now += timedelta(days=2)

    assert registry.workers.announce_expired_consents(limit=2) == 2
    assert registry.workers.announce_expired_consents(limit=2) == 1
    assert registry.workers.announce_expired_consents(limit=2) == 0
    assert [c.expired for c in registry.repository.messages(CHANGED)].count(True) == 3


def test_the_sweep_thread_announces_expiries_as_they_come(registry: Registry) -> None:
    worker_id = shared_until(registry, 1)
    registry.clock.now += timedelta(days=1)
    sweep = ConsentExpirySweep(registry.workers, interval_seconds=0.01)

    sweep.start()
    try:
        deadline = time.monotonic() + 5
        while not any(c.expired for c in registry.repository.messages(CHANGED)) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        sweep.stop()

    stored = registry.repository.get(worker_id)
    assert stored is not None and stored.consents[-1].expiry_announced
    assert [c.expired for c in registry.repository.messages(CHANGED)].count(True) == 1
