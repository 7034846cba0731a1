"""Every role against every sensitive endpoint of every service, over REST and gRPC.

The expectation table is written out by hand (not derived from the role definitions) so a change
to what a role may do shows up here as a deliberate edit. "Allowed" calls use a missing record or an
empty body, so they answer 404/422 (NOT_FOUND/INVALID_ARGUMENT) without creating anything; "denied"
calls must answer 403/PERMISSION_DENIED whatever the record, and no token at all 401/UNAUTHENTICATED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from mrc.access.v1 import access_service_pb2 as access_pb
from mrc.access.v1 import access_service_pb2_grpc as access_grpc
from mrc.employer.v1 import compliance_service_pb2 as compliance_pb
from mrc.employer.v1 import compliance_service_pb2_grpc as compliance_grpc
from mrc.employer.v1 import employer_service_pb2 as employer_pb
from mrc.employer.v1 import employer_service_pb2_grpc as employer_grpc
from mrc.employer.v1 import verification_service_pb2 as verification_pb
from mrc.employer.v1 import verification_service_pb2_grpc as verification_grpc
from mrc.entitlements.v1 import entitlements_service_pb2 as ent_pb
from mrc.entitlements.v1 import entitlements_service_pb2_grpc as ent_grpc
from mrc.grievance.v1 import grievance_service_pb2 as grievance_pb
from mrc.grievance.v1 import grievance_service_pb2_grpc as grievance_grpc
from mrc.registry.v1 import households_service_pb2 as households_pb
from mrc.registry.v1 import households_service_pb2_grpc as households_grpc
from mrc.registry.v1 import registry_service_pb2 as registry_pb
from mrc.registry.v1 import registry_service_pb2_grpc as registry_grpc
from tests.support.access import Actor

pytestmark = pytest.mark.e2e

ROLES = (
    "registrar",
    "caseworker",
    "supervisor",
    "helpline_agent",
    "government",
    "employer",
    "auditor",
    "operator",
    "public",
)
MISSING = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Endpoint:
    name: str
    service: str
    allowed: frozenset[str]
    rest: tuple[str, str, dict[str, Any] | None]  # method, path, JSON body
    grpc: Callable[[grpc.Channel, list[tuple[str, str]]], Any] | None = None  # None: REST only


def _allow(*roles: str) -> frozenset[str]:
    assert set(roles) <= set(ROLES)
    return frozenset(roles)


REGISTRY_WRITERS = _allow("registrar", "caseworker", "supervisor", "government")
CASE_HANDLERS = _allow("caseworker", "supervisor", "helpline_agent", "government")
# Organisations and their compliance: employers:read, and auditors (audit:read) in their state.
EMPLOYER_READERS = _allow(
    "registrar", "caseworker", "supervisor", "helpline_agent", "government", "employer", "auditor", "operator"
)

ENDPOINTS = [
    Endpoint(
        "register worker",
        "registry",
        REGISTRY_WRITERS,
        ("POST", "/v1/workers", {}),
        lambda ch, md: registry_grpc.RegistryServiceStub(ch).RegisterWorker(
            registry_pb.RegisterWorkerRequest(), metadata=md
        ),
    ),
    Endpoint(
        "read worker",
        "registry",
        REGISTRY_WRITERS,
        ("GET", f"/v1/workers/{MISSING}", None),
        lambda ch, md: registry_grpc.RegistryServiceStub(ch).GetWorker(
            registry_pb.GetWorkerRequest(worker_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "search workers",
        "registry",
        REGISTRY_WRITERS,
        ("POST", "/v1/workers:search", {}),
        lambda ch, md: registry_grpc.RegistryServiceStub(ch).SearchWorkers(
            registry_pb.SearchWorkersRequest(), metadata=md
        ),
    ),
    Endpoint(
        "erase worker",
        "registry",
        _allow("supervisor"),
        ("POST", f"/v1/workers/{MISSING}:erase", {"reason": "request by the worker"}),
        lambda ch, md: registry_grpc.RegistryServiceStub(ch).EraseWorker(
            registry_pb.EraseWorkerRequest(worker_id=MISSING, reason="request by the worker"), metadata=md
        ),
    ),
    Endpoint(
        "update worker",
        "registry",
        REGISTRY_WRITERS,
        ("PATCH", f"/v1/workers/{MISSING}", {"occupation": "mason"}),
        lambda ch, md: registry_grpc.RegistryServiceStub(ch).UpdateWorker(
            registry_pb.UpdateWorkerRequest(worker_id=MISSING, update_mask=FieldMask(paths=["occupation"])),
            metadata=md,
        ),
    ),
    Endpoint(
        "grant consent",
        "registry",
        REGISTRY_WRITERS,
        ("POST", f"/v1/workers/{MISSING}/consents", {}),
        lambda ch, md: registry_grpc.RegistryServiceStub(ch).GrantConsent(
            registry_pb.GrantConsentRequest(worker_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "request erasure",
        "registry",
        REGISTRY_WRITERS,
        ("POST", f"/v1/workers/{MISSING}/erasure-requests", {"reason": "request by the worker"}),
    ),
    Endpoint("list match reviews", "registry", _allow("supervisor"), ("GET", "/v1/match-reviews", None)),
    Endpoint(
        "create household",
        "registry",
        REGISTRY_WRITERS,
        ("POST", "/v1/households", {}),
        lambda ch, md: households_grpc.HouseholdsServiceStub(ch).CreateHousehold(
            households_pb.CreateHouseholdRequest(), metadata=md
        ),
    ),
    Endpoint(
        "read household",
        "registry",
        REGISTRY_WRITERS,
        ("GET", f"/v1/households/{MISSING}", None),
        lambda ch, md: households_grpc.HouseholdsServiceStub(ch).GetHousehold(
            households_pb.GetHouseholdRequest(household_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "list migrations",
        "registry",
        REGISTRY_WRITERS,
        ("GET", f"/v1/workers/{MISSING}/migrations", None),
        lambda ch, md: households_grpc.HouseholdsServiceStub(ch).ListMigrations(
            households_pb.ListMigrationsRequest(worker_id=MISSING), metadata=md
        ),
    ),
    Endpoint("read import", "registry", REGISTRY_WRITERS, ("GET", f"/v1/imports/{MISSING}", None)),
    Endpoint(
        "worker statistics",
        "registry",
        _allow("caseworker", "supervisor", "government", "auditor", "operator", "public"),
        ("GET", "/v1/statistics/workers?group_by=gender", None),
    ),
    Endpoint(
        "read eligibility",
        "entitlements",
        _allow("registrar", "caseworker", "supervisor", "government"),
        ("GET", f"/v1/eligibility/{MISSING}", None),
        lambda ch, md: ent_grpc.EntitlementsServiceStub(ch).GetEligibility(
            ent_pb.GetEligibilityRequest(worker_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "read application",
        "entitlements",
        _allow("registrar", "caseworker", "supervisor", "government"),
        ("GET", f"/v1/applications/{MISSING}", None),
        lambda ch, md: ent_grpc.EntitlementsServiceStub(ch).GetApplication(
            ent_pb.GetApplicationRequest(application_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "create application",
        "entitlements",
        REGISTRY_WRITERS,
        ("POST", "/v1/applications", {}),
        lambda ch, md: ent_grpc.EntitlementsServiceStub(ch).CreateApplication(
            ent_pb.CreateApplicationRequest(), metadata=md
        ),
    ),
    Endpoint(
        "publish rule version",
        "entitlements",
        _allow("operator"),
        ("POST", f"/v1/schemes/{MISSING}/versions/1:publish", None),
        lambda ch, md: ent_grpc.EntitlementsServiceStub(ch).PublishRuleVersion(
            ent_pb.PublishRuleVersionRequest(scheme_code=MISSING, version=1), metadata=md
        ),
    ),
    Endpoint(
        "entitlement funnel",
        "entitlements",
        _allow("caseworker", "supervisor", "government", "auditor", "operator", "public"),
        ("GET", "/v1/statistics/funnel", None),
        lambda ch, md: ent_grpc.EntitlementsServiceStub(ch).GetFunnel(ent_pb.GetFunnelRequest(), metadata=md),
    ),
    Endpoint(
        "file grievance",
        "grievance",
        CASE_HANDLERS,
        ("POST", "/v1/grievances", {}),
        lambda ch, md: grievance_grpc.GrievanceServiceStub(ch).FileGrievance(
            grievance_pb.FileGrievanceRequest(), metadata=md
        ),
    ),
    Endpoint(
        "read grievance",
        "grievance",
        CASE_HANDLERS,
        ("GET", f"/v1/grievances/{MISSING}", None),
        lambda ch, md: grievance_grpc.GrievanceServiceStub(ch).GetGrievance(
            grievance_pb.GetGrievanceRequest(grievance_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "grievance queue",
        "grievance",
        CASE_HANDLERS,
        ("GET", "/v1/grievances", None),
        lambda ch, md: grievance_grpc.GrievanceServiceStub(ch).ListGrievances(
            grievance_pb.ListGrievancesRequest(), metadata=md
        ),
    ),
    Endpoint(
        "grievance notes",
        "grievance",
        CASE_HANDLERS,
        ("GET", f"/v1/grievances/{MISSING}/notes", None),
        lambda ch, md: grievance_grpc.GrievanceServiceStub(ch).ListNotes(
            grievance_pb.ListNotesRequest(grievance_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "triage grievance",
        "grievance",
        CASE_HANDLERS,
        ("POST", f"/v1/grievances/{MISSING}:triage", {}),
        lambda ch, md: grievance_grpc.GrievanceServiceStub(ch).TriageGrievance(
            grievance_pb.TriageGrievanceRequest(grievance_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "file grievance report",
        "grievance",
        CASE_HANDLERS | _allow("public"),
        ("POST", "/v1/reports", {}),
        lambda ch, md: grievance_grpc.GrievanceServiceStub(ch).FileReport(
            grievance_pb.FileReportRequest(), metadata=md
        ),
    ),
    Endpoint(
        "grievance statistics",
        "grievance",
        _allow("caseworker", "supervisor", "government", "auditor", "operator", "public"),
        ("GET", "/v1/statistics/grievances", None),
        lambda ch, md: grievance_grpc.GrievanceServiceStub(ch).GetGrievanceStatistics(
            grievance_pb.GetGrievanceStatisticsRequest(), metadata=md
        ),
    ),
    Endpoint(
        "register employer",
        "employer",
        _allow("employer", "operator"),
        ("POST", "/v1/employers", {}),
        lambda ch, md: employer_grpc.EmployerServiceStub(ch).RegisterEmployer(
            employer_pb.RegisterEmployerRequest(), metadata=md
        ),
    ),
    Endpoint(
        "read employer",
        "employer",
        EMPLOYER_READERS,
        ("GET", f"/v1/employers/{MISSING}", None),
        lambda ch, md: employer_grpc.EmployerServiceStub(ch).GetEmployer(
            employer_pb.GetEmployerRequest(employer_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "record wage payment",
        "employer",
        _allow("caseworker", "supervisor", "helpline_agent", "government", "employer", "operator"),
        ("POST", f"/v1/employers/{MISSING}/wage-records", {}),
        lambda ch, md: compliance_grpc.ComplianceServiceStub(ch).RecordWagePayment(
            compliance_pb.RecordWagePaymentRequest(employer_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "read employer compliance",
        "employer",
        EMPLOYER_READERS,
        ("GET", f"/v1/employers/{MISSING}/compliance", None),
        lambda ch, md: compliance_grpc.ComplianceServiceStub(ch).GetCompliance(
            compliance_pb.GetComplianceRequest(employer_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "verify licence",
        "employer",
        _allow(*ROLES),
        ("GET", f"/v1/verify/{MISSING}", None),
        lambda ch, md: verification_grpc.VerificationServiceStub(ch).VerifyIdentifier(
            verification_pb.VerifyIdentifierRequest(identifier=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "read audit trail",
        "access",
        _allow("auditor", "operator"),
        ("GET", f"/v1/audit-records?resource_id={MISSING}", None),
        lambda ch, md: access_grpc.AccessServiceStub(ch).ListAccessRecords(
            access_pb.ListAccessRecordsRequest(resource_id=MISSING), metadata=md
        ),
    ),
    Endpoint(
        "create partner",
        "access",
        _allow("operator"),
        ("POST", "/v1/partners", {}),
        lambda ch, md: access_grpc.AccessServiceStub(ch).CreatePartner(access_pb.CreatePartnerRequest(), metadata=md),
    ),
]

CASES = [(endpoint, role) for endpoint in ENDPOINTS for role in ROLES]
GRPC_CASES = [(endpoint, role) for endpoint, role in CASES if endpoint.grpc is not None]


def _rest(http: httpx.Client, endpoint: Endpoint, headers: dict[str, str]) -> httpx.Response:
    method, path, body = endpoint.rest
    return http.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e.name}-{r}" for e, r in CASES])
def test_rest_access(endpoint: Endpoint, role: str, http: dict[str, httpx.Client], actors: dict[str, Actor]) -> None:
    response = _rest(http[endpoint.service], endpoint, actors[role].headers())
    if role in endpoint.allowed:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("endpoint", "role"), GRPC_CASES, ids=[f"{e.name}-{r}" for e, r in GRPC_CASES])
def test_grpc_access(
    endpoint: Endpoint, role: str, channels: dict[str, grpc.Channel], actors: dict[str, Actor]
) -> None:
    assert endpoint.grpc is not None
    try:
        endpoint.grpc(channels[endpoint.service], actors[role].metadata())
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()
    if role in endpoint.allowed:
        assert code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
        assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE)
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_no_token_is_unauthenticated(
    endpoint: Endpoint, http: dict[str, httpx.Client], channels: dict[str, grpc.Channel]
) -> None:
    response = _rest(http[endpoint.service], endpoint, {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    if endpoint.grpc is None:
        return
    with pytest.raises(grpc.RpcError) as error:
        endpoint.grpc(channels[endpoint.service], [])
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
