"""REST: the cases and missing-person traces other states forward about this state's workers (cross-state
federation), read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mrc_geography.lgd import lgd
from mrc_grievance.entrypoints.http_api import forwarded
from mrc_grievance.service_layer.federation import (
    ForwardedCaseReads,
    ForwardedCaseView,
    ForwardedTraceReads,
    ForwardedTraceView,
)
from mrc_kernel.caller import Caller
from mrc_kernel.place import Place
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth


def _json(view: ForwardedCaseView) -> dict[str, Any]:
    case = view.case
    state = lgd().states.get(case.handling_state_code)
    return {
        "grievance_id": case.grievance_id,
        # The state whose partners handle the case: changes happen there, never here.
        "handling_state_code": case.handling_state_code,
        "handling_state_name": state.name if state else "",
        "read_only": True,
        "worker_id": case.worker_id,
        "category": case.category.value,
        "severity": case.severity.value,
        "status": case.status.value,
        "escalation_level": case.escalation_level,
        "location": {"state_code": case.state_code, "district_code": case.district_code},
        "filing_partner_id": case.filing_partner_id,
        "account": view.account,
        "version": case.version,
        "occurred_at": case.occurred_at.isoformat() if case.occurred_at else None,
    }


def _place(place: Place | None) -> dict[str, str] | None:
    return {"state_code": place.state_code, "district_code": place.district_code} if place is not None else None


def _trace_json(view: ForwardedTraceView) -> dict[str, Any]:
    trace = view.trace
    state = lgd().states.get(trace.handling_state_code)
    return {
        "trace_id": trace.trace_id,
        # The state whose partners handle the trace: sightings and closing happen there, never here.
        "handling_state_code": trace.handling_state_code,
        "handling_state_name": state.name if state else "",
        "read_only": True,
        "worker_id": trace.worker_id,
        "minor": trace.minor,
        "status": trace.status.value,
        "last_known_place": _place(trace.last_known_place),
        "last_known_on": trace.last_known_on,
        "destination": _place(trace.destination),
        "employer_id": trace.employer_id,
        "grievance_id": trace.grievance_id,
        "filing_partner_id": trace.filing_partner_id,
        "description": view.description,
        "sighting_count": trace.sighting_count,
        "last_seen_at": trace.last_seen_at.isoformat() if trace.last_seen_at else None,
        "last_seen_place": _place(trace.last_seen_place),
        "version": trace.version,
        "occurred_at": trace.occurred_at.isoformat() if trace.occurred_at else None,
    }


def forwarded_router(reads: ForwardedCaseReads, trace_reads: ForwardedTraceReads, auth: HttpAuth) -> APIRouter:
    router = APIRouter(tags=["federation"])
    reader = auth.requires(Scope.GRIEVANCES_READ)

    @router.get("/v1/workers/{worker_id}/forwarded-grievances")
    def forwarded_grievances(worker_id: str, request: Request, caller: Caller = reader) -> dict[str, Any]:
        """Grievances other states handle about this worker, for partners who reach the worker (purpose
        grievance_follow_up); read-only, each marked with the state that handles it."""
        found = reads.about_worker(worker_id[:65], caller, forwarded(request))
        return {"worker_id": worker_id[:64], "grievances": [_json(v) for v in found]}

    @router.get("/v1/workers/{worker_id}/forwarded-traces")
    def forwarded_traces(worker_id: str, request: Request, caller: Caller = reader) -> dict[str, Any]:
        """Missing-person traces other states handle about this worker, for partners who reach the worker
        (purpose grievance_follow_up); read-only, each marked with the state that handles it."""
        found = trace_reads.about_worker(worker_id[:65], caller, forwarded(request))
        return {"worker_id": worker_id[:64], "traces": [_trace_json(v) for v in found]}

    return router
