"""REST API: cases (/v1/grievances), reports (/v1/reports), the IVR/SMS webhook (/v1/intake/messages), traces
(/v1/traces) and statistics (/v1/statistics/grievances).

Every route but the webhook needs a bearer token; the use cases decide the rest (scopes, the access policy,
audit) so REST and gRPC answer alike. Changes take an `Idempotency-Key`: a retry answers with the case as it
stands and `Idempotent-Replayed: true`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from mrc_grievance.domain.vocabulary import CaseStatus, Category, EscalationLevel
from mrc_grievance.entrypoints.http_models import (
    AnswerBody,
    AssignBody,
    CloseTraceBody,
    FileGrievanceBody,
    FileReportBody,
    NoteBody,
    OpenTraceBody,
    OverrideBody,
    ReasonBody,
    ReferBody,
    ReportMessageBody,
    ResolveBody,
    SightingBody,
    TriageBody,
    VersionBody,
    case_json,
    note_json,
    report_json,
    timeline_json,
    trace_json,
)
from mrc_grievance.service_layer.cases import CaseService, Changed, QueueQuery
from mrc_grievance.service_layer.intake import Delivery, FileCase, IntakeService
from mrc_grievance.service_layer.parties import SubjectInput
from mrc_grievance.service_layer.ports import Forwarded
from mrc_grievance.service_layer.reports import ReportService
from mrc_grievance.service_layer.statistics import StatisticsService
from mrc_grievance.service_layer.traces import OpenTrace, TraceService
from mrc_kernel.caller import Caller
from mrc_kernel.clock import utc_now
from mrc_kernel.errors import PermissionDenied
from mrc_kernel.roles import Role, Scope
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.http_models import IdempotencyHeader
from mrc_plumbing.structured_logging import request_id_var

# The follow-up code travels in a header, never in a URL (URLs end up in logs).
FollowUpCodeHeader = Annotated[str, Header(alias="X-Follow-Up-Code", max_length=64)]
INTAKE_PATH = "/v1/intake/messages"
INTAKE_MAX_BODY_BYTES = 64 * 1024


def forwarded(request: Request) -> Forwarded:
    return Forwarded(request.headers.get("authorization", ""), request_id_var.get())


def _answer(changed: Changed, response: Response) -> dict[str, Any]:
    if changed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["ETag"] = f'"{changed.view.case.version}"'
    return case_json(changed.view, utc_now())


def grievances_router(cases: CaseService, intake: IntakeService, auth: HttpAuth) -> APIRouter:
    router = APIRouter(prefix="/v1/grievances", tags=["grievances"])
    # Dependencies as defaults: with postponed annotations FastAPI cannot see these locals in `Annotated`.
    writer = auth.requires(Scope.GRIEVANCES_WRITE)
    reader = auth.requires(Scope.GRIEVANCES_READ)

    @router.post("", status_code=201)
    def file_grievance(
        body: FileGrievanceBody,
        request: Request,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        filing = intake.file(
            FileCase(
                category=body.category,
                channel=body.channel,
                summary=body.summary,
                recording_ref=body.recording_ref,
                location=body.location.place(),
                subject=body.subject_input(body.worker_id),
                respondent=body.respondent_input(),
                reporter=body.reporter_input(),
                facts=body.triage_facts(),
                idempotency_key=idempotency_key,
            ),
            caller,
            forwarded(request),
        )
        response.headers["Location"] = f"/v1/grievances/{filing.view.case.grievance_id}"
        if not filing.created:
            response.headers["Idempotent-Replayed"] = "true"
        return case_json(filing.view, utc_now())

    @router.get("")
    def queue(
        status: Annotated[list[CaseStatus] | None, Query()] = None,
        assignee_id: str = Query(default="", max_length=64),
        district_code: str = Query(default="", pattern=r"^(\d{1,4})?$"),
        category: Annotated[list[Category] | None, Query()] = None,
        min_escalation_level: int = Query(default=0, ge=0, le=2),
        page_size: int = Query(default=50, ge=1, le=200),
        page_token: str = Query(default="", max_length=512),
        caller: Caller = reader,
    ) -> dict[str, Any]:
        views, next_token = cases.queue(
            QueueQuery(
                statuses=frozenset(status or ()),
                assignee_id=assignee_id,
                district_code=district_code,
                categories=frozenset(category or ()),
                min_escalation_level=EscalationLevel(min_escalation_level),
                page_size=page_size,
                page_token=page_token,
            ),
            caller,
        )
        now = utc_now()
        return {"grievances": [case_json(v, now) for v in views], "next_page_token": next_token}

    @router.get(":by-reference/{reference}")
    def get_grievance_by_reference(
        reference: Annotated[str, Path(max_length=64)], response: Response, caller: Caller = reader
    ) -> dict[str, Any]:
        view = cases.by_reference(reference, caller)
        response.headers["ETag"] = f'"{view.case.version}"'
        return case_json(view, utc_now())

    @router.get("/{grievance_id}")
    def get_grievance(grievance_id: str, response: Response, caller: Caller = reader) -> dict[str, Any]:
        view = cases.get(grievance_id, caller)
        response.headers["ETag"] = f'"{view.case.version}"'
        return case_json(view, utc_now())

    @router.post("/{grievance_id}:triage")
    def triage(
        grievance_id: str,
        body: TriageBody,
        request: Request,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        changed = cases.triage(
            grievance_id,
            body.facts.facts(),
            caller,
            category=body.category,
            respondent=body.respondent.input() if body.respondent is not None else None,
            worker_id=body.worker_id,
            forwarded=forwarded(request),
            expected_version=body.expected_version,
            idempotency_key=idempotency_key,
        )
        return _answer(changed, response)

    @router.post("/{grievance_id}:override-severity")
    def override_severity(
        grievance_id: str,
        body: OverrideBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        changed = cases.override_severity(
            grievance_id,
            body.severity,
            body.reason,
            caller,
            expected_version=body.expected_version,
            idempotency_key=idempotency_key,
        )
        return _answer(changed, response)

    @router.post("/{grievance_id}:assign")
    def assign(
        grievance_id: str,
        body: AssignBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        changed = cases.assign(
            grievance_id,
            body.assignee_id,
            body.assignee_partner_id,
            caller,
            expected_version=body.expected_version,
            idempotency_key=idempotency_key,
        )
        return _answer(changed, response)

    @router.post("/{grievance_id}:start-work")
    def start_work(
        grievance_id: str,
        response: Response,
        body: VersionBody | None = None,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        version = body.expected_version if body else 0
        return _answer(cases.start_work(grievance_id, caller, expected_version=version, key=idempotency_key), response)

    @router.post("/{grievance_id}:await-complainant")
    def await_complainant(
        grievance_id: str,
        response: Response,
        body: VersionBody | None = None,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        version = body.expected_version if body else 0
        changed = cases.await_complainant(grievance_id, caller, expected_version=version, key=idempotency_key)
        return _answer(changed, response)

    @router.post("/{grievance_id}:resume-work")
    def resume_work(
        grievance_id: str,
        response: Response,
        body: VersionBody | None = None,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        version = body.expected_version if body else 0
        changed = cases.resume_work(grievance_id, caller, expected_version=version, key=idempotency_key)
        return _answer(changed, response)

    @router.post("/{grievance_id}:refer")
    def refer(
        grievance_id: str,
        body: ReferBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        changed = cases.refer(
            grievance_id,
            body.target,
            body.target_partner_id,
            caller,
            expected_version=body.expected_version,
            idempotency_key=idempotency_key,
        )
        return _answer(changed, response)

    for verb, accept in (("accept", True), ("decline", False)):

        def answer(
            grievance_id: str,
            referral_id: str,
            response: Response,
            body: AnswerBody | None = None,
            caller: Caller = writer,
            idempotency_key: IdempotencyHeader = "",
            accept: bool = accept,
        ) -> dict[str, Any]:
            changed = cases.answer_referral(
                grievance_id,
                referral_id,
                accept,
                caller,
                reason=body.reason if body else "",
                idempotency_key=idempotency_key,
            )
            return _answer(changed, response)

        router.add_api_route(
            f"/{{grievance_id}}/referrals/{{referral_id}}:{verb}", answer, methods=["POST"], name=f"{verb}_referral"
        )

    @router.post("/{grievance_id}:escalate")
    def escalate(
        grievance_id: str,
        body: ReasonBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        changed = cases.escalate(
            grievance_id, body.reason, caller, expected_version=body.expected_version, idempotency_key=idempotency_key
        )
        return _answer(changed, response)

    @router.post("/{grievance_id}:resolve")
    def resolve(
        grievance_id: str,
        body: ResolveBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        changed = cases.resolve(
            grievance_id,
            body.outcome,
            body.substantiated,
            body.amount_recovered_paise,
            caller,
            expected_version=body.expected_version,
            idempotency_key=idempotency_key,
        )
        return _answer(changed, response)

    @router.post("/{grievance_id}:reopen")
    def reopen(
        grievance_id: str,
        body: ReasonBody,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        changed = cases.reopen(
            grievance_id, body.reason, caller, expected_version=body.expected_version, idempotency_key=idempotency_key
        )
        return _answer(changed, response)

    @router.post("/{grievance_id}:close")
    def close(
        grievance_id: str,
        response: Response,
        body: VersionBody | None = None,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        version = body.expected_version if body else 0
        return _answer(cases.close(grievance_id, caller, expected_version=version, key=idempotency_key), response)

    @router.post("/{grievance_id}/notes", status_code=201)
    def add_note(
        grievance_id: str, body: NoteBody, caller: Caller = writer, idempotency_key: IdempotencyHeader = ""
    ) -> dict[str, Any]:
        return note_json(
            cases.add_note(grievance_id, body.text, body.audience, caller, idempotency_key=idempotency_key)
        )

    @router.get("/{grievance_id}/notes")
    def list_notes(grievance_id: str, caller: Caller = reader) -> dict[str, Any]:
        return {"notes": [note_json(n) for n in cases.notes(grievance_id, caller)]}

    @router.get("/{grievance_id}/timeline")
    def timeline(grievance_id: str, caller: Caller = reader) -> dict[str, Any]:
        return {"entries": [timeline_json(e) for e in cases.timeline(grievance_id, caller)]}

    return router


def reports_router(intake: IntakeService, reports: ReportService, auth: HttpAuth) -> APIRouter:
    """Reports by anyone (the `public` role too): the answer is the reference and the code, shown once."""
    router = APIRouter(prefix="/v1/reports", tags=["reports"])

    def report_caller(request: Request) -> Caller:
        # Authenticated (and refused) before the body is looked at, as every other route.
        caller = _any_caller(auth, request)
        if Role.EMPLOYER in caller.roles or not (
            Role.PUBLIC in caller.roles or caller.has(Scope.GRIEVANCES_WRITE) or caller.has(Scope.GRIEVANCES_READ)
        ):
            raise PermissionDenied("reports are filed and followed up through a public or a case-handling client")
        return caller

    reporter = Depends(report_caller)

    @router.post("", status_code=201)
    def file_report(
        body: FileReportBody, caller: Caller = reporter, idempotency_key: IdempotencyHeader = ""
    ) -> dict[str, Any]:
        receipt = intake.file_report(
            FileCase(
                category=body.category,
                channel=None,
                summary=body.summary,
                location=body.location.place(),
                subject=body.subject_input(),
                respondent=body.respondent.input() if body.respondent is not None else None,
                reporter=body.reporter.input() if body.reporter is not None else None,
                facts=body.triage_facts(),
                idempotency_key=idempotency_key,
            ),
            caller,
        )
        return {"reference": receipt.reference, "follow_up_code": receipt.follow_up_code}

    @router.get("/{reference}")
    def get_report(
        reference: str, caller: Caller = reporter, follow_up_code: FollowUpCodeHeader = ""
    ) -> dict[str, Any]:
        return report_json(reports.get(reference, follow_up_code, caller))

    @router.post("/{reference}/messages", status_code=201)
    def send_message(
        reference: str,
        body: ReportMessageBody,
        caller: Caller = reporter,
        follow_up_code: FollowUpCodeHeader = "",
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        view = reports.send_message(reference, follow_up_code, body.text, caller, idempotency_key=idempotency_key)
        return report_json(view)

    return router


def _any_caller(auth: HttpAuth, request: Request) -> Caller:
    """The authenticated caller, whatever its scopes (the report use cases check roles themselves): the
    public role holds `aggregates:read`, the helpline's agents `grievances:read`."""
    try:
        return auth.caller(request, Scope.AGGREGATES_READ)
    except PermissionDenied:
        return auth.caller(request, Scope.GRIEVANCES_READ)


