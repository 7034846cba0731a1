"""Request pieces every REST API shares: strict bodies, LGD places, and the idempotency and version headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header
from pydantic import BaseModel, ConfigDict, Field

from mrc_kernel.place import Place

# Unique per partner: a retry with the same key returns the first result (`Idempotent-Replayed: true`).
IdempotencyHeader = Annotated[str, Header(alias="Idempotency-Key", max_length=128)]
# The version a change starts from (optimistic concurrency): a stale one answers 409.
IfMatchHeader = Annotated[str, Header(alias="If-Match", max_length=32)]


class StrictModel(BaseModel):
    """Unknown fields are refused (a typo is an error, not a silently ignored field); text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlaceBody(StrictModel):
    state_code: str = Field(pattern=r"^\d{1,3}$", description="LGD state code")
    district_code: str = Field(pattern=r"^\d{1,4}$", description="LGD district code")
    subdistrict_code: str = Field(default="", pattern=r"^(\d{1,6})?$", description="LGD sub-district code")
    village_name: str = Field(default="", max_length=200)

    def place(self) -> Place:
        return Place(**self.model_dump())

    @classmethod
    def of(cls, place: Place) -> PlaceBody:
        return cls(**place.__dict__)
