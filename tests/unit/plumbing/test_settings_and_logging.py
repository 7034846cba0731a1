import io
import json
import logging

import pytest
from pydantic_settings import SettingsConfigDict

from mrc_plumbing.settings import ServiceSettings
from mrc_plumbing.structured_logging import JsonFormatter, request_id_var


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_EXAMPLE_", extra="ignore")
    http_port: int = 8000


def test_service_values_use_the_service_prefix_and_infra_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRC_EXAMPLE_HTTP_PORT", "8123")
    monkeypatch.setenv("MRC_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19999")
    monkeypatch.setenv("MRC_FAULT_CRASH_BEFORE_PUBLISH", "true")
    settings = ExampleSettings()
    assert settings.http_port == 8123
    assert settings.infra.kafka_bootstrap_servers == "127.0.0.1:19999"
    assert settings.faults.crash_before_publish is True


def test_json_logs_carry_the_request_id_and_extra_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("example"))
    logger = logging.getLogger("test.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("req-1")
    try:
        logger.warning("hello %s", "world", extra={"worker_count": 3})
    finally:
        request_id_var.reset(token)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "hello world"
    assert entry["service"] == "example"
    assert entry["request_id"] == "req-1"
    assert entry["worker_count"] == 3
