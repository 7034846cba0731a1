from pydantic_settings import SettingsConfigDict

from mrc_plumbing.settings import ServiceSettings

# Consumed: the registry's published contract, never its code.
REGISTRY_WORKERS_TOPIC = "mrc.registry.workers.v1"
ELIGIBILITY_TOPIC = "mrc.entitlements.eligibility.v1"
EVENT_SOURCE = "/mrc/entitlements"
# Also the Kafka consumer group; its dead-letter topic is `mrc-entitlements.dlq`.
CONSUMER_APP_ID = "mrc-entitlements"


class EntitlementsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_ENTITLEMENTS_", extra="ignore")

    service_name: str = "entitlements"
    http_port: int = 8102
    grpc_port: int = 9102
    worker_web_port: int = 6066
    mongo_database: str = "mrc_entitlements"
