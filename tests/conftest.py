"""Fixtures shared by the integration and end-to-end suites.

They run the real platform through the project's own dev stack: a Kafka broker and FerretDB in
`.devstack/test`, every port shifted by 10000 so a developer's `make up` keeps running beside them.
Unit tests use none of this.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mrc_devstack.stack import Stack

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_PORT_OFFSET = int(os.environ.get("MRC_TEST_PORT_OFFSET", "10000"))


# Per-client rate limits of the services the tests start: generous bursts for the suite's own clients,
# a refill slow enough that the rate-limit test can exceed it deterministically.
TEST_RATE_LIMIT = {"MRC_AUTH_RATE_LIMIT_PER_SECOND": "20", "MRC_AUTH_RATE_LIMIT_BURST": "300"}


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    os.environ.update(TEST_RATE_LIMIT)
    stack = Stack(REPO_ROOT / ".devstack" / "test", TEST_PORT_OFFSET)
    # Each run starts from empty data so results never depend on an earlier run.
    stack.stop_all()
    stack.wipe()
    stack.start_infra()
    yield stack
    if not os.environ.get("MRC_TEST_KEEP_STACK"):
        stack.stop_all()


@pytest.fixture(scope="session")
def running_services(stack: Stack) -> Stack:
    stack.start_services()
    return stack
