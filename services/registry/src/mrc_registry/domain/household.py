"""The household aggregate: who a worker lives with, and who stays behind when they migrate."""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass, field
from datetime import datetime

from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument

MAX_MEMBERS = 40
MAX_NAME_LENGTH = 200
MAX_WORKER_ID_LENGTH = 64
EARLIEST_BIRTH_YEAR = 1900
# Ration card numbers differ by state (digits, letters, sometimes a district prefix); after removing
# spaces, hyphens and slashes every scheme we know of fits this.
_RATION_CARD = re.compile(r"^[A-Z0-9]{4,20}$")
_RATION_CARD_SEPARATORS = re.compile(r"[\s/-]+")
RATION_CARD_VISIBLE_DIGITS = 4
RATION_CARD_MASK = "XXXXXX"


class Relationship(enum.StrEnum):
    """Relationship to the head of the household."""

    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    OTHER = "other"


@dataclass(frozen=True)
class Member:
    """A registered worker (by `worker_id`) or someone who is not registered (by `name`), never both."""

    relationship: Relationship | None
    worker_id: str = ""
    name: str = ""
    birth_year: int | None = None
    left_behind: bool = False
    in_school: bool = False


@dataclass(frozen=True)
class HouseholdChanged:
    household: Household


DomainEvent = HouseholdChanged


@dataclass
class Household:
    household_id: str
    members: tuple[Member, ...]
    # Only the masked ration card number is readable here; `ration_card_token` is the number encrypted
    # by the service's field cipher, never decrypted in this module.
    masked_ration_card: str
    ration_card_token: str
    registering_partner_id: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    # Events raised by the last change, not yet stored; the repository moves them into the outbox.
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        household_id: str,
        members: tuple[Member, ...] | list[Member],
        masked_ration_card: str,
        ration_card_token: str,
        registering_partner_id: str,
        now: datetime,
    ) -> Household:
        household = cls(
            household_id=household_id,
            members=validated_members(members, now),
            masked_ration_card=masked_ration_card,
            ration_card_token=ration_card_token,
            registering_partner_id=registering_partner_id,
            created_at=now,
            updated_at=now,
        )
        household._changed()
        return household

    def replace_members(
        self, members: tuple[Member, ...] | list[Member], *, expected_version: int, now: datetime
    ) -> None:
        """Replace the whole member list, if the caller saw the current version (optimistic concurrency)."""
        cleaned = validated_members(members, now)
        if expected_version != self.version:
            raise Conflict(
                f"household {self.household_id!r} is at version {self.version}, not {expected_version}; "
                "read it again and retry"
            )
        self.members = cleaned
        self.version += 1
        self.updated_at = now
        self._changed()

    def _changed(self) -> None:
        # A snapshot, so later changes to this object do not rewrite an event already raised.
        self.pending_events.append(HouseholdChanged(dataclasses.replace(self, pending_events=[])))


def normalize_ration_card(number: str) -> str:
    """The ration card number without separators, upper case; raises InvalidArgument if malformed."""
    normalized = _RATION_CARD_SEPARATORS.sub("", number).upper()
    if not _RATION_CARD.match(normalized):
        # Never echo the value back: it is an identity number.
        raise InvalidArgument.for_field(
            "ration_card_number", "must be 4 to 20 letters or digits (spaces, '-' and '/' are ignored)"
        )
    return normalized


def mask_ration_card(normalized: str) -> str:
    """The last four characters behind a fixed mask, so the mask does not tell the number's length."""
    return RATION_CARD_MASK + normalized[-RATION_CARD_VISIBLE_DIGITS:]


def validated_members(members: tuple[Member, ...] | list[Member], now: datetime) -> tuple[Member, ...]:
    """The members with names tidied, or InvalidArgument naming every offending field."""
    violations: list[FieldViolation] = []
    cleaned: list[Member] = []
    if not members:
        violations.append(FieldViolation("members", "a household has at least one member"))
    elif len(members) > MAX_MEMBERS:
        violations.append(FieldViolation("members", f"a household has at most {MAX_MEMBERS} members"))
    seen_workers: set[str] = set()
    for index, member in enumerate(members[:MAX_MEMBERS]):
        path = f"members.{index}"
        worker_id = member.worker_id.strip()
        name = " ".join(member.name.split())
        if worker_id and name:
            violations.append(
                FieldViolation(f"{path}.name", "give either worker_id (registered) or name (not registered), not both")
            )
        elif not worker_id and not name:
            violations.append(FieldViolation(f"{path}.worker_id", "give worker_id (registered) or name"))
        if len(worker_id) > MAX_WORKER_ID_LENGTH:
            violations.append(FieldViolation(f"{path}.worker_id", f"must be at most {MAX_WORKER_ID_LENGTH} characters"))
        elif worker_id in seen_workers:
            violations.append(FieldViolation(f"{path}.worker_id", "the worker is already a member of this household"))
        if worker_id:
            seen_workers.add(worker_id)
        if len(name) > MAX_NAME_LENGTH:
            violations.append(FieldViolation(f"{path}.name", f"must be at most {MAX_NAME_LENGTH} characters"))
        if member.relationship is None:
            violations.append(FieldViolation(f"{path}.relationship", "must be set"))
        if member.birth_year is not None and not EARLIEST_BIRTH_YEAR <= member.birth_year <= now.year:
            violations.append(
                FieldViolation(f"{path}.birth_year", f"must be between {EARLIEST_BIRTH_YEAR} and {now.year}")
            )
        cleaned.append(dataclasses.replace(member, worker_id=worker_id, name=name))
    heads = sum(1 for m in members if m.relationship is Relationship.HEAD)
    if members and heads != 1:
        violations.append(
            FieldViolation("members", f"a household has exactly one member with relationship 'head', not {heads}")
        )
    if violations:
        raise InvalidArgument(violations)
    return tuple(cleaned)
