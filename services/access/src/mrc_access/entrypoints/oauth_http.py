"""The OAuth2 token endpoint (RFC 6749 §4.4, client credentials) and the JWKS (RFC 7517).

Errors here follow RFC 6749 §5.2 (`{"error": ...}`), not problem+json: OAuth2 clients expect them.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mrc_access.service_layer.signing_keys import SigningKeyRing
from mrc_access.service_layer.tokens import (
    InvalidClient,
    InvalidTokenRequest,
    TokenRequestError,
    TokenService,
    UnsupportedGrantType,
)

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


def oauth_router(tokens: TokenService, key_ring: SigningKeyRing) -> APIRouter:
    router = APIRouter(tags=["oauth2"])

    @router.post(
        "/oauth2/token",
        summary="Client credentials grant (RFC 6749 §4.4); form fields grant_type, audience, scope",
    )
    async def token(request: Request) -> JSONResponse:
        try:
            form = _form(await request.body(), request.headers.get("content-type", ""))
            grant_type = form.get("grant_type", "")
            if not grant_type:
                raise InvalidTokenRequest("grant_type is required")
            if grant_type != CLIENT_CREDENTIALS:
                raise UnsupportedGrantType(f"only {CLIENT_CREDENTIALS} is supported")
            client_id, secret = _client_credentials(form, request.headers.get("authorization", ""))
            # Secret hashing is deliberately slow; keep it off the event loop.
            issued = await run_in_threadpool(
                tokens.issue, client_id, secret, audience=form.get("audience", ""), scope=form.get("scope", "")
            )
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
