"""The store port's contract on the in-memory strategy that unit tests use."""

from __future__ import annotations

import pytest

from mrc_plumbing.store import DocumentStore
from mrc_plumbing.store.memory import InMemoryStore
from tests.support.store_contract import StoreContract


class TestInMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> DocumentStore:
        return InMemoryStore()

    @pytest.fixture
    def unreachable_store(self) -> DocumentStore:
        store = InMemoryStore()
        store.unavailable = True
        return store
