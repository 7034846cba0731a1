"""FastAPI app factory: RFC 9457 problem+json errors, request ids, health, readiness and metrics."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from mrc_kernel.errors import PROBLEM_TYPE_BASE, DomainError, InvalidArgument, Unauthenticated, problem_type
from mrc_plumbing.error_mapping import http_status, retry_after
from mrc_plumbing.outages import as_unavailable
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


def problem(
    status: int, title: str, detail: str, *, type_: str = "about:blank", instance: str = "", **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE)


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
) -> FastAPI:
    """A FastAPI app with problem+json errors, request ids, metrics and health endpoints.

    Request bodies announcing more than `max_body_bytes` get 413 before they are read, except on
    paths starting with a prefix in `body_limits_by_path`, which have their own limit (uploads).
    """
    app = FastAPI(title=title, version=version)
    checks = dict(readiness_checks or {})
    path_limits = sorted((body_limits_by_path or {}).items(), key=lambda item: -len(item[0]))

    def body_limit(path: str) -> int:
        return next((limit for prefix, limit in path_limits if path.startswith(prefix)), max_body_bytes)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(error, InvalidArgument):
            extra["errors"] = [{"field": v.field, "detail": v.description} for v in error.violations]
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
        errors = [{"field": _field_path(tuple(e.get("loc", ()))), "detail": e.get("msg", "")} for e in error.errors()]
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
        request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
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
