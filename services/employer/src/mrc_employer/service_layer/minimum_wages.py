"""The minimum-wage table: listing it, and the operators' changes (add, supersede, withdraw).

Rows are data operators maintain, each citing its notification; a correction supersedes a row (the old
one is kept, so past assessments can be re-read) and a mistake is withdrawn, never edited in place.
The table is seeded from the bundled transcription when the service first starts (`seed`).

Wage records are assessed against `MinimumWageTables.current()`, a snapshot read at most every
`refresh_seconds` (the table changes a few times a year; every assessment names the row and revision
it used, so a row changed a moment later never makes an assessment wrong after the fact).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from mrc_employer.domain.minimum_wage_seed import seed_rates
from mrc_employer.domain.minimum_wages import MinimumWageRate, MinimumWageTable, RateInput, RateStatus, WageSphere
from mrc_employer.service_layer.access import with_purpose
from mrc_employer.service_layer.ports import MinimumWageRates
from mrc_kernel.audit import Action, AuditRecorder
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.idempotency import IdDeriver, request_fingerprint, scoped_key
from mrc_kernel.policy import Purpose
from mrc_kernel.roles import Role, Scope

RESOURCE = "minimum_wage_rate"
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
# Anyone authenticated to read employers, audit or aggregates reads the table: it is published law.
LISTING_SCOPES = (Scope.EMPLOYERS_READ, Scope.AUDIT_READ, Scope.AGGREGATES_READ)


@dataclass(frozen=True)
class RateListing:
    rates: list[MinimumWageRate]
    next_page_token: str


class MinimumWageTables:
    """The current table, read from the store at most every `refresh_seconds` (and after our own changes)."""

    def __init__(self, rates: MinimumWageRates, *, refresh_seconds: float = 30.0) -> None:
        self._rates = rates
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._table: MinimumWageTable | None = None
        self._read_at = 0.0

    def current(self) -> MinimumWageTable:
        with self._lock:
            if self._table is None or time.monotonic() - self._read_at > self._refresh:
                self._table = MinimumWageTable(self._rates.all())
                self._read_at = time.monotonic()
            return self._table

    def invalidate(self) -> None:
        with self._lock:
            self._table = None


class MinimumWageService:
    def __init__(
        self,
        rates: MinimumWageRates,
        tables: MinimumWageTables,
        audit: AuditRecorder,
        ids: IdDeriver,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._rates = rates
        self._tables = tables
        self._audit = audit
        self._ids = ids
        self._clock = clock
        self._new_id = new_id

    def seed(self) -> int:
        """Store the bundled seed rows that are not in the table yet; how many were added."""
        added = self._rates.seed(seed_rates(self._clock()))
        self._tables.invalidate()
        return added

    # -- reading -------------------------------------------------------------------------------------

    def list(
        self,
        caller: Caller,
        *,
        sphere: WageSphere | None = None,
        state_code: str = "",
        scheduled_employment: str = "",
        include_inactive: bool = False,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str = "",
    ) -> RateListing:
        if not any(caller.has(scope) for scope in LISTING_SCOPES):
            raise PermissionDenied("this operation needs employers:read, audit:read or aggregates:read")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument.for_field("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
        start = _offset(page_token)
        rows = self._tables.current().rows(
            sphere=sphere,
            state_code=state_code.strip(),
            scheduled_employment=scheduled_employment.strip(),
            include_inactive=include_inactive,
        )
        page = rows[start : start + page_size]
        more = start + page_size < len(rows)
        return RateListing(page, str(start + page_size) if more else "")

    # -- operators' changes --------------------------------------------------------------------------

    def _operator(self, caller: Caller) -> Caller:
        caller.require(Scope.EMPLOYERS_WRITE)
        if Role.OPERATOR not in caller.roles:
            raise PermissionDenied("only operators maintain the minimum-wage table")
        return with_purpose(caller, Purpose.OPERATIONS)

    def _rate_id(self, caller: Caller, key: str) -> str:
        return self._ids.derive("minimum-wage-rate", scoped_key(caller.partner_id, key or self._new_id()))

    def add(self, given: RateInput, caller: Caller, *, idempotency_key: str = "") -> tuple[MinimumWageRate, bool]:
        caller = self._operator(caller)
        rate_id = self._rate_id(caller, idempotency_key)
        table = MinimumWageTable(self._rates.all())
        fingerprint = request_fingerprint(asdict(given))
        if (existing := _existing(table, rate_id)) is not None:
            # A retry: the first attempt added it (the store refuses the key for another request).
            return self._rates.add(existing, fingerprint=fingerprint, events=[], also_publish=[])
        rate = table.add(rate_id, given, self._clock())
        audit = self._audit.event(caller, Action.CREATE, RESOURCE, rate_id, _RATE_FIELDS, state_code=rate.state_code)
        stored, created = self._rates.add(
            rate, fingerprint=fingerprint, events=table.pending_events, also_publish=[audit]
        )
        self._tables.invalidate()
        return stored, created

    def supersede(
        self,
        rate_id: str,
        given: RateInput,
        reason: str,
        caller: Caller,
        *,
        expected_version: int = 0,
        idempotency_key: str = "",
    ) -> tuple[MinimumWageRate, MinimumWageRate]:
        """Correct a row: the replacement takes its place in every lookup; the old row is kept, superseded."""
        caller = self._operator(caller)
        replacement_id = self._rate_id(caller, idempotency_key)
        table = MinimumWageTable(self._rates.all())
        old = table.rate(rate_id)
        if old.status is RateStatus.SUPERSEDED and old.superseded_by == replacement_id:
            # A retry of this very correction: finish it if the first attempt stopped half-way.
            replacement = _existing(table, replacement_id)
            if replacement is not None:
                return old, replacement
            table = MinimumWageTable([r for r in self._rates.all() if r.rate_id != rate_id] + [_reactivated(old)])
            old = table.rate(rate_id)
            retired_already = True
        else:
            retired_already = False
        retired, replacement = table.supersede(
            rate_id,
            replacement_id=replacement_id,
            given=given,
            reason=reason,
            now=self._clock(),
            expected_version=expected_version,
        )
        if not retired_already and not self._rates.retire(retired, expected_version=old.version):
            raise Conflict(f"rate {rate_id} changed meanwhile; read it again")
        audit = self._audit.event(
            caller, Action.UPDATE, RESOURCE, rate_id, ("status", "superseded_by"), state_code=old.state_code
        )
        stored, _ = self._rates.add(
            replacement,
            fingerprint=request_fingerprint({"supersedes": rate_id, **asdict(given), "reason": reason}),
            events=table.pending_events,
            also_publish=[audit],
        )
        self._tables.invalidate()
        return retired, stored

    def withdraw(self, rate_id: str, reason: str, caller: Caller, *, expected_version: int = 0) -> MinimumWageRate:
        caller = self._operator(caller)
        table = MinimumWageTable(self._rates.all())
        old = table.rate(rate_id)
        if old.status is RateStatus.WITHDRAWN:
            return old  # a retry
        withdrawn = table.withdraw(rate_id, reason=reason, now=self._clock(), expected_version=expected_version)
        audit = self._audit.event(caller, Action.UPDATE, RESOURCE, rate_id, ("status",), state_code=old.state_code)
        if not self._rates.retire(
            withdrawn, expected_version=old.version, events=table.pending_events, also_publish=[audit]
        ):
            raise Conflict(f"rate {rate_id} changed meanwhile; read it again")
        self._tables.invalidate()
        return withdrawn


_RATE_FIELDS = (
    "sphere",
    "state_code",
    "scheduled_employment",
    "skill_category",
    "area",
    "amount",
    "effective_from",
    "notification_ref",
)


def _existing(table: MinimumWageTable, rate_id: str) -> MinimumWageRate | None:
    try:
        return table.rate(rate_id)
    except NotFound:
        return None


def _reactivated(rate: MinimumWageRate) -> MinimumWageRate:
    """The row as it was before a correction that stopped half-way, so the correction can be made again."""
    return replace(rate, status=RateStatus.ACTIVE, superseded_by="", version=rate.version - 1)


def _offset(page_token: str) -> int:
    if not page_token:
        return 0
    if not page_token.isdigit() or len(page_token) > 9:
        raise InvalidArgument(FieldViolation("page_token", "is not a token this listing gave"))
    return int(page_token)
