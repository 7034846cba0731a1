from typing import Annotated

from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from mrc_kernel.caller import Caller
from mrc_kernel.errors import InvalidArgument, NotFound
from mrc_kernel.roles import Scope
from mrc_plumbing.auth.http import HttpAuth
from mrc_plumbing.auth.rate_limit import RateLimiter
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app
from tests.support.auth import role_tokens


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    age: int


def _client(ready: bool = True) -> TestClient:
    app = create_http_app(service="test", title="Test", readiness_checks={"store": lambda: ready}, max_body_bytes=100)

    @app.post("/things")
    def create(body: Body) -> dict[str, str]:
        if body.name == "taken":
            raise InvalidArgument.for_field("name", "is taken")
        return {"name": body.name}

    @app.get("/things/{thing_id}")
    def get(thing_id: str) -> dict[str, str]:
        raise NotFound(f"no thing {thing_id}")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    return TestClient(app, raise_server_exceptions=False)


def test_validation_errors_are_problem_json_naming_each_field() -> None:
    response = _client().post("/things", json={"name": 1, "age": "x", "extra": True})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"name", "age", "extra"}


def test_domain_errors_map_to_their_status() -> None:
    client = _client()
    taken = client.post("/things", json={"name": "taken", "age": 3})
    assert taken.status_code == 422
    assert taken.json()["errors"] == [{"field": "name", "detail": "is taken"}]
    missing = client.get("/things/7")
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/not-found")
    assert missing.json()["instance"] == "/things/7"


def test_oversized_body_is_refused_before_parsing() -> None:
    response = _client().post("/things", content=b"x" * 500, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE


def test_an_upload_path_has_its_own_body_limit() -> None:
    app = create_http_app(service="test", title="Test", max_body_bytes=100, body_limits_by_path={"/uploads": 1000})

    @app.post("/uploads")
    async def upload() -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/small")
    async def small() -> dict[str, str]:
        return {"ok": "yes"}

    client = TestClient(app)
    assert client.post("/uploads", content=b"x" * 500).status_code == 200
    assert client.post("/uploads", content=b"x" * 1500).status_code == 413
    assert client.post("/small", content=b"x" * 500).status_code == 413


def test_unexpected_errors_do_not_leak_internals() -> None:
    response = _client().get("/boom")
    assert response.status_code == 500
    assert "secret" not in response.text


def test_health_readiness_and_metrics() -> None:
    assert _client().get("/healthz").status_code == 200
    assert _client(ready=True).get("/readyz").json()["checks"] == {"store": True}
    not_ready = _client(ready=False).get("/readyz")
    assert not_ready.status_code == 503
    assert "store" in not_ready.json()["detail"]
    client = _client()
    client.get("/things/1", headers={"x-request-id": "req-42"})
    metrics = client.get("/metrics").text
    assert 'mrc_http_requests_total{method="GET",route="/things/{thing_id}",service="test",status="404"}' in metrics


def test_request_id_is_echoed() -> None:
    assert _client().get("/healthz", headers={"x-request-id": "abc"}).headers["x-request-id"] == "abc"


PROBLEM_STATUSES = {"401", "403", "404", "409", "413", "422", "429", "503"}


def _secured_app() -> TestClient:
    auth = HttpAuth(role_tokens(), RateLimiter(0, 1))
    app = create_http_app(service="test", title="Test", token_url="http://access.example/oauth2/token")

    def read(thing_id: str, caller: Annotated[Caller, auth.requires(Scope.WORKERS_READ)]) -> dict[str, str]:
        return {"id": thing_id}

    def public() -> dict[str, str]:
        return {"ok": "yes"}

    app.get("/v1/things/{thing_id}")(read)
    app.get("/v1/public")(public)
    return TestClient(app)


def test_openapi_publishes_the_security_schemes_and_each_operations_scope() -> None:
    document = _secured_app().get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearerAuth"]["description"],
    }
    flow = schemes["oauth2ClientCredentials"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "http://access.example/oauth2/token"
    assert "workers:read" in flow["scopes"]
    secured = document["paths"]["/v1/things/{thing_id}"]["get"]
    assert secured["security"] == [{"bearerAuth": []}, {"oauth2ClientCredentials": ["workers:read"]}]
    assert "security" not in document["paths"]["/v1/public"]["get"]


def test_openapi_publishes_the_problem_responses() -> None:
    document = _secured_app().get("/openapi.json").json()
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status"}
    secured = document["paths"]["/v1/things/{thing_id}"]["get"]["responses"]
    assert set(secured) >= PROBLEM_STATUSES
    for status in PROBLEM_STATUSES:
        content = secured[status]["content"]
        assert list(content) == [PROBLEM_CONTENT_TYPE]
        assert content[PROBLEM_CONTENT_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "Retry-After" in secured["429"]["headers"]
    public = document["paths"]["/v1/public"]["get"]["responses"]
    assert {"413", "422", "429", "503"} <= set(public)
    assert "HTTPValidationError" not in str(document["paths"])


def test_problem_documents_do_not_echo_the_input() -> None:
    app = create_http_app(service="test", title="Test")

    @app.get("/things/{thing_id}")
    def get(thing_id: str) -> dict[str, str]:
        raise NotFound(f"no thing {thing_id!r}")

    @app.post("/things")
    def create(body: dict[str, int]) -> dict[str, str]:
        return {}

    client = TestClient(app)
    long_id = "x" * 4000
    missing = client.get(f"/things/{long_id}")
    assert missing.status_code == 404
    assert "xxxx" not in missing.text
    body = {"k" * 5000: "not a number"}
    invalid = client.post("/things", json=body)
    assert invalid.status_code == 422
    assert "kkkk" not in invalid.text
    huge_request_id = client.get("/things/1", headers={"X-Request-Id": "r" * 1000})
    assert "rrrr" not in huge_request_id.headers["x-request-id"]
