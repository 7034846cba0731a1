"""What the employer service's REST routers share: authentication by any of several scopes, the bearer
security scheme and problem responses in the OpenAPI document, and small body types."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel, BeforeValidator, Field

from mrc_employer.domain.values import WorkerRef
from mrc_kernel.caller import Caller
from mrc_kernel.errors import PermissionDenied
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.http_models import StrictModel

# Declares the bearer scheme in the OpenAPI document (the check itself is HttpAuth's).
BEARER = HTTPBearer(auto_error=False, description="An access token from the access service (client credentials)")


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str = ""
    errors: list[dict[str, str]] = Field(default_factory=list, description="invalid fields, for 422")


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {"application/problem+json": {}}}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("no valid bearer token"),
    403: _problem("the token lacks the scope or role this needs"),
    404: _problem("no such record, or one outside the caller's reach (the two are never told apart)"),
    409: _problem("a conflicting change, or the record exists"),
    413: _problem("the body is too large"),
    422: _problem("invalid input, naming every bad field; or an idempotency key reused for another request"),
    429: _problem("rate limited: retry after the Retry-After header's seconds"),
    503: _problem("the store, the broker or the audit trail is unavailable: retry later"),
}
SECURED = [Security(BEARER)]


def any_scope(auth: HttpAuth, *scopes: Scope) -> Any:
    """A dependency giving the caller if its token holds any of `scopes` (403 otherwise)."""

    def dependency(request: Request) -> Caller:
        for scope in scopes[:-1]:
            try:
                return auth.caller(request, scope)
            except PermissionDenied:
                continue
        try:
            return auth.caller(request, scopes[-1])
        except PermissionDenied:
            raise PermissionDenied(
                f"this operation needs one of the scopes {', '.join(s.value for s in scopes)}"
            ) from None

    return Depends(dependency)


def _as_text(value: object) -> object:
    """Amounts may come as JSON integers or as decimal text; never as floats (binary fractions of rupees)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return str(value)
    return value


Amount = Annotated[
    str,
    BeforeValidator(_as_text),
    Field(max_length=20, description="rupees as decimal text or an integer, e.g. 20358 or '603.50'"),
]
OptionalAmount = Annotated[
    str, BeforeValidator(_as_text), Field(default="", max_length=20, description="rupees, e.g. 603.50")
]
Day = Annotated[str, Field(max_length=10, description="YYYY-MM-DD")]


class WorkerBody(StrictModel):
    """Whom a record is about, by reference only: a registry worker id or the employer's own code."""

    registry_worker_id: str = Field(default="", max_length=64)
    employer_worker_code: str = Field(default="", max_length=64, description="never a phone or Aadhaar number")

    def ref(self) -> WorkerRef:
        return WorkerRef(self.registry_worker_id, self.employer_worker_code)

    @classmethod
    def of(cls, worker: WorkerRef | None) -> WorkerBody | None:
        if worker is None:
            return None
        return cls(registry_worker_id=worker.registry_worker_id, employer_worker_code=worker.employer_worker_code)
