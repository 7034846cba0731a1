"""The entitlement status as it crosses to another state (`mrc.federation.v1.EntitlementStatusShared`), both
ways, and as the eligibility view shows another state's status (`mrc.entitlements.v1.HomeStateStatus`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from mrc.entitlements.v1 import application_pb2, determination_pb2, eligibility_pb2
from mrc.federation.v1 import events_pb2 as federation_pb2
from mrc_entitlements.adapters.protobuf_mapping import application_status, outcome
from mrc_entitlements.domain.applications import ApplicationStatus, DeliveryKind
from mrc_entitlements.domain.federation import (
    EntitlementStatus,
    HomeStateStatus,
    SharedApplication,
    SharedDetermination,
)
from mrc_entitlements.domain.rules import Outcome
from mrc_entitlements.settings import EVENT_SOURCE
from mrc_kernel.events import Event
from mrc_plumbing.federation import federation_topic as federation_topic
from mrc_plumbing.protobuf import datetime_from, timestamp

ENTITLEMENTS = "entitlements"
MAX_ITEMS = 500


class RefusedStatus(ValueError):
    """A record of a peer's topic that can never be applied here (malformed, or from the wrong state)."""


def mirrored_topics(peer_aliases: Iterable[str], own_state_code: str, kind: str = ENTITLEMENTS) -> list[str]:
    """The copies MirrorMaker 2 makes here of what the peers address to this state (`bihar.mrc.federation...`)."""
    return sorted(f"{alias}.{federation_topic(kind, own_state_code)}" for alias in peer_aliases)


def _delivery_kind(kind: DeliveryKind | None) -> Any:
    return application_pb2.DeliveryKind.Value(f"DELIVERY_KIND_{kind.value.upper()}") if kind else 0


def _when(value: Any) -> datetime:
    """A timestamp the message must carry (the epoch when a peer left it out)."""
    found = datetime_from(value)
    return found if found is not None else datetime.fromtimestamp(0, UTC)


def _version(now: datetime) -> int:
    # The status is complete each time: the later composition replaces the earlier (microseconds).
    return int(now.timestamp() * 1_000_000)


def status_event(
    status: EntitlementStatus,
    *,
    home_state_code: str,
    to_state_code: str,
    shared_with_state_codes: Iterable[str],
    now: datetime,
) -> Event:
    message = federation_pb2.EntitlementStatusShared(
        worker_id=status.worker_id,
        home_state_code=home_state_code,
        shared_with_state_codes=sorted(shared_with_state_codes),
        determinations=[
            federation_pb2.DeterminationSummary(
                scheme_code=d.scheme_code,
                rule_version=d.rule_version,
                outcome=outcome(d.outcome),
                missing_facts=list(d.missing_facts),
                determined_at=timestamp(d.determined_at),
            )
            for d in status.determinations
        ],
        applications=[
            federation_pb2.ApplicationSummary(
                application_id=a.application_id,
                scheme_code=a.scheme_code,
                status=application_status(a.status),
                state_code=a.state_code,
                district_code=a.district_code,
                updated_at=timestamp(a.updated_at),
                last_delivery_kind=_delivery_kind(a.last_delivery_kind),
                last_delivered_on=a.last_delivered_on.isoformat() if a.last_delivered_on else "",
            )
            for a in status.applications
        ],
        version=_version(now),
        shared_at=timestamp(now),
    )
    return Event.from_message(
        message,
        source=EVENT_SOURCE,
        subject=status.worker_id,
        topic=federation_topic(ENTITLEMENTS, to_state_code),
    )


def _enum_name(enum_pb: object, prefix: str, number: int) -> str:
    name: str = enum_pb.Name(number)  # type: ignore[attr-defined]
    return name.removeprefix(prefix).lower()


def _outcome_from(number: int) -> Outcome:
    if number == 0 or number not in determination_pb2.Outcome.values():
        raise RefusedStatus(f"unknown outcome {number}")
    return Outcome(_enum_name(determination_pb2.Outcome, "OUTCOME_", number))


def _status_from(number: int) -> ApplicationStatus:
    if number == 0 or number not in application_pb2.ApplicationStatus.values():
        raise RefusedStatus(f"unknown application status {number}")
    return ApplicationStatus(_enum_name(application_pb2.ApplicationStatus, "APPLICATION_STATUS_", number))


def _kind_from(number: int) -> DeliveryKind | None:
    if number == 0 or number not in application_pb2.DeliveryKind.values():
        return None
    return DeliveryKind(_enum_name(application_pb2.DeliveryKind, "DELIVERY_KIND_", number))


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def home_status_from(message: federation_pb2.EntitlementStatusShared, source_state_code: str) -> HomeStateStatus:
    """The status a peer shares, checked: from the state whose topic it came on, with ids and codes only."""
    if not message.worker_id or len(message.worker_id) > 64:
        raise RefusedStatus("no worker id")
    if message.home_state_code != source_state_code:
        raise RefusedStatus(f"a status of state {message.home_state_code[:3]!r} on state {source_state_code}'s topic")
    if len(message.determinations) > MAX_ITEMS or len(message.applications) > MAX_ITEMS:
        raise RefusedStatus("too many determinations or applications")
    return HomeStateStatus(
        home_state_code=message.home_state_code,
        shared_with_state_codes=frozenset(message.shared_with_state_codes),
        version=message.version,
        shared_at=_when(message.shared_at),
        determinations=tuple(
            SharedDetermination(
                scheme_code=d.scheme_code[:64],
                rule_version=d.rule_version,
                outcome=_outcome_from(d.outcome),
                missing_facts=tuple(f[:64] for f in d.missing_facts),
                determined_at=_when(d.determined_at),
            )
            for d in message.determinations
        ),
        applications=tuple(
            SharedApplication(
                application_id=a.application_id[:64],
                scheme_code=a.scheme_code[:64],
                status=_status_from(a.status),
                state_code=a.state_code[:3],
                district_code=a.district_code[:4],
                updated_at=_when(a.updated_at),
                last_delivery_kind=_kind_from(a.last_delivery_kind),
                last_delivered_on=_day(a.last_delivered_on),
            )
            for a in message.applications
        ),
    )


def home_status_message(status: HomeStateStatus) -> eligibility_pb2.HomeStateStatus:
    """Another state's status as the eligibility view (gRPC) shows it."""
    return eligibility_pb2.HomeStateStatus(
        home_state_code=status.home_state_code,
        version=status.version,
        shared_at=timestamp(status.shared_at),
        determinations=[
            eligibility_pb2.HomeStateDetermination(
                scheme_code=d.scheme_code,
                rule_version=d.rule_version,
                outcome=outcome(d.outcome),
                missing_facts=list(d.missing_facts),
                determined_at=timestamp(d.determined_at),
            )
            for d in status.determinations
        ],
        applications=[
            eligibility_pb2.HomeStateApplication(
                application_id=a.application_id,
                scheme_code=a.scheme_code,
                status=application_status(a.status),
                state_code=a.state_code,
                district_code=a.district_code,
                updated_at=timestamp(a.updated_at),
                last_delivery_kind=_delivery_kind(a.last_delivery_kind),
                last_delivered_on=a.last_delivered_on.isoformat() if a.last_delivered_on else "",
            )
            for a in status.applications
        ],
    )
