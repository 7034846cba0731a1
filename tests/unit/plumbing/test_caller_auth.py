"""HttpAuth and GrpcAuth: the caller's address cannot be forged, and every call counts against the limits,
failed ones included (by address before the token is looked at, by client before the scope check).

No `from __future__ import annotations`: FastAPI resolves the route's `Annotated` dependency at definition.
"""

from collections.abc import Iterator
from typing import Annotated, Any

import grpc
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mrc.access.v1 import access_service_pb2 as pb
from mrc_kernel.caller import Caller
from mrc_kernel.errors import NotFound
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.client_address import TrustedProxies
from mrc_plumbing.auth.grpc import GrpcAuth
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import SlidingWindowLimiter, WindowRule
from mrc_plumbing.http_app import create_http_app
from tests.support.auth import grpc_metadata, role_tokens, serve_grpc

PROXIES = TrustedProxies.parse("10.0.0.0/8")


def rest_app(auth: HttpAuth) -> FastAPI:
    app = create_http_app(service="test", title="Test", token_url="/oauth2/token")

    @app.get("/v1/things/{thing_id}")
    def read(thing_id: str, caller: Annotated[Caller, auth.requires(Scope.WORKERS_READ)]) -> dict[str, str]:
        return {"address": caller.remote_address, "client": caller.client_id}

    return app


def limits(*, per_client: int = 1000, per_address: int = 1000, failures: int = 1000) -> dict[str, Any]:
    return {
        "limiter": SlidingWindowLimiter("client", WindowRule(per_client, 60)),
        "address_limiter": SlidingWindowLimiter("address", WindowRule(per_address, 60)),
        "failure_limiter": SlidingWindowLimiter("failures", WindowRule(failures, 60)),
    }


def test_rest_records_the_socket_peer_and_ignores_a_spoofed_forwarded_for() -> None:
    client = TestClient(rest_app(HttpAuth(role_tokens(), **limits(), proxies=PROXIES)), client=("198.51.100.7", 1))
    response = client.get("/v1/things/1", headers={"Authorization": "Bearer caseworker", "X-Forwarded-For": "1.2.3.4"})
    assert response.json()["address"] == "198.51.100.7"


def test_rest_behind_a_trusted_proxy_records_the_client_it_names() -> None:
    client = TestClient(rest_app(HttpAuth(role_tokens(), **limits(), proxies=PROXIES)), client=("10.0.0.5", 1))
    headers = {"Authorization": "Bearer caseworker", "X-Forwarded-For": "203.0.113.66, 198.51.100.7"}
    assert client.get("/v1/things/1", headers=headers).json()["address"] == "198.51.100.7"


