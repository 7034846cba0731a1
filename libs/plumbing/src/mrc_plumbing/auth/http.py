"""Authentication for REST endpoints: `caller: Annotated[Caller, auth.requires(Scope.X)]`."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Depends, Request

from mrc_kernel.caller import Caller, bearer_token
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.auth.verifier import TokenVerifier
from mrc_plumbing.structured_logging import request_id_var


class HttpAuth:
    def __init__(self, verifier: TokenVerifier, limiter: RateLimiter) -> None:
        self._verifier = verifier
        self._limiter = limiter

    def caller(self, request: Request, scope: Scope) -> Caller:
        caller = self._verifier.verify(bearer_token(request.headers.get("authorization", "")))
        caller.require(scope)
        self._limiter.check(caller.client_id)
        return dataclasses.replace(
            caller,
            purpose=request.headers.get("x-purpose", ""),
            remote_address=request.client.host if request.client else "",
            request_id=request_id_var.get(),
        )

    def requires(self, scope: Scope) -> Any:
        def dependency(request: Request) -> Caller:
            return self.caller(request, scope)

        return Depends(dependency)
