"""The public verification: is the agency or contractor behind an identifier licensed and in good standing?

Open to the `public` role (and anyone authenticated with employers:read or audit:read); the answer is
built by `domain.verification` and holds nothing personal. Nothing is audited: nothing personal is read.
The entrypoints rate limit it per client and per source address, since it is what a scraper would use.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mrc_employer.domain.organisation import public_key
from mrc_employer.domain.verification import PublicVerification, verify
from mrc_employer.service_layer.access import require_any
from mrc_employer.service_layer.ports import Histories, Organisations
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.roles import Scope

MAX_QUERY_LENGTH = 100
VERIFYING_SCOPES = (Scope.AGGREGATES_READ, Scope.EMPLOYERS_READ, Scope.AUDIT_READ)


class VerificationService:
    def __init__(
        self, organisations: Organisations, histories: Histories, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._organisations = organisations
        self._histories = histories
        self._clock = clock

    def verify(self, identifier: str, caller: Caller) -> PublicVerification:
        require_any(caller, VERIFYING_SCOPES)
        if not identifier.strip() or len(identifier) > MAX_QUERY_LENGTH:
            raise InvalidArgument.for_field(
                "identifier", f"give a GSTIN, LIN or licence number of at most {MAX_QUERY_LENGTH} characters"
            )
        key = public_key(identifier)
        holder = self._organisations.holder_of(key) if key else None
        organisation = self._organisations.get(holder) if holder else None
        history = self._histories.get(organisation.organisation_id) if organisation else None
        flagged = bool(history and history.flag.raised)
        return verify(identifier, organisation, risk_flag_raised=flagged, on=self._clock().date())
