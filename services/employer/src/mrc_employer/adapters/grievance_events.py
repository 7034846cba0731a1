"""What the grievance service's published events (mrc.grievance.v1) tell the compliance history.

Agreed with the grievance service: every grievance event carries `employer_id` (our organisation id,
empty when there is none), `respondent_kind`, `category`, `severity` and `status`. `GrievanceFiled` and
`GrievanceReopened` are allegations; `GrievanceTriaged` may set or change the severity, and names in
`previous_employer_id` an organisation a supervisor corrected away from (its allegation is withdrawn);
`GrievanceResolved` carries `outcome` and `substantiated`. Nothing else is taken: no worker, no place,
no case text. Other grievance events change nothing here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.message import Message

from mrc.grievance.v1 import events_pb2 as grievance_events
from mrc.grievance.v1 import grievance_pb2
from mrc_employer.domain.grievance_signals import GrievanceSignal, GrievanceSignalKind
from mrc_kernel.events import Event
from mrc_plumbing.protobuf import datetime_from

# The event types that matter here, so a consumer can skip the others without decoding them.
SIGNALLING_TYPES = frozenset(
    m.DESCRIPTOR.full_name
    for m in (
        grievance_events.GrievanceFiled,
        grievance_events.GrievanceTriaged,
        grievance_events.GrievanceReopened,
        grievance_events.GrievanceResolved,
    )
)


def _name(wrapper: Any, prefix: str, number: int) -> str:
    try:
        name = str(wrapper.Name(number))
    except ValueError:
        return ""
    value = name.removeprefix(prefix).lower()
    return "" if value == "unspecified" else value


def category_key(number: int) -> str:
    return _name(grievance_pb2.GrievanceCategory, "GRIEVANCE_CATEGORY_", number)


def severity_key(number: int) -> str:
    return _name(grievance_pb2.Severity, "SEVERITY_", number)


def outcome_key(number: int) -> str:
    return _name(grievance_pb2.Outcome, "OUTCOME_", number)


def _previous_employer_id(message: Message) -> str:
    """`GrievanceTriaged.previous_employer_id`, read by name: set when a supervisor corrects the respondent."""
    if message.DESCRIPTOR.fields_by_name.get("previous_employer_id") is None:
        return ""
    return str(getattr(message, "previous_employer_id", ""))


def signals_of(event: Event, message: Message) -> list[tuple[str, GrievanceSignal]]:
    """(organisation id, signal) for each organisation the event concerns; empty for other events."""
    if not isinstance(
        message,
        grievance_events.GrievanceFiled
        | grievance_events.GrievanceTriaged
        | grievance_events.GrievanceReopened
        | grievance_events.GrievanceResolved,
    ):
        return []
    occurred_at: datetime = datetime_from(message.occurred_at) or event.time
    grievance_id, employer_id = message.grievance_id, message.employer_id.strip()
    category, severity = message.category, message.severity
    if isinstance(message, grievance_events.GrievanceFiled) and not grievance_id and message.HasField("grievance"):
        # A filing published in the first shape, with the case's facts only in the deprecated snapshot.
        snapshot = message.grievance
        grievance_id, employer_id = snapshot.grievance_id, snapshot.employer_id.strip()
        category, severity = snapshot.category, snapshot.severity
        occurred_at = datetime_from(snapshot.filed_at) or occurred_at

    def signal(kind: GrievanceSignalKind, **more: object) -> GrievanceSignal:
        return GrievanceSignal(
            event_id=event.id,
            grievance_id=grievance_id,
            kind=kind,
            occurred_at=occurred_at,
            category=category_key(category),
            severity=severity_key(severity),
            **more,  # type: ignore[arg-type]
        )

    found: list[tuple[str, GrievanceSignal]] = []
    match message:
        case grievance_events.GrievanceFiled():
            kind = GrievanceSignalKind.FILED
        case grievance_events.GrievanceReopened():
            kind = GrievanceSignalKind.REOPENED
        case grievance_events.GrievanceTriaged():
            kind = GrievanceSignalKind.SEVERITY_ASSESSED
            previous = _previous_employer_id(message).strip()
            if previous and previous != employer_id:
                found.append(
                    (
                        previous,
                        GrievanceSignal(event.id, message.grievance_id, GrievanceSignalKind.WITHDRAWN, occurred_at),
                    )
                )
        case grievance_events.GrievanceResolved():
            found += (
                [
                    (
                        employer_id,
                        signal(
                            GrievanceSignalKind.RESOLVED,
                            substantiated=message.substantiated,
                            outcome=outcome_key(message.outcome),
                        ),
                    )
                ]
                if employer_id
                else []
            )
            return found
    if employer_id:
        found.append((employer_id, signal(kind)))
    return found
