from __future__ import annotations

from collections.abc import Iterator

import grpc
import httpx
import pytest

from mrc_devstack.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def http(running_services: Stack) -> Iterator[dict[str, httpx.Client]]:
    clients = {
        name: httpx.Client(base_url=running_services.http_url(name), timeout=10)
        for name in ("registry", "entitlements", "grievance", "employer")
    }
    yield clients
    for client in clients.values():
        client.close()


@pytest.fixture(scope="session")
def channels(running_services: Stack) -> Iterator[dict[str, grpc.Channel]]:
    opened = {
        name: grpc.insecure_channel(running_services.grpc_target(name))
        for name in ("registry", "entitlements", "grievance", "employer")
    }
    yield opened
    for channel in opened.values():
        channel.close()
