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
from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from mrc_kernel.events import Event
from mrc_kernel.idempotency import request_fingerprint, scoped_key
from mrc_kernel.place import Place
from mrc_kernel.policy import Protected, decide, require_in_geography
from mrc_registry.domain.household import (
    Household,
    Member,
    mask_ration_card,
    normalize_ration_card,
    validated_members,
)
from mrc_registry.service_layer.ports import AccessRecorder
from mrc_registry.service_layer.workers import WorkerAccess

RESOURCE = "household"
WRITE_PURPOSE = "registration"
READ_PURPOSE = "case_management"
READ_FIELDS = ("members", "masked_ration_card")
# Tries to take an erased worker out of a household that keeps changing under the erasure.
ERASURE_ATTEMPTS = 5


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

    def with_member(self, worker_id: str) -> list[Household]:
        """Households that name this registered worker among their members."""
        ...


@dataclass(frozen=True)
class CreateHousehold:
    members: tuple[Member, ...]
    ration_card_number: str = ""
    idempotency_key: str = ""
    # Where the household lives; by default the home of its first registered member.
    home: Place | None = None


@dataclass(frozen=True)
class ReplaceMembers:
    household_id: str
    members: tuple[Member, ...]
    expected_version: int


@dataclass(frozen=True)
class HouseholdCreation:
    household: Household
    created: bool


def with_purpose(caller: Caller, default: str) -> Caller:
    """The caller with its declared purpose checked (or the default), as the audit trail records it."""
    return dataclasses.replace(caller, purpose=check_purpose(caller.purpose, default))


def writer(caller: Caller) -> Caller:
    """Records are written on behalf of a partner."""
    if not caller.partner_id:
        raise PermissionDenied("this client acts for no partner, so it cannot record personal data")
    return with_purpose(caller, WRITE_PURPOSE)


def protected(household: Household) -> Protected:
    return Protected(RESOURCE, places=tuple(household.places()), owner_partner_id=household.registering_partner_id)


class HouseholdService:
    def __init__(
        self,
        repo: HouseholdRepository,
        audit: AccessRecorder,
        cipher: FieldCipher,
        workers: WorkerAccess,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._repo = repo
        self._audit = audit
        self._cipher = cipher
        self._workers = workers
        self._clock = clock
        self._new_id = new_id

    def _members_reachable(self, caller: Caller, members: Sequence[Member]) -> list[Place]:
        """The homes of the registered members, each of whom the caller must reach; else a 422 naming them
        (a worker the caller does not reach is "no such worker", as anywhere else)."""
        homes: list[Place] = []
        violations: list[FieldViolation] = []
        for position, member in enumerate(members):
            if not member.worker_id.strip():
                continue
            try:
                worker, _ = self._workers.load(member.worker_id.strip(), caller, WRITE_PURPOSE)
            except NotFound:
                violations.append(FieldViolation(f"members.{position}.worker_id", "no such worker"))
                continue
            homes.append(worker.details.home)
        if violations:
            raise InvalidArgument(violations)
        return homes

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
        homes = self._members_reachable(caller, command.members)
        home = command.home or (homes[0] if homes else None)
        if home is None:
            raise InvalidArgument.for_field("home", "name a registered member or the household's home")
        require_in_geography(caller, home.state_code, home.district_code, prefix="home")
        household_id = self._new_id()
        masked = mask_ration_card(number) if number else ""
        token = self._cipher.encrypt(home.state_code, ration_card_field(household_id), number) if number else ""
        household = Household.create(
            household_id=household_id,
            members=command.members,
            masked_ration_card=masked,
            ration_card_token=token,
            registering_partner_id=caller.partner_id,
            now=now,
            home=home,
        )
        # The fingerprint is stored: it covers the masked ration card, never the number.
        payload = {"members": [dataclasses.asdict(m) for m in household.members], "ration_card": masked}
        fields = ["members", "ration_card"] if masked else ["members"]
        stored, created = self._repo.add(
            household,
            idempotency_key=scoped_key(caller.partner_id, command.idempotency_key or self._new_id()),
            fingerprint=request_fingerprint(payload),
            also_publish=[
                self._audit.event(caller, Action.CREATE, RESOURCE, household_id, fields, state_code=home.state_code)
            ],
        )
        if not created:
            # A replay serves the stored household: account for it like any read.
            self._audit.record(
                caller, Action.READ, RESOURCE, stored.household_id, READ_FIELDS, state_code=home.state_code
            )
        return HouseholdCreation(stored, created)

    def get(self, caller: Caller, household_id: str) -> Household:
        caller = with_purpose(caller, READ_PURPOSE)
        household = self._visible(caller, household_id)
        self._audit.record(
            caller, Action.READ, RESOURCE, household.household_id, READ_FIELDS, state_code=_state(household)
        )
        return household

    def replace_members(self, caller: Caller, command: ReplaceMembers) -> Household:
        caller = writer(caller)
        household = self._visible(caller, command.household_id)
        self._members_reachable(caller, command.members)
        household.replace_members(command.members, expected_version=command.expected_version, now=self._clock())
        self._repo.update_members(
            household,
            expected_version=command.expected_version,
            also_publish=[
                self._audit.event(
                    caller, Action.UPDATE, RESOURCE, household.household_id, ["members"], state_code=_state(household)
                )
            ],
        )
        return household

    def erase_worker(self, worker_id: str) -> None:
        """An erased worker leaves every household that names them (the event tells consumers). A household
        changed meanwhile is read again: the erasure has already happened and cannot be asked for twice."""
        for household in self._repo.with_member(worker_id):
            for attempt in range(ERASURE_ATTEMPTS):
                expected = household.version
                if not household.remove_worker(worker_id, self._clock()):
                    break
                try:
                    self._repo.update_members(household, expected_version=expected, also_publish=[])
                    break
                except Conflict:
                    fresh = self._repo.get(household.household_id)
                    if fresh is None or attempt == ERASURE_ATTEMPTS - 1:
                        raise
                    household = fresh

    def _visible(self, caller: Caller, household_id: str) -> Household:
        """The household if this caller may use it; otherwise NotFound, the same as for a missing one."""
        household = self._repo.get(household_id) if household_id else None
        if household is None or not decide(caller, protected(household), caller.purpose or READ_PURPOSE):
            raise NotFound("no such household")
        return household


def _state(household: Household) -> str:
    return household.home.state_code if household.home else ""
