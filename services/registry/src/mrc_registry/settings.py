from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mrc_plumbing.federation import FederationSettings
from mrc_plumbing.settings import ServiceSettings

WORKERS_TOPIC = "mrc.registry.workers.v1"
EVENT_SOURCE = "/mrc/registry"


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_REGISTRY_", extra="ignore")

    service_name: str = "registry"
    http_port: int = 8101
    grpc_port: int = 9101
    mongo_database: str = "mrc_registry"
    # An SMS gateway for one-time codes (JSON over HTTPS, see adapters/text_messages.py); empty: messages
    # are kept in the local `sms_outbox` collection instead (the embedded default).
    sms_gateway_url: str = ""
    sms_gateway_token: SecretStr = SecretStr("")
    # How often consents that reached their expiry are looked for (and announced with ConsentChanged).
    consent_expiry_sweep_seconds: float = Field(default=30.0, gt=0)
    federation: FederationSettings = Field(default_factory=FederationSettings)
    # How often this state's k-anonymous counts go to the national cluster (AggregatesPublished).
    federation_aggregates_interval_seconds: float = Field(default=3600.0, gt=0)
    # How soon copies of the peers' topics that MirrorMaker 2 creates here are found and read.
    federation_topic_refresh_seconds: float = Field(default=10.0, gt=0)
