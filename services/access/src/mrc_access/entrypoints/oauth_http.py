"""The OAuth2 token endpoint (RFC 6749 §4.4, client credentials) and the JWKS (RFC 7517).

Errors here follow RFC 6749 §5.2 (`{"error": ...}`), not problem+json: OAuth2 clients expect them. The
limits (`token_limits`) answer 429 as problem+json with `Retry-After`, like every other endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mrc_access.entrypoints.token_limits import TokenLimits
from mrc_access.service_layer.signing_keys import SigningKeyRing
from mrc_access.service_layer.tokens import (
    InvalidClient,
    InvalidTokenRequest,
    IssuedToken,
    TokenRequestError,
    TokenService,
    UnsupportedGrantType,
)
from mrc_kernel.errors import RateLimited, problem_type
from mrc_plumbing.auth.http import client_address
from mrc_plumbing.http_app import problem

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
CLIENT_CREDENTIALS = "client_credentials"
MAX_FORM_FIELDS = 16
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JWKS_CACHE_CONTROL = "public, max-age=60"
REALM = "mrc-access"


def _form(body: bytes, content_type: str) -> dict[str, str]:
    if content_type.split(";")[0].strip().lower() != FORM_CONTENT_TYPE:
        raise InvalidTokenRequest(f"the request body must be {FORM_CONTENT_TYPE}")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise InvalidTokenRequest("the form cannot be parsed") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters must not be repeated
            raise InvalidTokenRequest(f"parameter {name!r} is repeated")
        form[name] = value
    return form


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if not authorization or scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("malformed Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def _client_credentials(form: dict[str, str], authorization: str) -> tuple[str, str]:
    basic = _basic_credentials(authorization)
    if basic is not None:
        if form.get("client_secret"):
            raise InvalidTokenRequest("use one client authentication method, not Basic and form fields both")
        if form.get("client_id") and form["client_id"] != basic[0]:
            raise InvalidTokenRequest("client_id does not match the Basic credentials")
        return basic
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id or not secret:
        raise InvalidClient("client authentication is required")
    return client_id, secret


def _error(error: TokenRequestError) -> JSONResponse:
    body = {"error": error.error}
    if error.description:
        body["error_description"] = error.description
    headers = dict(NO_STORE)
    if isinstance(error, InvalidClient):
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    return JSONResponse(body, status_code=error.status, headers=headers)


def _rate_limited(error: RateLimited, path: str) -> JSONResponse:
    response = problem(429, error.title, error.detail, type_=problem_type(error), instance=path)
    response.headers.update({**NO_STORE, "Retry-After": str(error.retry_after_seconds)})
    return response


OAUTH_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "RFC 6749 §5.2 error: invalid_request, unsupported_grant_type, invalid_scope, invalid_target",
        "content": {"application/json": {"schema": OAUTH_ERROR_SCHEMA}},
    },
    401: {
        "description": "invalid_client: client authentication failed (RFC 6749 §5.2)",
        "content": {"application/json": {"schema": OAUTH_ERROR_SCHEMA}},
    },
}


def _issue_guarded(
    tokens: TokenService, limits: TokenLimits, client_id: str, secret: str, address: str, audience: str, scope: str
) -> IssuedToken:
    """In the token pool: the lockouts, then the secret, then the count of the outcome."""
    counted = limits.before_secret(client_id, address)
    try:
        issued = tokens.issue(client_id, secret, audience=audience, scope=scope)
    except InvalidClient:
        limits.secret_failed(client_id, address)
        raise
    limits.secret_matched(client_id, counted)
    return issued


def oauth_router(tokens: TokenService, key_ring: SigningKeyRing, limits: TokenLimits | None = None) -> APIRouter:
    router = APIRouter(tags=["oauth2"])
    guard = limits or TokenLimits()

    @router.post(
        "/oauth2/token",
        summary="Client credentials grant (RFC 6749 §4.4); form fields grant_type, audience, scope",
        responses=TOKEN_RESPONSES,
    )
    async def token(request: Request) -> JSONResponse:
        address = client_address(request, guard.proxies)
        loop = asyncio.get_running_loop()
        try:
            guard.before_parsing(address)
            with guard.working(address):
                form = _form(await request.body(), request.headers.get("content-type", ""))
                grant_type = form.get("grant_type", "")
                if not grant_type:
                    raise InvalidTokenRequest("grant_type is required")
                if grant_type != CLIENT_CREDENTIALS:
                    raise UnsupportedGrantType(f"only {CLIENT_CREDENTIALS} is supported")
                try:
                    client_id, secret = _client_credentials(form, request.headers.get("authorization", ""))
                except InvalidClient:
                    await loop.run_in_executor(guard.executor, guard.secret_failed, "", address)
                    raise
                guard.per_client.check(client_id)
                # The lockouts read the store and the secret hash is deliberately slow: both run in the
                # token endpoint's own threads, off the event loop and out of other endpoints' way.
                issued = await loop.run_in_executor(
                    guard.executor,
                    functools.partial(
                        _issue_guarded,
                        tokens,
                        guard,
                        client_id,
                        secret,
                        address,
                        form.get("audience", ""),
                        form.get("scope", ""),
                    ),
                )
        except RateLimited as error:
            return _rate_limited(error, request.url.path)
        except TokenRequestError as error:
            return _error(error)
        return JSONResponse(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scope,
            },
            headers=NO_STORE,
        )

    @router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens (RFC 7517)")
    def jwks() -> JSONResponse:
        return JSONResponse(key_ring.public_jwks(), headers={"Cache-Control": JWKS_CACHE_CONTROL})

    return router
