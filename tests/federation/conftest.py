"""Two state clusters and MirrorMaker 2 between them, for the federation tests.

One federation per test session (`federation`): Bihar and Kerala, each its own Kafka and FerretDB, a national
Kafka, and MirrorMaker 2 running every flow (state <-> state for the federation topics, each state ->
national for the aggregates). Only the infrastructure runs unless a test asks for services
(`federation_services(["access", "registry"])` starts them in both states, once).

Homes are under `.devstack/federation/test`; ports are shifted by MRC_FEDERATION_TEST_PORT_OFFSET (default
500) for Bihar, +2000 for Kerala and +4000 for the national cluster, clear of `make up` (0), the main suite
(10000), the engineers' test stacks (12000-24000) and the README's local federation (2000, 4000, 6000). Every
port stays below 32768, where Linux starts handing out ephemeral ports: the services start after hundreds of
client connections are open, and a service port inside that range was sometimes taken by one of them
("address already in use"). Every run starts from empty data; MRC_TEST_KEEP_STACK=1 leaves the federation
running afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

import pytest

from mrc_devstack.federation import Federation, parse_states
from tests.conftest import REPO_ROOT, TEST_RATE_LIMIT

FEDERATION_TEST_PORT_OFFSET = int(os.environ.get("MRC_FEDERATION_TEST_PORT_OFFSET", "500"))
HOME = REPO_ROOT / ".devstack" / "federation" / "test"
# The states' cluster aliases are their names (topics arrive as `bihar.mrc.federation...`); LGD codes.
SOURCE, DESTINATION, NATIONAL = "bihar", "kerala", "national"
STATE_CODES = {"bihar": "10", "kerala": "32"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "federation: runs two state clusters and MirrorMaker 2 (tests/federation)")


def _federation() -> Federation:
    offset = FEDERATION_TEST_PORT_OFFSET
    return Federation(
        HOME,
        parse_states(f"{SOURCE}:{offset},{DESTINATION}:{offset + 2000}"),
        national_offset=offset + 4000,
    )


@pytest.fixture(scope="session")
def federation() -> Iterator[Federation]:
    os.environ.update(TEST_RATE_LIMIT)
    federation = _federation()
    # Whatever an earlier, interrupted run left behind (possibly with other offsets) goes first.
    previous = Federation.load(HOME)
    for stale in (previous, federation) if previous is not None else (federation,):
        stale.stop()
        stale.wipe()
    federation.start()
    yield federation
    if not os.environ.get("MRC_TEST_KEEP_STACK"):
        federation.stop()


@pytest.fixture(scope="session")
def federation_services(federation: Federation) -> Callable[[Sequence[str]], Federation]:
    """Start services in every state (each once per session); the infrastructure alone runs otherwise."""

    def start(services: Sequence[str]) -> Federation:
        federation.start_services(services)
        return federation

    return start
