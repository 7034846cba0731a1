from pydantic_settings import SettingsConfigDict

from mrc_plumbing.settings import ServiceSettings

WORKERS_TOPIC = "mrc.registry.workers.v1"
EVENT_SOURCE = "/mrc/registry"


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_REGISTRY_", extra="ignore")

    service_name: str = "registry"
    http_port: int = 8101
    grpc_port: int = 9101
    mongo_database: str = "mrc_registry"
