import pytest
from kafka import KafkaAdminClient

from mrc_plumbing import kafka_wiring
from mrc_plumbing.settings import InfraSettings

pytestmark = pytest.mark.integration


def test_topics_are_declared_with_the_configured_layout(infra: InfraSettings, topic: str) -> None:
    settings = infra.model_copy(update={"kafka_topic_partitions": 4})
    kafka_wiring.ensure_topics(settings, [topic])
    kafka_wiring.ensure_topics(settings, [topic])  # declaring twice is harmless
    admin = KafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
    try:
        [description] = admin.describe_topics([topic])
        assert len(description["partitions"]) == 4
    finally:
        admin.close()


def test_readiness_reports_the_broker(infra: InfraSettings) -> None:
    assert kafka_wiring.kafka_is_reachable(infra)
    assert not kafka_wiring.kafka_is_reachable(infra.model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:1"}))
