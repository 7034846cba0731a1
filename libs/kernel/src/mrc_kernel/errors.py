"""Errors that application code raises; every entrypoint maps them the same way.

An error carries a code, never a transport status: the one table that turns a code into an HTTP
status and a gRPC status lives with the entrypoints (`mrc_plumbing.error_mapping`), so the domain and
the use cases stay plain Python and REST and gRPC callers get the same answer for the same failure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    INVALID_ARGUMENT = "invalid-argument"
    NOT_FOUND = "not-found"
    ALREADY_EXISTS = "already-exists"
    CONFLICT = "conflict"
    FAILED_PRECONDITION = "failed-precondition"
    IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
    UNAUTHENTICATED = "unauthenticated"
    PERMISSION_DENIED = "permission-denied"
    RATE_LIMITED = "rate-limited"
    PAYLOAD_TOO_LARGE = "payload-too-large"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field: `field` is a dotted path as the caller sent it (e.g. `home.district_code`)."""

    field: str
    description: str


class DomainError(Exception):
    """Base of every error that is the caller's to fix or to know about."""

    code: ErrorCode = ErrorCode.FAILED_PRECONDITION
    title: str = "Request cannot be processed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def problem_slug(self) -> str:
        return self.code.value


class InvalidArgument(DomainError):
    code = ErrorCode.INVALID_ARGUMENT
    title = "Invalid request"

    def __init__(self, violations: list[FieldViolation] | FieldViolation) -> None:
        items = violations if isinstance(violations, list) else [violations]
        self.violations = items
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in items))

    @classmethod
    def for_field(cls, field_name: str, description: str) -> InvalidArgument:
        return cls(FieldViolation(field_name, description))


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    title = "Not found"


class AlreadyExists(DomainError):
    code = ErrorCode.ALREADY_EXISTS
    title = "Already exists"


class Conflict(DomainError):
    """The resource changed under the caller (optimistic concurrency), or is not in a state that allows this."""

    code = ErrorCode.CONFLICT
    title = "Conflict"


class FailedPrecondition(DomainError):
    code = ErrorCode.FAILED_PRECONDITION
    title = "Request cannot be processed"


class IdempotencyKeyReused(DomainError):
    """Same idempotency key, different request body: the IETF Idempotency-Key draft says 422."""

    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    title = "Idempotency key reused with a different request"


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED
    title = "Unauthenticated"


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    title = "Permission denied"


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED
    title = "Too many requests"

    def __init__(self, retry_after_seconds: int, detail: str = "") -> None:
        super().__init__(detail or f"rate limit exceeded; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class PayloadTooLarge(DomainError):
    code = ErrorCode.PAYLOAD_TOO_LARGE
    title = "Payload too large"


class FileTooLarge(PayloadTooLarge):
    """An uploaded file (a field survey, a wage register) over its size limit."""

    title = "File too large"


class Unavailable(DomainError):
    """A dependency (broker, store, audit path) is down; the caller may retry later."""

    code = ErrorCode.UNAVAILABLE
    title = "Service unavailable"
    retry_after_seconds = 5

    def __init__(self, detail: str, retry_after_seconds: int = 5) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


PROBLEM_TYPE_BASE = "https://mrc-platform.org/problems/"


def problem_type(error: DomainError) -> str:
    return PROBLEM_TYPE_BASE + error.problem_slug