def intake_router(intake: IntakeService) -> APIRouter:
    """The IVR/SMS gateways' webhook: no bearer token, a Standard Webhooks signature instead."""
    router = APIRouter(tags=["intake"])

    @router.post(INTAKE_PATH, status_code=201)
    async def receive_message(
        request: Request,
        webhook_id: Annotated[str, Header(alias="webhook-id", max_length=128)] = "",
        webhook_timestamp: Annotated[str, Header(alias="webhook-timestamp", max_length=20)] = "",
        webhook_signature: Annotated[str, Header(alias="webhook-signature", max_length=2048)] = "",
    ) -> dict[str, Any]:
        body = await request.body()
        receipt = await _in_thread(
            intake.receive_message, Delivery(body, webhook_id, webhook_timestamp, webhook_signature)
        )
        return {"reference": receipt.reference, "follow_up_code": receipt.follow_up_code}

    return router


async def _in_thread(function: Any, *args: Any) -> Any:
    return await run_in_threadpool(function, *args)


def traces_router(traces: TraceService, auth: HttpAuth) -> APIRouter:
    router = APIRouter(prefix="/v1/traces", tags=["traces"])
    writer = auth.requires(Scope.GRIEVANCES_WRITE)
    reader = auth.requires(Scope.GRIEVANCES_READ)

    @router.post("", status_code=201)
    def open_trace(
        body: OpenTraceBody,
        request: Request,
        response: Response,
        caller: Caller = writer,
        idempotency_key: IdempotencyHeader = "",
    ) -> dict[str, Any]:
        missing = body.missing
        opened = traces.open(
            OpenTrace(
                missing=SubjectInput(
                    worker_id=missing.worker_id,
                    person=missing.person.input() if missing.person is not None else None,
                    worker_field="missing.worker_id",
                ),
                last_known_place=body.last_known_place.place(),
                last_known_on=body.last_known_on,
                minor=body.minor,
                destination=body.destination.place() if body.destination is not None else None,
                respondent=body.respondent.input() if body.respondent is not None else None,
                contacts=tuple(c.input() for c in body.contacts),
                description=body.description,
                grievance_id=body.grievance_id,
                migration_episode_id=body.migration_episode_id,
                idempotency_key=idempotency_key,
            ),
            caller,
            forwarded(request),
        )
        response.headers["Location"] = f"/v1/traces/{opened.view.trace.trace_id}"
        if not opened.created:
            response.headers["Idempotent-Replayed"] = "true"
        return trace_json(opened.view)

    @router.get("/{trace_id}")
    def get_trace(trace_id: str, caller: Caller = reader) -> dict[str, Any]:
        return trace_json(traces.get(trace_id, caller))

    @router.post("/{trace_id}/sightings", status_code=201)
    def record_sighting(
        trace_id: str, body: SightingBody, caller: Caller = writer, idempotency_key: IdempotencyHeader = ""
    ) -> dict[str, Any]:
        view = traces.record_sighting(
            trace_id, body.seen_at, body.place.place(), body.details, caller, idempotency_key=idempotency_key
        )
        return trace_json(view)

    @router.post("/{trace_id}:close")
    def close_trace(trace_id: str, body: CloseTraceBody, caller: Caller = writer) -> dict[str, Any]:
        return trace_json(traces.close(trace_id, body.outcome, caller, expected_version=body.expected_version))

    return router


def statistics_router(statistics: StatisticsService, auth: HttpAuth) -> APIRouter:
    router = APIRouter(tags=["statistics"])

    @router.get("/v1/statistics/grievances")
    def grievance_statistics(
        state_code: str = Query(default="", pattern=r"^(\d{1,3})?$"),
        district_code: str = Query(default="", pattern=r"^(\d{1,4})?$"),
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
        caller: Caller = auth.requires(Scope.AGGREGATES_READ),
    ) -> dict[str, Any]:
        result = statistics.grievances(
            caller, state_code=state_code, district_code=district_code, filed_from=filed_from, filed_to=filed_to
        )

        def cells(counts: Any) -> dict[str, Any]:
            return {
                "cells": [
                    {"key": str(k), "count": v} for k, v in sorted(counts.cells.items(), key=lambda kv: str(kv[0]))
                ],
                "total": counts.total,
            }

        return {
            "by_district": cells(result.by_district),
            "by_category": cells(result.by_category),
            "by_status": cells(result.by_status),
            "median_hours_to_resolution": result.median_hours_to_resolution,
            "sla_breach_rate": result.sla_breach_rate,
            "min_cell_size": result.min_cell_size,
        }

    return router
