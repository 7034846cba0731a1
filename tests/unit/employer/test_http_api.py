"""The REST API over the real use cases and adapters: who may call what (401/403/404 as problem+json), the
paths the issue names, idempotent creates, the wage-register upload, the verification's rate limit, and the
OpenAPI document's security scheme and problem responses."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrc_employer.entrypoints.http_employers import employers_router
from mrc_employer.entrypoints.http_tables import minimum_wages_router, verification_router
from mrc_employer.entrypoints.http_wage_registers import MAX_UPLOAD_BYTES, WAGE_REGISTERS_PATH, wage_registers_router
from mrc_kernel.roles import Role
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from tests.support.auth import bearer, http_auth, role_tokens

from .fakes import BRICK_CO, EMPLOYER, RELIANCE_GSTIN, Service, make_service
from .test_wage_registers import register_csv


@dataclasses.dataclass
class Api:
    http: TestClient
    service: Service


def make_api(*, verify_limit: RateLimiter | None = None) -> Api:
    service = make_service()
    verifier = role_tokens(employer=EMPLOYER)
    auth = http_auth(verifier)
    app = create_http_app(
        service="employer", title="MRC Employer", body_limits_by_path={WAGE_REGISTERS_PATH: MAX_UPLOAD_BYTES}
    )
    app.include_router(employers_router(service.organisations, service.compliance, auth))
    app.include_router(wage_registers_router(service.importer, auth))
    app.include_router(minimum_wages_router(service.minimum_wages, auth))
    limit = verify_limit or RateLimiter(0, 0)
    app.include_router(verification_router(service.verification, auth, limit, limit))
    return Api(TestClient(app), service)


def organisation_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "legal_name": "Kaveri Constructions Pvt Ltd",
        "roles": ["contractor"],
        "sector": "construction",
        "location": {"state_code": "10", "district_code": "188", "subdistrict_code": "1116"},
        "identifiers": [{"kind": "gstin", "value": RELIANCE_GSTIN}],
        "licences": [
            {
                "kind": "osh_contractor",
                "number": "OSH/BR/2024/0042",
                "issuing_authority": "Labour Commissioner, Bihar",
                "valid_from": "2024-01-01",
                "valid_until": "2028-12-31",
                "issuing_state_code": "10",
            }
        ],
    }
    body.update(overrides)
    return body


def worksite_body() -> dict[str, Any]:
    return {
        "kind": "construction_site",
        "sector": "construction",
        "location": {"state_code": "7", "district_code": "79"},
        "wage_basis": {"sphere": "central", "scheduled_employment": "construction", "area": "a"},
        "name": "Metro depot block C",
    }


def wage_body(site: str, amount: str | int = "13000") -> dict[str, Any]:
    return {
        "worker": {"employer_worker_code": "EMP-0001"},
        "worksite_id": site,
        "period_start": "2024-11-01",
        "period_end": "2024-11-30",
        "days_worked": 26,
        "amount_paid": amount,
        "skill_category": "unskilled",
    }


def own_employer(api: Api) -> str:
    response = api.http.post(
        "/v1/employers", json=organisation_body(), headers={**bearer("employer"), "Idempotency-Key": "own"}
    )
    assert response.status_code in (200, 201), response.text
    site = api.http.post(
        f"/v1/employers/{BRICK_CO}/worksites",
        json=worksite_body(),
        headers={**bearer("employer"), "Idempotency-Key": "s"},
    )
    assert site.status_code in (200, 201), site.text
    return str(site.json()["worksite_id"])


# Role -> (register, read brick-co, record a wage for brick-co, read its compliance). Written out by hand.
EXPECTED = {
    Role.REGISTRAR: (403, 200, 403, 200),
    Role.CASEWORKER: (403, 200, 201, 200),
    Role.SUPERVISOR: (403, 200, 201, 200),
    Role.HELPLINE_AGENT: (403, 200, 201, 200),
    Role.EMPLOYER: (409, 200, 201, 200),  # it registered its one organisation already
    Role.AUDITOR: (403, 200, 403, 200),
    Role.OPERATOR: (201, 200, 201, 200),
    Role.PUBLIC: (403, 403, 403, 403),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_the_table_says(role: Role) -> None:
    api = make_api()
    site = own_employer(api)
    register, read, record, compliance = EXPECTED[role]
    token = role.value
    headers = bearer(token)

    registered = api.http.post("/v1/employers", json=organisation_body(identifiers=[], licences=[]), headers=headers)
    assert registered.status_code == register, registered.text
    assert api.http.get(f"/v1/employers/{BRICK_CO}", headers=headers).status_code == read
    wage = api.http.post(
        f"/v1/employers/{BRICK_CO}/wage-records",
        json=wage_body(site),
        headers={**headers, "Idempotency-Key": "w"},
    )
    assert wage.status_code == record, wage.text
    assert api.http.get(f"/v1/employers/{BRICK_CO}/compliance", headers=headers).status_code == compliance


def test_errors_are_problem_json_and_out_of_reach_is_a_plain_404() -> None:
    api = make_api()
    own_employer(api)
    other = api.http.post(
        "/v1/employers", json=organisation_body(identifiers=[], licences=[]), headers=bearer("operator")
    )
    other_id = other.json()["employer_id"]

    for response in (
        api.http.get(f"/v1/employers/{other_id}", headers=bearer("employer")),
        api.http.get("/v1/employers/missing", headers=bearer("employer")),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
        assert response.json()["detail"] == "no such employer"
    assert api.http.get(f"/v1/employers/{BRICK_CO}").status_code == 401
    assert api.http.get(f"/v1/employers/{other_id}/compliance", headers=bearer("employer")).status_code == 404


def test_a_create_answers_201_then_200_replayed() -> None:
    api = make_api()
    site = own_employer(api)
    headers = {**bearer("employer"), "Idempotency-Key": "w-1"}
    first = api.http.post(f"/v1/employers/{BRICK_CO}/wage-records", json=wage_body(site), headers=headers)
    again = api.http.post(f"/v1/employers/{BRICK_CO}/wage-records", json=wage_body(site), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["assessment"]["outcome"] == "below_minimum"
    assert first.json()["assessment"]["shortfall"] == "7358.00"
    reused = api.http.post(f"/v1/employers/{BRICK_CO}/wage-records", json=wage_body(site, "100"), headers=headers)
    assert reused.status_code == 422


def test_amounts_as_floats_are_refused_and_fields_are_named() -> None:
    api = make_api()
    site = own_employer(api)
    response = api.http.post(
        f"/v1/employers/{BRICK_CO}/wage-records",
        json={**wage_body(site), "amount_paid": 100.5},
        headers=bearer("employer"),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["amount_paid"]


def test_recruitment_records_and_findings_are_recorded() -> None:
    api = make_api()
    site = own_employer(api)
    fee = api.http.post(
        f"/v1/employers/{BRICK_CO}/recruitment-records",
        json={
            "worker": {"registry_worker_id": "w-1"},
            "cost_kind": "recruitment_fee",
            "amount": 15000,
            "charged_on": "2025-01-10",
        },
        headers=bearer("caseworker"),
    )
    assert fee.status_code == 201, fee.text
    assert fee.json()["source"] == "partner"
    finding = api.http.post(
        f"/v1/employers/{BRICK_CO}/findings",
        json={
            "ilo_indicator": {
                "indicator": "debt_bondage",
                "observed_on": "2025-02-01",
                "workers_affected": 4,
                "evidence": "advance of Rs 20,000 repaid by working the season unpaid",
                "worksite_id": site,
            }
        },
        headers=bearer("operator"),
    )
    assert finding.status_code == 201, finding.text
    assert "evidence" not in finding.json()
    both = api.http.post(f"/v1/employers/{BRICK_CO}/findings", json={}, headers=bearer("operator"))
    assert both.status_code == 422


def test_the_compliance_view_shows_an_employer_delayed_counts_only() -> None:
    api = make_api()
    own_employer(api)
    response = api.http.get(f"/v1/employers/{BRICK_CO}/compliance", headers=bearer("employer"))
    body = response.json()
    assert body["grievances_delayed_days"] == 30 and body["min_cell_size"] == 5
    assert body["score"]["value"] == "100.0"
    assert (
        api.http.get(f"/v1/employers/{BRICK_CO}/compliance", headers=bearer("auditor")).json()[
            "grievances_delayed_days"
        ]
        == 0
    )


def test_a_wage_register_upload_answers_202_and_its_job_and_report_follow() -> None:
    api = make_api()
    site = own_employer(api)
    files = {"file": ("register.csv", register_csv(site), "text/csv")}
    response = api.http.post(WAGE_REGISTERS_PATH, files=files, headers=bearer("employer"))
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert response.headers["Location"] == f"{WAGE_REGISTERS_PATH}/{job_id}"

    import time

    for _ in range(100):
        job = api.http.get(f"{WAGE_REGISTERS_PATH}/{job_id}", headers=bearer("employer")).json()
        if job["status"] != "running":
            break
        time.sleep(0.05)
    assert job["status"] == "completed"
    assert job["counts"]["stored"] == 2 and job["counts"]["refused"] == 3
    report = api.http.get(f"{WAGE_REGISTERS_PATH}/{job_id}/report.csv", headers=bearer("employer"))
    assert report.headers["content-type"].startswith("text/csv")
    assert report.text.splitlines()[0] == "row,row_key,code,column,problem"
    assert api.http.get(f"{WAGE_REGISTERS_PATH}/{job_id}", headers=bearer("operator")).status_code == 404
    again = api.http.post(WAGE_REGISTERS_PATH, files=files, headers=bearer("employer"))
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"


def test_a_wage_register_needs_a_multipart_file() -> None:
    api = make_api()
    own_employer(api)
    response = api.http.post(WAGE_REGISTERS_PATH, json={}, headers=bearer("employer"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"


def test_minimum_wages_are_listed_for_anyone_and_changed_by_operators_only() -> None:
    api = make_api()
    listing = api.http.get("/v1/minimum-wages?state_code=7&page_size=5", headers=bearer("public"))
    assert listing.status_code == 200 and len(listing.json()["rates"]) == 5
    assert listing.json()["next_page_token"]
    body = {
        "sphere": "state",
        "state_code": "10",
        "scheduled_employment": "All scheduled employments",
        "skill_category": "Unskilled",
        "unit": "per_day",
        "amount": 412,
        "effective_from": "2024-10-01",
        "notification_ref": "Bihar notification",
    }
    assert api.http.post("/v1/minimum-wages", json=body, headers=bearer("employer")).status_code == 403
    added = api.http.post("/v1/minimum-wages", json=body, headers={**bearer("operator"), "Idempotency-Key": "r"})
    assert added.status_code == 201, added.text
    rate_id = added.json()["rate_id"]
    withdrawn = api.http.post(
        f"/v1/minimum-wages/{rate_id}:withdraw", json={"reason": "entered by mistake"}, headers=bearer("operator")
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_the_public_verification_holds_nothing_personal_and_is_rate_limited() -> None:
    api = make_api(verify_limit=RateLimiter(0.001, 3))
    own_employer(api)
    answer = api.http.get(f"/v1/verify/{RELIANCE_GSTIN}", headers=bearer("public"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["found"] and body["in_good_standing"]
    assert set(body) == {
        "query",
        "found",
        "checked_on",
        "holder_name",
        "roles",
        "needs_licence",
        "licensed",
        "licences",
        "risk_flag_raised",
        "in_good_standing",
    }
    assert "number" not in body["licences"][0]
    statuses = [api.http.get("/v1/verify/27AAACR5055K1Z7", headers=bearer("public")).status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_the_openapi_document_publishes_the_bearer_scheme_and_the_problem_responses() -> None:
    api = make_api()
    document = api.http.get("/openapi.json").json()
    assert any(s.get("scheme") == "bearer" for s in document["components"]["securitySchemes"].values())
    paths = document["paths"]
    for path in (
        "/v1/employers",
        "/v1/employers/{employer_id}",
        "/v1/employers/{employer_id}/worksites",
        "/v1/employers/{employer_id}/wage-records",
        "/v1/wage-registers",
        "/v1/employers/{employer_id}/recruitment-records",
        "/v1/employers/{employer_id}/findings",
        "/v1/employers/{employer_id}/compliance",
        "/v1/minimum-wages",
        "/v1/verify/{identifier}",
    ):
        operation = next(iter(paths[path].values()))
        assert {"401", "403", "404", "409", "413", "422", "429", "503"} <= set(operation["responses"]), path
        assert operation.get("security"), path
