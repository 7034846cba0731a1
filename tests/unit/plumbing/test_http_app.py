from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from mrc_kernel.errors import InvalidArgument, NotFound
from mrc_plumbing.http_app import PROBLEM_CONTENT_TYPE, create_http_app


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
