"""The gRPC services of mrc.employer.v1 through a real in-process server with the shared interceptor: the same
use cases and access policy as REST, the status codes clients see, and no input echoed in errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import pytest

from mrc.common.v1 import common_pb2
from mrc.employer.v1 import (
    compliance_pb2,
    compliance_service_pb2,
    compliance_service_pb2_grpc,
    employer_details_service_pb2,
    employer_details_service_pb2_grpc,
    employer_pb2,
    employer_service_pb2,
    employer_service_pb2_grpc,
    minimum_wages_service_pb2,
    minimum_wages_service_pb2_grpc,
    verification_service_pb2,
    verification_service_pb2_grpc,
    worksite_pb2,
)
from mrc_employer.entrypoints.grpc_api import (
    ComplianceServicer,
    EmployerDetailsServicer,
    EmployerServicer,
    MinimumWagesServicer,
    VerificationServicer,
)
from mrc_plumbing.auth.rate_limit import RateLimiter
from tests.support.auth import grpc_auth, grpc_metadata, role_tokens, serve_grpc

from .fakes import BRICK_CO, EMPLOYER, RELIANCE_GSTIN, Service, make_service
from .test_wage_registers import register_csv


@pytest.fixture
def served() -> Iterator[tuple[grpc.Channel, Service]]:
    service = make_service()
    auth = grpc_auth(role_tokens(employer=EMPLOYER))

    def register(server: grpc.Server) -> None:
        employer_service_pb2_grpc.add_EmployerServiceServicer_to_server(
            EmployerServicer(service.organisations, auth), server
        )
        employer_details_service_pb2_grpc.add_EmployerDetailsServiceServicer_to_server(
            EmployerDetailsServicer(service.organisations, auth), server
        )
        compliance_service_pb2_grpc.add_ComplianceServiceServicer_to_server(
            ComplianceServicer(service.compliance, service.importer, auth), server
        )
        minimum_wages_service_pb2_grpc.add_MinimumWagesServiceServicer_to_server(
            MinimumWagesServicer(service.minimum_wages, auth), server
        )
        verification_service_pb2_grpc.add_VerificationServiceServicer_to_server(
            VerificationServicer(service.verification, auth, RateLimiter(0, 0), RateLimiter(0, 0)), server
        )

    with serve_grpc(register) as channel:
        yield channel, service


def register_request(**overrides: object) -> employer_service_pb2.RegisterEmployerRequest:
    values: dict[str, object] = {
        "idempotency_key": "own",
        "legal_name": "Kaveri Constructions Pvt Ltd",
        "roles": [employer_pb2.ORGANISATION_ROLE_CONTRACTOR],
        "sector": "construction",
        "location": common_pb2.LgdLocation(state_code="10", district_code="188"),
        "identifiers": [
            employer_pb2.OrganisationIdentifier(kind=employer_pb2.IDENTIFIER_KIND_GSTIN, value=RELIANCE_GSTIN)
        ],
    }
    values.update(overrides)
    return employer_service_pb2.RegisterEmployerRequest(**values)  # type: ignore[arg-type]


def code_of(call: object) -> grpc.StatusCode:
    try:
        call()  # type: ignore[operator]
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def own_site(channel: grpc.Channel) -> str:
    employers = employer_service_pb2_grpc.EmployerServiceStub(channel)
    employers.RegisterEmployer(register_request(), metadata=grpc_metadata("employer"))
    details = employer_details_service_pb2_grpc.EmployerDetailsServiceStub(channel)
    added = details.AddWorksite(
        employer_details_service_pb2.AddWorksiteRequest(
            idempotency_key="s",
            employer_id=BRICK_CO,
            kind=worksite_pb2.WORKSITE_KIND_CONSTRUCTION_SITE,
            sector="construction",
            location=common_pb2.LgdLocation(state_code="7", district_code="79"),
            wage_basis=worksite_pb2.WageBasis(
                sphere=worksite_pb2.WAGE_SPHERE_CENTRAL, scheduled_employment="construction", area="a"
            ),
        ),
        metadata=grpc_metadata("employer"),
    )
    return added.worksite.worksite_id


def test_register_and_read_with_the_same_access_rules_as_rest(served: tuple[grpc.Channel, Service]) -> None:
    channel, _ = served
    employers = employer_service_pb2_grpc.EmployerServiceStub(channel)
    created = employers.RegisterEmployer(register_request(), metadata=grpc_metadata("employer"))
    assert created.employer.employer_id == BRICK_CO
    assert created.employer.kind == employer_pb2.EMPLOYER_KIND_CONTRACTOR

    read = employers.GetEmployer(
        employer_service_pb2.GetEmployerRequest(employer_id=BRICK_CO), metadata=grpc_metadata("auditor")
    )
    assert read.employer.legal_name == "Kaveri Constructions Pvt Ltd" and not read.risk_flag.raised
    assert code_of(lambda: employers.RegisterEmployer(register_request(), metadata=grpc_metadata("caseworker"))) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert code_of(lambda: employers.GetEmployer(employer_service_pb2.GetEmployerRequest(employer_id=BRICK_CO))) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert (
        code_of(
            lambda: employers.GetEmployer(
                employer_service_pb2.GetEmployerRequest(employer_id=BRICK_CO), metadata=grpc_metadata("public")
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )


def test_errors_never_echo_the_input(served: tuple[grpc.Channel, Service]) -> None:
    channel, _ = served
    employers = employer_service_pb2_grpc.EmployerServiceStub(channel)
    for employer_id in ("x" * 1024, "no-such-organisation"):
        with pytest.raises(grpc.RpcError) as caught:
            employers.GetEmployer(
                employer_service_pb2.GetEmployerRequest(employer_id=employer_id), metadata=grpc_metadata("operator")
            )
        assert caught.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
        assert employer_id not in (caught.value.details() or "")


def test_the_reference_check_for_the_grievance_service(served: tuple[grpc.Channel, Service]) -> None:
    channel, _ = served
    own_site(channel)
    details = employer_details_service_pb2_grpc.EmployerDetailsServiceStub(channel)
    found = details.CheckEmployerReference(
        employer_details_service_pb2.CheckEmployerReferenceRequest(employer_id=BRICK_CO),
        metadata=grpc_metadata("helpline_agent"),
    )
    assert (found.employer_id, found.state_code, list(found.roles)) == (
        BRICK_CO,
        "10",
        [employer_pb2.ORGANISATION_ROLE_CONTRACTOR],
    )
    missing = employer_details_service_pb2.CheckEmployerReferenceRequest(employer_id="missing")
    assert code_of(lambda: details.CheckEmployerReference(missing, metadata=grpc_metadata("helpline_agent"))) == (
        grpc.StatusCode.NOT_FOUND
    )


def test_records_and_the_compliance_view(served: tuple[grpc.Channel, Service]) -> None:
    channel, service = served
    site = own_site(channel)
    compliance = compliance_service_pb2_grpc.ComplianceServiceStub(channel)
    recorded = compliance.RecordWagePayment(
        compliance_service_pb2.RecordWagePaymentRequest(
            idempotency_key="w",
            employer_id=BRICK_CO,
            payment=compliance_pb2.WagePaymentInput(
                worker=compliance_pb2.WorkerReference(employer_worker_code="EMP-1"),
                worksite_id=site,
                period_start="2024-11-01",
                period_end="2024-11-30",
                days_worked="26",
                amount_paid_inr="13000",
                skill_category="unskilled",
            ),
        ),
        metadata=grpc_metadata("employer"),
    )
    assert recorded.wage_payment.assessment.outcome == compliance_pb2.ASSESSMENT_OUTCOME_BELOW_MINIMUM
    finding = compliance.RecordFinding(
        compliance_service_pb2.RecordFindingRequest(
            idempotency_key="f",
            employer_id=BRICK_CO,
            working_conditions=compliance_pb2.WorkingConditionsCheck(
                worksite_id=site,
                observed_on="2025-01-05",
                workers_covered=10,
                free_to_leave=compliance_pb2.OBSERVATION_NO,
            ),
        ),
        metadata=grpc_metadata("operator"),
    )
    assert list(finding.working_conditions.breaches) == [compliance_pb2.CONDITION_BREACH_NOT_FREE_TO_LEAVE]
    service.relay()
    view = compliance.GetCompliance(
        compliance_service_pb2.GetComplianceRequest(employer_id=BRICK_CO), metadata=grpc_metadata("employer")
    )
    assert float(view.score.value) < 100 and view.grievances_delayed_days == 30
    assert {e.kind for e in view.history} == {
        compliance_pb2.HISTORY_ENTRY_KIND_WAGE_SHORTFALL,
        compliance_pb2.HISTORY_ENTRY_KIND_CONDITION_BREACH,
    }


def test_a_wage_register_over_grpc(served: tuple[grpc.Channel, Service]) -> None:
    channel, _ = served
    site = own_site(channel)
    compliance = compliance_service_pb2_grpc.ComplianceServiceStub(channel)
    started = compliance.StartWageRegisterImport(
        compliance_service_pb2.StartWageRegisterImportRequest(file_name="r.csv", content=register_csv(site)),
        metadata=grpc_metadata("employer"),
    )
    request = compliance_service_pb2.GetWageRegisterImportRequest(job_id=started.job.job_id)
    for _ in range(100):
        job = compliance.GetWageRegisterImport(request, metadata=grpc_metadata("employer"))
        if job.job.status != compliance_service_pb2.IMPORT_STATUS_RUNNING:
            break
        time.sleep(0.05)
    assert job.job.status == compliance_service_pb2.IMPORT_STATUS_COMPLETED
    assert (job.job.rows_stored, job.job.rows_refused) == (2, 3)
    assert {e.column for e in job.errors} >= {"worker_code", "row_key"}


def test_minimum_wages_and_the_verification(served: tuple[grpc.Channel, Service]) -> None:
    channel, _ = served
    own_site(channel)
    table = minimum_wages_service_pb2_grpc.MinimumWagesServiceStub(channel)
    listing = table.ListMinimumWages(
        minimum_wages_service_pb2.ListMinimumWagesRequest(
            sphere=worksite_pb2.WAGE_SPHERE_CENTRAL, page=common_pb2.PageRequest(page_size=4)
        ),
        metadata=grpc_metadata("public"),
    )
    assert len(listing.rates) == 4 and listing.page.next_page_token
    assert all(r.sphere == worksite_pb2.WAGE_SPHERE_CENTRAL for r in listing.rates)
    add = minimum_wages_service_pb2.AddMinimumWageRateRequest()
    assert code_of(lambda: table.AddMinimumWageRate(add, metadata=grpc_metadata("employer"))) == (
        grpc.StatusCode.PERMISSION_DENIED
    )

    verification = verification_service_pb2_grpc.VerificationServiceStub(channel)
    answer = verification.VerifyIdentifier(
        verification_service_pb2.VerifyIdentifierRequest(identifier=RELIANCE_GSTIN), metadata=grpc_metadata("public")
    )
    # A contractor without a licence on record: found, but not in good standing.
    assert answer.found and answer.needs_licence and not answer.licensed and not answer.in_good_standing
    assert answer.holder_name == "Kaveri Constructions Pvt Ltd"
