"""Errors that application code raises and every entrypoint maps the same way.

One table decides the HTTP status, the gRPC status code and the problem type, so REST and gRPC
callers get the same answer for the same failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field: `field` is a dotted path as the caller sent it (e.g. `home.district_code`)."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every error that is the caller's to fix or to know about."""

    http_status: int = 400
    grpc_code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION
    title: str = "Request cannot be processed"
    problem_slug: str = "failed-precondition"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidArgument(DomainError):
    http_status = 422
    grpc_code = grpc.StatusCode.INVALID_ARGUMENT
    title = "Invalid request"
    problem_slug = "invalid-argument"

    def __init__(self, violations: list[FieldViolation] | FieldViolation) -> None:
        items = violations if isinstance(violations, list) else [violations]
        self.violations = items
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in items))

    @classmethod
    def for_field(cls, field_name: str, description: str) -> InvalidArgument:
        return cls(FieldViolation(field_name, description))


class NotFound(DomainError):
    http_status = 404
    grpc_code = grpc.StatusCode.NOT_FOUND
    title = "Not found"
    problem_slug = "not-found"


class AlreadyExists(DomainError):
    http_status = 409
    grpc_code = grpc.StatusCode.ALREADY_EXISTS
    title = "Already exists"
    problem_slug = "already-exists"


class Conflict(DomainError):
    """The resource changed under the caller (optimistic concurrency) or a key was reused."""

    http_status = 409
    grpc_code = grpc.StatusCode.ABORTED
    title = "Conflict"
    problem_slug = "conflict"


class IdempotencyKeyReused(DomainError):
    """Same idempotency key, different request body: the IETF Idempotency-Key draft says 422."""

    http_status = 422
    grpc_code = grpc.StatusCode.FAILED_PRECONDITION
    title = "Idempotency key reused with a different request"
    problem_slug = "idempotency-key-reused"


class Unauthenticated(DomainError):
    http_status = 401
    grpc_code = grpc.StatusCode.UNAUTHENTICATED
    title = "Unauthenticated"
    problem_slug = "unauthenticated"


class PermissionDenied(DomainError):
    http_status = 403
    grpc_code = grpc.StatusCode.PERMISSION_DENIED
    title = "Permission denied"
    problem_slug = "permission-denied"


class RateLimited(DomainError):
    http_status = 429
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    title = "Too many requests"
    problem_slug = "rate-limited"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """A dependency (broker, store, audit path) is down; the caller may retry later."""

    http_status = 503
    grpc_code = grpc.StatusCode.UNAVAILABLE
    title = "Service unavailable"
    problem_slug = "unavailable"


PROBLEM_TYPE_BASE = "https://mrc-platform.org/problems/"


def problem_type(error: DomainError) -> str:
    return PROBLEM_TYPE_BASE + error.problem_slug
