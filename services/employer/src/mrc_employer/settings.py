from pydantic_settings import SettingsConfigDict

from mrc_plumbing.settings import ServiceSettings

EMPLOYERS_TOPIC = "mrc.employer.employers.v1"
EVENT_SOURCE = "/mrc/employer"


class EmployerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_EMPLOYER_", extra="ignore")

    service_name: str = "employer"
    http_port: int = 8104
    grpc_port: int = 9104
    mongo_database: str = "mrc_employer"
