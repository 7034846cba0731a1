"""What the employer service's REST routers share: authentication by any of several scopes, and small
body types. (The OpenAPI document's security schemes and problem responses are `create_http_app`'s.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BeforeValidator, Field

from mrc_employer.domain.values import WorkerRef
from mrc_kernel.caller import Caller
from mrc_kernel.errors import PermissionDenied
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth, declares_scope
from mrc_plumbing.http_models import StrictModel


def any_scope(auth: HttpAuth, *scopes: Scope) -> Any:
    """A dependency giving the caller if its token holds any of `scopes` (403 otherwise). The OpenAPI
    document names the first (an OAuth2 requirement lists scopes that are all needed)."""

    def dependency(request: Request, _declared: str | None = declares_scope(scopes[0])) -> Caller:
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
