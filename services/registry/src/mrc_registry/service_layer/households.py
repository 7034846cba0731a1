"""Use cases: create a household, read it, replace its members."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mrc_kernel.audit import Action
from mrc_kernel.caller import Caller, check_purpose
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.events import Event
from mrc_kernel.idempotency import request_fingerprint, scoped_key
from mrc_registry.domain.household import (
    Household,
    Member,
    mask_ration_card,
    normalize_ration_card,
    validated_members,
)
from mrc_registry.service_layer.ports import AccessRecorder, EventNotifier

RESOURCE = "household"
UNKNOWN_STATE = "00"
WRITE_PURPOSE = "registration"
READ_PURPOSE = "case_management"
READ_FIELDS = ("members", "masked_ration_card")


def ration_card_field(household_id: str) -> str:
    """The cipher's field name, bound to the record so a token copied into another household fails."""
    return f"households/{household_id}/ration_card"


class FieldCipher(Protocol):
    def encrypt(self, state_code: str, field: str, plaintext: str) -> str: ...

    def decrypt(self, field: str, token: str) -> str: ...


class HouseholdRepository(Protocol):
    def add(
        self, household: Household, *, idempotency_key: str, fingerprint: str, also_publish: Sequence[Event]
    ) -> tuple[Household, bool]:
        """Store a new household with its pending and audit events, unless the idempotency key was seen.

        Returns the stored household (the first one, for a retry) and whether it was created now.
        """
        ...

    def get(self, household_id: str) -> Household | None: ...

    def update_members(self, household: Household, *, expected_version: int, also_publish: Sequence[Event]) -> None:
        """Store the household's new members and version with its events, if the stored version is still
        `expected_version`; raise Conflict otherwise."""
        ...


@dataclass(frozen=True)
class CreateHousehold:
    members: tuple[Member, ...]
    ration_card_number: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class ReplaceMembers:
    household_id: str
    members: tuple[Member, ...]
    expected_version: int


@dataclass(frozen=True)
class HouseholdCreation:
    household: Household
    created: bool


def state_of(caller: Caller) -> str:
    """The state whose key encrypts what this caller registers: its only state, else "00" (unknown)."""
    return next(iter(caller.states)) if len(caller.states) == 1 else UNKNOWN_STATE


def with_purpose(caller: Caller, default: str) -> Caller:
    """The caller with its declared purpose checked (or the default), as the audit trail records it."""
    return dataclasses.replace(caller, purpose=check_purpose(caller.purpose, default))


def writer(caller: Caller) -> Caller:
    """Records are written on behalf of a partner, who alone sees them until sharing exists."""
    if not caller.partner_id:
        raise PermissionDenied("this client acts for no partner, so it cannot record personal data")
    return with_purpose(caller, WRITE_PURPOSE)


class HouseholdService:
    def __init__(
        self,
        repo: HouseholdRepository,
        notifier: EventNotifier,
        audit: AccessRecorder,
        cipher: FieldCipher,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._repo = repo
        self._notifier = notifier
        self._audit = audit
        self._cipher = cipher
        self._clock = clock
        self._new_id = new_id

    def create(self, caller: Caller, command: CreateHousehold) -> HouseholdCreation:
        caller = writer(caller)
        now = self._clock()
        violations: list[FieldViolation] = []
        number = ""
        try:
            validated_members(command.members, now)
        except InvalidArgument as error:
            violations += error.violations
        try:
            if command.ration_card_number.strip():
                number = normalize_ration_card(command.ration_card_number)
        except InvalidArgument as error:
            violations += error.violations
        if violations:
            raise InvalidArgument(violations)
        household_id = self._new_id()
        masked = mask_ration_card(number) if number else ""
        token = self._cipher.encrypt(state_of(caller), ration_card_field(household_id), number) if number else ""
        household = Household.create(
            household_id=household_id,
            members=command.members,
            masked_ration_card=masked,
            ration_card_token=token,
            registering_partner_id=caller.partner_id,
            now=now,
        )
        # The fingerprint is stored: it covers the masked ration card, never the number.
        payload = {"members": [dataclasses.asdict(m) for m in household.members], "ration_card": masked}
        fields = ["members", "ration_card"] if masked else ["members"]
        stored, created = self._repo.add(
            household,
            idempotency_key=scoped_key(caller.partner_id, command.idempotency_key or self._new_id()),
            fingerprint=request_fingerprint(payload),
            also_publish=[self._audit.event(caller, Action.CREATE, RESOURCE, household_id, fields)],
        )
        if created:
            self._notifier.notify(stored.household_id)
        else:
            # A replay serves the stored household: account for it like any read.
            self._audit.record(caller, Action.READ, RESOURCE, stored.household_id, READ_FIELDS)
        return HouseholdCreation(stored, created)

    def get(self, caller: Caller, household_id: str) -> Household:
        caller = with_purpose(caller, READ_PURPOSE)
        household = self._visible(caller, household_id)
        self._audit.record(caller, Action.READ, RESOURCE, household.household_id, READ_FIELDS)
        return household

    def replace_members(self, caller: Caller, command: ReplaceMembers) -> Household:
        caller = writer(caller)
        household = self._visible(caller, command.household_id)
        household.replace_members(command.members, expected_version=command.expected_version, now=self._clock())
        self._repo.update_members(
            household,
            expected_version=command.expected_version,
            also_publish=[self._audit.event(caller, Action.UPDATE, RESOURCE, household.household_id, ["members"])],
        )
        self._notifier.notify(household.household_id)
        return household

    def _visible(self, caller: Caller, household_id: str) -> Household:
        """The household if this caller may see it; otherwise NotFound, the same as for a missing one."""
        household = self._repo.get(household_id) if household_id else None
        # Until consent-based sharing exists, only the registering partner sees a household.
        if household is None or not caller.partner_id or household.registering_partner_id != caller.partner_id:
            raise NotFound(f"no household {household_id!r}")
        return household
