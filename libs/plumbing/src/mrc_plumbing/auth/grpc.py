"""Authentication for gRPC servicers: `caller = self._auth.require(context, Scope.X)`.

The token travels in the `authorization` metadata as `Bearer <jwt>`, as on REST. The caller's address is
the peer's, or the client a trusted proxy names in `x-forwarded-for` metadata; limits as on REST.
"""

from __future__ import annotations

import dataclasses

import grpc

from mrc_kernel.caller import Caller, bearer_token
from mrc_kernel.errors import Unauthenticated
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.client_address import FORWARDED_FOR, TrustedProxies, grpc_peer_address
from mrc_plumbing.auth.guard import CallerGuard
from mrc_plumbing.auth.rate_limit import Limiter, SlidingWindowLimiter
from mrc_plumbing.auth.verifier import TokenVerifier
from mrc_plumbing.structured_logging import request_id_var


def grpc_client_address(context: grpc.ServicerContext, proxies: TrustedProxies) -> str:
    forwarded = [
        value for key, value in (context.invocation_metadata() or ()) if key == FORWARDED_FOR and isinstance(value, str)
    ]
    return proxies.client_address(grpc_peer_address(context.peer() or ""), forwarded)


class GrpcAuth:
    def __init__(
        self,
        verifier: TokenVerifier,
        limiter: Limiter,
        *,
        address_limiter: Limiter | None = None,
        failure_limiter: SlidingWindowLimiter | None = None,
        proxies: TrustedProxies | None = None,
    ) -> None:
        self._verifier = verifier
        self.guard = CallerGuard(limiter, address_limiter, failure_limiter, proxies or TrustedProxies())

    def require(self, context: grpc.ServicerContext, scope: Scope) -> Caller:
        address = grpc_client_address(context, self.guard.proxies)
        self.guard.before_authentication(address)
        metadata = {key: value for key, value in (context.invocation_metadata() or ()) if isinstance(value, str)}
        try:
            caller = self._verifier.verify(bearer_token(metadata.get("authorization", "")))
        except Unauthenticated:
            self.guard.authentication_failed(address)
            raise
        self.guard.authenticated(caller.client_id)
        caller.require(scope)
        return dataclasses.replace(
            caller,
            purpose=metadata.get("x-purpose", ""),
            remote_address=address,
            request_id=request_id_var.get(),
        )
