"""One-time codes sent to the phone on record: evidence that the person in front of a partner is the
person a record describes (to link a registration to it, or to erase it on their request).

The code itself is never stored: only a keyed hash of it (the service layer supplies the hashing), an
expiry, and counters that stop guessing and flooding the phone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mrc_kernel.errors import Conflict, FailedPrecondition, InvalidArgument, RateLimited

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
MAX_SENDS = 3
RESEND_AFTER = timedelta(seconds=60)


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


@dataclass(frozen=True)
class CodeChallenge:
    code_hash: str
    sent_at: datetime
    expires_at: datetime
    sends: int = 1
    attempts: int = 0

    @classmethod
    def first(cls, code_hash: str, now: datetime) -> CodeChallenge:
        return cls(code_hash=code_hash, sent_at=now, expires_at=now + CODE_LIFETIME)

    def resent(self, code_hash: str, now: datetime) -> CodeChallenge:
        """A new code replaces the old one, within the limits that keep the phone from being flooded."""
        if self.sends >= MAX_SENDS:
            raise FailedPrecondition("no more codes can be sent for this request: ask a supervisor instead")
        if now < self.sent_at + RESEND_AFTER:
            wait = int((self.sent_at + RESEND_AFTER - now).total_seconds()) + 1
            raise RateLimited(wait, f"a code was sent moments ago; retry after {wait} s")
        return CodeChallenge(code_hash, now, now + CODE_LIFETIME, sends=self.sends + 1, attempts=0)

    def checked(self, code_hash: str, now: datetime) -> tuple[CodeChallenge, bool]:
        """The challenge after one attempt, and whether the code was right (compared in constant time)."""
        if self.attempts >= MAX_ATTEMPTS:
            raise Conflict("too many wrong codes: send a new code or ask a supervisor")
        if now >= self.expires_at:
            raise InvalidArgument.for_field("code", "has expired: send a new one")
        right = secrets.compare_digest(self.code_hash, code_hash)
        return (self if right else replace(self, attempts=self.attempts + 1)), right
