"""The application aggregate: one worker's way to one scheme's benefit, and what actually reached them.

An application follows an explicit state machine (`TRANSITIONS`, from -> to):

    identified         -> applied | lapsed
    applied            -> documents_pending | submitted | lapsed
    documents_pending  -> submitted | lapsed
    submitted          -> approved | rejected | documents_pending
    approved           -> delivered (by a delivery) | lapsed
    rejected           -> applied
    delivered          -> renewal_due
    renewal_due        -> delivered (by a delivery) | applied | lapsed
    lapsed             -> applied

- `identified`: the caseworker saw the worker is eligible (or may be) and means to help them apply.
- `applied` → `documents_pending` when papers are missing, or straight to `submitted` when complete;
  the authority may send a submitted application back to `documents_pending`.
- `submitted` → `approved` or `rejected` (the authority's decision, with its reason); a rejected
  application can be `applied` again (appeal, or a new attempt once the reason is fixed).
- `approved` → `delivered` only by recording a benefit delivery; further deliveries (monthly rations,
  yearly cover) keep it `delivered`. Cover that must be renewed becomes `renewal_due`, then is renewed
  (`delivered`), re-applied for (`applied`) or `lapsed`.
- `lapsed`: abandoned before a decision, or cover not renewed; it can be `applied` again.

Every transition records who made it, when and why, and raises `ApplicationTransitioned`. An illegal one
raises Conflict naming the current and the requested state.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from mrc_entitlements.domain.rules import Outcome
from mrc_kernel.errors import Conflict, FieldViolation, InvalidArgument

MAX_REASON_LENGTH = 500
MAX_REFERENCE_LENGTH = 128
MAX_DELIVERIES = 1000
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


class ApplicationStatus(enum.StrEnum):
    IDENTIFIED = "identified"
    APPLIED = "applied"
    DOCUMENTS_PENDING = "documents_pending"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELIVERED = "delivered"
    RENEWAL_DUE = "renewal_due"
    LAPSED = "lapsed"


S = ApplicationStatus
TRANSITIONS: Final[dict[ApplicationStatus, frozenset[ApplicationStatus]]] = {
    S.IDENTIFIED: frozenset({S.APPLIED, S.LAPSED}),
    S.APPLIED: frozenset({S.DOCUMENTS_PENDING, S.SUBMITTED, S.LAPSED}),
    S.DOCUMENTS_PENDING: frozenset({S.SUBMITTED, S.LAPSED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.DOCUMENTS_PENDING}),
    S.APPROVED: frozenset({S.DELIVERED, S.LAPSED}),
    S.REJECTED: frozenset({S.APPLIED}),
    S.DELIVERED: frozenset({S.RENEWAL_DUE}),
    S.RENEWAL_DUE: frozenset({S.DELIVERED, S.APPLIED, S.LAPSED}),
    S.LAPSED: frozenset({S.APPLIED}),
}
# Entered only by recording a delivery, so every delivered application has one.
DELIVERY_STATES: Final = frozenset({S.DELIVERED})
# A reason is required where a caseworker must be able to tell the worker (and an auditor) why.
REASON_REQUIRED: Final = frozenset({S.REJECTED, S.LAPSED, S.DOCUMENTS_PENDING})
ACCEPTS_DELIVERIES: Final = frozenset({S.APPROVED, S.DELIVERED, S.RENEWAL_DUE})


class DeliveryKind(enum.StrEnum):
    CASH_TRANSFER = "cash_transfer"  # DBT to the worker's bank account
    RATION_DRAWN = "ration_drawn"  # foodgrains lifted at a fair price shop (at the destination, under ONORC)
    CARD_ISSUED = "card_issued"  # e-Shram UAN card, Ayushman card, board registration card
    ENROLMENT = "enrolment"  # insurance or pension cover started or renewed
    TREATMENT = "treatment"  # hospital treatment paid by the scheme
    OTHER = "other"


@dataclass(frozen=True)
class Actor:
    """Who made a change: the partner and its client (never a person's name)."""

    partner_id: str
    client_id: str


@dataclass(frozen=True)
class Transition:
    from_status: ApplicationStatus | None  # None for the creation
    to_status: ApplicationStatus
    by: Actor
    at: datetime
    reason: str
    # The worker's eligibility outcome for the scheme when the transition was made, if determined.
    eligibility_outcome: Outcome | None = None


@dataclass(frozen=True)
class Delivery:
    external_reference: str  # the payer's reference (PFMS transaction, ePoS receipt, card number's hash...)
    kind: DeliveryKind
    delivered_on: date
    amount_paise: int  # 0 when not a payment
    quantity: str  # "5 kg rice", free text, "" when not goods
    state_code: str  # where it reached the worker (LGD): at the destination for portable rations
    district_code: str
    recorded_by: Actor
    recorded_at: datetime

    def same_facts_as(self, other: Delivery) -> bool:
        return (
            self.kind,
            self.delivered_on,
            self.amount_paise,
            self.quantity,
            self.state_code,
            self.district_code,
        ) == (other.kind, other.delivered_on, other.amount_paise, other.quantity, other.state_code, other.district_code)


@dataclass(frozen=True)
class ApplicationTransitioned:
    application_id: str
    worker_id: str
    scheme_code: str
    transition: Transition
    state_code: str
    district_code: str


@dataclass(frozen=True)
class BenefitDelivered:
    application_id: str
    worker_id: str
    scheme_code: str
    delivery: Delivery


DomainEvent = ApplicationTransitioned | BenefitDelivered


@dataclass
class Application:
    application_id: str
    worker_id: str
    scheme_code: str
    # Where the application is made (LGD): what funnel counts and access scoping use.
    state_code: str
    district_code: str
    status: ApplicationStatus
    history: list[Transition]
    deliveries: list[Delivery] = field(default_factory=list)
    version: int = 1
    pending_events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def identify(
        cls,
        *,
        application_id: str,
        worker_id: str,
        scheme_code: str,
        state_code: str,
        district_code: str,
        by: Actor,
        now: datetime,
        reason: str = "",
        eligibility_outcome: Outcome | None = None,
    ) -> Application:
        violations = []
        for name, value in (("worker_id", worker_id), ("scheme_code", scheme_code), ("state_code", state_code)):
            if not value.strip():
                violations.append(FieldViolation(name, "must be set"))
        reason = " ".join(reason.split())
        if len(reason) > MAX_REASON_LENGTH:
            violations.append(FieldViolation("reason", f"must be at most {MAX_REASON_LENGTH} characters"))
        if violations:
            raise InvalidArgument(violations)
        first = Transition(None, S.IDENTIFIED, by, now, reason, eligibility_outcome)
        application = cls(
            application_id=application_id,
            worker_id=worker_id.strip(),
            scheme_code=scheme_code.strip(),
            state_code=state_code.strip(),
            district_code=district_code.strip(),
            status=S.IDENTIFIED,
            history=[first],
        )
        application._raise(first)
        return application

    def transition(
        self,
        to_status: ApplicationStatus,
        *,
        by: Actor,
        now: datetime,
        reason: str = "",
        eligibility_outcome: Outcome | None = None,
        expected_version: int = 0,
    ) -> Transition:
        """Move to `to_status` if the state machine allows it; Conflict names both states otherwise."""
        if expected_version and expected_version != self.version:
            raise Conflict(
                f"application {self.application_id!r} is at version {self.version}, not {expected_version}; "
                "read it again and retry"
            )
        if to_status in DELIVERY_STATES:
            raise Conflict(
                f"application {self.application_id!r} is {self.status.value}; it becomes {to_status.value} "
                "when a benefit delivery is recorded"
            )
        self._check_allowed(to_status)
        reason = " ".join(reason.split())
        if to_status in REASON_REQUIRED and not reason:
            raise InvalidArgument.for_field("reason", f"say why the application is {to_status.value}")
        if len(reason) > MAX_REASON_LENGTH:
            raise InvalidArgument.for_field("reason", f"must be at most {MAX_REASON_LENGTH} characters")
        return self._move(Transition(self.status, to_status, by, now, reason, eligibility_outcome))

    def record_delivery(self, delivery: Delivery) -> bool:
        """Record a benefit that reached the worker; False when this external reference was already recorded.

        The external reference makes it idempotent: a repeated notification never counts twice; the same
        reference with other facts is a Conflict (two different deliveries cannot share a reference).
        """
        problems = delivery_violations(delivery)
        if problems:
            raise InvalidArgument(problems)
        for known in self.deliveries:
            if known.external_reference == delivery.external_reference:
                if known.same_facts_as(delivery):
                    return False
                raise Conflict(
                    f"delivery {delivery.external_reference!r} is already recorded on application "
                    f"{self.application_id!r} with other details"
                )
        if self.status not in ACCEPTS_DELIVERIES:
            raise Conflict(
                f"application {self.application_id!r} is {self.status.value}; deliveries are recorded once it is "
                f"{S.APPROVED.value}"
            )
        if len(self.deliveries) >= MAX_DELIVERIES:
            raise Conflict(f"application {self.application_id!r} holds {MAX_DELIVERIES} deliveries already")
        self.deliveries.append(delivery)
        if self.status is not S.DELIVERED:
            self._move(
                Transition(self.status, S.DELIVERED, delivery.recorded_by, delivery.recorded_at, "benefit delivered")
            )
        else:
            self.version += 1
        self.pending_events.append(BenefitDelivered(self.application_id, self.worker_id, self.scheme_code, delivery))
        return True

    @property
    def reached(self) -> frozenset[ApplicationStatus]:
        """Every status the application has been in."""
        return frozenset(t.to_status for t in self.history)

    def refused(self) -> Transition | None:
        """The last rejection, if the application stands rejected."""
        if self.status is not S.REJECTED:
            return None
        return self.history[-1]

    def _check_allowed(self, to_status: ApplicationStatus) -> None:
        if to_status not in TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[self.status]))
            raise Conflict(
                f"application {self.application_id!r} cannot go from {self.status.value} to {to_status.value} "
                f"(from {self.status.value}: {allowed})"
            )

    def _move(self, transition: Transition) -> Transition:
        self.status = transition.to_status
        self.history.append(transition)
        self.version += 1
        self._raise(transition)
        return transition

    def _raise(self, transition: Transition) -> None:
        self.pending_events.append(
            ApplicationTransitioned(
                self.application_id, self.worker_id, self.scheme_code, transition, self.state_code, self.district_code
            )
        )


def delivery_violations(delivery: Delivery, prefix: str = "") -> list[FieldViolation]:
    p = f"{prefix}." if prefix else ""
    found = []
    reference = delivery.external_reference
    if not reference or len(reference) > MAX_REFERENCE_LENGTH or not _REFERENCE.match(reference):
        found.append(
            FieldViolation(
                f"{p}external_reference",
                f"the payer's reference: 1 to {MAX_REFERENCE_LENGTH} letters, digits or . _ : / -",
            )
        )
    if delivery.amount_paise < 0:
        found.append(FieldViolation(f"{p}amount_paise", "must not be negative"))
    if delivery.kind is DeliveryKind.CASH_TRANSFER and delivery.amount_paise == 0:
        found.append(FieldViolation(f"{p}amount_paise", "a cash transfer has an amount"))
    if delivery.delivered_on > delivery.recorded_at.date():
        found.append(FieldViolation(f"{p}delivered_on", "must not be in the future"))
    if not delivery.state_code:
        found.append(FieldViolation(f"{p}state_code", "where the benefit reached the worker (LGD state code)"))
    if len(delivery.quantity) > 100:
        found.append(FieldViolation(f"{p}quantity", "must be at most 100 characters"))
    return found
