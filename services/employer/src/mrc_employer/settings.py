from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mrc_plumbing.settings import ServiceSettings

EMPLOYERS_TOPIC = "mrc.employer.employers.v1"
MINIMUM_WAGES_TOPIC = "mrc.employer.minimum-wages.v1"
EVENT_SOURCE = "/mrc/employer"
# Consumed: the grievance service's published contract, never its code.
GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"
# Consumed for erasures and merges of workers that records name.
REGISTRY_WORKERS_TOPIC = "mrc.registry.workers.v1"
# Also the Kafka consumer group of the worker; its dead-letter topic is `mrc-employer.dlq`.
CONSUMER_APP_ID = "mrc-employer"


class EmployerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_EMPLOYER_", extra="ignore")

    service_name: str = "employer"
    http_port: int = 8104
    grpc_port: int = 9104
    # The worker's (`python -m mrc_employer.worker`) web port: MRC_EMPLOYER_WORKER_WEB_PORT.
    worker_web_port: int = 6069
    mongo_database: str = "mrc_employer"
    # GET /v1/verify/{identifier} is open to the public role: a tighter limit than the platform's, per
    # client and per source address (a scraper uses many clients from few addresses, or the reverse).
    verify_rate_per_second: float = Field(default=1.0, ge=0)
    verify_burst: int = Field(default=30, ge=1)
    # The minimum-wage table is read again at most this often (and after each of our own changes).
    minimum_wage_refresh_seconds: float = Field(default=30.0, gt=0)
    # Findings age: how often the worker recomputes every organisation's score for the day.
    score_sweep_seconds: float = Field(default=6 * 3600.0, gt=0)
