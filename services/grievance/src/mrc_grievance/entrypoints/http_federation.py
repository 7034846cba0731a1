"""REST: the cases other states forward about this state's workers (cross-state federation), read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mrc_geography.lgd import lgd
from mrc_grievance.entrypoints.http_api import forwarded
from mrc_grievance.service_layer.federation import ForwardedCaseReads, ForwardedCaseView
from mrc_kernel.caller import Caller
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


def forwarded_router(reads: ForwardedCaseReads, auth: HttpAuth) -> APIRouter:
    router = APIRouter(tags=["federation"])
    reader = auth.requires(Scope.GRIEVANCES_READ)

    @router.get("/v1/workers/{worker_id}/forwarded-grievances")
    def forwarded_grievances(worker_id: str, request: Request, caller: Caller = reader) -> dict[str, Any]:
        """Grievances other states handle about this worker, for partners who reach the worker (purpose
        grievance_follow_up); read-only, each marked with the state that handles it."""
        found = reads.about_worker(worker_id[:65], caller, forwarded(request))
        return {"worker_id": worker_id[:64], "grievances": [_json(v) for v in found]}

    return router
