"""The service's domain in mrc.entitlements.v1 messages: API replies, requests, and event envelopes.

Events carry ids and non-identifying facts only: never the facts a rule read, declared facts or a
caseworker's reasons (see protos/mrc/entitlements/v1/events.proto).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from google.protobuf.message import Message

from mrc.entitlements.v1 import (
    application_pb2,
    determination_pb2,
    eligibility_pb2,
    events_pb2,
    funnel_pb2,
    reevaluation_pb2,
    scheme_pb2,
)
from mrc_entitlements.domain import applications as app
from mrc_entitlements.domain import determinations as det
from mrc_entitlements.domain import reevaluation as reev
from mrc_entitlements.domain import schemes as sch
from mrc_entitlements.domain.funnel import FunnelCell, FunnelStage
from mrc_entitlements.domain.rules import ConditionResult, ConditionSpec, Outcome
from mrc_entitlements.domain.worker_record import WorkerRecord
from mrc_entitlements.settings import APPLICATIONS_TOPIC, CATALOGUE_TOPIC, ELIGIBILITY_TOPIC, EVENT_SOURCE
from mrc_kernel.errors import InvalidArgument
from mrc_kernel.events import Event
from mrc_kernel.privacy import SafeCounts
from mrc_plumbing.protobuf import timestamp

__all__ = ["timestamp"]


def _to_proto_enum(enum_pb: Any, prefix: str, value: str | None) -> Any:
    """The protobuf enum number of a domain value (typed Any: each enum has its own ValueType)."""
    if value is None:
        return 0
    return enum_pb.Value(f"{prefix}{value.upper()}")


def _from_proto_enum(enum_pb: Any, prefix: str, number: int) -> str:
    return str(enum_pb.Name(number)).removeprefix(prefix).lower()


def outcome(value: Outcome | None) -> Any:
    return _to_proto_enum(determination_pb2.Outcome, "OUTCOME_", value.value if value else None)


def application_status(value: app.ApplicationStatus | None) -> Any:
    return _to_proto_enum(application_pb2.ApplicationStatus, "APPLICATION_STATUS_", value.value if value else None)


def application_status_from(number: int) -> app.ApplicationStatus:
    if number == 0 or number not in application_pb2.ApplicationStatus.values():
        raise InvalidArgument.for_field("to_status", "must be an application status")
    return app.ApplicationStatus(_from_proto_enum(application_pb2.ApplicationStatus, "APPLICATION_STATUS_", number))


def delivery_kind_from(number: int) -> app.DeliveryKind:
    if number == 0 or number not in application_pb2.DeliveryKind.values():
        raise InvalidArgument.for_field("kind", "must be a delivery kind")
    return app.DeliveryKind(_from_proto_enum(application_pb2.DeliveryKind, "DELIVERY_KIND_", number))


def condition_result(result: ConditionResult) -> determination_pb2.ConditionResult:
    return determination_pb2.ConditionResult(
        name=result.name,
        status=_to_proto_enum(determination_pb2.ConditionStatus, "CONDITION_STATUS_", result.status.value),
        missing_facts=list(result.missing_facts),
    )


def fact_value(value: object) -> determination_pb2.FactValue:
    if isinstance(value, bool):
        return determination_pb2.FactValue(bool_value=value)
    if isinstance(value, int):
        return determination_pb2.FactValue(int_value=value)
    if isinstance(value, list | tuple):
        return determination_pb2.FactValue(
            string_list_value=determination_pb2.StringList(values=[str(v) for v in value])
        )
    return determination_pb2.FactValue(string_value=str(value))


def fact_from_proto(value: determination_pb2.FactValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "string_list_value":
        return list(value.string_list_value.values)
    if kind is None:
        return None
    return getattr(value, kind)


def determination(found: det.Determination) -> determination_pb2.Determination:
    return determination_pb2.Determination(
        worker_id=found.worker_id,
        scheme_code=found.scheme_code,
        rule_version=found.rule_version,
        outcome=outcome(found.outcome),
        conditions=[condition_result(c) for c in found.conditions],
        missing_facts=list(found.missing_facts),
        facts_snapshot={name: fact_value(v) for name, v in found.facts_snapshot.items()},
        determined_at=timestamp(found.determined_at),
    )


def eligibility(record: WorkerRecord) -> eligibility_pb2.Eligibility:
    found = sorted(record.eligibility.determinations.values(), key=lambda d: d.scheme_code)
    message = eligibility_pb2.Eligibility(
        worker_id=record.worker_id,
        status=eligibility_pb2.ELIGIBILITY_STATUS_ASSESSED
        if found
        else eligibility_pb2.ELIGIBILITY_STATUS_PENDING_ASSESSMENT,
        eligible_scheme_codes=[d.scheme_code for d in found if d.outcome is Outcome.ELIGIBLE],
        source_event_id=record.source_event_id,
        schemes=[determination(d) for d in found],
    )
    if record.recorded_at is not None:
        message.recorded_at.CopyFrom(timestamp(record.recorded_at))
    return message


def condition_spec(condition: scheme_pb2.Condition) -> ConditionSpec:
    return ConditionSpec(condition.name, condition.expression, condition.description, tuple(condition.reads))


def rule_version(rule: sch.RuleVersion) -> scheme_pb2.RuleVersion:
    message = scheme_pb2.RuleVersion(
        scheme_code=rule.scheme_code,
        version=rule.version,
        status=_to_proto_enum(scheme_pb2.RuleStatus, "RULE_STATUS_", rule.status.value),
        conditions=[
            scheme_pb2.Condition(name=c.name, expression=c.expression, description=c.description, reads=list(c.reads))
            for c in rule.conditions
        ],
        note=rule.note,
        drafted_by=rule.drafted_by,
        drafted_at=timestamp(rule.drafted_at),
        published_by=rule.published_by,
        superseded_by=rule.superseded_by,
    )
    if rule.published_at is not None:
        message.published_at.CopyFrom(timestamp(rule.published_at))
    if rule.retired_at is not None:
        message.retired_at.CopyFrom(timestamp(rule.retired_at))
    return message


def scheme(found: sch.Scheme) -> scheme_pb2.Scheme:
    d = found.details
    return scheme_pb2.Scheme(
        code=found.code,
        name=d.name,
        local_names=[scheme_pb2.LocalName(language=lang, name=name) for lang, name in d.local_names],
        kind=_to_proto_enum(scheme_pb2.SchemeKind, "SCHEME_KIND_", d.kind.value),
        administering_state=d.administering_state,
        summary=d.summary,
        benefits=[
            scheme_pb2.Benefit(
                kind=_to_proto_enum(scheme_pb2.BenefitKind, "BENEFIT_KIND_", b.kind.value),
                description=b.description,
                amount_inr=b.amount_inr,
            )
            for b in d.benefits
        ],
        required_documents=[
            scheme_pb2.RequiredDocument(description=r.description, document_kind=r.document_kind)
            for r in d.required_documents
        ],
        where_to_apply=[scheme_pb2.WhereToApply(description=w.description, url=w.url) for w in d.where_to_apply],
        citations=[
            scheme_pb2.Citation(
                title=c.title,
                authority=c.authority,
                reference=c.reference,
                issued_on=c.issued_on.isoformat() if c.issued_on else "",
                url=c.url,
            )
            for c in d.citations
        ],
        renewable=d.renewable,
        rule_versions=[rule_version(r) for r in found.rule_versions],
        version=found.version,
    )


def scheme_kind_from(number: int) -> sch.SchemeKind | None:
    if number == 0 or number not in scheme_pb2.SchemeKind.values():
        return None
    return sch.SchemeKind(_from_proto_enum(scheme_pb2.SchemeKind, "SCHEME_KIND_", number))


def job(found: reev.ReevaluationJob) -> reevaluation_pb2.ReevaluationJob:
    message = reevaluation_pb2.ReevaluationJob(
        job_id=found.job_id,
        scheme_code=found.scheme_code,
        rule_version=found.rule_version,
        status=_to_proto_enum(reevaluation_pb2.ReevaluationStatus, "REEVALUATION_STATUS_", found.status.value),
        total=found.total,
        processed=found.processed,
        changed=found.changed,
        created_at=timestamp(found.created_at),
        updated_at=timestamp(found.updated_at),
    )
    if found.completed_at is not None:
        message.completed_at.CopyFrom(timestamp(found.completed_at))
    return message


def actor(who: app.Actor) -> application_pb2.Actor:
    return application_pb2.Actor(partner_id=who.partner_id, client_id=who.client_id)


def _delivery_kind(kind: app.DeliveryKind) -> Any:
    return _to_proto_enum(application_pb2.DeliveryKind, "DELIVERY_KIND_", kind.value)


def application(found: app.Application) -> application_pb2.Application:
    return application_pb2.Application(
        application_id=found.application_id,
        worker_id=found.worker_id,
        scheme_code=found.scheme_code,
        state_code=found.state_code,
        district_code=found.district_code,
        status=application_status(found.status),
        history=[
            application_pb2.Transition(
                from_status=application_status(t.from_status),
                to_status=application_status(t.to_status),
                by=actor(t.by),
                at=timestamp(t.at),
                reason=t.reason,
                eligibility_outcome=outcome(t.eligibility_outcome),
            )
            for t in found.history
        ],
        deliveries=[
            application_pb2.Delivery(
                external_reference=d.external_reference,
                kind=_delivery_kind(d.kind),
                delivered_on=d.delivered_on.isoformat(),
                amount_paise=d.amount_paise,
                quantity=d.quantity,
                state_code=d.state_code,
                district_code=d.district_code,
                recorded_by=actor(d.recorded_by),
                recorded_at=timestamp(d.recorded_at),
            )
            for d in found.deliveries
        ],
        version=found.version,
    )


def funnel_cells(counts: SafeCounts[FunnelCell]) -> list[funnel_pb2.FunnelCell]:
    cells = []
    for cell, count in sorted(
        counts.cells.items(), key=lambda item: (item[0].state_code, item[0].district_code, item[0].scheme_code)
    ):
        cells.append(
            funnel_pb2.FunnelCell(
                state_code=cell.state_code,
                district_code=cell.district_code,
                scheme_code=cell.scheme_code,
                stage=_to_proto_enum(funnel_pb2.FunnelStage, "FUNNEL_STAGE_", cell.stage.value),
                count=count or 0,
                suppressed=count is None,
            )
        )
    return cells


def funnel_stage(stage: FunnelStage) -> Any:
    return _to_proto_enum(funnel_pb2.FunnelStage, "FUNNEL_STAGE_", stage.value)


def parse_date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument.for_field(field, "a date as YYYY-MM-DD") from None


# -- events ----------------------------------------------------------------------------------------


def _eligibility_event(event: det.DomainEvent) -> tuple[str, Message]:
    match event:
        case det.EligibilityDetermined(determination=d):
            return d.worker_id, events_pb2.EligibilityDetermined(
                worker_id=d.worker_id,
                scheme_code=d.scheme_code,
                rule_version=d.rule_version,
                outcome=outcome(d.outcome),
                conditions=[condition_result(c) for c in d.conditions],
                missing_facts=list(d.missing_facts),
                determined_at=timestamp(d.determined_at),
            )
        case det.EligibilityChanged(determination=d, previous_outcome=before, previous_rule_version=before_version):
            return d.worker_id, events_pb2.EligibilityChanged(
                worker_id=d.worker_id,
                scheme_code=d.scheme_code,
                rule_version=d.rule_version,
                outcome=outcome(d.outcome),
                conditions=[condition_result(c) for c in d.conditions],
                missing_facts=list(d.missing_facts),
                determined_at=timestamp(d.determined_at),
                previous_outcome=outcome(before),
                previous_rule_version=before_version,
            )
        case det.EligibilityRemoved(worker_id=worker_id, scheme_codes=codes, reason=reason, at=at):
            return worker_id, events_pb2.EligibilityRemoved(
                worker_id=worker_id,
                scheme_codes=list(codes),
                reason=_to_proto_enum(events_pb2.RemovalReason, "REMOVAL_REASON_", reason.value),
                at=timestamp(at),
            )
    raise TypeError(f"not an eligibility event: {event!r}")


def eligibility_envelope(event: det.DomainEvent) -> Event:
    subject, message = _eligibility_event(event)
    return Event.from_message(message, source=EVENT_SOURCE, subject=subject, topic=ELIGIBILITY_TOPIC)


def application_envelope(event: app.DomainEvent) -> Event:
    message: Message
    match event:
        case app.ApplicationTransitioned(transition=t):
            message = events_pb2.ApplicationTransitioned(
                application_id=event.application_id,
                worker_id=event.worker_id,
                scheme_code=event.scheme_code,
                from_status=application_status(t.from_status),
                to_status=application_status(t.to_status),
                by=actor(t.by),
                at=timestamp(t.at),
                eligibility_outcome=outcome(t.eligibility_outcome),
                state_code=event.state_code,
                district_code=event.district_code,
            )
        case app.BenefitDelivered(delivery=d):
            message = events_pb2.BenefitDelivered(
                application_id=event.application_id,
                worker_id=event.worker_id,
                scheme_code=event.scheme_code,
                kind=_delivery_kind(d.kind),
                delivered_on=d.delivered_on.isoformat(),
                amount_paise=d.amount_paise,
                state_code=d.state_code,
                district_code=d.district_code,
                recorded_at=timestamp(d.recorded_at),
            )
    return Event.from_message(message, source=EVENT_SOURCE, subject=event.worker_id, topic=APPLICATIONS_TOPIC)


def catalogue_envelope(
    event: sch.DomainEvent | reev.DomainEvent, job_ids: Mapping[tuple[str, int], str] | None = None
) -> Event | None:
    """The catalogue's events; a draft is the operator's business and publishes nothing."""
    message: Message
    match event:
        case sch.RuleVersionPublished():
            message = events_pb2.RuleVersionPublished(
                scheme_code=event.scheme_code,
                version=event.version,
                superseded_version=event.superseded_version,
                published_by=event.published_by,
                at=timestamp(event.at),
                job_id=(job_ids or {}).get((event.scheme_code, event.version), ""),
            )
        case sch.RuleVersionRetired():
            message = events_pb2.RuleVersionRetired(
                scheme_code=event.scheme_code, version=event.version, at=timestamp(event.at)
            )
        case reev.ReevaluationCompleted():
            message = events_pb2.ReevaluationCompleted(
                job_id=event.job_id,
                scheme_code=event.scheme_code,
                rule_version=event.rule_version,
                processed=event.processed,
                changed=event.changed,
                at=timestamp(event.at),
            )
        case _:
            return None
    return Event.from_message(message, source=EVENT_SOURCE, subject=event.scheme_code, topic=CATALOGUE_TOPIC)
