"""Test stand-ins for authentication and the audit trail, and an in-process gRPC server.

- `StaticVerifier`: a token verifier that knows a fixed set of tokens (token string -> Caller); any
  other token is Unauthenticated. It is a `TokenVerifier`, so `HttpAuth` and `GrpcAuth` take it as is.
- `caller_for(role, ...)`: the Caller a token of that role would carry, with the role's scopes.
- `RecordingAudit`: the `AuditTrail` interface, remembering every call; `failing = True` makes
  `record` raise Unavailable as the real one does when the broker is down.
- `serve_grpc(register)`: a real gRPC server on a free local port with the shared interceptor, so
  tests see the status codes and trailers clients get.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass

import grpc

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller
from mrc_kernel.errors import Unauthenticated, Unavailable
from mrc_kernel.events import Event
from mrc_kernel.roles import Role, scopes_for
from mrc_plumbing.audit import AuditTrail
from mrc_plumbing.auth.grpc import GrpcAuth
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.auth.verifier import TokenVerifier
from mrc_plumbing.grpc_server import CallInterceptor

# What a REST status is over gRPC, for tables of expected outcomes written once for both.
GRPC_CODE_FOR_HTTP_STATUS = {
    200: grpc.StatusCode.OK,
    201: grpc.StatusCode.OK,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}

PARTNER_KIND_BY_ROLE = {
    Role.EMPLOYER: "employer",
    Role.AUDITOR: "auditor",
    Role.OPERATOR: "operator",
}


def caller_for(
    role: Role,
    *,
    partner_id: str = "partner-a",
    states: Iterable[str] = (),
    districts: Iterable[str] = (),
    employer_id: str = "",
    client_id: str = "",
    purpose: str = "",
) -> Caller:
    return Caller(
        client_id=client_id or f"{role.value}-client",
        partner_id=partner_id,
        partner_kind=PARTNER_KIND_BY_ROLE.get(role, "cso"),
        roles=frozenset({role}),
        scopes=scopes_for({role}),
        states=frozenset(states),
        districts=frozenset(districts),
        employer_id=employer_id,
        token_id=f"jti-{role.value}",
        purpose=purpose,
    )


class StaticVerifier(TokenVerifier):
    """Knows the tokens it was given and nothing else; never fetches keys."""

    def __init__(self, callers: Mapping[str, Caller] | None = None) -> None:
        super().__init__("http://jwks.invalid/.well-known/jwks.json", "mrc-test")
        self.callers: dict[str, Caller] = dict(callers or {})

    def add(self, token: str, caller: Caller) -> str:
        self.callers[token] = caller
        return token

    def verify(self, token: str) -> Caller:
        if not token:
            raise Unauthenticated("a bearer token is required")
        try:
            return self.callers[token]
        except KeyError:
            raise Unauthenticated("invalid token") from None


def role_tokens(**overrides: Caller) -> StaticVerifier:
    """A verifier where each role's value is a token of that role (`"caseworker"`...); `overrides` by role value."""
    return StaticVerifier({role.value: overrides.get(role.value) or caller_for(role) for role in Role})


def http_auth(verifier: TokenVerifier, limiter: RateLimiter | None = None) -> HttpAuth:
    return HttpAuth(verifier, limiter or RateLimiter(0, 0))  # rate 0: unlimited


def grpc_auth(verifier: TokenVerifier, limiter: RateLimiter | None = None) -> GrpcAuth:
    return GrpcAuth(verifier, limiter or RateLimiter(0, 0))


def bearer(token: str) -> dict[str, str]:
    """REST headers carrying `token`."""
    return {"Authorization": f"Bearer {token}"}


def grpc_metadata(token: str, **extra: str) -> tuple[tuple[str, str], ...]:
    """gRPC metadata carrying `token` (and e.g. `x_purpose="audit"` as `x-purpose`)."""
    pairs = [("authorization", f"Bearer {token}")] if token else []
    pairs.extend((name.replace("_", "-"), value) for name, value in extra.items())
    return tuple(pairs)


@dataclass(frozen=True)
class AuditCall:
    caller: Caller
    action: Action
    resource_type: str
    resource_id: str
    fields: tuple[str, ...]
    allowed: bool


class RecordingAudit:
    """The AuditTrail interface in memory: `events` are those made for outboxes, `records` those published."""

    def __init__(self, *, service: str = "test", state_code: str = "10") -> None:
        # Builds real envelopes (it needs no producer for that), so tests can decode what is stored.
        self._trail = AuditTrail(None, service=service, state_code=state_code)
        self.events: list[AuditCall] = []
        self.records: list[AuditCall] = []
        self.failing = False

    def event(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
    ) -> Event:
        fields = tuple(sorted(fields))
        self.events.append(AuditCall(caller, action, resource_type, resource_id, fields, allowed))
        return self._trail.event(caller, action, resource_type, resource_id, fields, allowed=allowed)

    def record(
        self,
        caller: Caller,
        action: Action,
        resource_type: str,
        resource_id: str,
        fields: Iterable[str] = (),
        *,
        allowed: bool = True,
    ) -> None:
        if self.failing:
            raise Unavailable("the audit trail is unavailable; personal data is not served")
        self.records.append(AuditCall(caller, action, resource_type, resource_id, tuple(sorted(fields)), allowed))


@contextmanager
def serve_grpc(register: Callable[[grpc.Server], None]) -> Iterator[grpc.Channel]:
    """A started server with `register`ed servicers behind the shared interceptor, and a channel to it."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), interceptors=[CallInterceptor()])
    register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        server.stop(None).wait()
