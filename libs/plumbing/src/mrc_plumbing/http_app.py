"""FastAPI app factory: RFC 9457 problem+json errors, request ids, health, readiness, metrics and OpenAPI.

Every service's OpenAPI document (built here, so all of them get it) publishes the bearer security scheme
and the OAuth2 client-credentials flow of the access service's token endpoint, the scope each operation
needs (from `HttpAuth.requires`), and the problem responses every operation may give (401, 403, 404, 409,
413, 422, 429, 503 as `application/problem+json` with one `Problem` schema). Problem documents never
echo what the caller sent: `detail`, `instance` and field names go through `public_detail`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urljoin

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from mrc_kernel.errors import PROBLEM_TYPE_BASE, DomainError, InvalidArgument, Unauthenticated, problem_type
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import BEARER_SCHEME, OAUTH2_SCHEME
from mrc_plumbing.error_mapping import http_status, public_detail, retry_after
from mrc_plumbing.outages import as_unavailable
from mrc_plumbing.request_ids import request_id_from
from mrc_plumbing.settings import AuthSettings
from mrc_plumbing.structured_logging import request_id_var

log = logging.getLogger("mrc.http")

PROBLEM_CONTENT_TYPE = "application/problem+json"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

HTTP_REQUESTS = Counter("mrc_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "mrc_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

ReadinessCheck = Callable[[], bool]

MAX_INSTANCE_CHARACTERS = 256
MAX_FIELD_CHARACTERS = 128
MAX_FIELD_ERRORS = 50


def problem(
    status: int, title: str, detail: str, *, type_: str = "about:blank", instance: str = "", **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": public_detail(detail)}
    if instance:
        body["instance"] = public_detail(instance, MAX_INSTANCE_CHARACTERS)
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE)


def field_errors(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """`errors` of a problem document: at most 50, each field name and detail made safe to send back."""
    return [
        {"field": public_detail(field, MAX_FIELD_CHARACTERS), "detail": public_detail(detail)}
        for field, detail in pairs[:MAX_FIELD_ERRORS]
    ]


def _field_path(loc: tuple[Any, ...]) -> str:
    # Pydantic locations start with where the value came from ("body", "query"...).
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    return ".".join(str(p) for p in parts) or str(loc[0] if loc else "")


def create_http_app(
    *,
    service: str,
    title: str,
    version: str = "1",
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    body_limits_by_path: Mapping[str, int] | None = None,
    token_url: str | None = None,
) -> FastAPI:
    """A FastAPI app with problem+json errors, request ids, metrics and health endpoints.

    Request bodies announcing more than `max_body_bytes` get 413 before they are read, except on
    paths starting with a prefix in `body_limits_by_path`, which have their own limit (uploads).
    `token_url` is where the OpenAPI document sends clients for tokens; by default the access service's
    `/oauth2/token` next to the JWKS every service verifies with (`MRC_AUTH_JWKS_URL`).
    """
    app = FastAPI(title=title, version=version)
    install_openapi(app, token_url=token_url or default_token_url())
    checks = dict(readiness_checks or {})
    path_limits = sorted((body_limits_by_path or {}).items(), key=lambda item: -len(item[0]))

    def body_limit(path: str) -> int:
        return next((limit for prefix, limit in path_limits if path.startswith(prefix)), max_body_bytes)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(error, InvalidArgument):
            extra["errors"] = field_errors([(v.field, v.description) for v in error.violations])
        response = problem(
            http_status(error),
            error.title,
            error.detail,
            type_=problem_type(error),
            instance=request.url.path,
            **extra,
        )
        if isinstance(error, Unauthenticated):
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        if (seconds := retry_after(error)) is not None:
            response.headers["Retry-After"] = str(seconds)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = field_errors([(_field_path(tuple(e.get("loc", ()))), str(e.get("msg", ""))) for e in error.errors()])
        return problem(
            422,
            "Invalid request",
            "; ".join(f"{e['field']}: {e['detail']}" for e in errors),
            type_=PROBLEM_TYPE_BASE + "invalid-argument",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), str(error.detail), instance=request.url.path)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        if (outage := as_unavailable(error)) is not None:
            # The store or the broker is unreachable: not a bug of ours, and worth a retry.
            log.warning("dependency unavailable", extra={"path": request.url.path, "error": str(error)})
            return await domain_error(request, outage)
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "Internal error", f"request id {request_id_var.get()}", instance=request.url.path)

    @app.middleware("http")
    async def request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request_id_from(request.headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            length = request.headers.get("content-length")
            limit = body_limit(request.url.path)
            if length and length.isdigit() and int(length) > limit:
                response: Response = problem(
                    413,
                    "Payload too large",
                    f"request bodies are limited to {limit} bytes",
                    instance=request.url.path,
                )
            else:
                response = await call_next(request)
            response.headers["x-request-id"] = request_id
            route = request.scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(service, request.method, route_path, str(response.status_code)).inc()
            HTTP_LATENCY.labels(service, request.method, route_path).observe(elapsed)
            if route_path not in ("/healthz", "/readyz", "/metrics"):
                log.info(
                    "http request",
                    extra={
                        "method": request.method,
                        "path": request.url.path,
                        "status": response.status_code,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            return response
        finally:
            request_id_var.reset(token)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        results = {name: check() for name, check in checks.items()}
        if all(results.values()):
            return JSONResponse({"status": "ready", "checks": results})
        failing = sorted(name for name, ok in results.items() if not ok)
        return problem(503, "Not ready", f"unreachable: {', '.join(failing)}", checks=results)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


# -- OpenAPI ---------------------------------------------------------------------------------------

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_RESPONSES: dict[int, str] = {
    401: "Unauthenticated: no bearer token, or one that is invalid, expired or revoked",
    403: "Permission denied: the token lacks the scope, or the caller may not do this",
    404: "Not found (also what a record outside the caller's reach answers)",
    409: "Conflict: already exists, or changed meanwhile",
    413: "Payload too large",
    422: "Invalid request: `errors` names each invalid field",
    429: "Too many requests: retry after `Retry-After` seconds",
    503: "A dependency is unavailable: retry after `Retry-After` seconds",
}
# Operations that need no token can still be refused for these.
PUBLIC_PROBLEM_STATUSES = (413, 422, 429, 503)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "examples": [PROBLEM_TYPE_BASE + "not-found"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "The invalid fields (422)",
            "items": {
                "type": "object",
                "required": ["field", "detail"],
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}


def default_token_url() -> str:
    return urljoin(AuthSettings().jwks_url, "/oauth2/token")


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": PROBLEM_RESPONSES[status],
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}}},
    }
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
        }
    if status == 401:
        challenge = {"description": "The Bearer challenge", "schema": {"type": "string"}}
        response["headers"] = {"WWW-Authenticate": challenge}
    return response


def install_openapi(app: FastAPI, *, token_url: str) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
        components["securitySchemes"] = {
            BEARER_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An ES256 access token from the access service's token endpoint",
            },
            OAUTH2_SCHEME: {
                "type": "oauth2",
                "description": "Client credentials grant (RFC 6749 §4.4): HTTP Basic client authentication",
                "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": {s.value: s.value for s in Scope}}},
            },
        }
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                if method not in HTTP_METHODS:
                    continue
                # The scopes the operation's auth dependency declared (`declares_scope`), if any.
                needed = sorted(
                    {
                        scope
                        for requirement in operation.get("security", [])
                        for scope in requirement.get(OAUTH2_SCHEME, [])
                    }
                )
                responses = operation.setdefault("responses", {})
                statuses = PROBLEM_RESPONSES if needed else PUBLIC_PROBLEM_STATUSES
                for status in statuses:
                    declared = responses.get(str(status), {})
                    # FastAPI's own 422 describes its default body, which our handler replaces.
                    if not declared or "HTTPValidationError" in str(declared):
                        responses[str(status)] = _problem_response(status)
                if needed:
                    operation["security"] = [{BEARER_SCHEME: []}, {OAUTH2_SCHEME: needed}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
