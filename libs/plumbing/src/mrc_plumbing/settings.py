"""Typed settings read from the environment.

Infrastructure shared by all services is read with the `MRC_` prefix (`MRC_KAFKA_BOOTSTRAP_SERVERS`,
`MRC_MONGO_URI`...); what belongs to one service uses that service's prefix (`MRC_REGISTRY_HTTP_PORT`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mrc_plumbing.crypto.settings import CryptoSettings
from mrc_plumbing.kafka_security import KafkaSecuritySettings


class InfraSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Topic layout used whenever a service declares a topic; clusters set 3 for replication.
    kafka_topic_partitions: int = Field(default=6, ge=1)
    kafka_topic_replication_factor: int = Field(default=1, ge=1)
    kafka_security: KafkaSecuritySettings = Field(default_factory=KafkaSecuritySettings)
    mongo_uri: str = "mongodb://127.0.0.1:27017/"
    # How the store is driven: "mongodb" (native conditional filters, several replicas per service),
    # "ferretdb" (bare-_id writes under an in-process lock, one process per service), or "auto": the
    # server's buildInfo decides, once, when the process starts.
    store_strategy: Literal["auto", "mongodb", "ferretdb"] = "auto"
    # LGD code of the state this cluster serves (one cluster per state); empty in a shared dev cluster.
    state_code: str = ""
    # Published aggregates suppress cells counting fewer people than this (k-anonymity of counts).
    privacy_min_cell_size: int = Field(default=5, ge=1)
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"


class FaultInjection(BaseSettings):
    """Deliberate crashes for the outbox crash tests. Never set in production."""

    model_config = SettingsConfigDict(env_prefix="MRC_FAULT_", extra="ignore")

    # Exit the process after an aggregate and its events are stored, before the relay publishes them.
    crash_before_publish: bool = False
    # Exit after the relay published events, before it clears them from the aggregate.
    crash_after_publish: bool = False


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MRC_AUTH_", extra="ignore")

    # The access service publishes its signing keys here; every service verifies tokens locally.
    jwks_url: str = "http://127.0.0.1:8105/.well-known/jwks.json"
    issuer: str = "mrc-access"
    leeway_seconds: int = 30
    rate_limit_per_second: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)


class ServiceSettings(BaseSettings):
    """Base for each service's settings; subclasses set `env_prefix` and their defaults."""

    model_config = SettingsConfigDict(env_prefix="MRC_SERVICE_", extra="ignore")

    service_name: str = "service"
    bind_host: str = "127.0.0.1"
    http_port: int = 8100
    grpc_port: int = 9100
    mongo_database: str = "mrc"
    # The relay wakes up at once after a write; this poll only picks up events left by a crash.
    outbox_poll_interval_seconds: float = 1.0
    outbox_batch_size: int = 500
    infra: InfraSettings = Field(default_factory=InfraSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    crypto: CryptoSettings = Field(default_factory=CryptoSettings)
    faults: FaultInjection = Field(default_factory=FaultInjection)
