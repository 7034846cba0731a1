from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mrc_plumbing.federation import FederationSettings
from mrc_plumbing.settings import ServiceSettings

GRIEVANCES_TOPIC = "mrc.grievance.grievances.v1"
TRACES_TOPIC = "mrc.grievance.traces.v1"
EVENT_SOURCE = "/mrc/grievance"
# Consumed: the registry's published contract, never its code.
REGISTRY_WORKERS_TOPIC = "mrc.registry.workers.v1"
# Also the Kafka consumer group; its dead-letter topic is `mrc-grievance.dlq`, its table changelogs
# `mrc-grievance-<table>-changelog`.
CONSUMER_APP_ID = "mrc-grievance"
# Cross-state federation: the copies of the peers' grievance topics are read by this group; records that
# can never be applied go to this topic (under the service's own prefix).
FEDERATION_CONSUMER_GROUP = "mrc-grievance-federation"
FEDERATION_DEAD_LETTER_TOPIC = "mrc.grievance.federation-rejected.v1"


class GrievanceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_GRIEVANCE_", extra="ignore")

    service_name: str = "grievance"
    http_port: int = 8103
    grpc_port: int = 9103
    # The consumer's (`python -m mrc_grievance.worker`) web port: MRC_GRIEVANCE_WORKER_WEB_PORT.
    worker_web_port: int = 6068
    mongo_database: str = "mrc_grievance"

    # Checks made on the caller's behalf (its bearer token and purpose forwarded), over gRPC.
    registry_grpc_target: str = "127.0.0.1:9101"
    employer_grpc_target: str = "127.0.0.1:9104"
    peer_timeout_seconds: float = Field(default=5.0, gt=0)
    # Cross-state federation (MRC_STATE_CODE and MRC_FEDERATION_PEERS; off without them).
    federation: FederationSettings = Field(default_factory=FederationSettings)
    federation_topic_refresh_seconds: float = Field(default=10.0, gt=0)
    # How often this state's k-anonymous grievance counts go to the national cluster.
    federation_aggregates_interval_seconds: float = Field(default=3600.0, gt=0)

    # The IVR/SMS gateways' shared secrets (base64, at least 24 bytes each, comma-separated: several while
    # one is rotated). Empty: the intake webhook refuses every delivery.
    intake_secrets: SecretStr = SecretStr("")
    # The partner running the helpline: cases opened by the gateways are its to triage.
    intake_partner_id: str = ""
    # Where a message that names no place is filed (the helpline's own district), as LGD codes.
    intake_state_code: str = ""
    intake_district_code: str = ""

    # SLA budgets are multiplied by this (1 in production). A test stack sets e.g. 0.0001 so a day's clock
    # runs in 8.6 s; it applies to cases filed while it is set.
    sla_time_scale: float = Field(default=1.0, gt=0, le=1)
    # How often the SLA worker looks at its schedule, and the API process at the work it was handed.
    sla_tick_seconds: float = Field(default=0.25, gt=0)
    case_work_poll_seconds: float = Field(default=0.25, gt=0)
    # An SLA milestone handed over but not seen applied is looked at again after this long.
    sla_recheck_seconds: float = Field(default=3.0, gt=0)
