from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import grpc
import httpx
import jwt
import pytest

from mrc_devstack.stack import Stack
from tests.support.access import AccessClient, Actor

pytestmark = pytest.mark.e2e

API_SERVICES = ("registry", "entitlements", "grievance", "employer", "access")


@dataclass(frozen=True)
class SensitiveRead:
    service: str
    resource_type: str
    resource_id: str
    client_id: str


# Successful REST reads of personal or case data made anywhere in the suite, checked against the
# audit trail at the end (tests/e2e/test_zz_audit_trail.py).
SENSITIVE_READS: list[SensitiveRead] = []
SENSITIVE_PATHS = {
    "registry": (re.compile(r"^/v1/workers/(?P<id>[^/:]+)$"), "worker"),
    "entitlements": (re.compile(r"^/v1/eligibility/(?P<id>[^/:]+)$"), "eligibility"),
    "grievance": (re.compile(r"^/v1/grievances/(?P<id>[^/:]+)$"), "grievance"),
}


def _recorder(service: str) -> Callable[[httpx.Response], None]:
    def record(response: httpx.Response) -> None:
        request = response.request
        if service not in SENSITIVE_PATHS or request.method != "GET" or response.status_code != 200:
            return
        pattern, resource_type = SENSITIVE_PATHS[service]
        match = pattern.match(request.url.path)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if match and token:
            client_id = str(jwt.decode(token, options={"verify_signature": False})["sub"])
            SENSITIVE_READS.append(SensitiveRead(service, resource_type, match["id"], client_id))

    return record


@pytest.fixture(scope="session")
def http(running_services: Stack) -> Iterator[dict[str, httpx.Client]]:
    clients = {
        name: httpx.Client(
            base_url=running_services.http_url(name), timeout=10, event_hooks={"response": [_recorder(name)]}
        )
        for name in API_SERVICES
    }
    yield clients
    for client in clients.values():
        client.close()


@pytest.fixture(scope="session")
def channels(running_services: Stack) -> Iterator[dict[str, grpc.Channel]]:
    opened = {name: grpc.insecure_channel(running_services.grpc_target(name)) for name in API_SERVICES}
    yield opened
    for channel in opened.values():
        channel.close()


@pytest.fixture(scope="session")
def access(running_services: Stack) -> AccessClient:
    return AccessClient(running_services.http_url("access"))


@pytest.fixture(scope="session")
def actors(access: AccessClient) -> dict[str, Actor]:
    """One client per role. `registrar`, `caseworker`, `supervisor` and `helpline_agent` belong to the same
    CSO working in Bihar (LGD 10); `other_registrar` to a second CSO; `government` is a Bihar department."""
    cso = access.partner("cso", states=["10"])
    other_cso = access.partner("cso", states=["10"])
    government = access.partner("government", states=["10"])
    employer_id = f"emp-{uuid.uuid4().hex[:8]}"
    employer = access.partner("employer", employer_id=employer_id)
    auditor = access.partner("auditor")
    operator = access.partner("operator")
    return {
        "registrar": access.actor("registrar", cso, states=["10"]),
        "caseworker": access.actor("caseworker", cso, states=["10"]),
        "supervisor": access.actor("supervisor", cso, states=["10"]),
        "helpline_agent": access.actor("helpline_agent", cso, states=["10"]),
        "other_registrar": access.actor("registrar", other_cso, states=["10"]),
        "government": access.actor("caseworker", government, states=["10"]),
        "employer": access.actor("employer", employer, employer_id=employer_id),
        "auditor": access.actor("auditor", auditor),
        "operator": access.actor("operator", operator),
        "public": access.actor("public", cso),
    }
