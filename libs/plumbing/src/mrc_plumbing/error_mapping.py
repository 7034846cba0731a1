"""The one table from an error's code to its HTTP status and its gRPC status code.

Domain code raises `mrc_kernel.errors` errors, which know nothing of transports; REST (`http_app`) and
gRPC (`grpc_server`) both answer through this table, so a caller gets the same answer on either.
A store or broker outage is not an error of ours: it maps to 503 / UNAVAILABLE, with a retry hint.
"""

from __future__ import annotations

import re

import grpc

from mrc_kernel.errors import DomainError, ErrorCode

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_ARGUMENT: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ALREADY_EXISTS: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.FAILED_PRECONDITION: 400,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNAVAILABLE: 503,
}

GRPC_STATUS: dict[ErrorCode, grpc.StatusCode] = {
    ErrorCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    ErrorCode.CONFLICT: grpc.StatusCode.ABORTED,
    ErrorCode.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorCode.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCode.RATE_LIMITED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.PAYLOAD_TOO_LARGE: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
}


def http_status(error: DomainError) -> int:
    return HTTP_STATUS[error.code]


def grpc_status(error: DomainError) -> grpc.StatusCode:
    return GRPC_STATUS[error.code]


def retry_after(error: DomainError) -> int | None:
    """Seconds a client should wait before retrying, for the errors where waiting helps."""
    if error.code in (ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE):
        return int(getattr(error, "retry_after_seconds", 5))
    return None


# What an error may say to a caller: input a caller sent (a 1 MiB id, say) must not come back in status
# details, trailers or problem documents. Quoted values and long unbroken runs are elided, control
# characters removed, and the whole capped.
MAX_DETAIL_CHARACTERS = 512
MAX_QUOTED_CHARACTERS = 64
MAX_WORD_CHARACTERS = 128
ELLIPSIS = "\u2026"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_QUOTED = re.compile(f"'[^']{{{MAX_QUOTED_CHARACTERS + 1},}}'|\"[^\"]{{{MAX_QUOTED_CHARACTERS + 1},}}\"")
_LONG_WORD = re.compile(f"\\S{{{MAX_WORD_CHARACTERS + 1},}}")


def public_detail(text: str, limit: int = MAX_DETAIL_CHARACTERS) -> str:
    """`text` made safe to send back: no control characters, no long echoed values, at most `limit` characters."""
    cleaned = _CONTROL.sub(" ", text[: limit * 8])
    cleaned = _QUOTED.sub(lambda m: m.group(0)[0] + ELLIPSIS + m.group(0)[0], cleaned)
    cleaned = _LONG_WORD.sub(ELLIPSIS, cleaned)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + ELLIPSIS
