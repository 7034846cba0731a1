"""Authentication for gRPC servicers: `caller = self._auth.require(context, Scope.X)`.

The token travels in the `authorization` metadata as `Bearer <jwt>`, as on REST.
"""

from __future__ import annotations

import dataclasses

import grpc

from mrc_kernel.caller import Caller, bearer_token
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.auth.verifier import TokenVerifier
from mrc_plumbing.structured_logging import request_id_var


class GrpcAuth:
    def __init__(self, verifier: TokenVerifier, limiter: RateLimiter) -> None:
        self._verifier = verifier
        self._limiter = limiter

    def require(self, context: grpc.ServicerContext, scope: Scope) -> Caller:
        metadata = {key: value for key, value in (context.invocation_metadata() or ()) if isinstance(value, str)}
        caller = self._verifier.verify(bearer_token(metadata.get("authorization", "")))
        caller.require(scope)
        self._limiter.check(caller.client_id)
        peer = context.peer() or ""
        return dataclasses.replace(
            caller,
            purpose=metadata.get("x-purpose", ""),
            remote_address=peer.split(":")[1] if peer.startswith("ipv4:") else peer,
            request_id=request_id_var.get(),
        )
