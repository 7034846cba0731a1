from pydantic_settings import SettingsConfigDict

from mrc_plumbing.settings import ServiceSettings

GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"
EVENT_SOURCE = "/mrc/grievance"


class GrievanceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_GRIEVANCE_", extra="ignore")

    service_name: str = "grievance"
    http_port: int = 8103
    grpc_port: int = 9103
    mongo_database: str = "mrc_grievance"
