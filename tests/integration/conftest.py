from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo.database import Database

from mrc_devstack.stack import Stack
from mrc_plumbing.settings import InfraSettings
from mrc_plumbing.store import DocumentStore
from mrc_plumbing.store.wiring import connect_database, store_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def infra(stack: Stack) -> InfraSettings:
    return InfraSettings(kafka_bootstrap_servers=stack.kafka_bootstrap, mongo_uri=stack.mongo_uri)


@pytest.fixture
def db(infra: InfraSettings) -> Iterator[Database[Any]]:
    """A fresh database per test on the real store, connected through mongoengine like the services."""
    name = f"it_{uuid.uuid4().hex[:12]}"
    database = connect_database(infra, name)
    yield database
    database.client.drop_database(name)


@pytest.fixture
def topic() -> str:
    return f"it.{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["ferretdb", "mongodb"])
def store(db: Database[Any], request: pytest.FixtureRequest) -> DocumentStore:
    """The test's database behind each store strategy: FerretDB runs the MongoDB strategy's commands too."""
    return store_for(db, str(request.param))
