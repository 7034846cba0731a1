from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mrc_plumbing.federation import FederationSettings
from mrc_plumbing.settings import ServiceSettings

# Consumed: the registry's published contract, never its code.
REGISTRY_WORKERS_TOPIC = "mrc.registry.workers.v1"
REGISTRY_HOUSEHOLDS_TOPIC = "mrc.registry.households.v1"
# Published (keyed by worker id, except the catalogue's, keyed by scheme code).
ELIGIBILITY_TOPIC = "mrc.entitlements.eligibility.v1"
APPLICATIONS_TOPIC = "mrc.entitlements.applications.v1"
CATALOGUE_TOPIC = "mrc.entitlements.catalogue.v1"
PUBLISHED_TOPICS = (ELIGIBILITY_TOPIC, APPLICATIONS_TOPIC, CATALOGUE_TOPIC)
EVENT_SOURCE = "/mrc/entitlements"
# Also the Kafka consumer group; its dead-letter topic is `mrc-entitlements.dlq`.
CONSUMER_APP_ID = "mrc-entitlements"
# Cross-state federation: the copies of the peers' status topics are read by this group; records that can
# never be applied go to this topic (under the service's own prefix).
FEDERATION_CONSUMER_GROUP = "mrc-entitlements-federation"
FEDERATION_DEAD_LETTER_TOPIC = "mrc.entitlements.federation-rejected.v1"


class EntitlementsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_ENTITLEMENTS_", extra="ignore")

    service_name: str = "entitlements"
    http_port: int = 8102
    grpc_port: int = 9102
    worker_web_port: int = 6066
    mongo_database: str = "mrc_entitlements"
    # How long a process keeps the published rules before reading the catalogue again.
    catalogue_cache_seconds: float = 2.0
    # Re-evaluation jobs: workers per batch (one progress write each), and how often to look for work.
    reevaluation_batch_size: int = 200
    reevaluation_poll_seconds: float = 1.0
    # Registry events of different workers handled at once by the consumer (each worker's in order).
    consumer_concurrency: int = 8
    # Cross-state federation (MRC_STATE_CODE and MRC_FEDERATION_PEERS; off without them).
    federation: FederationSettings = Field(default_factory=FederationSettings)
    # How soon copies of the peers' topics that MirrorMaker 2 creates here are found and read.
    federation_topic_refresh_seconds: float = Field(default=10.0, gt=0)
    # How often this state's k-anonymous entitlement funnel goes to the national cluster (the first at start).
    federation_aggregates_interval_seconds: float = Field(default=3600.0, gt=0)
