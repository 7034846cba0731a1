"""gRPC API: mrc.grievance.v1.GrievanceService, the same use cases as REST.

Every RPC needs `authorization: Bearer <token>` metadata (and may declare `x-purpose`); the report RPCs take
the reference and follow-up code instead of a case id, and accept a public client.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import grpc

from mrc.grievance.v1 import grievance_pb2
from mrc.grievance.v1 import grievance_service_pb2 as pb
from mrc.grievance.v1 import grievance_service_pb2_grpc as pb_grpc
from mrc_grievance.adapters.protobuf_mapping import (
    audience_of,
    category_of,
    channel_of,
    confidentiality_of,
    facts_from_proto,
    grievance_to_proto,
    kind_of,
    level_of,
    note_to_proto,
    outcome_of,
    relation_of,
    reporter_view_to_proto,
    severity_of,
    status_of,
    target_of,
    timeline_to_proto,
    trace_status_of,
    trace_to_proto,
)
from mrc_grievance.domain.triage import TriageFacts
from mrc_grievance.service_layer.cases import CaseService, Changed, QueueQuery
from mrc_grievance.service_layer.intake import FileCase, IntakeService
from mrc_grievance.service_layer.parties import PersonInput, ReporterInput, RespondentInput, SubjectInput
from mrc_grievance.service_layer.ports import Forwarded
from mrc_grievance.service_layer.reports import ReportService
from mrc_grievance.service_layer.statistics import StatisticsService
from mrc_grievance.service_layer.traces import ContactInput, OpenTrace, TraceService
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import FieldViolation, InvalidArgument, PermissionDenied
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.grpc import GrpcAuth
from mrc_plumbing.protobuf import datetime_from, place_from_proto
from mrc_plumbing.structured_logging import request_id_var


def _forwarded(context: grpc.ServicerContext) -> Forwarded:
    metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    return Forwarded(metadata.get("authorization", ""), request_id_var.get())


def _required(field: str, value: str) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "must be set")
    return value


def _subject(message: grievance_pb2.Subject, legacy_worker_id: str = "", field: str = "subject") -> SubjectInput:
    which = message.WhichOneof("kind")
    if which == "worker_id":
        return SubjectInput(worker_id=message.worker_id, worker_field=f"{field}.worker_id")
    if which == "person":
        p = message.person
        return SubjectInput(person=PersonInput(p.name, p.age, p.gender, p.phone))
    if legacy_worker_id:
        return SubjectInput(worker_id=legacy_worker_id, worker_field="worker_id")
    return SubjectInput()


def _respondent(message: grievance_pb2.Respondent, legacy_employer_id: str = "") -> RespondentInput | None:
    which = message.WhichOneof("kind")
    if which == "employer_id":
        return RespondentInput(employer_id=message.employer_id)
    if which == "unregistered":
        u = message.unregistered
        return RespondentInput(
            kind=kind_of(u.kind),
            name=u.name,
            place=place_from_proto(u.place) if u.HasField("place") else None,
        )
    if legacy_employer_id:
        return RespondentInput(employer_id=legacy_employer_id, employer_field="employer_id")
    return None


def _reporter(message: grievance_pb2.Reporter) -> ReporterInput:
    return ReporterInput(
        relation_of(message.relation), confidentiality_of(message.confidentiality), message.name, message.phone
    )


class GrievanceServicer(pb_grpc.GrievanceServiceServicer):
    def __init__(
        self,
        cases: CaseService,
        intake: IntakeService,
        reports: ReportService,
        traces: TraceService,
        statistics: StatisticsService,
        auth: GrpcAuth,
    ) -> None:
        self._cases = cases
        self._intake = intake
        self._reports = reports
        self._traces = traces
        self._statistics = statistics
        self._auth = auth

    def _writer(self, context: grpc.ServicerContext) -> Caller:
        return self._auth.require(context, Scope.GRIEVANCES_WRITE)

    def _reader(self, context: grpc.ServicerContext) -> Caller:
        return self._auth.require(context, Scope.GRIEVANCES_READ)

    def _anyone(self, context: grpc.ServicerContext) -> Caller:
        try:
            return self._auth.require(context, Scope.AGGREGATES_READ)
        except PermissionDenied:
            return self._auth.require(context, Scope.GRIEVANCES_READ)

    @staticmethod
    def _grievance(changed: Changed) -> grievance_pb2.Grievance:
        return grievance_to_proto(changed.view, utc_now())

    # -- intake ----------------------------------------------------------------------------------------

    def FileGrievance(  # noqa: N802
        self, request: pb.FileGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.FileGrievanceResponse:
        caller = self._writer(context)
        reporter = _reporter(request.reporter) if request.HasField("reporter") else None
        if reporter is None and request.anonymous:
            reporter = ReporterInput(relation_of(1), confidentiality_of(3))
        filing = self._intake.file(
            FileCase(
                category=category_of(request.category),
                channel=channel_of(request.channel),
                summary=request.summary,
                recording_ref=request.recording_ref,
                location=place_from_proto(request.location),
                subject=_subject(request.subject, request.worker_id),
                respondent=_respondent(request.respondent, request.employer_id),
                reporter=reporter,
                facts=facts_from_proto(request.facts) if request.HasField("facts") else TriageFacts(),
                idempotency_key=request.idempotency_key,
            ),
            caller,
            _forwarded(context),
        )
        return pb.FileGrievanceResponse(grievance=grievance_to_proto(filing.view, utc_now()))

    def FileReport(self, request: pb.FileReportRequest, context: grpc.ServicerContext) -> pb.FileReportResponse:  # noqa: N802
        caller = self._anyone(context)
        receipt = self._intake.file_report(
            FileCase(
                category=category_of(request.category),
                channel=None,
                summary=request.summary,
                location=place_from_proto(request.location),
                subject=_subject(request.subject),
                respondent=_respondent(request.respondent),
                reporter=_reporter(request.reporter) if request.HasField("reporter") else None,
                facts=facts_from_proto(request.facts) if request.HasField("facts") else TriageFacts(),
                idempotency_key=request.idempotency_key,
            ),
            caller,
        )
        return pb.FileReportResponse(reference=receipt.reference, follow_up_code=receipt.follow_up_code)

    def GetReport(self, request: pb.GetReportRequest, context: grpc.ServicerContext) -> pb.GetReportResponse:  # noqa: N802
        view = self._reports.get(request.reference, request.follow_up_code, self._anyone(context))
        return pb.GetReportResponse(report=reporter_view_to_proto(view.view, view.texts))

    def SendReportMessage(  # noqa: N802
        self, request: pb.SendReportMessageRequest, context: grpc.ServicerContext
    ) -> pb.SendReportMessageResponse:
        view = self._reports.send_message(
            request.reference,
            request.follow_up_code,
            request.text,
            self._anyone(context),
            idempotency_key=request.idempotency_key,
        )
        return pb.SendReportMessageResponse(report=reporter_view_to_proto(view.view, view.texts))

    # -- reads -----------------------------------------------------------------------------------------

    def GetGrievance(self, request: pb.GetGrievanceRequest, context: grpc.ServicerContext) -> pb.GetGrievanceResponse:  # noqa: N802
        caller = self._reader(context)
        view = self._cases.get(_required("grievance_id", request.grievance_id), caller)
        return pb.GetGrievanceResponse(grievance=grievance_to_proto(view, utc_now()))

    def GetGrievanceByReference(  # noqa: N802
        self, request: pb.GetGrievanceByReferenceRequest, context: grpc.ServicerContext
    ) -> pb.GetGrievanceByReferenceResponse:
        view = self._cases.by_reference(_required("reference", request.reference), self._reader(context))
        return pb.GetGrievanceByReferenceResponse(grievance=grievance_to_proto(view, utc_now()))

    def ListGrievances(  # noqa: N802
        self, request: pb.ListGrievancesRequest, context: grpc.ServicerContext
    ) -> pb.ListGrievancesResponse:
        caller = self._reader(context)
        statuses = frozenset(s for s in (status_of(n) for n in request.statuses) if s is not None)
        categories = frozenset(c for c in (category_of(n) for n in request.categories) if c is not None)
        views, next_token = self._cases.queue(
            QueueQuery(
                statuses=statuses,
                assignee_id=request.assignee_id,
                district_code=request.district_code,
                categories=categories,
                min_escalation_level=level_of(request.min_escalation_level),
                page_size=request.page.page_size or 50,
                page_token=request.page.page_token,
            ),
            caller,
        )
        now = utc_now()
        response = pb.ListGrievancesResponse(grievances=[grievance_to_proto(v, now) for v in views])
        response.page.next_page_token = next_token
        return response

    def GetTimeline(self, request: pb.GetTimelineRequest, context: grpc.ServicerContext) -> pb.GetTimelineResponse:  # noqa: N802
        entries = self._cases.timeline(_required("grievance_id", request.grievance_id), self._reader(context))
        return pb.GetTimelineResponse(entries=[timeline_to_proto(e) for e in entries])

    def ListNotes(self, request: pb.ListNotesRequest, context: grpc.ServicerContext) -> pb.ListNotesResponse:  # noqa: N802
        notes = self._cases.notes(_required("grievance_id", request.grievance_id), self._reader(context))
        return pb.ListNotesResponse(notes=[note_to_proto(n) for n in notes])

    # -- changes ---------------------------------------------------------------------------------------

    def TriageGrievance(  # noqa: N802
        self, request: pb.TriageGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.TriageGrievanceResponse:
        caller = self._writer(context)
        respondent = None
        if request.HasField("respondent"):
            respondent = _respondent(request.respondent) or RespondentInput()
        changed = self._cases.triage(
            _required("grievance_id", request.grievance_id),
            facts_from_proto(request.facts),
            caller,
            category=category_of(request.category),
            respondent=respondent,
            worker_id=request.worker_id,
            forwarded=_forwarded(context),
            expected_version=request.expected_version,
            idempotency_key=request.idempotency_key,
        )
        return pb.TriageGrievanceResponse(grievance=self._grievance(changed))

    def OverrideSeverity(  # noqa: N802
        self, request: pb.OverrideSeverityRequest, context: grpc.ServicerContext
    ) -> pb.OverrideSeverityResponse:
        changed = self._cases.override_severity(
            _required("grievance_id", request.grievance_id),
            severity_of(request.severity),
            request.reason,
            self._writer(context),
            expected_version=request.expected_version,
            idempotency_key=request.idempotency_key,
        )
        return pb.OverrideSeverityResponse(grievance=self._grievance(changed))

    def AssignGrievance(  # noqa: N802
        self, request: pb.AssignGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.AssignGrievanceResponse:
        changed = self._cases.assign(
            _required("grievance_id", request.grievance_id),
            request.assignee_id,
            request.assignee_partner_id,
            self._writer(context),
            expected_version=request.expected_version,
            idempotency_key=request.idempotency_key,
        )
        return pb.AssignGrievanceResponse(grievance=self._grievance(changed))

    def StartWork(self, request: pb.StartWorkRequest, context: grpc.ServicerContext) -> pb.StartWorkResponse:  # noqa: N802
        changed = self._cases.start_work(
            _required("grievance_id", request.grievance_id),
            self._writer(context),
            expected_version=request.expected_version,
            key=request.idempotency_key,
        )
        return pb.StartWorkResponse(grievance=self._grievance(changed))

    def AwaitComplainant(  # noqa: N802
        self, request: pb.AwaitComplainantRequest, context: grpc.ServicerContext
    ) -> pb.AwaitComplainantResponse:
        changed = self._cases.await_complainant(
            _required("grievance_id", request.grievance_id),
            self._writer(context),
            expected_version=request.expected_version,
            key=request.idempotency_key,
        )
        return pb.AwaitComplainantResponse(grievance=self._grievance(changed))

    def ResumeWork(self, request: pb.ResumeWorkRequest, context: grpc.ServicerContext) -> pb.ResumeWorkResponse:  # noqa: N802
        changed = self._cases.resume_work(
            _required("grievance_id", request.grievance_id),
            self._writer(context),
            expected_version=request.expected_version,
            key=request.idempotency_key,
        )
        return pb.ResumeWorkResponse(grievance=self._grievance(changed))

    def ReferGrievance(  # noqa: N802
        self, request: pb.ReferGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.ReferGrievanceResponse:
        changed = self._cases.refer(
            _required("grievance_id", request.grievance_id),
            target_of(request.target),
            request.target_partner_id,
            self._writer(context),
            expected_version=request.expected_version,
            idempotency_key=request.idempotency_key,
        )
        return pb.ReferGrievanceResponse(grievance=self._grievance(changed))

    def AnswerReferral(  # noqa: N802
        self, request: pb.AnswerReferralRequest, context: grpc.ServicerContext
    ) -> pb.AnswerReferralResponse:
        changed = self._cases.answer_referral(
            _required("grievance_id", request.grievance_id),
            _required("referral_id", request.referral_id),
            request.accept,
            self._writer(context),
            reason=request.reason,
            idempotency_key=request.idempotency_key,
        )
        return pb.AnswerReferralResponse(grievance=self._grievance(changed))

    def EscalateGrievance(  # noqa: N802
        self, request: pb.EscalateGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.EscalateGrievanceResponse:
        changed = self._cases.escalate(
            _required("grievance_id", request.grievance_id),
            request.reason,
            self._writer(context),
            expected_version=request.expected_version,
            idempotency_key=request.idempotency_key,
        )
        return pb.EscalateGrievanceResponse(grievance=self._grievance(changed))

    def ResolveGrievance(  # noqa: N802
        self, request: pb.ResolveGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.ResolveGrievanceResponse:
        changed = self._cases.resolve(
            _required("grievance_id", request.grievance_id),
            outcome_of(request.outcome),
            request.substantiated,
            request.amount_recovered_paise,
            self._writer(context),
            expected_version=request.expected_version,
            idempotency_key=request.idempotency_key,
        )
        return pb.ResolveGrievanceResponse(grievance=self._grievance(changed))

    def ReopenGrievance(  # noqa: N802
        self, request: pb.ReopenGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.ReopenGrievanceResponse:
        changed = self._cases.reopen(
            _required("grievance_id", request.grievance_id),
            request.reason,
            self._writer(context),
            expected_version=request.expected_version,
            idempotency_key=request.idempotency_key,
        )
        return pb.ReopenGrievanceResponse(grievance=self._grievance(changed))

    def CloseGrievance(  # noqa: N802
        self, request: pb.CloseGrievanceRequest, context: grpc.ServicerContext
    ) -> pb.CloseGrievanceResponse:
        changed = self._cases.close(
            _required("grievance_id", request.grievance_id),
            self._writer(context),
            expected_version=request.expected_version,
            key=request.idempotency_key,
        )
        return pb.CloseGrievanceResponse(grievance=self._grievance(changed))

    def AddNote(self, request: pb.AddNoteRequest, context: grpc.ServicerContext) -> pb.AddNoteResponse:  # noqa: N802
        note = self._cases.add_note(
            _required("grievance_id", request.grievance_id),
            request.text,
            audience_of(request.audience),
            self._writer(context),
            idempotency_key=request.idempotency_key,
        )
        return pb.AddNoteResponse(note=note_to_proto(note))

    # -- traces ----------------------------------------------------------------------------------------

    def OpenTrace(self, request: pb.OpenTraceRequest, context: grpc.ServicerContext) -> pb.OpenTraceResponse:  # noqa: N802
        caller = self._writer(context)
        try:
            last_known_on = date.fromisoformat(request.last_known_on) if request.last_known_on else None
        except ValueError:
            raise InvalidArgument(FieldViolation("last_known_on", "must be a date YYYY-MM-DD")) from None
        opened = self._traces.open(
            OpenTrace(
                missing=_subject(request.missing, field="missing"),
                last_known_place=place_from_proto(request.last_known_place),
                last_known_on=last_known_on,
                minor=request.minor,
                destination=place_from_proto(request.destination) if request.HasField("destination") else None,
                respondent=_respondent(request.respondent),
                contacts=tuple(ContactInput(relation_of(c.relation), c.name, c.phone) for c in request.contacts),
                description=request.description,
                grievance_id=request.grievance_id,
                migration_episode_id=request.migration_episode_id,
                idempotency_key=request.idempotency_key,
            ),
            caller,
            _forwarded(context),
        )
        return pb.OpenTraceResponse(trace=trace_to_proto(opened.view))

    def GetTrace(self, request: pb.GetTraceRequest, context: grpc.ServicerContext) -> pb.GetTraceResponse:  # noqa: N802
        view = self._traces.get(_required("trace_id", request.trace_id), self._reader(context))
        return pb.GetTraceResponse(trace=trace_to_proto(view))

    def RecordSighting(  # noqa: N802
        self, request: pb.RecordSightingRequest, context: grpc.ServicerContext
    ) -> pb.RecordSightingResponse:
        view = self._traces.record_sighting(
            _required("trace_id", request.trace_id),
            datetime_from(request.seen_at),
            place_from_proto(request.place),
            request.details,
            self._writer(context),
            idempotency_key=request.idempotency_key,
        )
        return pb.RecordSightingResponse(trace=trace_to_proto(view))

    def CloseTrace(self, request: pb.CloseTraceRequest, context: grpc.ServicerContext) -> pb.CloseTraceResponse:  # noqa: N802
        view = self._traces.close(
            _required("trace_id", request.trace_id),
            trace_status_of(request.outcome),
            self._writer(context),
            expected_version=request.expected_version,
        )
        return pb.CloseTraceResponse(trace=trace_to_proto(view))

    # -- statistics ------------------------------------------------------------------------------------

    def GetGrievanceStatistics(  # noqa: N802
        self, request: pb.GetGrievanceStatisticsRequest, context: grpc.ServicerContext
    ) -> pb.GetGrievanceStatisticsResponse:
        caller = self._auth.require(context, Scope.AGGREGATES_READ)
        result = self._statistics.grievances(
            caller,
            state_code=request.state_code,
            district_code=request.district_code,
            filed_from=datetime_from(request.filed_from),
            filed_to=datetime_from(request.filed_to),
        )

        def cells(counts: object, name: Callable[[Any], str]) -> list[pb.CountCell]:
            found = getattr(counts, "cells", {})
            return [
                pb.CountCell(key=str(name(k)), count=v) for k, v in sorted(found.items(), key=lambda kv: str(kv[0]))
            ]

        response = pb.GetGrievanceStatisticsResponse(
            by_district=cells(result.by_district, str),
            by_category=cells(result.by_category, lambda c: f"GRIEVANCE_CATEGORY_{c.name}"),
            by_status=cells(result.by_status, lambda s: f"GRIEVANCE_STATUS_{s.name}"),
            min_cell_size=result.min_cell_size,
        )
        if result.median_hours_to_resolution is not None:
            response.median_hours_to_resolution = result.median_hours_to_resolution
        if result.sla_breach_rate is not None:
            response.sla_breach_rate = result.sla_breach_rate
        return response