def test_failed_authentications_use_up_the_address_budget() -> None:
    client = TestClient(rest_app(HttpAuth(role_tokens(), **limits(failures=3))), client=("198.51.100.7", 1))
    for token in ("", "Bearer forged", "Bearer expired"):
        assert client.get("/v1/things/1", headers={"Authorization": token}).status_code == 401
    # The address is now refused before any token is looked at, a valid one included...
    refused = client.get("/v1/things/1", headers={"Authorization": "Bearer caseworker"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    # ...while another address is not held back.
    other = TestClient(client.app, client=("198.51.100.8", 1))
    assert other.get("/v1/things/1", headers={"Authorization": "Bearer caseworker"}).status_code == 200


def test_every_call_of_an_address_counts_before_the_token_is_verified() -> None:
    client = TestClient(rest_app(HttpAuth(role_tokens(), **limits(per_address=2))), client=("198.51.100.7", 1))
    assert client.get("/v1/things/1", headers={"Authorization": "Bearer caseworker"}).status_code == 200
    assert client.get("/v1/things/1", headers={"Authorization": "Bearer auditor"}).status_code == 403
    assert client.get("/v1/things/1", headers={"Authorization": "Bearer caseworker"}).status_code == 429


def test_calls_refused_for_their_scope_count_against_the_client() -> None:
    client = TestClient(rest_app(HttpAuth(role_tokens(), **limits(per_client=2))), client=("198.51.100.7", 1))
    for _ in range(2):
        assert client.get("/v1/things/1", headers={"Authorization": "Bearer auditor"}).status_code == 403
    assert client.get("/v1/things/1", headers={"Authorization": "Bearer auditor"}).status_code == 429
    assert client.get("/v1/things/1", headers={"Authorization": "Bearer caseworker"}).status_code == 200


# -- gRPC ------------------------------------------------------------------------------------------

SERVICE = "mrc.test.Things"


class Recorded:
    caller: Caller | None = None


def _things(auth: GrpcAuth, recorded: Recorded) -> Any:
    def get(request: pb.GetPartnerRequest, context: grpc.ServicerContext) -> pb.GetPartnerResponse:
        recorded.caller = auth.require(context, Scope.WORKERS_READ)
        if request.partner_id != "known":
            raise NotFound(f"no partner {request.partner_id!r}")  # the careless message this layer must tame
        return pb.GetPartnerResponse()

    handler = grpc.unary_unary_rpc_method_handler(
        get,
        request_deserializer=pb.GetPartnerRequest.FromString,
        response_serializer=pb.GetPartnerResponse.SerializeToString,
    )
    return grpc.method_handlers_generic_handler(SERVICE, {"Get": handler})


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


def served(auth: GrpcAuth, recorded: Recorded) -> Any:
    return serve_grpc(lambda server: server.add_generic_rpc_handlers((_things(auth, recorded),)))


def _raw_call(channel: grpc.Channel) -> Any:
    return channel.unary_unary(
        f"/{SERVICE}/Get", request_serializer=lambda raw: raw, response_deserializer=pb.GetPartnerResponse.FromString
    )


def _call(channel: grpc.Channel) -> Any:
    return channel.unary_unary(
        f"/{SERVICE}/Get",
        request_serializer=pb.GetPartnerRequest.SerializeToString,
        response_deserializer=pb.GetPartnerResponse.FromString,
    )


@pytest.fixture
def channel(recorded: Recorded) -> Iterator[grpc.Channel]:
    with served(GrpcAuth(role_tokens(), **limits(failures=3), proxies=PROXIES), recorded) as opened:
        yield opened


def test_grpc_ignores_forwarded_for_from_an_untrusted_peer(channel: grpc.Channel, recorded: Recorded) -> None:
    metadata = grpc_metadata("caseworker", x_forwarded_for="203.0.113.66")
    _call(channel)(pb.GetPartnerRequest(partner_id="known"), metadata=metadata)
    assert recorded.caller is not None and recorded.caller.remote_address == "127.0.0.1"


def test_an_undecodable_message_is_invalid_argument(channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        _raw_call(channel)(b"\xff\xff\xff\xff", metadata=grpc_metadata("caseworker"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "\xff" not in (raised.value.details() or "")


def test_status_details_never_echo_the_input(channel: grpc.Channel) -> None:
    huge = "x" * (1024 * 1024)
    with pytest.raises(grpc.RpcError) as raised:
        _call(channel)(pb.GetPartnerRequest(partner_id=huge), metadata=grpc_metadata("caseworker"))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    details = raised.value.details() or ""
    assert "xxxx" not in details and len(details) <= 512


def test_grpc_failed_authentications_use_up_the_address_budget(channel: grpc.Channel) -> None:
    request = pb.GetPartnerRequest(partner_id="known")
    for token in ("", "forged", "expired"):
        with pytest.raises(grpc.RpcError) as raised:
            _call(channel)(request, metadata=grpc_metadata(token))
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as raised:
        _call(channel)(request, metadata=grpc_metadata("caseworker"))
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "retry-after" in dict(raised.value.trailing_metadata() or ())  # type: ignore[arg-type]
