"""Typed settings read from the environment.

Infrastructure shared by all services is read with the `MRC_` prefix (`MRC_KAFKA_BOOTSTRAP_SERVERS`,
`MRC_MONGO_URI`...); what belongs to one service uses that service's prefix (`MRC_REGISTRY_HTTP_PORT`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mrc_plumbing.auth.client_address import TrustedProxies, parse_networks
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
    # Per client (after its token is verified, before the scope check), shared by every replica of a
    # service: bursts of `burst`, `per_second` in the long run (0: unlimited).
    rate_limit_per_second: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Per source address, before any token is looked at, so unauthenticated calls count too. IPv6
    # addresses count by their /64. Generous: many partners' staff may share one office address.
    address_rate_limit_per_second: float = Field(default=200.0, ge=0)
    address_rate_limit_burst: int = Field(default=2000, ge=1)
    # Failed authentications (no token, a bad or revoked token) an address may make per window; past
    # that, every call from it is refused with 429 until the window slides on (0: no such budget).
    failed_auth_per_address: int = Field(default=300, ge=0)
    failed_auth_window_seconds: float = Field(default=60.0, gt=0)
    # How often each process shares its counts with the other replicas through the store.
    rate_limit_sync_seconds: float = Field(default=0.5, gt=0, le=10)
    # Comma-separated CIDRs of the reverse proxies / load balancers in front of the services. Only a
    # request whose socket peer is one of them has its `X-Forwarded-For` read (right-most untrusted
    # hop); otherwise the peer itself is the caller's address. Empty: trust nobody.
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        parse_networks(value)  # a typo must stop the process, not silently trust nobody (or everybody)
        return value

    @property
    def proxies(self) -> TrustedProxies:
        return TrustedProxies.parse(self.trusted_proxies)


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
