from pydantic_settings import SettingsConfigDict

from mrc_plumbing.settings import ServiceSettings

GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"
EVENT_SOURCE = "/mrc/grievance"
# Consumed: the registry's published contract, never its code.
REGISTRY_WORKERS_TOPIC = "mrc.registry.workers.v1"
# Also the Kafka consumer group; its dead-letter topic is `mrc-grievance.dlq`.
CONSUMER_APP_ID = "mrc-grievance"


class GrievanceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_GRIEVANCE_", extra="ignore")

    service_name: str = "grievance"
    http_port: int = 8103
    grpc_port: int = 9103
    # The consumer's (`python -m mrc_grievance.worker`) web port: MRC_GRIEVANCE_WORKER_WEB_PORT.
    worker_web_port: int = 6068
    mongo_database: str = "mrc_grievance"
