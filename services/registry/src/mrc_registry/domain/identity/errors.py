"""The error every identifier check raises: a 422 at the entrypoints, and a `ValueError` for plain callers."""

from __future__ import annotations

from mrc_kernel.errors import FieldViolation, InvalidArgument


class InvalidIdentifier(InvalidArgument, ValueError):
    """`kind` (e.g. "aadhaar", "phone", "voter_id") is not valid; `problem` says why.

    The message never repeats the value: identity numbers end up in logs and problem documents.
    """

    def __init__(self, kind: str, problem: str) -> None:
        self.kind = kind
        self.problem = problem
        super().__init__(FieldViolation(kind, problem))
