"""Authentication for REST endpoints: `caller: Annotated[Caller, auth.requires(Scope.X)]`.

The caller's address is the socket's peer, or the client a trusted proxy names in `X-Forwarded-For`
(`client_address`); the limits run as `CallerGuard` describes, so failed calls count too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2

from mrc_kernel.caller import Caller, bearer_token
from mrc_kernel.errors import Unauthenticated
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.client_address import FORWARDED_FOR, TrustedProxies
from mrc_plumbing.auth.guard import CallerGuard
from mrc_plumbing.auth.rate_limit import Limiter, SlidingWindowLimiter
from mrc_plumbing.auth.verifier import TokenVerifier
from mrc_plumbing.structured_logging import request_id_var

BEARER_SCHEME = "bearerAuth"
OAUTH2_SCHEME = "oauth2ClientCredentials"
# Only declares, for the OpenAPI document, which scope an operation needs (its `security`); it checks
# nothing. `create_http_app` publishes the real token URL.
_DECLARED_SCHEME = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth2/token", scopes={s.value: s.value for s in Scope})
    ),
    scheme_name=OAUTH2_SCHEME,
    auto_error=False,
)


def declares_scope(scope: Scope) -> Any:
    """A sub-dependency that names `scope` as the operation's security requirement in OpenAPI."""
    return Security(_DECLARED_SCHEME, scopes=[scope.value])


def client_address(request: Request, proxies: TrustedProxies) -> str:
    peer = request.client.host if request.client else ""
    return proxies.client_address(peer, request.headers.getlist(FORWARDED_FOR))


class HttpAuth:
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

    def address(self, request: Request) -> str:
        return client_address(request, self.guard.proxies)

    def caller(self, request: Request, scope: Scope) -> Caller:
        address = self.address(request)
        self.guard.before_authentication(address)
        try:
            caller = self._verifier.verify(bearer_token(request.headers.get("authorization", "")))
        except Unauthenticated:
            self.guard.authentication_failed(address)
            raise
        self.guard.authenticated(caller.client_id)
        caller.require(scope)
        return dataclasses.replace(
            caller,
            purpose=request.headers.get("x-purpose", ""),
            remote_address=address,
            request_id=request_id_var.get(),
        )

    def requires(self, scope: Scope) -> Any:
        # A default, not an `Annotated` alias: this module's annotations are strings, `scope` is local.
        def dependency(request: Request, _declared: str | None = declares_scope(scope)) -> Caller:
            return self.caller(request, scope)

        return Depends(dependency)
